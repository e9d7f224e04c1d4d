/* SPDX-License-Identifier: MIT */
/*
 * The walk over a store's manifests that rebuilding the catalog replays:
 * list `manifests/`, parse each key into (KIND, NAME, VERSION), order every
 * item's versions numerically (the listing's lexical order puts 10 before
 * 9), and hand each manifest's bytes to the caller.  Backend-independent:
 * only the store's list and get_object are used.
 */
#include "blobstore_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct manifest_ref {
    char *kind, *name; /* point into one allocation with the key */
    int64_t version;
} manifest_ref;

typedef struct ref_list {
    manifest_ref *v;
    size_t n, cap;
} ref_list;

/* Splits "manifests/KIND/NAME/N.json"; false for any other shape. */
static bool parse_key(const char *key, manifest_ref *out)
{
    if (strncmp(key, "manifests/", 10) != 0)
        return false;
    char *copy = cd_xstrdup(key + 10);
    char *slash1 = strchr(copy, '/');
    char *slash2 = slash1 ? strchr(slash1 + 1, '/') : NULL;
    if (!slash1 || !slash2 || strchr(slash2 + 1, '/') || slash1 == copy || slash2 == slash1 + 1)
        goto bad;
    *slash1 = *slash2 = '\0';
    const char *num = slash2 + 1;
    size_t nl = strlen(num);
    if (nl < 6 || strcmp(num + nl - 5, ".json") != 0 || num[0] < '1' || num[0] > '9')
        goto bad;
    char *end;
    errno = 0;
    long long v = strtoll(num, &end, 10);
    if (errno || end != num + nl - 5)
        goto bad;
    out->kind = copy;
    out->name = slash1 + 1;
    out->version = v;
    return true;
bad:
    free(copy);
    return false;
}

static int collect(void *arg, const char *key)
{
    ref_list *l = arg;
    manifest_ref r;
    if (!parse_key(key, &r))
        return 0;
    l->v = cd_grow(l->v, l->n, &l->cap, 64, sizeof *l->v);
    l->v[l->n++] = r;
    return 0;
}

static int ref_cmp(const void *a, const void *b)
{
    const manifest_ref *x = a, *y = b;
    int c = strcmp(x->kind, y->kind);
    if (!c)
        c = strcmp(x->name, y->name);
    if (!c)
        c = (x->version > y->version) - (x->version < y->version);
    return c;
}

blob_status blobstore_each_manifest(blobstore *s,
                                    int (*cb)(void *arg, const char *kind, const char *name,
                                              int64_t version, const char *json, size_t len),
                                    void *arg, cd_err *err)
{
    ref_list l = {NULL, 0, 0};
    blob_status rc = s->ops->list(s, "manifests/", collect, &l, err);
    if (rc == BLOB_OK && l.n)
        qsort(l.v, l.n, sizeof *l.v, ref_cmp);
    cd_buf json = CD_BUF_INIT;
    bool stop = false;
    for (size_t i = 0; i < l.n && rc == BLOB_OK && !stop; i++) {
        char *key = blobstore_manifest_key(l.v[i].kind, l.v[i].name, l.v[i].version);
        rc = s->ops->get_object(s, key, &json, err);
        free(key);
        if (rc == BLOB_NOT_FOUND) { /* deleted since the listing */
            rc = BLOB_OK;
            continue;
        }
        if (rc == BLOB_OK)
            stop = cb(arg, l.v[i].kind, l.v[i].name, l.v[i].version, json.data ? json.data : "",
                      json.len) != 0;
    }
    cd_buf_free(&json);
    for (size_t i = 0; i < l.n; i++)
        free(l.v[i].kind);
    free(l.v);
    return rc;
}
