/* SPDX-License-Identifier: MIT */
/* Content paths and URL escapes.  A path is taken exactly as the author
 * wrote it or refused (the rules: common/path.c); nothing here normalises
 * (CONTRACT "Data model"). */
#include "http.h"

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

bool http_pct_decode(const char *s, size_t n, char **out, size_t *out_len)
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
