/* SPDX-License-Identifier: MIT */
/*
 * One watched tree: which inotify watch is which directory, and what each
 * event means for the pending batch.  Runs on the hub's thread (or on the
 * thread of watch_start) with the hub lock held.
 *
 * The directory table is ours, not libinotifytools': its wd-to-name table
 * keeps the name a watch was added under (a renamed directory keeps its old
 * name), keeps entries after the kernel dropped the watch (IN_IGNORED), and
 * re-adding an inode that is already watched (same wd) duplicates entries.
 * The table here is keyed by wd, so one rule covers every case: walking a
 * directory calls inotify_add_watch(), which returns the existing wd for an
 * inode already watched, and the entry is re-keyed to its current name.
 *
 * Walks watch a directory first and list it second, so that an entry created
 * in between is seen by the listing, by an event, or by both, never by none.
 * Sweeps remove what a walk did not see again: a rename marks the old
 * subtree, walks the new one and drops whatever stayed marked.
 */
#include "watch_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <inotifytools/inotifytools.h>

/* The directory table --------------------------------------------------- */

/* The index of the first entry whose wd is >= wd. */
static size_t dir_lower(const watch_tree *t, int wd)
{
    size_t lo = 0, hi = t->ndirs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->dirs[mid].wd < wd)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static watch_dir *dir_find(watch_tree *t, int wd)
{
    size_t i = dir_lower(t, wd);
    return i < t->ndirs && t->dirs[i].wd == wd ? &t->dirs[i] : NULL;
}

/* Records that wd watches rel: a new entry, or the existing one renamed. */
static void dir_upsert(watch_tree *t, int wd, const char *rel)
{
    size_t i = dir_lower(t, wd);
    if (i < t->ndirs && t->dirs[i].wd == wd) {
        if (strcmp(t->dirs[i].rel, rel) != 0) {
            free(t->dirs[i].rel);
            t->dirs[i].rel = cd_xstrdup(rel);
        }
        t->dirs[i].mark = false;
        return;
    }
    t->dirs = cd_grow(t->dirs, t->ndirs, &t->cap, 16, sizeof *t->dirs);
    memmove(&t->dirs[i + 1], &t->dirs[i], (t->ndirs - i) * sizeof *t->dirs);
    t->dirs[i] = (watch_dir){.wd = wd, .mark = false, .rel = cd_xstrdup(rel)};
    t->ndirs++;
}

static void dir_remove_at(watch_tree *t, size_t i)
{
    free(t->dirs[i].rel);
    memmove(&t->dirs[i], &t->dirs[i + 1], (t->ndirs - i - 1) * sizeof *t->dirs);
    t->ndirs--;
}

/* Whether rel is prefix or lies under it ("" holds everything). */
static bool is_under(const char *rel, const char *prefix)
{
    size_t n = strlen(prefix);
    return n == 0 || (strncmp(rel, prefix, n) == 0 && (rel[n] == '\0' || rel[n] == '/'));
}

static void mark_under(watch_tree *t, const char *prefix)
{
    for (size_t i = 0; i < t->ndirs; i++)
        if (is_under(t->dirs[i].rel, prefix))
            t->dirs[i].mark = true;
}

/* Drops every marked entry and its kernel watch.  inotify_rm_watch() fails
 * harmlessly (EINVAL) for a watch the kernel already dropped; the
 * IN_IGNORED that a successful removal queues finds no entry and is
 * skipped. */
static void sweep(watch_tree *t, int ifd)
{
    for (size_t i = t->ndirs; i-- > 0;) {
        if (!t->dirs[i].mark)
            continue;
        (void)inotify_rm_watch(ifd, t->dirs[i].wd);
        dir_remove_at(t, i);
    }
}

static void moves_clear(watch_tree *t)
{
    for (size_t i = 0; i < t->nmoves; i++)
        free(t->moves[i].rel);
    t->nmoves = 0;
}

/* Paths --------------------------------------------------------------- */

/* parent/name (name alone under the root); the caller frees it. */
static char *rel_join(const char *parent, const char *name)
{
    cd_buf b = CD_BUF_INIT;
    if (*parent) {
        cd_buf_puts(&b, parent);
        cd_buf_putc(&b, '/');
    }
    cd_buf_puts(&b, name);
    return cd_buf_steal(&b, NULL);
}

/* The absolute path of rel; the caller frees it. */
static char *abs_of(const watch_folder *w, const char *rel)
{
    return *rel ? rel_join(w->path, rel) : cd_xstrdup(w->path);
}

static bool is_ignored(const watch_folder *w, const char *rel, bool is_dir)
{
    return *rel && w->ignore && w->ignore(w->ignore_arg, rel, is_dir);
}

/* Walks --------------------------------------------------------------- */

typedef struct walk {
    watch_folder *w;
    int ifd;
    bool emit; /* report every entry found */
    bool born; /* ... as created within the batch */
    int err;   /* the first errno that left a directory unwatched */
    char *err_rel;
} walk;

static void walk_fail(walk *k, const char *rel, int e)
{
    if (k->err)
        return;
    k->err = e;
    k->err_rel = cd_xstrdup(rel);
}

/* The sentence for k's error, into msg. */
static void walk_sentence(const walk *k, char *msg, size_t n)
{
    const char *sep = *k->err_rel ? "/" : "";
    if (k->err == ENOSPC)
        snprintf(msg, n,
                 "cannot watch %s%s%s: the inotify watch limit is reached "
                 "(fs.inotify.max_user_watches = %d)",
                 k->w->path, sep, k->err_rel, inotifytools_get_max_user_watches());
    else
        snprintf(msg, n, "cannot watch %s%s%s: %s", k->w->path, sep, k->err_rel, strerror(k->err));
}

/* Ends a walk: an error becomes a WATCH_INCOMPLETE batch. */
static void walk_end(walk *k)
{
    if (k->err) {
        char msg[512];
        walk_sentence(k, msg, sizeof msg);
        watch_note_flags(k->w, WATCH_INCOMPLETE, msg);
    }
    free(k->err_rel);
    k->err_rel = NULL;
    k->err = 0;
}

static bool entry_is_dir(DIR *d, const struct dirent *de)
{
    if (de->d_type != DT_UNKNOWN)
        return de->d_type == DT_DIR;
    struct stat st;
    return fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

/* Lists directory rel (at abs): reports its entries and appends the
 * subdirectories to walk, NUL-terminated, to subdirs. */
static void list_dir(walk *k, const char *abs, const char *rel, cd_buf *subdirs)
{
    DIR *d = opendir(abs);
    if (!d) {
        if (errno != ENOENT && errno != ENOTDIR)
            walk_fail(k, rel, errno);
        return;
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        char *child = rel_join(rel, de->d_name);
        bool is_dir = entry_is_dir(d, de);
        if (!is_ignored(k->w, child, is_dir)) {
            if (k->emit)
                watch_note_path(k->w, child, strlen(child), k->born, 0);
            if (is_dir)
                cd_buf_append(subdirs, child, strlen(child) + 1);
        }
        free(child);
    }
    closedir(d);
}

/* Watches directory rel (re-keying the watch of an inode already watched
 * under another name), then lists it and walks its subdirectories.  Returns
 * 0, or -errno when rel itself could not be watched.  The listing is done
 * before recursing so that one open directory is held at a time. */
static int walk_dir(walk *k, const char *rel)
{
    char *abs = abs_of(k->w, rel);
    int wd = inotify_add_watch(k->ifd, abs, WATCH_MASK);
    if (wd < 0) {
        int e = errno;
        if (e != ENOENT && e != ENOTDIR)
            walk_fail(k, rel, e);
        free(abs);
        return -e;
    }
    dir_upsert(&k->w->tree, wd, rel);
    cd_buf subdirs = CD_BUF_INIT;
    list_dir(k, abs, rel, &subdirs);
    free(abs);
    for (size_t off = 0; off < subdirs.len; off += strlen(subdirs.data + off) + 1)
        (void)walk_dir(k, subdirs.data + off);
    cd_buf_free(&subdirs);
    return 0;
}

/* Opening and closing ------------------------------------------------- */

watch_status watch_tree_open(watch_folder *w, int ifd, cd_err *err)
{
    walk k = {.w = w, .ifd = ifd};
    int rc = walk_dir(&k, "");
    if (rc == 0 && !k.err)
        return WATCH_OK;
    watch_status status = WATCH_EFAIL;
    if (k.err) {
        char msg[512];
        walk_sentence(&k, msg, sizeof msg);
        status = k.err == ENOSPC ? WATCH_ELIMIT : WATCH_EFAIL;
        cd_err_set(err, status, "%s", msg);
    } else {
        status = WATCH_ENOTDIR;
        cd_err_set(err, status, "%s: %s", w->path, strerror(-rc));
    }
    free(k.err_rel);
    watch_tree_close(w, ifd);
    return status;
}

void watch_tree_close(watch_folder *w, int ifd)
{
    watch_tree *t = &w->tree;
    mark_under(t, "");
    sweep(t, ifd);
    moves_clear(t);
    free(t->dirs);
    free(t->moves);
    memset(t, 0, sizeof *t);
}

/* Losing and finding the root ------------------------------------------ */

static void root_gone(watch_folder *w, int ifd)
{
    watch_tree *t = &w->tree;
    if (t->gone)
        return;
    mark_under(t, "");
    sweep(t, ifd);
    moves_clear(t);
    t->gone = true;
    t->next_poll_ns = cd_mono_ns() + WATCH_ROOT_POLL_NS;
    watch_note_flags(w, WATCH_ROOT_GONE, NULL);
}

/* Walks the whole tree again, reporting everything found: watches of
 * directories still present are kept (re-keyed if renamed), new ones added,
 * vanished ones dropped.  Returns whether the root itself is watched. */
static bool rebuild(watch_folder *w, int ifd)
{
    watch_tree *t = &w->tree;
    walk k = {.w = w, .ifd = ifd, .emit = true};
    mark_under(t, "");
    int rc = walk_dir(&k, "");
    sweep(t, ifd);
    moves_clear(t);
    walk_end(&k);
    return rc == 0;
}

void watch_tree_rescan(watch_folder *w, int ifd)
{
    if (w->tree.gone)
        return;
    if (rebuild(w, ifd))
        watch_note_flags(w, WATCH_RESCAN, NULL);
    else
        root_gone(w, ifd);
}

void watch_tree_poll(watch_folder *w, int ifd, int64_t now)
{
    watch_tree *t = &w->tree;
    if (!t->gone || now < t->next_poll_ns)
        return;
    struct stat st;
    if (stat(w->path, &st) == 0 && S_ISDIR(st.st_mode) && rebuild(w, ifd)) {
        t->gone = false;
        watch_note_flags(w, WATCH_ROOT_BACK | WATCH_RESCAN, NULL);
        return;
    }
    t->next_poll_ns = now + WATCH_ROOT_POLL_NS;
}

/* Events -------------------------------------------------------------- */

/* A directory appeared at rel (created, or moved in under a name we did not
 * see leave): watch and report everything under it. */
static void dir_arrived(watch_folder *w, int ifd, const char *rel, bool born)
{
    walk k = {.w = w, .ifd = ifd, .emit = true, .born = born};
    (void)walk_dir(&k, rel);
    walk_end(&k);
}

/* Takes the pending IN_MOVED_FROM with this cookie; the caller frees the
 * returned path.  NULL when there is none. */
static char *move_take(watch_tree *t, uint32_t cookie)
{
    for (size_t i = 0; i < t->nmoves; i++) {
        if (t->moves[i].cookie != cookie)
            continue;
        char *rel = t->moves[i].rel;
        t->moves[i] = t->moves[--t->nmoves];
        return rel;
    }
    return NULL;
}

static void move_push(watch_tree *t, uint32_t cookie, const char *rel)
{
    t->moves = cd_grow(t->moves, t->nmoves, &t->movecap, 4, sizeof *t->moves);
    t->moves[t->nmoves++] = (watch_move){.cookie = cookie, .rel = cd_xstrdup(rel)};
}

/* A directory moved to rel.  Paired with its IN_MOVED_FROM it is a rename
 * inside the tree: the watches under the old name are re-keyed by the walk
 * and what it did not meet again is dropped.  Unpaired, it came from
 * outside: everything under it is new to us. */
static void dir_moved_in(watch_folder *w, int ifd, const char *rel, uint32_t cookie)
{
    char *from = move_take(&w->tree, cookie);
    if (!from) {
        dir_arrived(w, ifd, rel, false);
        return;
    }
    mark_under(&w->tree, from);
    dir_arrived(w, ifd, rel, false);
    sweep(&w->tree, ifd);
    free(from);
}

/* An event about entry rel of a watched directory. */
static void entry_event(watch_folder *w, int ifd, const char *rel, uint32_t mask, uint32_t cookie)
{
    bool is_dir = (mask & IN_ISDIR) != 0;
    if (is_ignored(w, rel, is_dir))
        return;
    /* Born: the name did not exist before this event.  Only IN_CREATE says
     * so; IN_MOVED_TO may have replaced an existing file (an atomic save). */
    watch_note_path(w, rel, strlen(rel), (mask & IN_CREATE) != 0, is_dir ? 0 : mask);
    if (!is_dir)
        return;
    if (mask & IN_CREATE) {
        dir_arrived(w, ifd, rel, true);
    } else if (mask & IN_MOVED_TO) {
        dir_moved_in(w, ifd, rel, cookie);
    } else if (mask & IN_MOVED_FROM) {
        move_push(&w->tree, cookie, rel);
    } else if (mask & IN_DELETE) {
        mark_under(&w->tree, rel);
        sweep(&w->tree, ifd);
    }
}

bool watch_tree_has(const watch_folder *w, int wd)
{
    return dir_find((watch_tree *)&w->tree, wd) != NULL;
}

bool watch_tree_event(watch_folder *w, int ifd, const struct inotify_event *ev)
{
    watch_tree *t = &w->tree;
    watch_dir *d = dir_find(t, ev->wd);
    if (!d)
        return false;
    bool is_root = d->rel[0] == '\0';
    if (ev->mask & IN_IGNORED) {
        dir_remove_at(t, (size_t)(d - t->dirs));
        if (is_root)
            root_gone(w, ifd);
        return true;
    }
    /* A subdirectory's own deletion or move is seen by its parent. */
    if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_UNMOUNT)) {
        if (is_root)
            root_gone(w, ifd);
        return true;
    }
    if (ev->len == 0 || ev->name[0] == '\0')
        return true;
    char *rel = rel_join(d->rel, ev->name); /* d dies with the next table change */
    entry_event(w, ifd, rel, ev->mask, ev->cookie);
    free(rel);
    return true;
}

void watch_tree_move_out(watch_folder *w, int ifd, uint32_t cookie)
{
    char *from = move_take(&w->tree, cookie);
    if (!from)
        return;
    mark_under(&w->tree, from);
    sweep(&w->tree, ifd);
    free(from);
}

void watch_tree_settle(watch_folder *w, int ifd)
{
    watch_tree *t = &w->tree;
    if (t->nmoves == 0)
        return;
    for (size_t i = 0; i < t->nmoves; i++)
        mark_under(t, t->moves[i].rel);
    sweep(t, ifd);
    moves_clear(t);
}
