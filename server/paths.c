/* SPDX-License-Identifier: MIT */
/* Content paths and URL escapes.  A path is taken exactly as the author
 * wrote it or refused: nothing here normalises (CONTRACT "Data model"). */
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

/* A C0 or C1 control character at p (UTF-8 encoded), or DEL. */
static bool is_control(const unsigned char *p, size_t left)
{
    if (p[0] < 0x20 || p[0] == 0x7f)
        return true;
    return p[0] == 0xc2 && left > 1 && p[1] >= 0x80 && p[1] <= 0x9f;
}

const char *srv_path_problem(const char *path, size_t n)
{
    if (n == 0)
        return "the path is empty";
    if (n > SRV_PATH_MAX)
        return "the path is longer than 1024 bytes";
    if (!cd_utf8_valid(path, n))
        return "the path is not valid UTF-8";
    if (path[0] == '/')
        return "the path starts with '/'";
    const unsigned char *u = (const unsigned char *)path;
    for (size_t i = 0; i < n; i++) {
        if (u[i] == '\\')
            return "the path holds a backslash";
        if (is_control(u + i, n - i))
            return "the path holds a control character";
    }
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && path[i] != '/')
            continue;
        size_t len = i - start;
        if (len == 0)
            return "the path has an empty segment";
        if ((len == 1 && path[start] == '.') ||
            (len == 2 && path[start] == '.' && path[start + 1] == '.'))
            return "the path has a '.' or '..' segment";
        start = i + 1;
    }
    return NULL;
}
