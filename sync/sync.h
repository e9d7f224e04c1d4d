/* SPDX-License-Identifier: MIT */
/*
 * sync — `contentd serve --watch DIR`: every content folder below the
 * watched folders is an item, committed at start-up and after every burst
 * of saves (watch/ debounces them).  A folder is listed as `content push`
 * lists it (the ignore rules of ignore/), the blobs the store lacks are
 * stored, and the list goes through the same commit path as
 * POST …/versions (commit/).  Failures are logged and retried with
 * backoff; the watch never stops by itself.
 */
#ifndef CONTENTD_SYNC_H
#define CONTENTD_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "blobstore.h"
#include "catalog.h"
#include "commit.h"
#include "common.h"
#include "ignore.h"

/* What the watch works on and how; nothing of it is owned, and it must
 * outlive the watch. */
typedef struct sync_config {
    catalog *cat;
    blobstore *bs;
    commit_path *commit;
    md_pool *pool; /* renders index.md in worker processes (NULL: in this one) */
    int64_t max_blob_size;
    char *const *dirs; /* the watched folders */
    size_t n_dirs;
    const char *data_dir;  /* must not be inside a watched folder */
    unsigned quiet_ms;     /* the debounce window (0: 50 ms) */
    unsigned max_delay_ms; /* and its maximum delay (0: 500 ms) */
} sync_config;

/* sync_folder_item() and sync_commit_folder() return 0 or one of these. */
typedef enum sync_status {
    SYNC_OK = 0,
    /* The folder's content is not acceptable (front matter, a file name, a
     * symlink out of the folder, markdown that cannot be rendered): only a
     * change to the folder can fix it. */
    SYNC_REFUSED = -1,
    /* A store failed, or a file changed while it was read: trying again
     * later may succeed. */
    SYNC_RETRY = -2,
} sync_status;

/* What sync_folder_item() keeps of one item folder between saves: the
 * front matter it last read the item from.  A save that leaves index.md's
 * front matter byte for byte as it was names the same item, so the item is
 * known without waiting for a render; index.md is then rendered by
 * sync_commit_folder() while the folder is read and its blobs stored.
 * Zero-initialise; free with sync_item_memo_clear(). */
typedef struct sync_item_memo {
    bool known;                    /* kind and name below were read from… */
    char front_sha[CD_SHA256_HEX]; /* …the front matter with this SHA-256 */
    char kind[CD_KIND_MAX], name[CD_NAME_MAX];
    bool render_due;   /* the last call did not render… */
    cd_buf unrendered; /* …these bytes of index.md */
} sync_item_memo;

/* Frees what m holds, leaving it zeroed (nothing known). */
void sync_item_memo_clear(sync_item_memo *m);

/* The item the content folder dir stands for: `kind` and `name` from its
 * index.md front matter; without `kind`, a tutorial; without `name`, the
 * folder's own name (which must then be a valid item name).  With a memo
 * (NULL: none) whose front matter index.md still has, no render: the bytes
 * are left in memo->unrendered for sync_commit_folder(). */
sync_status sync_folder_item(const sync_config *cfg, const char *dir, sync_item_memo *memo,
                             char kind[CD_KIND_MAX], char name[CD_NAME_MAX], cd_err *err) CD_WUR;

typedef struct sync_result {
    int64_t version;   /* the item's version afterwards */
    bool changed;      /* a new version was made */
    bool item_created; /* the item did not exist */
    size_t files;      /* files in the folder's list */
    /* What the folder's list changed against the version it was committed
     * on: `path:size:sha256[0:12]` per new or changed file, `-path` per
     * removed one, comma-separated (at most SYNC_CHANGES_LISTED, then
     * `+N`); empty when nothing changed.  Freed by sync_result_clear(). */
    cd_buf changes;
    /* CLOCK_MONOTONIC ns when each step ended (0: not reached): the folder
     * read and hashed, the new blobs stored, the commit returned. */
    int64_t scanned_ns, stored_ns, committed_ns;
} sync_result;

#define SYNC_CHANGES_LISTED 8

/* Frees what r holds (its changes), leaving it zeroed. */
void sync_result_clear(sync_result *r);

/* Commits the content folder dir as the new version of kind/name on behalf
 * of `user`, creating the item (owned by user) when it does not exist, with
 * the ignore rules ig (a folder equal to the current version makes no
 * version).  When memo (or NULL) holds index.md's bytes unrendered, they
 * are rendered on another thread while the folder is read and the new
 * blobs stored, before the commit (which finds them in the render cache);
 * a render that fails refuses the commit as sync_folder_item() would have.
 * Overwrites *out: free what it then holds with sync_result_clear(),
 * whatever the outcome. */
sync_status sync_commit_folder(const sync_config *cfg, const char *dir, const char *kind,
                               const char *name, const char *user, const ignore_rules *ig,
                               sync_item_memo *memo, sync_result *out, cd_err *err) CD_WUR;

typedef struct sync_watch sync_watch;

/* Checks the watched folders before the service starts: each is a folder,
 * and none holds the data folder (which must exist by then). */
sync_status sync_watch_check(const sync_config *cfg, cd_err *err) CD_WUR;
/* Starts watching every folder of cfg (docs/watch.md): each subfolder
 * holding an index.md (or the folder itself, when it holds one) is an item
 * owned by the local user.  On success free *out with sync_watch_free()
 * before the commit path goes. */
sync_status sync_watch_start(const sync_config *cfg, sync_watch **out, cd_err *err) CD_WUR;
/* Stops the watchers (a commit in progress finishes first) and frees w.
 * NULL is a no-op. */
void sync_watch_free(sync_watch *w);

#endif
