/* SPDX-License-Identifier: MIT */
/*
 * The commit path's insides, shared by commit.c and render_cache.c.
 */
#ifndef CONTENTD_COMMIT_INT_H
#define CONTENTD_COMMIT_INT_H

#include "checks.h"
#include "commit.h"

typedef struct commit_render_cache commit_render_cache;

struct commit_path {
    catalog *cat;
    blobstore *bs;
    md_pool *pool; /* renders in worker processes (NULL: in this one) */
    commit_render_cache *rc;
    commit_render_cache *stubs;    /* the {title, toc} of each AST */
    chk_cache *checks;             /* shared by every commit (commit_checks.c) */
    pthread_mutex_t facts_mu;      /* guards facts_chains */
    json_t *facts_chains;          /* "KIND/NAME" → [version, its "from"] (commit_facts.c) */
    pthread_mutex_t commit_mu[64]; /* per item (hashed): one commit at a time */
    atomic_uint_fast64_t outcomes[COMMIT_OUTCOMES];
};

/* Renders the documents shas[0..n) into the render cache, several at
 * once (render_prefetch.c); what fails is left for the caller to meet. */
void commit_render_prefetch(commit_path *s, const char *const *shas, size_t n);

commit_render_cache *commit_render_cache_new(size_t max_bytes);
void commit_render_cache_free(commit_render_cache *rc);

/* The checks (commit_checks.c).  The cache every commit shares; free it
 * with chk_cache_free(). */
chk_cache *commit_checks_cache_new(void);
/* Runs the checks on files[0..n) as a version of it.  Returns COMMIT_OK
 * with *json the findings' JSON array text (the caller frees it with free())
 * and *errors the number of `error`s, COMMIT_UNAVAILABLE with err when a
 * file could not be read, COMMIT_ERROR when the findings cannot be written. */
commit_status commit_checks_run(commit_path *s, const catalog_item *it, const catalog_file *files,
                                size_t n, char **json, size_t *errors, cd_err *err) CD_WUR;

/* The facts kept with the versions (commit_facts.c). */
void commit_facts_init(commit_path *s);
void commit_facts_free(commit_path *s);
/* Before the checks of files[0..n) on top of it's current version (files
 * cur[0..ncur)): when the facts cache lacks some kept file's facts, or
 * the current version's chain is not known, reads the facts stored with
 * the current version's manifest (and those it names) into the cache. */
void commit_facts_load(commit_path *s, const catalog_item *it, const catalog_file *files, size_t n,
                       const catalog_file *cur, size_t ncur);
/* After the checks: appends `,"facts":{...}` for the next version of it to
 * the manifest in b, and returns its "from" array (a new reference: the
 * caller hands it to commit_facts_committed() or releases it). */
json_t *commit_facts_section(commit_path *s, const catalog_item *it, const catalog_file *files,
                             size_t n, const catalog_file *cur, size_t ncur, cd_buf *b);
/* Once the version is made: remembers its chain (takes the reference). */
void commit_facts_committed(commit_path *s, const catalog_item *it, int64_t version, json_t *from);

/* Where a store's status leaves through this module's functions: the
 * commit path's status for a catalog or blob store one (NOT_FOUND,
 * UNAVAILABLE and ERROR; the rest is COMMIT_ERROR), also written to
 * err->code (err may be NULL) so that err never carries a store's code. */
commit_status commit_status_of_cat(catalog_status rc, cd_err *err);
commit_status commit_status_of_blob(blob_status rc, cd_err *err);

#endif
