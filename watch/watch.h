/* SPDX-License-Identifier: MIT */
/*
 * watch — folder watching: turns every change under a folder into batches of
 * changed relative paths, for `content push --watch DIR` (one batch, one
 * version) and `contentd serve --watch DIR` (a batch names the items whose
 * folders changed).  It follows the whole tree (new subfolders are watched as
 * they appear and scanned for what was created before the watch took), renames
 * and moves in and out, editors' atomic saves, deletions, event-queue
 * overflow (a full rescan), and the folder itself being deleted and recreated.
 *
 * A save made in one complete step (a file written and closed, or renamed
 * into place) after a quiet folder is delivered at once; otherwise a burst
 * of saves becomes one batch: the batch fires when no event arrived for the
 * quiet window (default 50 ms), or at the latest the maximum delay (default
 * 500 ms) after its first event.  What follows a save delivered at once
 * within the window folds into the next batch.  A new file is not a save
 * until it is closed: a batch holding one still open waits for its close (at
 * most the maximum delay), and its close waits for the quiet window, in which
 * an editor's temporary file is renamed away.  Paths are a hint, never a promise
 * of precision: a consumer re-reads what it needs.  The watcher never misses
 * a change but may report extra paths (a path that did not change, or a
 * directory meaning "anything under it").
 *
 * Threads: one process-wide thread reads inotify (through libinotifytools,
 * whose state is global) for every watched folder; each watched folder has
 * its own delivery thread that runs the callback, so a slow consumer delays
 * only its own batches.  Changes made while a callback runs form the next
 * batch.  docs/watch.md describes the design and its limits.
 *
 * Functions returning int return WATCH_OK (0) or a negative watch_status and
 * fill `err` (may be NULL) with a sentence a person can read.
 */
#ifndef CONTENTD_WATCH_H
#define CONTENTD_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"

typedef enum watch_status {
    WATCH_OK = 0,
    WATCH_ENOTDIR = -1, /* the folder does not exist or is not a directory */
    WATCH_ELIMIT = -2,  /* an inotify limit (max_user_watches, max_user_instances) */
    WATCH_EFAIL = -3,   /* anything else (permissions, overlapping folders, ...) */
} watch_status;

/* Batch flags. */
enum {
    /* Paths may be incomplete (event-queue overflow, root recreated): treat
     * the whole folder as changed.  The batch still lists every path found
     * by the rescan. */
    WATCH_RESCAN = 1u << 0,
    /* The watched folder disappeared (deleted or moved away).  The watcher
     * keeps running and looks for it again every 200 ms. */
    WATCH_ROOT_GONE = 1u << 1,
    /* The watched folder exists again and is watched; comes with
     * WATCH_RESCAN. */
    WATCH_ROOT_BACK = 1u << 2,
    /* Part of the tree could not be watched (batch->error says where and
     * why); changes there may be missed until the next rescan. */
    WATCH_INCOMPLETE = 1u << 3,
};

typedef struct watch_batch {
    /* Relative, '/'-separated paths, sorted by strcmp and unique.  A path
     * may name a file or a directory (then anything under it may have
     * changed, including the removal of the whole subtree).  Owned by the
     * watcher and valid only during the callback. */
    const char *const *paths;
    size_t npaths;
    unsigned flags;         /* WATCH_RESCAN, ... */
    const char *error;      /* with WATCH_INCOMPLETE, else NULL; same lifetime */
    int64_t first_event_ns; /* CLOCK_MONOTONIC of the batch's first event */
} watch_batch;

/* Called on the folder's delivery thread, one batch at a time.  A batch that
 * ends up empty (say, an editor's temporary file created and removed within
 * the burst) is not delivered.  The callback may call watch_stop() on its own
 * watcher, never watch_free(). */
typedef void (*watch_batch_fn)(void *arg, const watch_batch *batch);

/* Returns true when relpath (is_dir: a directory) should be left out of
 * batches; an ignored directory is not even watched (`.git/`).  Called on
 * the inotify thread while it holds the process-wide watch lock: it must be
 * quick, thread-safe, and must not call any watch_ function.  It sees paths
 * before they are deduplicated, so it may be called several times for one. */
typedef bool (*watch_ignore_fn)(void *arg, const char *relpath, bool is_dir);

typedef struct watch_options {
    unsigned quiet_ms;      /* 0: 50 */
    unsigned max_delay_ms;  /* 0: 500; raised to quiet_ms if smaller */
    watch_ignore_fn ignore; /* NULL: nothing ignored */
    void *ignore_arg;
} watch_options;

typedef struct watch_folder watch_folder;

/* Starts watching the directory dir (recursively): when it returns WATCH_OK,
 * every later change under dir is reported through cb(arg, batch).  What is
 * already in the folder is not reported.  opt may be NULL (defaults).
 * Watched folders must not overlap (one inside another): WATCH_EFAIL.
 * On success *out is the watcher, released with watch_free(); it is stored
 * before the first callback can run, so a callback may read it. */
watch_status watch_start(const char *dir, const watch_options *opt, watch_batch_fn cb, void *arg,
                         watch_folder **out, cd_err *err) CD_WUR;

/* Stops watching: when it returns, no event is read for w any more and (unless
 * called from w's own callback) no callback is running or will start.  Changes
 * not yet delivered are dropped.  Idempotent. */
void watch_stop(watch_folder *w);

/* Stops w (see watch_stop) and frees it.  NULL is a no-op.  Must not be
 * called from w's callback. */
void watch_free(watch_folder *w);

/* Rebuilds w's watches from the folder and delivers a WATCH_RESCAN batch
 * listing every path: for a consumer whose ignore rules changed (a directory
 * no longer ignored is watched from now on). */
void watch_rescan(watch_folder *w);

/* The watched folder's absolute path (realpath at start); owned by w. */
const char *watch_path(const watch_folder *w);

#endif
