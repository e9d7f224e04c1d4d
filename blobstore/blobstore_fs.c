/* SPDX-License-Identifier: MIT */
/*
 * The folder backend of the blob store: the embedded default, keys mapped to
 * files under the data folder (`blobs/ab/abcd…`, `manifests/KIND/NAME/N.json`,
 * the layout of the S3 bucket).
 *
 * Nothing is ever visible half-written.  Every write goes to a temporary file
 * in `<data>/.tmp/`, is synced (fdatasync), renamed into place, and the
 * directory that received it is fsynced, so that after a crash a key holds
 * either its old bytes or its new ones.  Blobs and manifests are staged
 * first (blobstore_fs_stage.c): their temporary file is synced and moved
 * together with the rest of their version's when the commit settles them,
 * or at once when the stage is full.  A writer holds flock() on its temporary file; at
 * open, the temporary files nobody holds are the leftovers of a dead process
 * and are removed (a live writer in another process keeps its lock, and one
 * that loses the creation race notices its file was unlinked and retries).
 *
 * The 256 folders `blobs/00` … `blobs/ff` are made when the store opens, so
 * that storing a blob does not make its folder (and fsync `blobs/`) in the
 * middle of a commit.
 *
 * Keys live in two namespaces, `blobs/` and `manifests/`; the data folder
 * also holds the catalog, which is no business of this store.  Every call
 * uses *at() functions on the folder opened once, so the store is
 * thread-safe and indifferent to the working directory.
 */
#include "blobstore_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TMP_PATH ".tmp"

struct blob_writer {
    blob_upload up; /* up.fd: the temporary file */
    fs_store *s;
    char tmp_name[40]; /* its name in .tmp/; "" once published */
};

struct blob_reader {
    int fd;
};

/* Errors --------------------------------------------------------------- */

/* A full or failing disk is "unavailable" (the server answers 503); any
 * other errno is a plain error. */
static blob_status io_status(int e)
{
    return (e == ENOSPC || e == EDQUOT || e == EROFS || e == EIO) ? BLOB_UNAVAILABLE : BLOB_ERROR;
}

blob_status blobstore_fs_io_err(cd_err *err, const char *what, const char *key)
{
    int e = errno;
    return cd_err_set(err, io_status(e), "blob store: %s %s: %s", what, key, strerror(e));
}

/* Files and folders ------------------------------------------------------ */

int blobstore_fs_sync_dir(int root, const char *rel)
{
    int fd = openat(root, *rel ? rel : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    errno = e;
    return rc;
}

/* Creates every missing folder on the way to key's parent, fsyncing the
 * folder that received each new one. */
static int mkdir_parents(int root, const char *key)
{
    char path[BLOB_KEY_MAX + 1];
    snprintf(path, sizeof path, "%s", key);
    for (char *slash = strchr(path, '/'); slash; slash = strchr(slash + 1, '/')) {
        *slash = '\0';
        if (mkdirat(root, path, 0755) == 0) {
            char *up = strrchr(path, '/');
            if (up)
                *up = '\0';
            int rc = blobstore_fs_sync_dir(root, up ? path : "");
            if (up)
                *up = '/';
            if (rc < 0)
                return -1;
        } else if (errno != EEXIST) {
            return -1;
        }
        *slash = '/';
    }
    return 0;
}

/* Creates the 256 folders blobs/00 … blobs/ff that are missing, with one
 * fsync of blobs/ for all of them, so that storing a blob never creates
 * its folder (a mkdir and an fsync of blobs/ in the commit of a save).  A
 * folder that cannot be made now is made by the first blob that needs it. */
static void make_fanout(fs_store *s)
{
    bool made = false;
    for (unsigned i = 0; i < 256; i++) {
        char rel[16];
        snprintf(rel, sizeof rel, "blobs/%02x", i);
        if (mkdirat(s->root, rel, 0755) == 0)
            made = true;
    }
    if (made)
        (void)blobstore_fs_sync_dir(s->root, "blobs");
}

static void random_name(char out[40])
{
    static atomic_uint_fast64_t counter;
    unsigned char r[12];
    if (getrandom(r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        uint64_t v[2] = {(uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32),
                         atomic_fetch_add(&counter, 1)};
        memcpy(r, v, sizeof r);
    }
    memcpy(out, "up-", 3);
    cd_hex(r, sizeof r, out + 3);
}

/* Creates and locks a new temporary file; its name goes to name. */
static blob_status tmp_create(fs_store *s, char name[40], cd_err *err)
{
    for (;;) {
        random_name(name);
        int fd = openat(s->tmp, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0 && errno == EEXIST)
            continue;
        if (fd < 0)
            return blobstore_fs_io_err(err, "cannot create a temporary file in", TMP_PATH);
        struct stat st;
        if (flock(fd, LOCK_EX) < 0 || fstat(fd, &st) < 0) {
            blob_status rc = blobstore_fs_io_err(err, "cannot lock a temporary file in", TMP_PATH);
            unlinkat(s->tmp, name, 0);
            close(fd);
            return rc;
        }
        if (st.st_nlink > 0)
            return fd;
        /* Another process's clean-up took it between create and lock. */
        close(fd);
    }
}

/* Removes the temporary files no live writer holds. */
static void tmp_cleanup(fs_store *s)
{
    int dfd = dup(s->tmp);
    DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
    if (!d) {
        if (dfd >= 0)
            close(dfd);
        return;
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        int fd = openat(s->tmp, de->d_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
        if (fd < 0)
            continue;
        if (flock(fd, LOCK_EX | LOCK_NB) == 0)
            unlinkat(s->tmp, de->d_name, 0);
        close(fd);
    }
    closedir(d);
}

blob_status blobstore_fs_move(fs_store *s, const char *name, const char *key, cd_err *err)
{
    if (mkdir_parents(s->root, key) < 0)
        return blobstore_fs_io_err(err, "cannot create the folder of", key);
    if (renameat(s->tmp, name, s->root, key) < 0)
        return blobstore_fs_io_err(err, "cannot move into place", key);
    return BLOB_OK;
}

/* fdatasync, not fsync: what it leaves out is the file's times, which no
 * reader of the store looks at; its size and blocks are synced. */
blob_status blobstore_fs_publish(fs_store *s, int fd, const char *name, const char *key,
                                 cd_err *err)
{
    if (fdatasync(fd) < 0)
        return blobstore_fs_io_err(err, "cannot fsync the upload of", key);
    blob_status rc = blobstore_fs_move(s, name, key, err);
    if (rc)
        return rc;
    char parent[BLOB_KEY_MAX + 1];
    snprintf(parent, sizeof parent, "%s", key);
    *strrchr(parent, '/') = '\0'; /* keys always have a folder */
    if (blobstore_fs_sync_dir(s->root, parent) < 0)
        return blobstore_fs_io_err(err, "cannot fsync the folder of", key);
    return BLOB_OK;
}

/* Stages the temporary file `name` (fd) as key, or when the stage is full
 * publishes it at once.  *staged says which. */
static blob_status stage_or_publish(fs_store *s, int fd, const char *name, const char *key,
                                    bool *staged, cd_err *err)
{
    *staged = fs_stage_add(s, fd, name, key);
    return *staged ? BLOB_OK : blobstore_fs_publish(s, fd, name, key, err);
}

/* The store's namespaces: a key outside them is refused.  review/ holds
 * the records of review (comments) that a rebuild restores. */
bool blobstore_fs_key_ok(const char *key)
{
    return blobstore_key_valid(key) &&
           (strncmp(key, "blobs/", 6) == 0 || strncmp(key, "manifests/", 10) == 0 ||
            strncmp(key, "items/", 6) == 0 || strncmp(key, "review/", 7) == 0);
}

/* Store operations ------------------------------------------------------- */

static blob_status fs_ping(blobstore *bs, cd_err *err)
{
    fs_store *s = (fs_store *)bs;
    if (faccessat(s->root, "blobs", W_OK | X_OK, 0) < 0 ||
        faccessat(s->root, TMP_PATH, W_OK | X_OK, 0) < 0) {
        int e = errno;
        return cd_err_set(err, BLOB_UNAVAILABLE, "blob store: data folder not writable: %s",
                          strerror(e));
    }
    return BLOB_OK;
}

static blob_status fs_has(blobstore *bs, const char *sha, bool *present, cd_err *err)
{
    fs_store *s = (fs_store *)bs;
    *present = false;
    blob_status rc = BLOB_OK;
    char *key = blobstore_blob_key(sha);
    struct stat st;
    int staged = fs_stage_dup(s, key);
    if (staged >= 0) {
        close(staged);
        *present = true;
    } else if (fstatat(s->root, key, &st, AT_SYMLINK_NOFOLLOW) == 0)
        *present = S_ISREG(st.st_mode);
    else if (errno != ENOENT && errno != ENOTDIR)
        rc = blobstore_fs_io_err(err, "cannot stat", key);
    free(key);
    return rc;
}

/* A failed write to the temporary file of an upload. */
static blob_status write_failed(cd_err *e, const char *sha)
{
    return blobstore_fs_io_err(e, "cannot write the upload of", sha);
}

static blob_status fs_put_begin(blobstore *bs, const char *sha, int64_t max_size, blob_writer **out,
                                cd_err *err)
{
    fs_store *s = (fs_store *)bs;
    *out = NULL;
    bool present;
    blob_status rc = fs_has(bs, sha, &present, err);
    if (rc)
        return rc;
    blob_writer *w = cd_xcalloc(1, sizeof *w);
    w->s = s;
    int fd = -1;
    if (!present && (fd = tmp_create(s, w->tmp_name, err)) < 0) {
        free(w);
        return fd;
    }
    blob_upload_init(&w->up, sha, max_size, fd, write_failed);
    *out = w;
    return BLOB_OK;
}

static blob_status fs_put_write(blob_writer *w, const void *p, size_t n, cd_err *err)
{
    return blob_upload_write(&w->up, p, n, err);
}

static void writer_free(blob_writer *w)
{
    if (w->up.fd >= 0 && w->tmp_name[0]) /* not published */
        unlinkat(w->s->tmp, w->tmp_name, 0);
    blob_upload_release(&w->up);
    free(w);
}

static blob_status fs_put_finish(blob_writer *w, cd_err *err)
{
    blob_status rc = blob_upload_verify(&w->up, err);
    if (rc == BLOB_OK && w->up.fd >= 0) {
        char *key = blobstore_blob_key(w->up.sha);
        bool staged = false;
        rc = stage_or_publish(w->s, w->up.fd, w->tmp_name, key, &staged, err);
        if (rc == BLOB_OK)
            w->tmp_name[0] = '\0'; /* the stage's or in place */
        free(key);
    }
    writer_free(w);
    return rc;
}

static void fs_put_abort(blob_writer *w)
{
    writer_free(w);
}

static blob_status fs_open(blobstore *bs, const char *sha, blob_reader **r, int64_t *size,
                           cd_err *err)
{
    fs_store *s = (fs_store *)bs;
    *r = NULL;
    blob_status rc = BLOB_OK;
    char *key = blobstore_blob_key(sha);
    int fd = fs_stage_dup(s, key);
    if (fd < 0)
        fd = openat(s->root, key, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    if (fd < 0 && (errno == ENOENT || errno == ENOTDIR))
        rc = cd_err_set(err, BLOB_NOT_FOUND, "blob store: no blob %s", sha);
    else if (fd < 0 || fstat(fd, &st) < 0)
        rc = blobstore_fs_io_err(err, "cannot open", key);
    else if (!S_ISREG(st.st_mode))
        rc = cd_err_set(err, BLOB_NOT_FOUND, "blob store: no blob %s", sha);
    free(key);
    if (rc) {
        if (fd >= 0)
            close(fd);
        return rc;
    }
    *r = cd_xmalloc(sizeof **r);
    (*r)->fd = fd;
    *size = st.st_size;
    return BLOB_OK;
}

static ssize_t fs_read(blob_reader *r, uint64_t offset, void *p, size_t n)
{
    if (offset > INT64_MAX)
        return 0;
    ssize_t got;
    do
        got = pread(r->fd, p, n, (off_t)offset);
    while (got < 0 && errno == EINTR);
    return got;
}

static void fs_close_reader(blob_reader *r)
{
    if (!r)
        return;
    close(r->fd);
    free(r);
}

/* Writes an object to a temporary file, then publishes it (durable at
 * once) or, when stage, stages it if the stage has room. */
static blob_status write_object(fs_store *s, const char *key, const void *p, size_t n, bool stage,
                                cd_err *err)
{
    blob_status rc = BLOB_OK;
    char name[40];
    int fd = tmp_create(s, name, err);
    if (fd < 0)
        return fd;
    bool staged = false;
    if (cd_write_all(fd, p, n) < 0)
        rc = blobstore_fs_io_err(err, "cannot write", key);
    else if (stage)
        rc = stage_or_publish(s, fd, name, key, &staged, err);
    else
        rc = blobstore_fs_publish(s, fd, name, key, err);
    if (rc)
        unlinkat(s->tmp, name, 0);
    close(fd);
    return rc;
}

static blob_status fs_put_object(blobstore *bs, const char *key, const void *p, size_t n,
                                 cd_err *err)
{
    return write_object((fs_store *)bs, key, p, n, false, err);
}

static blob_status fs_stage_object(blobstore *bs, const char *key, const void *p, size_t n,
                                   cd_err *err)
{
    return write_object((fs_store *)bs, key, p, n, true, err);
}

static blob_status fs_get_object(blobstore *bs, const char *key, cd_buf *out, cd_err *err)
{
    fs_store *s = (fs_store *)bs;
    blob_status rc = BLOB_OK;
    int fd = fs_stage_dup(s, key);
    if (fd < 0)
        fd = openat(s->root, key, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    if (fd < 0 && (errno == ENOENT || errno == ENOTDIR))
        return cd_err_set(err, BLOB_NOT_FOUND, "blob store: no object %s", key);
    if (fd < 0 || fstat(fd, &st) < 0) {
        rc = blobstore_fs_io_err(err, "cannot open", key);
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = cd_err_set(err, BLOB_NOT_FOUND, "blob store: no object %s", key);
        goto out;
    }
    cd_buf_reset(out);
    cd_buf_grow(out, (size_t)st.st_size);
    for (;;) {
        cd_buf_grow(out, 4096);
        /* pread: a staged object's descriptor shares its offset with the stage's */
        ssize_t got = pread(fd, out->data + out->len, out->cap - out->len - 1, (off_t)out->len);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            rc = blobstore_fs_io_err(err, "cannot read", key);
            goto out;
        }
        if (got == 0)
            break;
        out->len += (size_t)got;
    }
    out->data[out->len] = '\0';
out:
    if (fd >= 0)
        close(fd);
    return rc;
}

static void fs_close(blobstore *bs)
{
    fs_store *s = (fs_store *)bs;
    if (!s)
        return;
    fs_stage_free(s, s->stage);
    close(s->tmp);
    close(s->root);
    free(s);
}

static const struct blobstore_ops fs_ops = {
    .name = "fs",
    .ping = fs_ping,
    .has = fs_has,
    .put_begin = fs_put_begin,
    .put_write = fs_put_write,
    .put_finish = fs_put_finish,
    .put_abort = fs_put_abort,
    .open = fs_open,
    .read = fs_read,
    .close_reader = fs_close_reader,
    .put_object = fs_put_object,
    .get_object = fs_get_object,
    .stage_object = fs_stage_object,
    .settle = fs_settle,
    .list = blobstore_fs_list,
    .close = fs_close,
};

blobstore *blobstore_open_fs(const char *data_dir, cd_err *err)
{
    fs_store *s = cd_xcalloc(1, sizeof *s);
    blobstore_init(&s->base, &fs_ops);
    s->root = s->tmp = -1;
    if (cd_mkdir_p(data_dir, 0755, NULL) < 0)
        goto fail;
    s->root = open(data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (s->root < 0)
        goto fail;
    static const char *const dirs[] = {"blobs", "manifests", TMP_PATH};
    bool made = false;
    for (size_t i = 0; i < 3; i++) {
        if (mkdirat(s->root, dirs[i], 0755) == 0)
            made = true;
        else if (errno != EEXIST)
            goto fail;
    }
    if (made && blobstore_fs_sync_dir(s->root, "") < 0)
        goto fail;
    s->tmp = openat(s->root, TMP_PATH, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (s->tmp < 0)
        goto fail;
    tmp_cleanup(s);
    make_fanout(s);
    s->stage = fs_stage_new();
    return &s->base;
fail:
    blobstore_fs_io_err(err, "cannot open the data folder", data_dir);
    if (s->root >= 0)
        close(s->root);
    free(s);
    return NULL;
}
