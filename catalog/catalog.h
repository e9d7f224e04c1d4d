/* SPDX-License-Identifier: MIT */
/*
 * catalog — the content metadata store: items, their version history (every
 * version's full file list) and API tokens.  The server talks to a
 * `catalog *` only; which backend sits behind it (SQLite in the data folder,
 * MongoDB in production) is chosen once, at start-up, by catalog_open_*().
 * Backends are `const struct catalog_ops` tables, one file each
 * (catalog_sqlite.c, catalog_mongo.c).
 *
 * Every call is thread-safe: the server calls in from several threads.
 * Functions return CAT_OK (0) or a negative catalog_status and, on failure,
 * fill `err` (may be NULL) with a sentence a person can read.
 */
#ifndef CONTENTD_CATALOG_H
#define CONTENTD_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"

typedef enum catalog_status {
    CAT_OK = 0,
    CAT_NOT_FOUND = -1,   /* no such item (or version, or token) */
    CAT_EXISTS = -2,      /* create: the item exists already */
    CAT_CONFLICT = -3,    /* commit: base_version is not the current version */
    CAT_UNAVAILABLE = -4, /* the backend cannot be reached; retry later */
    CAT_ERROR = -5,       /* anything else (corruption, bad input) */
} catalog_status;

typedef enum { CAT_PRIVATE = 0, CAT_PUBLIC = 1 } catalog_visibility;

/* The kinds of the contract, and the name rule [a-z0-9][a-z0-9-]{0,62}. */
bool catalog_kind_valid(const char *kind);
bool catalog_name_valid(const char *name);

typedef struct catalog_file {
    char *path;         /* relative, '/'-separated, validated by the caller */
    char sha256[65];    /* lower-case hex */
    int64_t size;
    char *content_type; /* derived from the extension; commit: NULL derives it */
} catalog_file;

/* The Content-Type of path by its extension (case-insensitive), or
 * "application/octet-stream".  A static string: never freed. */
const char *catalog_content_type(const char *path);

typedef struct catalog_item {
    char kind[16];
    char name[64];
    char *owner;
    char *title;
    catalog_visibility visibility;
    int64_t version;    /* 0 before the first push */
    int64_t created_at; /* milliseconds since the epoch, UTC */
    int64_t updated_at;
} catalog_item;

typedef struct catalog_version {
    int64_t version;
    int64_t created_at; /* ms */
    int files_changed;  /* paths added, removed or changed against version-1 */
} catalog_version;

/* Releases what a catalog_item / file array / version array owns.
 * catalog_files_free and catalog_items_free also free the array itself;
 * a catalog_version array owns nothing else and is freed with free(). */
void catalog_item_clear(catalog_item *it);
void catalog_items_free(catalog_item *items, size_t n);
void catalog_files_free(catalog_file *files, size_t n);

typedef struct catalog catalog;

/* Called after every successful change, from the thread that made it (for
 * the MongoDB backend, also for changes made by other replicas, from the
 * change-stream thread).  version is the new version (0 for a delete). */
typedef enum { CAT_EV_CREATED, CAT_EV_VERSION, CAT_EV_UPDATED, CAT_EV_DELETED } catalog_event;
typedef void (*catalog_change_cb)(void *arg, catalog_event ev, const char *kind, const char *name,
                                  int64_t version);

struct catalog_ops {
    const char *name; /* "sqlite", "mongodb" */
    int (*ping)(catalog *c, cd_err *err);
    /* Fills *out; the caller releases it with catalog_item_clear(). */
    int (*item_get)(catalog *c, const char *kind, const char *name, catalog_item *out,
                    cd_err *err);
    /* All items, optionally of one kind, sorted by kind then name.
     * Visibility filtering is the caller's.  Free with catalog_items_free(). */
    int (*item_list)(catalog *c, const char *kind, catalog_item **out, size_t *n, cd_err *err);
    /* kind, name and owner are required; title NULL is ""; created_at 0 is
     * now; version is ignored (a new item is at version 0). */
    int (*item_create)(catalog *c, const catalog_item *it, cd_err *err);
    /* title NULL: unchanged; visibility < 0: unchanged. */
    int (*item_update)(catalog *c, const char *kind, const char *name, const char *title,
                       int visibility, cd_err *err);
    /* Deletes the item and its history (blobs stay: they may be shared). */
    int (*item_delete)(catalog *c, const char *kind, const char *name, cd_err *err);
    /* Atomically makes files[0..n) version base+1, if base is the current
     * version (CAT_CONFLICT otherwise).  A file list equal to the current
     * one creates no version: *new_version = base and *created = false.
     * title (may be NULL) replaces the item's title with the version. */
    int (*commit)(catalog *c, const char *kind, const char *name, int64_t base,
                  const catalog_file *files, size_t n, const char *title, int64_t *new_version,
                  bool *created, cd_err *err);
    /* The file list of a version (0 = the current one), sorted by path;
     * CAT_NOT_FOUND for a version not kept.  Free with catalog_files_free(). */
    int (*files)(catalog *c, const char *kind, const char *name, int64_t version,
                 catalog_file **out, size_t *n, cd_err *err);
    /* Version history, oldest first; the caller frees *out with free(). */
    int (*versions)(catalog *c, const char *kind, const char *name, catalog_version **out,
                    size_t *n, cd_err *err);
    /* Tokens: only the SHA-256 (hex) of a token is ever stored. */
    int (*token_add)(catalog *c, const char *token_sha256, const char *user, cd_err *err);
    /* *user: the caller frees it with free(). */
    int (*token_user)(catalog *c, const char *token_sha256, char **user, cd_err *err);
    int (*token_count)(catalog *c, int64_t *n, cd_err *err);
    void (*close)(catalog *c);
};

struct catalog {
    const struct catalog_ops *ops;
    catalog_change_cb on_change; /* may be NULL */
    void *on_change_arg;
};

/* Opens (creating if needed) the SQLite catalog `catalog.db` in data_dir
 * (WAL mode).  Returns NULL and fills err on failure; close with
 * c->ops->close(c). */
catalog *catalog_open_sqlite(const char *data_dir, cd_err *err);

/* The current time in milliseconds since the epoch. */
int64_t catalog_now_ms(void);

#endif
