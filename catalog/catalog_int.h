/* SPDX-License-Identifier: MIT */
/*
 * Declarations shared by the catalog's backends and nothing else.
 */
#ifndef CONTENTD_CATALOG_INT_H
#define CONTENTD_CATALOG_INT_H

#include "catalog.h"

/* A backend: catalog.c calls it once the arguments are checked; the
 * struct catalog of catalog_open_*() is the first member of the
 * backend's own struct.  A backend does only its own work: catalog.c
 * announces each change it made (catalog_emit()) once the op returned
 * CAT_OK, with the values it returned, unless the backend says it
 * announces its own (`announces`). */
struct catalog_ops {
    const char *name; /* "sqlite", "mongodb" */
    /* True for a backend whose store is itself a source of changes (the
     * MongoDB change stream tells this process of other replicas' writes
     * and of its own, in order): it calls catalog_emit() for every change,
     * local or not, and catalog.c announces none. */
    bool announces;
    catalog_status (*ping)(catalog *c, cd_err *err);
    /* Fills *out; the caller releases it with catalog_item_clear(). */
    catalog_status (*item_get)(catalog *c, const char *kind, const char *name, catalog_item *out,
                               cd_err *err);
    /* All items, optionally of one kind, sorted by kind then name.
     * Visibility filtering is the caller's.  Free with catalog_items_free(). */
    catalog_status (*item_list)(catalog *c, const char *kind, catalog_item **out, size_t *n,
                                cd_err *err);
    /* kind, name and owner are required; title NULL is ""; created_at 0 is
     * now; version is ignored (a new item is at version 0). */
    catalog_status (*item_create)(catalog *c, const catalog_item *it, cd_err *err);
    /* title NULL: unchanged; visibility < 0: unchanged; checks < 0:
     * unchanged.  *version: the item's version the change was made at,
     * which its announcement (CAT_EV_UPDATED) carries; likewise for
     * publish, member_set, link_add and link_delete. */
    catalog_status (*item_update)(catalog *c, const char *kind, const char *name, const char *title,
                                  int visibility, int checks, int64_t *version, cd_err *err);
    /* Deletes the item and its history (blobs stay: they may be shared),
     * keeping its last version number: an item created again under the
     * same KIND/NAME has it as deleted_version. */
    catalog_status (*item_delete)(catalog *c, const char *kind, const char *name, cd_err *err);
    /* Atomically makes files[0..n) the item's next version
     * (catalog_next_version: base+1, or past a deleted predecessor's last
     * version), if base is the current version (CAT_CONFLICT otherwise).
     * A file list equal to the current one creates no version:
     * *new_version = base and *created = false.  title (may be NULL)
     * replaces the item's title with the version; checks (may be NULL)
     * is stored with it. */
    catalog_status (*commit)(catalog *c, const char *kind, const char *name, int64_t base,
                             const catalog_file *files, size_t n, const char *title,
                             const char *checks, int64_t *new_version, bool *created, cd_err *err);
    /* The findings of a version (0: the current one); *json NULL when
     * none were stored; CAT_NOT_FOUND for a version not kept. */
    catalog_status (*checks)(catalog *c, const char *kind, const char *name, int64_t version,
                             char **json, cd_err *err);
    /* The file list of a version (0 = the current one), sorted by path;
     * CAT_NOT_FOUND for a version not kept.  Free with catalog_files_free(). */
    catalog_status (*files)(catalog *c, const char *kind, const char *name, int64_t version,
                            catalog_file **out, size_t *n, cd_err *err);
    /* Version history, oldest first; the caller frees *out with free(). */
    catalog_status (*versions)(catalog *c, const char *kind, const char *name,
                               catalog_version **out, size_t *n, cd_err *err);
    /* Tokens: only the SHA-256 (hex) of a token is ever stored. */
    catalog_status (*token_add)(catalog *c, const char *token_sha256, const char *user,
                                cd_err *err);
    /* *user: the caller frees it with free(). */
    catalog_status (*token_user)(catalog *c, const char *token_sha256, char **user, cd_err *err);
    catalog_status (*token_count)(catalog *c, int64_t *n, cd_err *err);
    /* Every token, oldest first; free *out with catalog_tokens_free(). */
    catalog_status (*token_list)(catalog *c, catalog_token **out, size_t *n, cd_err *err);
    /* Deletes one token (CAT_NOT_FOUND when there is none): from then on
     * token_user() does not know it. */
    catalog_status (*token_delete)(catalog *c, const char *token_sha256, cd_err *err);
    /* Records that the token was used at `at_ms` (kept when later than the
     * time already recorded). */
    catalog_status (*token_touch)(catalog *c, const char *token_sha256, int64_t at_ms, cd_err *err);
    /* See catalog_publish() and catalog_member_set(). */
    catalog_status (*publish)(catalog *c, const char *kind, const char *name, int64_t version,
                              int64_t *at_version, cd_err *err);
    catalog_status (*member_set)(catalog *c, const char *kind, const char *name, const char *user,
                                 catalog_role role, int64_t *version, cd_err *err);
    /* See catalog_link_add(), catalog_link_delete() and catalog_link_find(). */
    catalog_status (*link_add)(catalog *c, const char *kind, const char *name,
                               const catalog_link *link, int64_t *version, cd_err *err);
    catalog_status (*link_delete)(catalog *c, const char *kind, const char *name, const char *id,
                                  int64_t *version, cd_err *err);
    catalog_status (*link_find)(catalog *c, const char *token_sha256, char *kind, char *name,
                                cd_err *err);
    /* See catalog_comment_add() and the three after it. */
    catalog_status (*comment_add)(catalog *c, const char *kind, const char *name,
                                  catalog_comment *cm, cd_err *err);
    catalog_status (*comment_get)(catalog *c, const char *kind, const char *name, int64_t id,
                                  catalog_comment *out, cd_err *err);
    catalog_status (*comment_list)(catalog *c, const char *kind, const char *name, const char *path,
                                   catalog_comment **out, size_t *n, cd_err *err);
    catalog_status (*comment_resolve)(catalog *c, const char *kind, const char *name, int64_t id,
                                      bool resolved, cd_err *err);
    void (*close)(catalog *c);
    /* Optional (NULL for a backend whose changes all happen in this
     * process): see catalog_watch_start() and catalog_watch_stats(). */
    catalog_status (*watch_start)(catalog *c, cd_err *err);
    void (*watch_stop)(catalog *c);
    void (*watch_stats)(catalog *c, struct catalog_watch_stats *out);
};

struct catalog {
    const struct catalog_ops *ops;
    struct {
        catalog_change_cb cb;
        void *arg;
    } listeners[CATALOG_LISTENERS_MAX];
    atomic_int n_listeners;
    cd_door door;
};
_Static_assert(CATALOG_OP_COUNT <= CD_DOOR_OPS_MAX, "the door times every op");

/* Sets up the part of a backend's catalog that this file owns: the ops
 * table, no listener, the door (named ops->name) with empty histograms. */
void catalog_init(catalog *c, const struct catalog_ops *ops);

/* The checks of the ops' arguments that every backend makes, before it
 * touches its store: CAT_OK, or CAT_ERROR with err filled. */
/* item_create: a kind of the contract, a valid name and an owner. */
int catalog_check_new_item(const catalog_item *it, cd_err *err);
/* item_update: visibility is CAT_PRIVATE, CAT_PUBLIC or negative (unchanged). */
int catalog_check_visibility(int visibility, cd_err *err);
/* token_add: the token's SHA-256 in lower-case hex, and a user. */
int catalog_check_token(const char *token_sha256, const char *user, cd_err *err);

/* comment_add: the fields catalog_comment_add() requires. */
int catalog_check_comment(const catalog_comment *cm, cd_err *err);

/* Checks a commit's file list (paths present, digests valid, sizes not
 * negative, no path twice) and returns it as an array of pointers sorted by
 * path (byte order), which the caller frees with free(); NULL with err
 * filled (CAT_ERROR) when the list is unacceptable. */
const catalog_file **catalog_files_sorted(const catalog_file *files, size_t n, cd_err *err);

/* Hands a change to every listener (catalog_listen()): catalog.c's door
 * functions after a backend's op succeeded, and a backend that
 * `announces` (its change stream's record, catalog_mongo_announce.c). */
void catalog_emit(catalog *c, catalog_event ev, const char *kind, const char *name,
                  int64_t version);

#endif
