/* SPDX-License-Identifier: MIT */
/*
 * The CONTRACT's rules for a content path ("Data model"), checked once for
 * the client (before anything is sent) and the server (on every path it is
 * given).  A path is taken exactly as the author wrote it or refused:
 * nothing here normalises.  Each side words the problem in its own message.
 * Also here: whether a resolved symlink stays inside the content folder.
 */
#include "common.h"

#include <string.h>
#include <strings.h>

bool cd_is_control(const unsigned char *p, size_t left)
{
    if (p[0] < 0x20 || p[0] == 0x7f)
        return true;
    return p[0] == 0xc2 && left > 1 && p[1] >= 0x80 && p[1] <= 0x9f;
}

/* The first problem of the '/'-separated segments of path[0..n). */
static cd_path_problem segment_problem(const char *path, size_t n)
{
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && path[i] != '/')
            continue;
        size_t len = i - start;
        if (len == 0)
            return CD_PATH_EMPTY_SEGMENT;
        if ((len == 1 && path[start] == '.') ||
            (len == 2 && path[start] == '.' && path[start + 1] == '.'))
            return CD_PATH_DOT_SEGMENT;
        start = i + 1;
    }
    return CD_PATH_OK;
}

cd_path_problem cd_path_check(const char *path, size_t n)
{
    if (n == 0)
        return CD_PATH_EMPTY;
    if (n > CD_PATH_MAX)
        return CD_PATH_TOO_LONG;
    if (!cd_utf8_valid(path, n))
        return CD_PATH_NOT_UTF8;
    if (path[0] == '/')
        return CD_PATH_ABSOLUTE;
    const unsigned char *u = (const unsigned char *)path;
    for (size_t i = 0; i < n; i++) {
        if (u[i] == '\\')
            return CD_PATH_BACKSLASH;
        if (cd_is_control(u + i, n - i))
            return CD_PATH_CONTROL;
    }
    return segment_problem(path, n);
}

bool cd_path_inside(const char *p, const char *root, size_t root_len)
{
    return strncmp(p, root, root_len) == 0 && (p[root_len] == '/' || p[root_len] == '\0');
}

bool cd_path_is_markdown(const char *path)
{
    size_t n = strlen(path);
    return n >= 3 && !strcasecmp(path + n - 3, ".md");
}

const char *cd_path_why(const char *path, size_t n, bool by_name)
{
    /* Problems in the path's characters are "the name"'s when the caller
     * reports a file by its name (a push). */
    static const char *const why[2][CD_PATH_DOT_SEGMENT + 1] = {
        {
            [CD_PATH_OK] = NULL,
            [CD_PATH_EMPTY] = "the path is empty",
            [CD_PATH_TOO_LONG] = "the path is longer than 1024 bytes",
            [CD_PATH_NOT_UTF8] = "the path is not valid UTF-8",
            [CD_PATH_ABSOLUTE] = "the path starts with '/'",
            [CD_PATH_BACKSLASH] = "the path holds a backslash",
            [CD_PATH_CONTROL] = "the path holds a control character",
            [CD_PATH_EMPTY_SEGMENT] = "the path has an empty segment",
            [CD_PATH_DOT_SEGMENT] = "the path has a '.' or '..' segment",
        },
        {
            [CD_PATH_OK] = NULL,
            [CD_PATH_EMPTY] = "the path is empty",
            [CD_PATH_TOO_LONG] = "the path is longer than 1024 bytes",
            [CD_PATH_NOT_UTF8] = "the name is not valid UTF-8",
            [CD_PATH_ABSOLUTE] = "the path starts with '/'",
            [CD_PATH_BACKSLASH] = "the name holds a backslash",
            [CD_PATH_CONTROL] = "the name holds a control character",
            [CD_PATH_EMPTY_SEGMENT] = "the path has an empty segment",
            [CD_PATH_DOT_SEGMENT] = "the path has a '.' or '..' segment",
        },
    };
    return why[by_name][cd_path_check(path, n)];
}

void cd_path_printable(cd_buf *b, const char *s)
{
    size_t n = strlen(s);
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        size_t k = cd_utf8_valid_len(u + i, n - i);
        if (k == 0 || cd_is_control(u + i, n - i)) {
            size_t m = k ? k : 1;
            for (size_t j = 0; j < m; j++)
                cd_buf_printf(b, "\\x%02x", u[i + j]);
            i += m;
            continue;
        }
        cd_buf_append(b, s + i, k);
        i += k;
    }
}
