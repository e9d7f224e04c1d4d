/* SPDX-License-Identifier: MIT */
/*
 * GET …/versions/N/diff?to=M (CONTRACT "Review and sharing"): which
 * blocks of each document and which assets changed from version N to
 * version M (omitted: the latest the caller may read).  Whoever reads the
 * item may diff the versions they read: the owner and members any, a
 * reader of a published item those up to the published version (a later
 * one is 404, as it is everywhere else for them).  A share link grants a
 * preview, not history: 404.  The ASTs come from the render cache.
 */
#include "api.h"
#include "review.h"

#include <stdlib.h>
#include <string.h>

/* What blocks_of() can fail with, beside the blob store's statuses. */
#define DIFF_BAD_AST (-1000)

static int blocks_of(void *arg, const char *path, const char *sha256, rv_block **out, size_t *n,
                     cd_err *err)
{
    commit_ast *a = NULL;
    commit_render_status st = commit_render_get(arg, sha256, &a, err);
    if (st == COMMIT_RENDER_INVALID)
        return 0; /* kept from before the server rendered at commit: no blocks to compare */
    if (st != COMMIT_RENDER_OK)
        return -1;
    rv_status rs = rv_blocks(a->json, a->len, out, n);
    commit_ast_unref(a);
    if (rs != RV_OK)
        return cd_err_set(err, DIFF_BAD_AST, "the AST of %s is not an AST document", path);
    return 0;
}

/* The files of version v as the diff takes them (the strings stay
 * files'); NULL after a reply. */
static rv_file *version_files(http_req *r, int64_t v, catalog_file **files, size_t *n)
{
    cd_err err = {0};
    catalog_status rc = catalog_files(API(r)->cat, r->kind, r->name, v, files, n, &err);
    if (rc == CAT_NOT_FOUND)
        (void)http_reply_error(r, 404, "not_found", "%s/%s no longer has version %lld.", r->kind,
                               r->name, (long long)v);
    else if (rc != CAT_OK)
        (void)http_reply_cat_error(r, rc, &err);
    if (rc != CAT_OK)
        return NULL;
    rv_file *rf = cd_xcalloc(*n + 1, sizeof *rf);
    for (size_t i = 0; i < *n; i++)
        rf[i] = (rv_file){(*files)[i].path, (*files)[i].sha256};
    return rf;
}

/* The versions to compare: r->version and ?to= (default: shown); false
 * after a reply. */
static bool diff_versions(http_req *r, int64_t shown, int64_t *to)
{
    char *q = http_query(r, "to");
    bool given = q != NULL, ok = !q || (cd_parse_i64(q, to) && *to >= 1);
    free(q);
    if (!ok) {
        (void)http_reply_error(r, 400, "invalid_version", "to must be an integer >= 1.");
        return false;
    }
    if (!given)
        *to = shown;
    int64_t beyond = r->version > shown ? r->version : *to > shown ? *to : 0;
    if (beyond || shown < 1) { /* a reader of the published version: no later draft */
        (void)http_reply_error(r, 404, "not_found", "%s/%s has no version %lld.", r->kind, r->name,
                               (long long)(beyond ? beyond : r->version));
        return false;
    }
    return true;
}

enum MHD_Result api_version_diff(http_req *r)
{
    if (r->link_sha256[0]) /* a link grants its preview only */
        return http_reply_error(r, 404, "not_found", "No content item %s/%s.", r->kind, r->name);
    catalog_item it;
    if (!api_item_visible(r, &it))
        return MHD_YES;
    int64_t shown = catalog_version_for(r->user, &it), to = 0;
    catalog_item_clear(&it);
    if (!diff_versions(r, shown, &to))
        return MHD_YES;
    catalog_file *fa = NULL, *fb = NULL;
    size_t na = 0, nb = 0;
    rv_file *a = NULL, *b = NULL;
    enum MHD_Result ret = MHD_YES;
    cd_buf json = CD_BUF_INIT;
    cd_err err = {0};
    if (!(a = version_files(r, r->version, &fa, &na)) || !(b = version_files(r, to, &fb, &nb)))
        goto out;
    int rc = rv_diff_json(r->version, a, na, to, b, nb, blocks_of, API(r)->commit, &json, &err);
    if (rc == 0) {
        ret = http_reply_json(r, 200, &json);
    } else {
        cd_buf_free(&json);
        ret = rc == DIFF_BAD_AST ? http_reply_error(r, 500, "internal", "%s", err.msg)
                                 : http_reply_blob_error(
                                       r, err.code == BLOB_NOT_FOUND ? BLOB_ERROR : err.code, &err);
    }
out:
    free(a);
    free(b);
    catalog_files_free(fa, na);
    catalog_files_free(fb, nb);
    return ret;
}
