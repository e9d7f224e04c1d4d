/* SPDX-License-Identifier: MIT */
/*
 * Files and folders: the two loops every module that writes to disk needs,
 * creating a folder with its parents and writing a whole buffer through
 * short writes and signals.
 */
#include "common.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

int cd_mkdir_p(const char *dir, mode_t mode, size_t *failed_len)
{
    if (!*dir) {
        if (failed_len)
            *failed_len = 0;
        errno = ENOENT;
        return -1;
    }
    char *p = cd_xstrdup(dir);
    int rc = 0;
    for (char *s = p + 1; rc == 0; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        char c = *s;
        *s = '\0';
        if (mkdir(p, mode) < 0 && errno != EEXIST) {
            rc = -1;
            if (failed_len)
                *failed_len = (size_t)(s - p);
        }
        *s = c;
        if (!c)
            break;
    }
    int e = errno;
    free(p);
    errno = e;
    return rc;
}

int cd_write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}
