/* SPDX-License-Identifier: MIT */
/* Content paths and URL escapes.  A path is taken exactly as the author
 * wrote it or refused (the rules: common/path.c); nothing here normalises
 * (CONTRACT "Data model"). */
#include "srv_int.h"

#include <stdlib.h>
#include <string.h>

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool srv_pct_decode(const char *s, size_t n, char **out, size_t *out_len)
{
    char *d = cd_xmalloc(n + 1);
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '%') {
            d[j++] = s[i];
            continue;
        }
        int hi = i + 1 < n ? hexval(s[i + 1]) : -1;
        int lo = i + 2 < n ? hexval(s[i + 2]) : -1;
        if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
            free(d);
            return false;
        }
        d[j++] = (char)(hi << 4 | lo);
        i += 2;
    }
    d[j] = '\0';
    *out = d;
    if (out_len)
        *out_len = j;
    return true;
}

const char *srv_path_problem(const char *path, size_t n)
{
    static const char *const why[] = {
        [CD_PATH_OK] = NULL,
        [CD_PATH_EMPTY] = "the path is empty",
        [CD_PATH_TOO_LONG] = "the path is longer than 1024 bytes",
        [CD_PATH_NOT_UTF8] = "the path is not valid UTF-8",
        [CD_PATH_ABSOLUTE] = "the path starts with '/'",
        [CD_PATH_BACKSLASH] = "the path holds a backslash",
        [CD_PATH_CONTROL] = "the path holds a control character",
        [CD_PATH_EMPTY_SEGMENT] = "the path has an empty segment",
        [CD_PATH_DOT_SEGMENT] = "the path has a '.' or '..' segment",
    };
    return why[cd_path_check(path, n)];
}
