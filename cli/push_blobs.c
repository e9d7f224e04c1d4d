/* SPDX-License-Identifier: MIT */
/*
 * Which blobs a push has to send: one file per distinct SHA-256 of the
 * folder that the server's current version does not name, narrowed by
 * POST /api/v1/blobs/missing (in batches) or by the
 * list a 422 missing_blobs answer carries.  Whatever already arrived on
 * the server — from an earlier, interrupted push too — is never sent again,
 * except that `push --watch` sends a few small new blobs without asking (a
 * save is one round trip shorter; the server stores a blob it had again,
 * unchanged).
 */
#include "cli_int.h"

#include <stdlib.h>
#include <string.h>

#define MISSING_BATCH 1000 /* hashes per blobs/missing request */
/* New blobs up to these are sent without asking first (push --watch): one
 * round trip saved costs at most this much upload when the server had them. */
#define UNASKED_FILES_MAX 16
#define UNASKED_BYTES_MAX (256 << 10)

static int by_sha(const void *a, const void *b)
{
    const folder_file *const *x = a, *const *y = b;
    return strcmp((*x)->sha256, (*y)->sha256);
}

void cli_blobset_clear(cli_blobset *s)
{
    free(s->idx);
    memset(s, 0, sizeof *s);
}

/* Largest first: a large blob then travels beside the small ones rather
 * than alone at the end. */
static int by_size_desc(const void *a, const void *b, void *arg)
{
    const folder_file *files = arg;
    int64_t x = files[*(const size_t *)a].size, y = files[*(const size_t *)b].size;
    return x > y ? -1 : x < y;
}

/* Sets s to one file per distinct blob of t that is a key of `want` (or
 * every distinct blob when want is NULL), the largest first. */
static void select_blobs(const folder_tree *t, json_t *want, cli_blobset *s)
{
    const folder_file **sorted = cd_xmalloc((t->n + 1) * sizeof *sorted);
    for (size_t i = 0; i < t->n; i++)
        sorted[i] = &t->files[i];
    qsort(sorted, t->n, sizeof *sorted, by_sha);
    cli_blobset_clear(s);
    s->idx = cd_xmalloc((t->n + 1) * sizeof *s->idx);
    for (size_t i = 0; i < t->n; i++) {
        const folder_file *f = sorted[i];
        if (i > 0 && !strcmp(sorted[i - 1]->sha256, f->sha256))
            continue;
        if (want && !json_object_get(want, f->sha256))
            continue;
        s->idx[s->n++] = (size_t)(f - t->files);
        s->bytes += f->size;
    }
    free(sorted);
    qsort_r(s->idx, s->n, sizeof *s->idx, by_size_desc, (void *)t->files);
}

/* Adds every string of the JSON array list as a key of want. */
static void add_keys(json_t *want, json_t *list)
{
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v)
    {
        if (json_is_string(v))
            json_object_set(want, json_string_value(v), json_true());
    }
}

/* One blobs/missing request for shas; adds the missing ones to want. */
static int ask(cli_http *h, json_t *shas, json_t *want, cd_err *err)
{
    json_t *body = json_pack("{s:O}", "sha256", shas);
    cli_reply r = {0};
    int rc = cli_http_json(h, "POST", "/api/v1/blobs/missing", body, &r, err);
    json_decref(body);
    json_t *missing = json_object_get(r.json, "missing");
    if (rc == 0 && !json_is_array(missing))
        rc = cd_err_set(err, -1, "blobs/missing answered without a `missing` list");
    if (rc == 0)
        add_keys(want, missing);
    cli_reply_clear(&r);
    return rc;
}

/* The blobs of the server's current version: stored, since the version
 * names them (the commit checked it), so not worth asking about. */
static json_t *stored_shas(const json_t *current)
{
    json_t *stored = json_object();
    size_t i;
    json_t *f;
    json_array_foreach(current, i, f)
    {
        const char *sha = json_string_value(json_object_get(f, "sha256"));
        if (sha)
            json_object_set(stored, sha, json_true());
    }
    return stored;
}

int cli_blobs_missing(cli_http *h, const folder_tree *t, const json_t *current, bool send_small,
                      cli_blobset *out, cd_err *err)
{
    json_t *stored = stored_shas(current), *fresh = json_object();
    cli_blobset all = {0};
    select_blobs(t, NULL, &all);
    for (size_t i = 0; i < all.n; i++) {
        const char *sha = t->files[all.idx[i]].sha256;
        if (!json_object_get(stored, sha))
            json_object_set(fresh, sha, json_true());
    }
    json_decref(stored);
    cli_blobset_clear(&all);
    select_blobs(t, fresh, out);
    json_decref(fresh);
    if (out->n == 0 ||
        (send_small && out->n <= UNASKED_FILES_MAX && out->bytes <= UNASKED_BYTES_MAX))
        return 0;
    json_t *want = json_object(), *shas = json_array();
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < out->n; i++) {
        json_array_append_new(shas, json_string(t->files[out->idx[i]].sha256));
        if (json_array_size(shas) == MISSING_BATCH || i + 1 == out->n) {
            rc = ask(h, shas, want, err);
            json_array_clear(shas);
        }
    }
    if (rc == 0)
        select_blobs(t, want, out);
    json_decref(shas);
    json_decref(want);
    return rc;
}

void cli_blobs_named(const folder_tree *t, json_t *answer, cli_blobset *out)
{
    json_t *list = json_object_get(json_object_get(answer, "error"), "missing");
    if (!json_is_array(list))
        list = json_object_get(answer, "missing");
    json_t *want = json_object();
    add_keys(want, list);
    /* No usable list: send everything rather than fail the push. */
    select_blobs(t, json_object_size(want) ? want : NULL, out);
    json_decref(want);
}
