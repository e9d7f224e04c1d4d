/* SPDX-License-Identifier: MIT */
/*
 * What folder_watch.c (threads, batches, start and stop) and folder_items.c
 * (which subfolders are items, and committing them) share: the state of one
 * watched folder of `contentd serve --watch`.
 *
 * Threads.  For each watched folder, watch/ runs the ignore callback on its
 * inotify thread and the batch callback on the folder's delivery thread;
 * both only read the item table or record what changed.  Everything else —
 * deciding which items to commit, committing them, changing the item table
 * — happens on the folder's own worker thread, so that a slow commit
 * delays only its own folder, and saves made meanwhile form the next round.
 */
#ifndef CONTENTD_FOLDER_WATCH_INT_H
#define CONTENTD_FOLDER_WATCH_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "ignore.h"
#include "sync.h"

#include <pthread.h>
#include "watch.h"

#define FW_USER "local" /* who owns the watched items */

/* A set of strings (subfolder names), in insertion order, unique. */
typedef struct fw_keys {
    char **v;
    size_t n, cap;
} fw_keys;

void fw_keys_add(fw_keys *k, const char *s, size_t len);
bool fw_keys_has(const fw_keys *k, const char *s);
void fw_keys_clear(fw_keys *k);

/* One item folder: a subfolder holding an index.md, or (key "") the watched
 * folder itself. */
typedef struct fw_item {
    char *key;
    char *path;                                /* the folder: <watched folder>/<key> */
    ignore_rules *ig;                          /* built-in rules + the folder's .contentignore */
    char kind[CD_KIND_MAX], name[CD_NAME_MAX]; /* the item it was last committed to; "" before */
    int status;                                /* the last outcome: SYNC_* */
    char last_err[sizeof(((cd_err *)0)->msg)]; /* the last error logged */
    int retry_ms;                              /* after SYNC_RETRY: the delay, doubling */
    int64_t retry_at_ms;                       /* and when (CLOCK_MONOTONIC, ms) */
    sync_item_memo memo;                       /* the front matter last read */
} fw_item;

/* The watcher's batches one round works on, for the per-save debug line
 * (docs/watch.md, "Diagnosing a save"). */
typedef struct fw_batches {
    uint64_t first, last; /* their numbers (from 1, per folder); 0: none */
    int64_t event_ns;     /* CLOCK_MONOTONIC: the first event of the first */
    int64_t delivered_ns; /* the last one handed to batch_cb */
    int64_t taken_ns;     /* the worker took them */
} fw_batches;

typedef struct sync_watch sync_watch;

/* One watched folder (`--watch DIR`). */
typedef struct fw_dir {
    sync_watch *sw;
    char *path; /* as given on the command line */
    watch_folder *wf;
    pthread_t thread;
    bool thread_started;

    /* What the batches recorded since the last round, under mu. */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    fw_keys dirty;         /* first path segments that changed */
    fw_keys rules_changed; /* "" or KEY: whose .contentignore changed */
    bool all;              /* every item folder (a rescan, the folder back) */
    bool gone, back, stop;
    char *incomplete;   /* the watcher's message about a part it cannot watch */
    uint64_t nbatches;  /* batches delivered so far */
    fw_batches batches; /* those not yet taken by a round */

    /* The item table, sorted by key.  Written by the worker only, under
     * rules_mu (write); read by the ignore callback under rules_mu (read). */
    pthread_rwlock_t rules_mu;
    bool root_item; /* the watched folder holds index.md: it is the one item */
    fw_item **items;
    size_t nitems, cap;

    bool was_gone;    /* worker only: the folder was gone at the last round */
    fw_batches round; /* worker only: the batches of the round in progress */
} fw_dir;

/* An item claimed by one folder: two folders naming the same item would
 * overwrite each other's versions, so the second is refused. */
typedef struct fw_claim {
    char id[96]; /* "kind/name" */
    char *folder;
} fw_claim;

struct sync_watch {
    sync_config cfg;        /* a copy (its pointers are not owned) */
    ignore_rules *builtins; /* for paths that belong to no item */
    unsigned quiet_ms, max_delay_ms;
    fw_dir *dirs;
    size_t ndirs;
    pthread_mutex_t claims_mu;
    fw_claim *claims;
    size_t nclaims;
};

/* ---- folder_items.c (the worker thread) --------------------------------- */

/* Whether dir holds a regular file index.md. */
bool fw_is_item_folder(const char *dir);
/* The item of key, or NULL (the caller holds rules_mu or is the worker). */
fw_item *fw_find(const fw_dir *d, const char *key, size_t len);
/* Frees one entry of the item table (its item is left as it is). */
void fw_item_free(fw_item *it);
/* Builds the item table from the folder as it is now (at start-up). */
void fw_table_load(fw_dir *d);
/* Empties the table, releasing the items' claims (items are kept). */
void fw_table_clear(fw_dir *d);
/* Commits the item folders that the round's keys name (all of them with
 * `all`), adding and dropping table entries as folders become or stop
 * being items.  Sets *rescan when ignore rules changed. */
void fw_sync(fw_dir *d, const fw_keys *keys, const fw_keys *rules_changed, bool all, bool initial,
             bool *rescan);
/* The earliest retry time of a failed item (monotonic ms), or -1. */
int64_t fw_next_retry(const fw_dir *d);
/* Appends to keys every item whose retry is due at now. */
void fw_due_retries(const fw_dir *d, int64_t now, fw_keys *keys);

/* One log line `mod=watch msg=…` followed by the key=value pairs in b (each
 * with its leading space, from cd_log_kv); frees b. */
void fw_log(const char *level, const char *msg, cd_buf *b);

/* ---- folder_watch.c ------------------------------------------------------ */

/* Whether the watch is stopping (a long round ends early). */
bool fw_stopping(fw_dir *d);

#endif
