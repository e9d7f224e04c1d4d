/* SPDX-License-Identifier: MIT */
/*
 * The commit path's insides, shared by commit.c and render_cache.c.
 */
#ifndef CONTENTD_COMMIT_INT_H
#define CONTENTD_COMMIT_INT_H

#include "commit.h"

typedef struct commit_render_cache commit_render_cache;

struct commit_path {
    catalog *cat;
    blobstore *bs;
    md_pool *pool; /* renders in worker processes (NULL: in this one) */
    commit_render_cache *rc;
    pthread_mutex_t commit_mu[64]; /* per item (hashed): one commit at a time */
    atomic_uint_fast64_t outcomes[COMMIT_OUTCOMES];
};

commit_render_cache *commit_render_cache_new(size_t max_bytes);
void commit_render_cache_free(commit_render_cache *rc);

#endif
