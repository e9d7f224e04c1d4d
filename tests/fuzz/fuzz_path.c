/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the content path rules (cd_path_check) and the symlink
 * test (cd_path_inside).  Beyond not crashing, an accepted path must keep
 * the rules' promises: no NUL, no leading '/', no backslash, no empty,
 * "." or ".." segment, valid UTF-8, at most CD_PATH_MAX bytes.  The input
 * is "root\npath" for cd_path_inside, and the whole input for the check.
 */
#include "fuzz.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

static void check_accepted(const char *p, size_t n)
{
    if (n == 0 || n > CD_PATH_MAX || memchr(p, '\0', n) || p[0] == '/' || memchr(p, '\\', n) ||
        !cd_utf8_valid(p, n))
        abort();
    for (size_t i = 0, start = 0; i <= n; i++) {
        if (i < n && p[i] != '/')
            continue;
        size_t len = i - start;
        if (len == 0 || (len == 1 && p[start] == '.') ||
            (len == 2 && p[start] == '.' && p[start + 1] == '.'))
            abort();
        start = i + 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    if (cd_path_check(s, size) == CD_PATH_OK)
        check_accepted(s, size);
    const char *nl = memchr(s, '\n', size);
    if (nl) {
        char *root = cd_xstrndup(s, (size_t)(nl - s));
        char *path = cd_xstrndup(nl + 1, size - (size_t)(nl - s) - 1);
        size_t rl = strlen(root);
        bool inside = cd_path_inside(path, root, rl);
        /* inside means: the path is the root, or the root then '/' */
        if (inside && (strncmp(path, root, rl) || (path[rl] && path[rl] != '/')))
            abort();
        free(root);
        free(path);
    }
    return 0;
}
