/* SPDX-License-Identifier: MIT */
/*
 * Listing for the folder backend of the blob store: keys under a prefix, in
 * byte order, as an S3 ListObjectsV2 would give them.  The walk only enters
 * the store's namespaces (blobs/, manifests/) and skips dot entries (the
 * temporary files), symbolic links and anything that is not a file or a
 * folder.
 */
#include "blobstore_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Listing ------------------------------------------------------------------ */

typedef struct list_ent {
    char *sort; /* the name, with '/' appended for a folder */
    bool dir;
} list_ent;

static int ent_cmp(const void *a, const void *b)
{
    return strcmp(((const list_ent *)a)->sort, ((const list_ent *)b)->sort);
}

/* The entries of folder `dir` ("" for the root) that can hold keys, in the
 * order that makes a depth-first walk give keys in byte order: a folder
 * sorts as its name followed by '/', the first byte of every key inside
 * it.  *n is 0 when the folder does not exist.  The caller frees each
 * sort string and the array with free(). */
static int read_entries(fs_store *s, const char *dir, list_ent **out, size_t *n, cd_err *err)
{
    *out = NULL;
    *n = 0;
    int fd = openat(s->root, *dir ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return (errno == ENOENT || errno == ENOTDIR) ? BLOB_OK
                                                     : blobstore_fs_io_err(err, "cannot list", dir);
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return blobstore_fs_io_err(err, "cannot list", dir);
    }
    size_t cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        const char *nm = de->d_name;
        if (nm[0] == '.' || (!*dir && strcmp(nm, "blobs") && strcmp(nm, "manifests")))
            continue;
        unsigned char t = de->d_type;
        struct stat st;
        if (t == DT_UNKNOWN && fstatat(dirfd(d), nm, &st, AT_SYMLINK_NOFOLLOW) == 0)
            t = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_UNKNOWN;
        if (t != DT_DIR && t != DT_REG)
            continue;
        *out = cd_grow(*out, *n, &cap, 64, sizeof **out);
        cd_buf b = CD_BUF_INIT;
        cd_buf_printf(&b, "%s%s", nm, t == DT_DIR ? "/" : "");
        (*out)[(*n)++] = (list_ent){cd_buf_steal(&b, NULL), t == DT_DIR};
    }
    closedir(d);
    if (*n)
        qsort(*out, *n, sizeof **out, ent_cmp);
    return BLOB_OK;
}

typedef struct list_ctx {
    fs_store *s;
    const char *prefix;
    size_t plen;
    int (*cb)(void *arg, const char *key);
    void *arg;
    bool stop;
} list_ctx;

/* Lists folder `dir` ("" for the root; otherwise ending in '/'). */
static int walk(list_ctx *lc, const char *dir, cd_err *err)
{
    list_ent *ents;
    size_t n;
    char folder[BLOB_KEY_MAX + 2];
    snprintf(folder, sizeof folder, "%s", dir);
    if (*folder)
        folder[strlen(folder) - 1] = '\0';
    blob_status rc = read_entries(lc->s, folder, &ents, &n, err);
    for (size_t i = 0; i < n && rc == 0 && !lc->stop; i++) {
        cd_buf key = CD_BUF_INIT;
        cd_buf_printf(&key, "%s%s", dir, ents[i].sort);
        size_t cmp = key.len < lc->plen ? key.len : lc->plen;
        if (key.len > BLOB_KEY_MAX || strncmp(key.data, lc->prefix, cmp) != 0) {
            /* outside the prefix */
        } else if (ents[i].dir) {
            rc = walk(lc, key.data, err);
        } else if (key.len >= lc->plen && lc->cb(lc->arg, key.data) != 0) {
            lc->stop = true;
        }
        cd_buf_free(&key);
    }
    for (size_t i = 0; i < n; i++)
        free(ents[i].sort);
    free(ents);
    return rc;
}

blob_status blobstore_fs_list(blobstore *bs, const char *prefix,
                              int (*cb)(void *arg, const char *key), void *arg, cd_err *err)
{
    list_ctx lc = {(fs_store *)bs, prefix ? prefix : "", 0, cb, arg, false};
    lc.plen = strlen(lc.prefix);
    /* Start in the deepest folder the prefix names in full. */
    const char *slash = strrchr(lc.prefix, '/');
    char start[BLOB_KEY_MAX + 2] = "";
    if (slash) {
        size_t len = (size_t)(slash - lc.prefix);
        if (len > BLOB_KEY_MAX)
            return BLOB_OK;
        memcpy(start, lc.prefix, len);
        start[len] = '\0';
        if (!blobstore_key_valid(start))
            return cd_err_set(err, BLOB_ERROR, "blob store: invalid prefix");
        if (strcmp(start, "blobs") && strcmp(start, "manifests") && !blobstore_fs_key_ok(start))
            return BLOB_OK; /* outside the namespaces: no keys */
        start[len] = '/';
        start[len + 1] = '\0';
    }
    return walk(&lc, start, err);
}
