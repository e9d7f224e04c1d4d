/* SPDX-License-Identifier: MIT */
/*
 * The identifiers of the data model (CONTRACT "Data model"), for client
 * and server alike: the content kinds, the item-name rule and blob names.
 */
#include "common.h"

#include <string.h>

const char *const cd_kinds[CD_KINDS_COUNT] = {"tutorial", "challenge", "course", "skill-path",
                                              "roadmap"};

bool cd_kind_valid(const char *kind)
{
    if (!kind)
        return false;
    for (size_t i = 0; i < CD_KINDS_COUNT; i++)
        if (strcmp(kind, cd_kinds[i]) == 0)
            return true;
    return false;
}

static bool lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool cd_name_valid(const char *name)
{
    if (!name || !lower_alnum(name[0]))
        return false;
    for (size_t i = 1; name[i]; i++)
        if (i >= CD_NAME_MAX - 1 || !(lower_alnum(name[i]) || name[i] == '-'))
            return false;
    return true;
}

bool cd_sha_valid(const char *s)
{
    size_t i = 0;
    for (; s && s[i]; i++)
        if (i >= 64 || !((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return i == 64;
}
