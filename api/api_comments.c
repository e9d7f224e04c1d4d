/* SPDX-License-Identifier: MIT */
/*
 * Comments anchored to a block (CONTRACT "Review and sharing"): POST, GET
 * and PATCH …/comments.  The owner and the members read them; the owner,
 * editors and reviewers write them; a reader of a public item gets 403, a
 * stranger to a private item and a share link 404.  A comment names a
 * block of one document of one version by its key (review.h); the list
 * says, for each, whether that block is still there in the latest version
 * — a block with the same SHA-256 in the same section — and where
 * (`latest_block`, `index`), so the preview page can place it.
 *
 * Each comment is also written to the blob store as
 * review/KIND/NAME/comments/ID.json (its JSON and its block's digest)
 * before the catalog has it, and rewritten before it is resolved, so that
 * `contentd rebuild-catalog` can restore it: while the blob store refuses
 * the record, the comment is not made (503).
 */
#include "api.h"

#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "review.h"

#define COMMENT_BODY_MAX  10000 /* bytes */
#define COMMENT_BLOCK_MAX 256

/* ---- who may do what ---------------------------------------------------- */

typedef enum { MAY_READ, MAY_WRITE } comment_right;

/* Loads the item and checks the caller's right; replies (404 or 403) and
 * returns false when it is missing. */
static bool comment_access(http_req *r, catalog_item *it, comment_right right)
{
    if (!api_item_visible(r, it))
        return false;
    const char *why = NULL;
    catalog_role role = catalog_role_of(r->user, it);
    if (r->link_sha256[0]) {
        catalog_item_clear(it); /* a link grants its preview and nothing else */
        (void)http_reply_error(r, 404, "not_found", "No content item %s/%s.", r->kind, r->name);
        return false;
    }
    if (catalog_is_owner(r->user, it))
        return true;
    if (role == CAT_ROLE_NONE)
        why = "Comments on %s/%s are for its owner and members.";
    else if (right == MAY_WRITE && role < CAT_ROLE_REVIEWER)
        why = "A viewer of %s/%s reads comments but does not write them.";
    if (!why)
        return true;
    catalog_item_clear(it);
    (void)http_reply_error(r, 403, "forbidden", why, r->kind, r->name);
    return false;
}

/* ---- blocks of a document ---------------------------------------------- */

/* The blocks of document path in version v: 0, or 404 (no such file),
 * 422 (not rendered) or 503 with err filled. */
static int doc_blocks(api_ctx *a, const char *kind, const char *name, int64_t v, const char *path,
                      rv_block **out, size_t *n, cd_err *err)
{
    *out = NULL;
    *n = 0;
    catalog_file *files = NULL;
    size_t nf = 0;
    catalog_status rc = catalog_files(a->cat, kind, name, v, &files, &nf, err);
    if (rc != CAT_OK)
        return rc == CAT_NOT_FOUND ? 404 : 503;
    const char *sha = NULL;
    for (size_t i = 0; i < nf && !sha; i++)
        if (!strcmp(files[i].path, path))
            sha = files[i].sha256;
    int status = sha ? 0 : 404;
    commit_ast *ast = NULL;
    if (sha && commit_render_get(a->commit, sha, &ast, err) != COMMIT_RENDER_OK)
        status = 422;
    catalog_files_free(files, nf);
    if (status)
        return status;
    if (rv_blocks(ast->json, ast->len, out, n) != RV_OK)
        status = 422;
    commit_ast_unref(ast);
    return status;
}

/* The section of a block key: the heading before it ("intro" of
 * "intro/p-2"), or the heading's own key. */
static size_t section_len(const char *key)
{
    const char *slash = strchr(key, '/');
    return slash ? (size_t)(slash - key) : strlen(key);
}

/* The block of blocks[0..n) the comment now stands beside: its key when
 * that block kept its digest, else a block of the same section with that
 * digest (moved within the section); NULL when the block changed or went
 * away: the comment is outdated. */
static const rv_block *still_there(const catalog_comment *cm, const rv_block *b, size_t n)
{
    size_t sl = section_len(cm->block);
    const rv_block *moved = NULL;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(b[i].hash, cm->block_hash))
            continue;
        if (!strcmp(b[i].key, cm->block))
            return &b[i];
        if (!moved && section_len(b[i].key) == sl && !strncmp(b[i].key, cm->block, sl))
            moved = &b[i];
    }
    return moved;
}

/* The blocks of one document of the latest version, loaded once per path
 * for a list. */
typedef struct latest_doc {
    char *path;
    rv_block *blocks; /* NULL: the document is gone (or unreadable) */
    size_t n;
} latest_doc;

typedef struct latest_docs {
    api_ctx *a;
    const char *kind, *name;
    int64_t version;
    latest_doc *docs;
    size_t n;
} latest_docs;

static const latest_doc *latest_of(latest_docs *ld, const char *path)
{
    for (size_t i = 0; i < ld->n; i++)
        if (!strcmp(ld->docs[i].path, path))
            return &ld->docs[i];
    ld->docs = cd_xrealloc(ld->docs, (ld->n + 1) * sizeof *ld->docs);
    latest_doc *d = &ld->docs[ld->n++];
    d->path = cd_xstrdup(path);
    cd_err err = {0};
    if (ld->version < 1 ||
        doc_blocks(ld->a, ld->kind, ld->name, ld->version, path, &d->blocks, &d->n, &err) != 0) {
        d->blocks = NULL;
        d->n = 0;
    }
    return d;
}

static void latest_docs_free(latest_docs *ld)
{
    for (size_t i = 0; i < ld->n; i++) {
        free(ld->docs[i].path);
        rv_blocks_free(ld->docs[i].blocks, ld->docs[i].n);
    }
    free(ld->docs);
}

/* The comment as the API answers it: its fields, then whether it is
 * outdated against the latest version and, when not, where its block is. */
static void json_comment_api(cd_buf *b, const catalog_comment *cm, latest_docs *ld)
{
    catalog_json_comment(b, cm);
    const latest_doc *d = latest_of(ld, cm->path);
    const rv_block *at = d->blocks ? still_there(cm, d->blocks, d->n) : NULL;
    if (at) {
        cd_buf_puts(b, ",\"outdated\":false,\"latest_block\":");
        cd_json_str(b, at->key, strlen(at->key));
        cd_buf_printf(b, ",\"index\":%zu}", at->index);
    } else {
        cd_buf_puts(b, ",\"outdated\":true,\"latest_block\":null,\"index\":null}");
    }
}

/* ---- the blob-store record ---------------------------------------------- */

/* review/KIND/NAME/comments/ID.json holds the comment and its block's
 * digest: what a rebuild of the catalog restores.  Like every other review
 * change, a comment is written there first and made in the catalog after,
 * under the item's commit lock: a record that cannot be written leaves the
 * catalog alone and answers 503.  A change the catalog then refuses
 * rewrites the record from what the catalog holds — the comment as it is,
 * or, when the catalog has no comment of that id, a record that says so
 * ("withdrawn"), which a rebuild skips. */

#define COMMENT_ID_ATTEMPTS 8 /* ids taken by other replicas in a row */

static blob_status put_record(http_req *r, int64_t id, const catalog_comment *cm, cd_err *err)
{
    cd_buf key = CD_BUF_INIT, b = CD_BUF_INIT;
    cd_buf_printf(&key, "review/%s/%s/comments/%lld.json", r->kind, r->name, (long long)id);
    if (cm) {
        catalog_json_comment(&b, cm);
        cd_buf_printf(&b, ",\"block_hash\":\"%s\"}\n", cm->block_hash);
    } else {
        cd_buf_printf(&b, "{\"id\":%lld,\"withdrawn\":true}\n", (long long)id);
    }
    blob_status rc = blobstore_put_object(API(r)->bs, key.data, b.data, b.len, err);
    cd_buf_free(&key);
    cd_buf_free(&b);
    return rc;
}

/* Rewrites the record of comment id from the catalog, after the catalog
 * refused a change of it; what cannot be rewritten is logged. */
static void record_restore(http_req *r, int64_t id)
{
    catalog_comment now;
    cd_err err = {0};
    catalog_status rc = catalog_comment_get(API(r)->cat, r->kind, r->name, id, &now, &err);
    blob_status brc = BLOB_OK;
    if (rc == CAT_OK || rc == CAT_NOT_FOUND)
        brc = put_record(r, id, rc == CAT_OK ? &now : NULL, &err);
    if ((rc != CAT_OK && rc != CAT_NOT_FOUND) || brc != BLOB_OK)
        cd_log("warn", "api", "msg=\"comment record not restored\" item=%s/%s id=%lld err=\"%s\"",
               r->kind, r->name, (long long)id, err.msg);
    catalog_comment_clear(&now);
}

/* The item's next comment id as the catalog has it now. */
static catalog_status next_id(http_req *r, int64_t *id, cd_err *err)
{
    catalog_comment *list = NULL;
    size_t n = 0;
    catalog_status rc = catalog_comment_list(API(r)->cat, r->kind, r->name, NULL, &list, &n, err);
    *id = 1;
    for (size_t i = 0; i < n; i++)
        if (list[i].id >= *id)
            *id = list[i].id + 1;
    catalog_comments_free(list, n);
    return rc;
}

/* Adds cm under the item's next id, its record written first: the id is
 * the catalog's next, and the catalog keeps ids unique, so an id another
 * replica took in between (CAT_EXISTS) has its record rewritten from the
 * catalog and the next one is tried.  Returns the catalog's status; *brc is
 * the record's (when it is not BLOB_OK, the catalog was left alone).
 * Called under the item's commit lock. */
static catalog_status add_recorded(http_req *r, catalog_comment *cm, blob_status *brc, cd_err *err)
{
    catalog_status rc = CAT_EXISTS;
    *brc = BLOB_OK;
    cm->created_at = cd_now_ms();
    for (int i = 0; i < COMMENT_ID_ATTEMPTS && rc == CAT_EXISTS; i++) {
        if ((rc = next_id(r, &cm->id, err)) != CAT_OK)
            break;
        if ((*brc = put_record(r, cm->id, cm, err)) != BLOB_OK)
            return CAT_OK;
        rc = catalog_comment_add(API(r)->cat, r->kind, r->name, cm, err);
        if (rc != CAT_OK)
            record_restore(r, cm->id);
    }
    if (rc == CAT_EXISTS)
        rc = cd_err_set(err, CAT_CONFLICT, "comment ids are being taken too fast; try again");
    return rc;
}

static enum MHD_Result reply_comment(http_req *r, unsigned status, const catalog_comment *cm,
                                     int64_t latest)
{
    latest_docs ld = {.a = API(r), .kind = r->kind, .name = r->name, .version = latest};
    cd_buf b = CD_BUF_INIT;
    json_comment_api(&b, cm, &ld);
    latest_docs_free(&ld);
    return http_reply_json(r, status, &b);
}

/* ---- POST …/comments ------------------------------------------------------ */

/* Whether s has anything but white space. */
static bool has_text(const char *s)
{
    for (; *s; s++)
        if (!isspace((unsigned char)*s))
            return true;
    return false;
}

/* Reads the body of POST into *cm (strings borrowed from body) and *index
 * (-1: none; the preview page names a block by its index, never by a key
 * of its own making); false after a 400. */
static bool comment_body(http_req *r, json_t *body, catalog_comment *cm, json_int_t *index)
{
    json_t *ji = json_object_get(body, "index");
    *index = json_is_integer(ji) && json_integer_value(ji) >= 0 ? json_integer_value(ji) : -1;
    if (ji && *index < 0)
        return http_reply_error(r, 400, "invalid_block",
                                "\"index\" must be a block's position (0 or more)."),
               false;
    json_t *jv = json_object_get(body, "version"), *jr = json_object_get(body, "reply_to");
    json_t *jb = json_object_get(body, "body");
    cm->path = (char *)json_string_value(json_object_get(body, "path"));
    cm->block = (char *)json_string_value(json_object_get(body, "block"));
    cm->body = (char *)json_string_value(jb);
    if (jv && !json_is_null(jv) && (!json_is_integer(jv) || json_integer_value(jv) < 1))
        return http_reply_error(r, 400, "invalid_version",
                                "\"version\" must be an integer >= 1, or omitted for the latest."),
               false;
    cm->version = jv && json_is_integer(jv) ? (int64_t)json_integer_value(jv) : 0;
    if (jr && !json_is_null(jr) && (!json_is_integer(jr) || json_integer_value(jr) < 1))
        return http_reply_error(r, 400, "invalid_reply_to",
                                "\"reply_to\" must be the id of a comment, or omitted."),
               false;
    cm->reply_to = jr && json_is_integer(jr) ? (int64_t)json_integer_value(jr) : 0;
    if (!cm->body || !has_text(cm->body))
        return http_reply_error(r, 400, "empty_body", "\"body\" must be a non-empty string."),
               false;
    if (json_string_length(jb) > COMMENT_BODY_MAX)
        return http_reply_error(r, 400, "body_too_long",
                                "\"body\" is %zu bytes; a comment takes at most %d.",
                                json_string_length(jb), COMMENT_BODY_MAX),
               false;
    if (!cm->reply_to && (!cm->path || (!cm->block && *index < 0)))
        return http_reply_error(r, 400, "invalid_comment",
                                "A comment needs \"path\" (a document) and \"block\" (a block "
                                "key), or \"reply_to\"."),
               false;
    if (cm->path && (cd_path_check(cm->path, strlen(cm->path)) || !cd_path_is_markdown(cm->path)))
        return http_reply_error(r, 400, "invalid_path", "\"path\" must be a markdown document."),
               false;
    if (cm->block && (!*cm->block || strlen(cm->block) > COMMENT_BLOCK_MAX))
        return http_reply_error(r, 400, "invalid_block", "\"block\" must be a block key."), false;
    return true;
}

/* A reply takes its parent's document, and its block and version when it
 * names none; false after a 400. */
static bool reply_anchor(http_req *r, catalog_comment *cm, catalog_comment *parent)
{
    cd_err err = {0};
    catalog_status rc =
        catalog_comment_get(API(r)->cat, r->kind, r->name, cm->reply_to, parent, &err);
    if (rc != CAT_OK && rc != CAT_NOT_FOUND)
        return http_reply_cat_error(r, rc, &err), false;
    if (rc == CAT_NOT_FOUND || (cm->path && strcmp(cm->path, parent->path)))
        return http_reply_error(r, 400, "invalid_reply_to",
                                "%s/%s has no comment %lld on %s to reply to.", r->kind, r->name,
                                (long long)cm->reply_to, cm->path ? cm->path : "that document"),
               false;
    cm->path = parent->path;
    if (!cm->block) {
        cm->block = parent->block;
        if (!cm->version)
            cm->version = parent->version;
    }
    return true;
}

/* Finds cm's block (by its key, or by index when that is >= 0: its key
 * is then copied into *key, which the caller frees) in its version and
 * copies its digest; false after a reply. */
static bool anchor_block(http_req *r, catalog_comment *cm, json_int_t index, char **key)
{
    rv_block *b = NULL;
    size_t n = 0;
    cd_err err = {0};
    int status = doc_blocks(API(r), r->kind, r->name, cm->version, cm->path, &b, &n, &err);
    if (status == 404)
        return http_reply_error(r, 400, "invalid_path", "Version %lld of %s/%s has no %s.",
                                (long long)cm->version, r->kind, r->name, cm->path),
               false;
    if (status == 422)
        return http_reply_error(r, 422, "invalid_markdown", "%s cannot be rendered: %s", cm->path,
                                err.msg),
               false;
    if (status)
        return http_reply_error(r, 503, "unavailable", "%s", err.msg), false;
    bool found = false;
    for (size_t i = 0; i < n && !found; i++)
        if (index >= 0 ? b[i].index == (size_t)index : !strcmp(b[i].key, cm->block)) {
            memcpy(cm->block_hash, b[i].hash, sizeof cm->block_hash);
            if (index >= 0)
                cm->block = *key = cd_xstrdup(b[i].key);
            found = true;
        }
    rv_blocks_free(b, n);
    if (!found && index >= 0)
        (void)http_reply_error(r, 400, "unknown_block", "%s of version %lld has no block at %lld.",
                               cm->path, (long long)cm->version, (long long)index);
    else if (!found)
        (void)http_reply_error(r, 400, "unknown_block", "%s of version %lld has no block %s.",
                               cm->path, (long long)cm->version, cm->block);
    return found;
}

enum MHD_Result api_comments_post(http_req *r)
{
    json_t *body = http_json_body(r);
    if (!body)
        return MHD_YES;
    catalog_item it;
    catalog_comment cm = {0}, parent = {0};
    enum MHD_Result ret = MHD_YES;
    char *key = NULL;
    json_int_t index = -1;
    if (!comment_access(r, &it, MAY_WRITE))
        goto out;
    int64_t latest = it.version;
    cm.user = r->user;
    catalog_item_clear(&it);
    if (!comment_body(r, body, &cm, &index) || (cm.reply_to && !reply_anchor(r, &cm, &parent)))
        goto out;
    if (!cm.version)
        cm.version = latest;
    if (cm.version > latest || latest == 0) {
        ret = http_reply_error(r, 404, "not_found", "%s/%s has no version %lld.", r->kind, r->name,
                               (long long)cm.version);
        goto out;
    }
    if (!anchor_block(r, &cm, cm.block ? -1 : index, &key))
        goto out;
    cd_err err = {0};
    blob_status brc = BLOB_OK;
    pthread_mutex_t *mu = commit_lock(API(r)->commit, r->kind, r->name);
    pthread_mutex_lock(mu);
    catalog_status rc = add_recorded(r, &cm, &brc, &err);
    pthread_mutex_unlock(mu);
    if (brc != BLOB_OK)
        ret = http_reply_blob_error(r, brc, &err);
    else if (rc != CAT_OK)
        ret = http_reply_cat_error(r, rc, &err);
    else
        ret = reply_comment(r, 201, &cm, latest);
out:
    free(key);
    catalog_comment_clear(&parent);
    json_decref(body);
    return ret;
}

/* ---- GET …/comments ------------------------------------------------------- */

enum MHD_Result api_comments_get(http_req *r)
{
    catalog_item it;
    if (!comment_access(r, &it, MAY_READ))
        return MHD_YES;
    int64_t latest = it.version;
    bool can_comment =
        catalog_is_owner(r->user, &it) || catalog_role_of(r->user, &it) >= CAT_ROLE_REVIEWER;
    catalog_item_clear(&it);
    char *path = http_query(r, "path");
    catalog_comment *list = NULL;
    size_t n = 0;
    cd_err err = {0};
    catalog_status rc = catalog_comment_list(API(r)->cat, r->kind, r->name, path, &list, &n, &err);
    free(path);
    if (rc != CAT_OK)
        return http_reply_cat_error(r, rc, &err);
    latest_docs ld = {.a = API(r), .kind = r->kind, .name = r->name, .version = latest};
    cd_buf b = CD_BUF_INIT;
    cd_buf_printf(&b, "{\"version\":%lld,\"can_comment\":%s,\"comments\":[", (long long)latest,
                  can_comment ? "true" : "false");
    for (size_t i = 0; i < n; i++) {
        if (i)
            cd_buf_putc(&b, ',');
        json_comment_api(&b, &list[i], &ld);
    }
    cd_buf_puts(&b, "]}");
    latest_docs_free(&ld);
    catalog_comments_free(list, n);
    return http_reply_json(r, 200, &b);
}

/* ---- PATCH …/comments/ID -------------------------------------------------- */

enum MHD_Result api_comment_patch(http_req *r)
{
    json_t *body = http_json_body(r);
    if (!body)
        return MHD_YES;
    json_t *jr = json_object_get(body, "resolved");
    bool resolved = json_is_true(jr);
    bool ok = json_is_boolean(jr);
    json_decref(body);
    int64_t id = 0;
    if (!r->file_path || !cd_parse_i64(r->file_path, &id) || id < 1)
        return http_reply_error(r, 404, "not_found", "No comment %s.",
                                r->file_path ? r->file_path : "");
    if (!ok)
        return http_reply_error(r, 400, "invalid_resolved", "\"resolved\" must be true or false.");
    catalog_item it;
    if (!comment_access(r, &it, MAY_READ))
        return MHD_YES;
    int64_t latest = it.version;
    bool may = catalog_is_owner(r->user, &it) || catalog_role_of(r->user, &it) == CAT_ROLE_EDITOR;
    catalog_item_clear(&it);
    pthread_mutex_t *mu = commit_lock(API(r)->commit, r->kind, r->name);
    pthread_mutex_lock(mu);
    catalog_comment cm;
    cd_err err = {0};
    blob_status brc = BLOB_OK;
    catalog_status rc = catalog_comment_get(API(r)->cat, r->kind, r->name, id, &cm, &err);
    bool allowed = rc == CAT_OK && (may || !strcmp(cm.user, r->user));
    if (allowed) {
        cm.resolved = resolved;
        brc = put_record(r, id, &cm, &err);
    }
    if (allowed && brc == BLOB_OK &&
        (rc = catalog_comment_resolve(API(r)->cat, r->kind, r->name, id, resolved, &err)) != CAT_OK)
        record_restore(r, id);
    pthread_mutex_unlock(mu);
    enum MHD_Result ret;
    if (rc == CAT_NOT_FOUND)
        ret = http_reply_error(r, 404, "not_found", "%s/%s has no comment %lld.", r->kind, r->name,
                               (long long)id);
    else if (rc != CAT_OK)
        ret = http_reply_cat_error(r, rc, &err);
    else if (!allowed)
        ret = http_reply_error(r, 403, "forbidden",
                               "Only its author, the owner and editors resolve a comment.");
    else if (brc != BLOB_OK)
        ret = http_reply_blob_error(r, brc, &err);
    else
        ret = reply_comment(r, 200, &cm, latest);
    catalog_comment_clear(&cm);
    return ret;
}
