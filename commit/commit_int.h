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
/* Runs the checks on files[0..n) as a version of it.  Returns 0 with *json
 * the findings' JSON array text (the caller frees it with free()) and
 * *errors the number of `error`s, or -1 with err when a file could not be
 * read. */
int commit_checks_run(commit_path *s, const catalog_item *it, const catalog_file *files, size_t n,
                      char **json, size_t *errors, cd_err *err) CD_WUR;

#endif
