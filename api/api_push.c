/* SPDX-License-Identifier: MIT */
/*
 * POST /api/v1/content/KIND/NAME/versions — the commit step of a push:
 * {"base_version":N,"files":[{"path","sha256","size"},…]}, the full file list
 * of the new version.  201 {"version":N+1,"created":true,"checks":[…]} when a
 * version is made; 200 {"version":N,"created":false,"checks":[…]} when the
 * list equals version N; 422 checks_failed (with the findings) when the item
 * is strict and the version has an error.
 */
#include "api.h"

#include <stdlib.h>
#include <string.h>

/* Reads one element of "files"; replies 400 and returns false when bad. */
static bool parse_file(http_req *r, json_t *e, size_t i, catalog_file *f)
{
    json_t *jp = json_object_get(e, "path"), *js = json_object_get(e, "sha256"),
           *jz = json_object_get(e, "size");
    const char *path = json_string_value(jp);
    const char *sha = json_string_value(js);
    if (!json_is_object(e) || !path || !sha || !json_is_integer(jz)) {
        (void)http_reply_error(r, 400, "invalid_files",
                               "files[%zu] must be an object with \"path\" (string), \"sha256\" "
                               "(string) and \"size\" (integer).",
                               i);
        return false;
    }
    const char *why = cd_path_why(path, json_string_length(jp), false);
    if (why) {
        (void)http_reply_error(r, 400, "invalid_path", "files[%zu]: invalid path: %s.", i, why);
        return false;
    }
    if (!cd_sha_valid(sha)) {
        (void)http_reply_error(r, 400, "invalid_sha256",
                               "files[%zu] (%s): sha256 must be 64 lower-case hex digits.", i,
                               path);
        return false;
    }
    if (json_integer_value(jz) < 0) {
        (void)http_reply_error(r, 400, "invalid_files", "files[%zu] (%s): size is negative.", i,
                               path);
        return false;
    }
    f->path = cd_xstrdup(path);
    memcpy(f->sha256, sha, 65);
    f->size = json_integer_value(jz);
    return true;
}

/* The file list of the body, or NULL after replying 400. */
static catalog_file *parse_files(http_req *r, json_t *arr, size_t *n)
{
    size_t len = json_array_size(arr);
    if (len > CD_VERSION_FILES_MAX) {
        (void)http_reply_error(r, 413, "too_many_files",
                               "This version lists %zu files; a version holds at most %d.", len,
                               CD_VERSION_FILES_MAX);
        return NULL;
    }
    catalog_file *files = cd_xcalloc(len ? len : 1, sizeof *files);
    for (size_t i = 0; i < len; i++)
        if (!parse_file(r, json_array_get(arr, i), i, &files[i])) {
            catalog_files_free(files, i);
            return NULL;
        }
    *n = len;
    return files;
}

static enum MHD_Result reply_result(http_req *r, commit_result *res)
{
    cd_buf b = CD_BUF_INIT;
    char extra[32];
    switch (res->status) {
    case COMMIT_OK:
        cd_buf_printf(&b, "{\"version\":%lld,\"created\":%s,\"checks\":%s}",
                      (long long)res->version, res->created ? "true" : "false",
                      res->checks.len ? res->checks.data : "[]");
        return http_reply_json(r, res->created ? 201 : 200, &b);
    case COMMIT_MISSING_BLOBS:
        return http_reply_error_extra(r, 422, res->code, res->msg, "missing", res->missing.data);
    case COMMIT_CHECKS_FAILED:
        return http_reply_error_extra(r, 422, res->code, res->msg, "checks", res->checks.data);
    case COMMIT_CONFLICT:
        snprintf(extra, sizeof extra, "%lld", (long long)res->version);
        return http_reply_error_extra(r, 409, res->code, res->msg, "current_version", extra);
    case COMMIT_NOT_FOUND:
        return http_reply_error(r, 404, res->code, "%s", res->msg);
    case COMMIT_FORBIDDEN:
        return http_reply_error(r, 403, res->code, "%s", res->msg);
    case COMMIT_INVALID:
        return http_reply_error(r, 400, res->code, "%s", res->msg);
    case COMMIT_UNACCEPTABLE:
        return http_reply_error(r, 422, res->code, "%s", res->msg);
    case COMMIT_UNAVAILABLE:
        return http_reply_error(r, 503, res->code, "%s", res->msg);
    default:
        return http_reply_error(r, 500, res->code ? res->code : "internal_error", "%s", res->msg);
    }
}

enum MHD_Result api_commit(http_req *r)
{
    json_t *body = http_json_body(r);
    if (!body)
        return MHD_YES;
    json_t *jb = json_object_get(body, "base_version");
    json_t *jf = json_object_get(body, "files");
    enum MHD_Result ret = MHD_YES;
    if (!json_is_integer(jb) || json_integer_value(jb) < 0) {
        ret =
            http_reply_error(r, 400, "invalid_base_version",
                             "\"base_version\" must be an integer >= 0 (0 before the first push).");
    } else if (!json_is_array(jf)) {
        ret = http_reply_error(r, 400, "invalid_files",
                               "\"files\" must be the array of the new version's files.");
    } else {
        size_t n = 0;
        catalog_file *files = parse_files(r, jf, &n);
        if (files) {
            commit_result res;
            commit_run(API(r)->commit, r->user, r->kind, r->name, json_integer_value(jb), files, n,
                       &res);
            ret = reply_result(r, &res);
            commit_result_clear(&res);
            catalog_files_free(files, n);
        }
    }
    json_decref(body);
    return ret;
}

/* POST …/rollback {"to":N}: a new version whose files are version N's,
 * committed like a push (owner and editors; history is kept). */
enum MHD_Result api_rollback(http_req *r)
{
    json_t *body = http_json_body(r);
    if (!body)
        return MHD_YES;
    json_t *jt = json_object_get(body, "to");
    int64_t to = json_is_integer(jt) ? (int64_t)json_integer_value(jt) : 0;
    json_decref(body);
    if (to < 1)
        return http_reply_error(r, 400, "invalid_version", "\"to\" must be a version >= 1.");
    catalog_item it;
    if (!api_item_visible(r, &it))
        return MHD_YES;
    int64_t latest = it.version;
    catalog_item_clear(&it);
    catalog_file *files = NULL;
    size_t n = 0;
    cd_err err = {0};
    int rc = to <= latest ? catalog_files(API(r)->cat, r->kind, r->name, to, &files, &n, &err)
                          : CAT_NOT_FOUND;
    if (rc == CAT_NOT_FOUND)
        return http_reply_error(r, 404, "not_found", "%s/%s has no version %lld.", r->kind, r->name,
                                (long long)to);
    if (rc != CAT_OK)
        return http_reply_cat_error(r, rc, &err);
    commit_result res;
    commit_run(API(r)->commit, r->user, r->kind, r->name, latest, files, n, &res);
    enum MHD_Result ret = reply_result(r, &res);
    commit_result_clear(&res);
    catalog_files_free(files, n);
    return ret;
}
