/* SPDX-License-Identifier: MIT */
/*
 * Internals of watch/: the watcher structure shared by the three parts of
 * the module, and their entry points.
 *
 *   watch.c          the public API, the pending batch and the delivery
 *                    thread (debounce)
 *   watch_hub.c      the process-wide inotify thread over libinotifytools
 *   watch_tree.c     one watched tree: watch descriptors, walks, events
 *   watch_pathset.c  the deduplicating set of a pending batch
 *
 * Locking: everything in `tree` belongs to the hub and is touched only with
 * the hub lock held.  The pending batch (`mu` and below) is shared by the hub
 * (which adds to it) and the delivery thread (which takes it).  The hub lock
 * is always taken before `mu`, never after.
 */
#ifndef CONTENTD_WATCH_INT_H
#define CONTENTD_WATCH_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/inotify.h>

#include "watch.h"

/* What every directory watch asks for.  IN_DONT_FOLLOW and IN_ONLYDIR keep
 * a symlink or a file that replaced a directory from being watched. */
#define WATCH_MASK                                                                                 \
    (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_MODIFY | IN_CLOSE_WRITE |            \
     IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_DONT_FOLLOW | IN_ONLYDIR | IN_EXCL_UNLINK)

/* How often a vanished root is looked for. */
#define WATCH_ROOT_POLL_NS (200 * 1000000LL)

/* Where a path of the pending batch stands, from its last event (watch.c,
 * "whether a batch is complete"). */
enum {
    WATCH_P_NEW,  /* just added, no state yet */
    WATCH_P_WAIT, /* being written, removed, or new: wait for the window */
    WATCH_P_DONE, /* saved in one complete step: closed after writing, or renamed into place */
    WATCH_P_GONE, /* born and gone within the batch: left out */
    WATCH_P_STATES
};

/* A set of relative paths; `born` records that the path's first event in
 * the batch created it (IN_CREATE), so that a path born and gone within one
 * batch can be left out.  `open` records that the path is a new regular
 * file not closed since its creation (in this batch or an earlier one): it
 * may be an editor's temporary file still being written. */
typedef struct watch_pathent {
    char *path;
    bool born;
    bool open;
    unsigned char state; /* WATCH_P_* */
} watch_pathent;

typedef struct watch_pathset {
    cd_htab table; /* of entries holding a watch_pathent */
} watch_pathset;

/* Adds path[0..len) unless present (then its born bit is kept); returns
 * its entry, valid until the next take. */
watch_pathent *watch_pathset_add(watch_pathset *s, const char *path, size_t len, bool born);
/* Removes path[0..len) if present; returns whether it was. */
bool watch_pathset_remove(watch_pathset *s, const char *path, size_t len);
/* Moves the entries out in a new array of *n entries and empties s; the
 * caller frees each path and the array with free(). */
watch_pathent *watch_pathset_take(watch_pathset *s, size_t *n);
void watch_pathset_free(watch_pathset *s);

/* One watched directory. */
typedef struct watch_dir {
    int wd;
    bool mark; /* set by a sweep's mark phase, cleared when seen again */
    char *rel; /* "" for the root */
} watch_dir;

/* A directory's IN_MOVED_FROM waiting for its IN_MOVED_TO. */
typedef struct watch_move {
    uint32_t cookie;
    char *rel;
} watch_move;

typedef struct watch_tree {
    watch_dir *dirs; /* sorted by wd */
    size_t ndirs, cap;
    watch_move *moves;
    size_t nmoves, movecap;
    bool gone; /* the root is missing; looked for at next_poll_ns */
    int64_t next_poll_ns;
} watch_tree;

struct watch_folder {
    char *path; /* absolute, no trailing '/' (except "/") */
    size_t pathlen;
    watch_batch_fn cb;
    void *arg;
    watch_ignore_fn ignore;
    void *ignore_arg;
    int64_t quiet_ns, max_delay_ns;

    /* The hub's (hub lock). */
    watch_tree tree;
    watch_folder *next;
    bool attached;

    /* The pending batch and the delivery thread. */
    pthread_mutex_t mu;
    pthread_cond_t cv; /* CLOCK_MONOTONIC */
    watch_pathset pending;
    unsigned flags;
    char *error;
    int64_t first_ns, last_ns;
    int64_t prev_last_ns;          /* last event of the batch taken before */
    size_t nstate[WATCH_P_STATES]; /* the pending paths in each state */
    size_t nopen;                  /* pending paths that are new files still open */
    watch_pathset fresh;           /* new files taken in a batch while still open */
    bool wait;                     /* something only the window settles (dirs, flags) */
    bool drained;                  /* the hub drained the queue since the last event */
    bool have;                     /* something is pending */
    bool stop;
    bool thread_started;
    pthread_t thread;
};

/* Adds a changed path (relative, len bytes) or flags to w's pending batch
 * and wakes its delivery thread; error (copied, may be NULL) is kept if the
 * batch has none yet.  mask is the inotify event about a file at rel, or 0
 * for a path found by a walk or a directory's event. */
void watch_note_path(watch_folder *w, const char *rel, size_t len, bool born, uint32_t mask);
void watch_note_flags(watch_folder *w, unsigned flags, const char *error);
/* The hub read every queued event: a complete batch may go at once. */
void watch_note_drained(watch_folder *w);

/* The hub: registers w (after watching its whole tree), unregisters it,
 * and rebuilds its tree on request. */
watch_status watch_hub_attach(watch_folder *w, cd_err *err) CD_WUR;
void watch_hub_detach(watch_folder *w);
void watch_hub_rescan(watch_folder *w);

/* The tree, always with the hub lock held; ifd is the inotify descriptor. */
/* Watches w's whole tree without reporting anything (watch_start). */
watch_status watch_tree_open(watch_folder *w, int ifd, cd_err *err) CD_WUR;
/* Removes every watch of w and frees the tree. */
void watch_tree_close(watch_folder *w, int ifd);
/* Whether watch descriptor wd is one of w's directories. */
bool watch_tree_has(const watch_folder *w, int wd);
/* Handles ev if its watch descriptor is one of w's; returns whether it was. */
bool watch_tree_event(watch_folder *w, int ifd, const struct inotify_event *ev);
/* A directory of another tree arrived with this cookie: if w holds its
 * IN_MOVED_FROM, the directory left w (and its watches must go first). */
void watch_tree_move_out(watch_folder *w, int ifd, uint32_t cookie);
/* The event queue is drained: directories moved out and not back are gone. */
void watch_tree_settle(watch_folder *w, int ifd);
/* Rebuilds the tree from the folder after an event-queue overflow. */
void watch_tree_rescan(watch_folder *w, int ifd);
/* When the root is gone and its poll is due, looks for it again. */
void watch_tree_poll(watch_folder *w, int ifd, int64_t now);

#endif
