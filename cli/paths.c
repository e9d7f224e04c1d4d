/* SPDX-License-Identifier: MIT */
/*
 * Content paths on the client side: the CONTRACT's rules ("Data model",
 * common/path.c), checked before anything is sent so that a bad file name
 * is reported by name instead of as a 400 in the middle of a push, and a
 * printable form of
 * any byte string for those reports.  Item identifiers (KIND, NAME) are
 * checked here too.
 */
#include "cli_int.h"

#include <string.h>

const char *cli_path_problem(const char *path, size_t n)
{
    return cd_path_why(path, n, true);
}

int cli_parse_id(const char *id, char kind[CD_KIND_MAX], char name[CD_NAME_MAX], cd_err *err)
{
    const char *slash = strchr(id, '/');
    if (!slash || (size_t)(slash - id) >= 16) {
        return cd_err_set(err, CLI_USAGE, "'%s' is not KIND/NAME (e.g. tutorial/hello)", id);
    }
    memcpy(kind, id, (size_t)(slash - id));
    kind[slash - id] = '\0';
    if (!cd_kind_valid(kind))
        return cd_err_set(err, CLI_USAGE, "unknown kind '%s' (%s)", kind, CD_KINDS_TEXT);
    if (!cd_name_valid(slash + 1))
        return cd_err_set(err, CLI_USAGE, "'%s' is not a valid name (%s)", slash + 1, CD_NAME_RULE);
    strcpy(name, slash + 1);
    return 0;
}
