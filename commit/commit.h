/* SPDX-License-Identifier: MIT */
/*
 * commit — the commit path, shared by POST …/versions and `serve --watch`:
 * from a full file list to a new version.  It checks the base version and
 * that every blob is stored with the size the client says, renders the
 * new markdown documents (so that events never render: the render cache
 * is this module's), runs the checks (checks.h) on the new file list,
 * writes the manifest to the blob store, then makes the version, with its
 * findings, in the catalog, whose listeners (the event hub) take it from
 * there.  Commits to one item are serialised in this process.
 */
#ifndef CONTENTD_COMMIT_H
#define CONTENTD_COMMIT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "blobstore.h"
#include "catalog.h"
#include "common.h"
#include "markdown.h"

/* The largest markdown file rendered. */
#define COMMIT_MD_MAX (16u << 20)

typedef struct commit_path commit_path;

/* The commit path on two stores it does not own, rendering in the worker
 * processes of pool (not owned; NULL: in this process), with a render cache
 * of render_cache_bytes of AST JSON.  Free with commit_free(). */
commit_path *commit_new(catalog *cat, blobstore *bs, md_pool *pool, size_t render_cache_bytes);
void commit_free(commit_path *cp);

typedef enum {
    COMMIT_OK,
    COMMIT_NOT_FOUND,     /* 404 */
    COMMIT_FORBIDDEN,     /* 403: someone else's public item */
    COMMIT_INVALID,       /* 400: bad path, duplicate path */
    COMMIT_CONFLICT,      /* 409 version_conflict */
    COMMIT_MISSING_BLOBS, /* 422 missing_blobs */
    COMMIT_UNACCEPTABLE,  /* 422 (size_mismatch, invalid_markdown) */
    COMMIT_CHECKS_FAILED, /* 422 checks_failed: an error on a strict item */
    COMMIT_UNAVAILABLE,   /* 503 */
    COMMIT_ERROR,         /* 500 */
} commit_status;

typedef struct commit_result {
    commit_status status;
    const char *code; /* the error code, static */
    char msg[512];
    cd_buf missing; /* JSON array of the missing blobs (MISSING_BLOBS) */
    /* The findings (a JSON array) of the version made, or of the current
     * one when the file list is unchanged, or of the refused one
     * (CHECKS_FAILED); empty (len 0) when there are none to show. */
    cd_buf checks;
    int64_t version; /* the item's version afterwards */
    bool created;    /* a new version was made */
} commit_result;

/* Commits files[0..n) (sha256, size and path filled; paths validated by the
 * caller) as the version after base.  Sorts files by path.  Always fills
 * res; the caller releases it with commit_result_clear(). */
void commit_run(commit_path *cp, const char *user, const char *kind, const char *name, int64_t base,
                catalog_file *files, size_t n, commit_result *res);
/* The findings of version `version` of it (a JSON array text the caller
 * frees with free()): those stored with it, or, for a version committed
 * before the server ran the checks, the checks run now (not stored).
 * Returns COMMIT_OK, COMMIT_NOT_FOUND (no such version), COMMIT_UNAVAILABLE
 * (the catalog cannot be reached, or a file cannot be read) or
 * COMMIT_ERROR; err->code is the same status. */
commit_status commit_version_checks(commit_path *cp, const catalog_item *it, int64_t version,
                                    char **json, cd_err *err) CD_WUR;
/* Frees what res holds (not res itself). */
void commit_result_clear(commit_result *res);
/* The lock that serialises changes to kind/name in this process (static
 * storage of cp). */
pthread_mutex_t *commit_lock(commit_path *cp, const char *kind, const char *name);
/* Writes the item record (blobstore_item_key) of `it` with title (NULL:
 * its own) and visibility (< 0: its own): a title or visibility change
 * does this before the catalog changes, so that `rebuild-catalog` restores
 * the latest state.  Returns COMMIT_OK, COMMIT_UNAVAILABLE (the blob store
 * cannot be reached) or COMMIT_ERROR; err->code is the same status. */
commit_status commit_item_record(commit_path *cp, const catalog_item *it, const char *title,
                                 int visibility, cd_err *err) CD_WUR;
/* Writes the review record (blobstore_review_key) of `it`: its
 * published_version, members and links (their SHA-256, never a token).
 * Every change of them does this, with the change made on `it`, before the
 * catalog changes.  Returns COMMIT_OK, COMMIT_UNAVAILABLE or COMMIT_ERROR,
 * as commit_item_record(). */
commit_status commit_review_record(commit_path *cp, const catalog_item *it, cd_err *err) CD_WUR;

/* Commits by outcome, for /metrics: commit_outcomes[i] is the label of
 * commit_count(cp, i). */
#define COMMIT_OUTCOMES 6
extern const char *const commit_outcomes[COMMIT_OUTCOMES];
uint64_t commit_count(commit_path *cp, int outcome);

/* ---- documents made ready before their commit (render_warm.c) ---------- */

typedef struct commit_warm commit_warm;
/* Queues the markdown blob sha, uploaded for path (a client's hint), to be
 * rendered and its check facts made in the background, so that the commit
 * of a version holding it finds them ready.  false when it is not queued:
 * path is not a markdown path, sha is not a digest, or the queue is full.
 * The blob must be stored already. */
bool commit_warm_document(commit_path *cp, const char *sha, const char *path);
/* Waits until every queued document is made (for tests). */
void commit_warm_wait(commit_path *cp);

/* ---- the render cache (render_cache.c) -------------------------------- */

/* A rendered AST document, shared by reference count. */
typedef struct commit_ast {
    atomic_int refs;
    size_t len;
    char *json;             /* NUL-terminated, one line (md_render's output) */
    char *title;            /* data.title as the renderer saw it ("" when none) */
    size_t toc_at, toc_len; /* where json holds its toc (md_result); toc_len 0: none */
    pthread_mutex_t gz_mu;
    char *gz; /* its gzip form, made once by commit_ast_gzip() */
    size_t gz_len;
} commit_ast;

/* What commit_render_get() returns, also in err->code on failure. */
typedef enum {
    COMMIT_RENDER_OK = 0,
    COMMIT_RENDER_INVALID = -1,     /* the markdown cannot be rendered: err names the line */
    COMMIT_RENDER_UNREAD = -2,      /* the blob is not stored, or the blob store failed */
    COMMIT_RENDER_UNAVAILABLE = -3, /* the blob store cannot be reached: try again later */
} commit_render_status;

/* The AST of markdown blob sha: from the cache, else read from the blob
 * store and rendered once.  On COMMIT_RENDER_OK, *out holds a reference the
 * caller drops with commit_ast_unref(). */
commit_render_status commit_render_get(commit_path *cp, const char *sha, commit_ast **out,
                                       cd_err *err) CD_WUR;
/* The AST of the markdown src[0..len) (a file about to be committed, whose
 * blob is that of its SHA-256): from the cache, else rendered and cached,
 * so that the commit that stores it finds it rendered.  A file that cannot
 * be rendered is COMMIT_RENDER_INVALID (err names the line), and nothing is
 * cached.  On COMMIT_RENDER_OK, *out holds a reference the caller drops
 * with commit_ast_unref(). */
commit_render_status commit_render_source(commit_path *cp, const char *src, size_t len,
                                          commit_ast **out, cd_err *err) CD_WUR;
void commit_ast_unref(commit_ast *a);
/* The gzip member of a's JSON, compressed on the first call and kept with
 * a (so as long as a is cached). */
const char *commit_ast_gzip(commit_ast *a, size_t *len);
/* The stub of markdown blob sha: `{"title":…,"toc":…}`, its AST's
 * data.title and toc (null when it has none), for an event stream that does
 * not want the whole document.  Kept in a cache of its own (stubs are small:
 * a course's thousands of them stay while its ASTs come and go).  As
 * commit_render_get(). */
commit_render_status commit_stub_get(commit_path *cp, const char *sha, commit_ast **out,
                                     cd_err *err) CD_WUR;
#define COMMIT_STUB_CACHE_BYTES (32u << 20)
void commit_render_stats(commit_path *cp, uint64_t *hits, uint64_t *misses, uint64_t *bytes,
                         uint64_t *entries);

#endif
