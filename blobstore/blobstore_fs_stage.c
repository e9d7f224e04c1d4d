/* SPDX-License-Identifier: MIT */
/*
 * The stage of the folder store: objects written to their temporary file in
 * `.tmp/` and not yet synced, so that the objects of one version (its new
 * blobs and its manifest) are made durable together by fs_settle() just
 * before the catalog names them, not one after the other as each is stored.
 *
 * A separate fsync per object costs a journal commit each, and on a busy
 * disk each commit waits its turn (docs/operations.md, "What is synced when").
 * fs_settle() starts the write-back of every staged object it is given,
 * waits for each with fdatasync() (the first one's journal commit carries
 * the others' block allocations, so theirs find little left to do), renames
 * them all into place, and fsyncs each receiving folder once (the first
 * commits every rename).  Until then a staged object is readable in this
 * process (has, open, get_object read its temporary file), is invisible to
 * other processes, and is lost by a crash, which is harmless: nothing names
 * it yet, and `.tmp/` is swept at the next start.
 *
 * The stage holds at most STAGE_MAX objects, each with an open descriptor
 * (which also keeps the temporary file's lock); a full stage makes the
 * oldest one durable to make room (or, when every one is being settled,
 * the new object is made durable as it is stored, as before the stage).  Closing the
 * store makes every staged object durable.
 */
#include "blobstore_int.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STAGE_MAX 64

typedef struct staged_obj {
    char *key;
    char name[40]; /* in .tmp/ */
    int fd;
    uint64_t seq;      /* the order of staging: the oldest makes room */
    const void *owner; /* the fs_settle() call making it durable, or NULL */
} staged_obj;

struct fs_stage {
    pthread_mutex_t mu;
    pthread_cond_t settled; /* an owner let go of its objects */
    staged_obj v[STAGE_MAX];
    size_t n;
    uint64_t next_seq;
};

fs_stage *fs_stage_new(void)
{
    fs_stage *st = cd_xcalloc(1, sizeof *st);
    pthread_mutex_init(&st->mu, NULL);
    pthread_cond_init(&st->settled, NULL);
    return st;
}

/* The index of key in st, or -1.  Under st->mu. */
static ssize_t find(const fs_stage *st, const char *key)
{
    for (size_t i = 0; i < st->n; i++)
        if (!strcmp(st->v[i].key, key))
            return (ssize_t)i;
    return -1;
}

/* Removes entry i: closes its descriptor, and unlinks its temporary file
 * unless it was moved into place.  Under st->mu. */
static void drop(fs_store *s, fs_stage *st, size_t i, bool moved)
{
    staged_obj *o = &st->v[i];
    if (!moved)
        unlinkat(s->tmp, o->name, 0);
    close(o->fd);
    free(o->key);
    st->v[i] = st->v[--st->n];
}

/* The key (a copy, which the caller frees) of the oldest staged object no
 * settle owns, or NULL.  Under st->mu. */
static char *oldest_free(const fs_stage *st)
{
    const staged_obj *old = NULL;
    for (size_t i = 0; i < st->n; i++)
        if (!st->v[i].owner && (!old || st->v[i].seq < old->seq))
            old = &st->v[i];
    return old ? cd_xstrdup(old->key) : NULL;
}

/* A full stage makes room by settling its oldest object (one that no
 * commit named, as after a push whose commit was refused), so that a few
 * uploads nobody committed do not leave every later save to be synced on
 * its own. */
bool fs_stage_add(fs_store *s, int fd, const char *name, const char *key)
{
    fs_stage *st = s->stage;
    int dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (dup_fd < 0)
        return false;
    for (int tries = 0;; tries++) {
        pthread_mutex_lock(&st->mu);
        ssize_t i = find(st, key);
        bool room = i < 0 ? st->n < STAGE_MAX : !st->v[i].owner;
        char *evict = !room && i < 0 && tries < 2 ? oldest_free(st) : NULL;
        if (room && i >= 0) /* written again (a manifest after a failed commit) */
            drop(s, st, (size_t)i, false);
        if (room) {
            staged_obj *o = &st->v[st->n++];
            o->key = cd_xstrdup(key);
            snprintf(o->name, sizeof o->name, "%s", name);
            o->fd = dup_fd;
            o->seq = st->next_seq++;
            o->owner = NULL;
        }
        pthread_mutex_unlock(&st->mu);
        if (room)
            return true;
        if (!evict) {
            close(dup_fd);
            return false;
        }
        cd_err err = {0};
        if (fs_settle(&s->base, (const char *const *)&evict, 1, &err) != BLOB_OK)
            cd_log("warn", "blobstore", "msg=\"cannot make room in the stage\" key=%s err=\"%s\"",
                   evict, err.msg);
        free(evict);
    }
}

int fs_stage_dup(fs_store *s, const char *key)
{
    fs_stage *st = s->stage;
    int fd = -1;
    pthread_mutex_lock(&st->mu);
    ssize_t i = find(st, key);
    if (i >= 0)
        fd = fcntl(st->v[i].fd, F_DUPFD_CLOEXEC, 0);
    pthread_mutex_unlock(&st->mu);
    if (fd < 0)
        errno = ENOENT;
    return fd;
}

/* Takes the staged objects among keys for owner, copying them to mine
 * (*nmine of them); waits first for any that another settle owns, since
 * they are durable only once it is done.  Under st->mu. */
static void take(fs_stage *st, const char *const *keys, size_t n, const void *owner,
                 staged_obj *mine, size_t *nmine)
{
    for (;;) {
        bool busy = false;
        for (size_t k = 0; k < n && !busy; k++) {
            ssize_t i = find(st, keys[k]);
            busy = i >= 0 && st->v[i].owner && st->v[i].owner != owner;
        }
        if (!busy)
            break;
        pthread_cond_wait(&st->settled, &st->mu);
    }
    *nmine = 0;
    for (size_t k = 0; k < n; k++) {
        ssize_t i = find(st, keys[k]);
        if (i < 0 || st->v[i].owner == owner) /* not staged, or listed twice */
            continue;
        st->v[i].owner = owner;
        mine[(*nmine)++] = st->v[i];
    }
}

/* Syncs the bytes of mine[0..n), moves them into place (moved[i]), and
 * syncs each receiving folder once. */
static blob_status make_durable(fs_store *s, staged_obj *mine, size_t n, bool *moved, cd_err *err)
{
    for (size_t i = 0; i < n; i++) /* start every write-back before waiting for one */
        (void)sync_file_range(mine[i].fd, 0, 0, SYNC_FILE_RANGE_WRITE);
    for (size_t i = 0; i < n; i++)
        if (fdatasync(mine[i].fd) < 0)
            return blobstore_fs_io_err(err, "cannot fsync the upload of", mine[i].key);
    cd_crash_point("settle-synced");
    for (size_t i = 0; i < n; i++) {
        blob_status rc = blobstore_fs_move(s, mine[i].name, mine[i].key, err);
        if (rc)
            return rc;
        moved[i] = true;
        if (i == 0)
            cd_crash_point("settle-moving");
    }
    cd_crash_point("settle-moved");
    for (size_t i = 0; i < n; i++) {
        const char *key = mine[i].key;
        size_t len = (size_t)(strrchr(key, '/') - key);
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = !strncmp(mine[j].key, key, len + 1) && !strchr(mine[j].key + len + 1, '/');
        if (seen)
            continue;
        char parent[BLOB_KEY_MAX + 1];
        snprintf(parent, sizeof parent, "%.*s", (int)len, key);
        if (blobstore_fs_sync_dir(s->root, parent) < 0)
            return blobstore_fs_io_err(err, "cannot fsync the folder of", key);
    }
    return BLOB_OK;
}

blob_status fs_settle(blobstore *bs, const char *const *keys, size_t n, cd_err *err)
{
    fs_store *s = (fs_store *)bs;
    fs_stage *st = s->stage;
    staged_obj mine[STAGE_MAX];
    bool moved[STAGE_MAX] = {0};
    size_t nmine = 0;
    pthread_mutex_lock(&st->mu);
    take(st, keys, n, mine, mine, &nmine); /* owner: this call's own array */
    pthread_mutex_unlock(&st->mu);
    if (nmine == 0)
        return BLOB_OK;
    blob_status rc = make_durable(s, mine, nmine, moved, err);
    pthread_mutex_lock(&st->mu);
    for (size_t k = 0; k < nmine; k++) {
        ssize_t i = find(st, mine[k].key);
        if (i < 0)
            continue;
        if (moved[k])
            drop(s, st, (size_t)i, true);
        else
            st->v[i].owner = NULL; /* still staged: a later settle tries again */
    }
    pthread_cond_broadcast(&st->settled);
    pthread_mutex_unlock(&st->mu);
    return rc;
}

void fs_stage_free(fs_store *s, fs_stage *st)
{
    if (!st)
        return;
    for (size_t i = 0; i < st->n; i++) {
        cd_err err = {0};
        staged_obj *o = &st->v[i];
        if (blobstore_fs_publish(s, o->fd, o->name, o->key, &err) != BLOB_OK) {
            cd_log("warn", "blobstore", "msg=\"a staged object is lost\" key=%s err=\"%s\"", o->key,
                   err.msg);
            unlinkat(s->tmp, o->name, 0);
        }
        close(o->fd);
        free(o->key);
    }
    pthread_mutex_destroy(&st->mu);
    pthread_cond_destroy(&st->settled);
    free(st);
}
