/* SPDX-License-Identifier: MIT */
/*
 * `contentd rebuild-catalog`: replays the version manifests that every
 * commit writes to the blob store (`manifests/KIND/NAME/N.json`) into an
 * empty catalog, item by item and version by version, so that losing the
 * catalog loses no content.  The first manifest of an item recreates it
 * (owner, visibility, creation time); each one after it is committed on top
 * of the previous, keeping the version numbers.  What the manifests cannot
 * tell is lost: the time each later version was made (it becomes the time of
 * the rebuild) and deletions (a deleted item comes back).  Owner, title and
 * visibility are restored as they were last: from the item's last manifest,
 * or from its item record (`items/KIND/NAME.json`, written by every title or
 * visibility change) when that is newer; the checks mode from the item
 * record.  Each version's findings come back from its manifest's "checks";
 * the published version, members and share links from the review record
 * (rebuild_review.c).  Tokens are not in the blob store: create them again.
 */
#include "srv_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* What a rebuild restores of an item besides its versions. */
typedef struct {
    char *owner, *title;
    bool is_public;
    int checks; /* a catalog_checks_mode, -1: not recorded */
    int64_t at; /* when it was so (ms) */
} item_state;

typedef struct {
    catalog *cat;
    blobstore *bs;
    char kind[CD_KIND_MAX], name[CD_NAME_MAX];
    int64_t version; /* of the item being replayed; -1: skipping it */
    bool created;    /* the item being replayed is in the catalog */
    item_state latest;
    size_t items, versions, skipped;
    cd_err *err;
} replay;

static void warn(const char *kind, const char *name, int64_t v, const char *why)
{
    fprintf(stderr, "contentd: %s/%s version %lld: %s; skipping the rest of this item\n", kind,
            name, (long long)v, why);
}

/* The manifest's file list; NULL when it is malformed. */
static catalog_file *files_of(json_t *m, size_t *n)
{
    json_t *arr = json_object_get(m, "files");
    if (!json_is_array(arr))
        return NULL;
    *n = json_array_size(arr);
    catalog_file *files = cd_xcalloc(*n ? *n : 1, sizeof *files);
    for (size_t i = 0; i < *n; i++) {
        json_t *e = json_array_get(arr, i);
        const char *path = json_string_value(json_object_get(e, "path"));
        const char *sha = json_string_value(json_object_get(e, "sha256"));
        json_t *size = json_object_get(e, "size");
        if (!path || cd_path_why(path, strlen(path), false) || !sha || !cd_sha_valid(sha) ||
            !json_is_integer(size)) {
            catalog_files_free(files, i);
            return NULL;
        }
        files[i].path = cd_xstrdup(path);
        memcpy(files[i].sha256, sha, 65);
        files[i].size = json_integer_value(size);
    }
    return files;
}

static void state_clear(item_state *st)
{
    free(st->owner);
    free(st->title);
    memset(st, 0, sizeof *st);
}

/* Takes owner, title and visibility from a manifest or an item record
 * (time_key: the member that says when it was written). */
static void state_from(item_state *st, json_t *doc, const char *time_key)
{
    const char *owner = json_string_value(json_object_get(doc, "owner"));
    const char *title = json_string_value(json_object_get(doc, "title"));
    const char *vis = json_string_value(json_object_get(doc, "visibility"));
    if (owner && http_user_valid(owner)) {
        free(st->owner);
        st->owner = cd_xstrdup(owner);
    }
    if (title) {
        free(st->title);
        st->title = cd_xstrdup(title);
    }
    if (vis)
        st->is_public = !strcmp(vis, "public");
    st->at = srv_parse_time(json_string_value(json_object_get(doc, time_key)));
}

typedef struct {
    size_t skip; /* length of the prefix */
    int64_t max;
} max_version;

static int note_version(void *arg, const char *key)
{
    max_version *mv = arg;
    const char *num = key + mv->skip;
    size_t nl = strlen(num);
    char digits[24];
    int64_t v;
    if (nl > 5 && nl - 5 < sizeof digits && !strcmp(num + nl - 5, ".json")) {
        memcpy(digits, num, nl - 5);
        digits[nl - 5] = '\0';
        if (cd_parse_i64(digits, &v) && v > mv->max)
            mv->max = v;
    }
    return 0;
}

int srv_load_json(blobstore *bs, const char *key, json_t **out, cd_err *err)
{
    cd_buf b = CD_BUF_INIT;
    *out = NULL;
    int rc = blobstore_get_object(bs, key, &b, err);
    if (rc == BLOB_OK)
        *out = json_loadb(b.data ? b.data : "", b.len, 0, NULL);
    cd_buf_free(&b);
    return rc == BLOB_NOT_FOUND ? 0 : rc;
}

/* The latest owner, title and visibility of an item (a rebuild restores
 * them as they are now, not as the first version had them): its last
 * manifest's, unless its item record was written after it. */
static int latest_state(replay *rp, json_t *first, const char *kind, const char *name)
{
    item_state *st = &rp->latest;
    state_clear(st);
    st->checks = -1;
    st->owner = cd_xstrdup("local");
    st->title = cd_xstrdup("");
    state_from(st, first, "created_at");
    char prefix[128];
    snprintf(prefix, sizeof prefix, "manifests/%s/%s/", kind, name);
    max_version mv = {strlen(prefix), 0};
    int rc = blobstore_list(rp->bs, prefix, note_version, &mv, rp->err);
    json_t *last = NULL, *rec = NULL;
    char *key = mv.max > 0 ? blobstore_manifest_key(kind, name, mv.max) : NULL;
    if (rc == 0 && key)
        rc = srv_load_json(rp->bs, key, &last, rp->err);
    free(key);
    if (last)
        state_from(st, last, "created_at");
    key = blobstore_item_key(kind, name);
    if (rc == 0)
        rc = srv_load_json(rp->bs, key, &rec, rp->err);
    free(key);
    item_state from_rec = {0};
    if (rec)
        state_from(&from_rec, rec, "updated_at");
    if (rec)
        st->checks = catalog_checks_mode_parse(json_string_value(json_object_get(rec, "checks")));
    if (rec && from_rec.at >= st->at) {
        free(st->title);
        st->title = cd_xstrdup(from_rec.title ? from_rec.title : "");
        st->is_public = from_rec.is_public;
    }
    state_clear(&from_rec);
    json_decref(last);
    json_decref(rec);
    return rc;
}

static int create_item(replay *rp, json_t *m, const char *kind, const char *name)
{
    int rc = latest_state(rp, m, kind, name);
    if (rc != 0)
        return rc;
    catalog_item it = {0};
    snprintf(it.kind, sizeof it.kind, "%s", kind);
    snprintf(it.name, sizeof it.name, "%s", name);
    it.owner = rp->latest.owner;
    it.title = (char *)"";
    it.visibility = rp->latest.is_public ? CAT_PUBLIC : CAT_PRIVATE;
    it.created_at = it.updated_at =
        srv_parse_time(json_string_value(json_object_get(m, "created_at")));
    rc = catalog_item_create(rp->cat, &it, rp->err);
    rp->created = rc == 0;
    return rc;
}

/* After an item's last manifest: its latest title (each version replayed
 * set the title it had), then its review state. */
static int finish_item(replay *rp)
{
    int rc = 0;
    if (rp->created && (rp->latest.title || rp->latest.checks >= 0))
        rc = catalog_item_update(rp->cat, rp->kind, rp->name, rp->latest.title, -1,
                                 rp->latest.checks, rp->err);
    if (rc == 0 && rp->created)
        rc = srv_rebuild_review(rp->cat, rp->bs, rp->kind, rp->name, rp->err);
    rp->created = false;
    state_clear(&rp->latest);
    return rc;
}

static int replay_one(void *arg, const char *kind, const char *name, int64_t version,
                      const char *json, size_t len)
{
    replay *rp = arg;
    if (strcmp(rp->kind, kind) || strcmp(rp->name, name)) {
        int frc = finish_item(rp);
        if (frc != 0)
            return frc;
        snprintf(rp->kind, sizeof rp->kind, "%s", kind);
        snprintf(rp->name, sizeof rp->name, "%s", name);
        rp->version = 0;
    }
    if (rp->version < 0) {
        rp->skipped++;
        return 0;
    }
    json_t *m = json_loadb(json, len, 0, NULL);
    size_t n = 0;
    catalog_file *files = m ? files_of(m, &n) : NULL;
    const char *why = !files                       ? "the manifest is malformed"
                      : version != rp->version + 1 ? "a version before it has no manifest"
                                                   : NULL;
    int rc = 0;
    if (!why && rp->version == 0 && (rc = create_item(rp, m, kind, name)) == 0)
        rp->items++;
    if (!why && rc == 0) {
        const char *title = json_string_value(json_object_get(m, "title"));
        json_t *jc = json_object_get(m, "checks");
        char *checks = json_is_array(jc) ? json_dumps(jc, JSON_COMPACT) : NULL;
        int64_t nv = 0;
        bool created = false;
        rc = catalog_commit(rp->cat, kind, name, rp->version, files, n,
                            title && *title ? title : NULL, checks, &nv, &created, rp->err);
        free(checks);
        if (rc == 0 && !created) {
            why = "its file list equals the version before it";
        } else if (rc == 0) {
            rp->version = nv;
            rp->versions++;
        }
    }
    if (why) {
        warn(kind, name, version, why);
        rp->version = -1;
        rp->skipped++;
    }
    catalog_files_free(files, n);
    json_decref(m);
    return rc;
}

int srv_rebuild_catalog(catalog *cat, blobstore *bs, cd_err *err)
{
    catalog_item *items = NULL;
    size_t n = 0;
    int rc = catalog_item_list(cat, NULL, &items, &n, err);
    catalog_items_free(items, n);
    if (rc != 0)
        return rc;
    if (n)
        return cd_err_set(err, -1,
                          "the catalog holds %zu item(s): rebuild-catalog only fills an empty "
                          "one (move the old catalog away first)",
                          n);
    replay rp = {.cat = cat, .bs = bs, .err = err};
    rc = blobstore_each_manifest(bs, replay_one, &rp, err);
    if (rc == 0)
        rc = finish_item(&rp);
    state_clear(&rp.latest);
    if (rc != 0)
        return rc;
    fprintf(stderr, "contentd: rebuilt %zu item(s), %zu version(s) from the manifests", rp.items,
            rp.versions);
    if (rp.skipped)
        fprintf(stderr, "; %zu manifest(s) skipped", rp.skipped);
    fputc('\n', stderr);
    return 0;
}
