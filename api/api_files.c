/* SPDX-License-Identifier: MIT */
/*
 * Reading a version's files: GET …/files/PATH streams the raw blob with
 * its Content-Type, ETag "<sha256>" and 304 on a matching If-None-Match,
 * and one byte range of it on a Range header (206, 416; If-Range with the
 * ETag); GET …/ast/PATH answers the AST document of a markdown file from
 * the render cache.  Both take ?version=N for an older version.
 *
 * A client that accepts gzip gets the AST (compressed once, kept with it
 * in the render cache) and compressible files (text, JSON, SVG…; a whole
 * file, not a range) gzip-encoded, with the ETag "<sha256>-gz": the two
 * encodings are different representations, each with its own tag, and
 * If-None-Match works for both.  Every such reply says Vary:
 * Accept-Encoding.
 */
#include "api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gz.h"

/* The largest file compressed for a reply (read whole into memory). */
#define GZ_FILE_MAX (16u << 20)

/* The file r->file_path of the requested version, or false after a reply. */
static bool find_file(http_req *r, catalog_file *out, int64_t *version)
{
    catalog_item it;
    if (!api_item_visible(r, &it))
        return false;
    bool drafts = false;
    int64_t v = api_version_for(r, &it, &drafts);
    catalog_item_clear(&it);
    char *q = http_query(r, "version");
    if (q) {
        int64_t want;
        bool ok = cd_parse_i64(q, &want) && want >= 1;
        free(q);
        if (!ok) {
            (void)http_reply_error(r, 400, "invalid_version", "version must be an integer >= 1.");
            return false;
        }
        if (want > v || (!drafts && want != v)) { /* readers: the published one only */
            (void)http_reply_error(r, 404, "not_found", "%s/%s has no version %lld.", r->kind,
                                   r->name, (long long)want);
            return false;
        }
        v = want;
    }
    catalog_file *files = NULL;
    size_t n = 0;
    cd_err err = {0};
    catalog_status rc =
        v > 0 ? catalog_files(API(r)->cat, r->kind, r->name, v, &files, &n, &err) : CAT_OK;
    if (rc == CAT_NOT_FOUND) {
        (void)http_reply_error(r, 404, "not_found", "%s/%s no longer has version %lld.", r->kind,
                               r->name, (long long)v);
        return false;
    }
    if (rc != CAT_OK) {
        (void)http_reply_cat_error(r, rc, &err);
        return false;
    }
    bool found = false;
    for (size_t i = 0; i < n && !found; i++)
        if (!strcmp(files[i].path, r->file_path)) {
            found = true;
            *out = files[i];
            files[i].path = NULL;
            files[i].content_type = NULL;
        }
    catalog_files_free(files, n);
    if (!found)
        (void)http_reply_error(r, 404, "not_found", "%s/%s has no file %s in version %lld.",
                               r->kind, r->name, r->file_path, (long long)v);
    *version = v;
    return found;
}

/* Whether If-None-Match lists the entity tag "sha" ("sha-gz" for the gzip
 * form, gz), or W/ that, or *. */
static bool etag_matches(http_req *r, const char *sha, bool gz)
{
    size_t want = gz ? 69 : 66; /* "sha" or "sha-gz" */
    const char *h = http_header(r, MHD_HTTP_HEADER_IF_NONE_MATCH);
    if (!h)
        return false;
    /* a comma-separated list of tags, each "…" or W/"…" */
    while (*h) {
        while (*h == ' ' || *h == '\t' || *h == ',')
            h++;
        size_t n = strcspn(h, ",");
        const char *tag = h, *end = h + n;
        h = end;
        while (end > tag && (end[-1] == ' ' || end[-1] == '\t'))
            end--;
        if (end - tag == 1 && *tag == '*')
            return true;
        if (end - tag > 2 && !strncmp(tag, "W/", 2))
            tag += 2;
        if ((size_t)(end - tag) == want && tag[0] == '"' && tag[want - 1] == '"' &&
            !strncmp(tag + 1, sha, 64) && (!gz || !strncmp(tag + 65, "-gz", 3)))
            return true;
    }
    return false;
}

/* ETag, caching and version; with vary, Vary: Accept-Encoding and, for the
 * gzip form (gz), its own ETag. */
static void file_headers(struct MHD_Response *resp, const char *sha, int64_t version, bool vary,
                         bool gz)
{
    char etag[74], ver[24];
    snprintf(etag, sizeof etag, "\"%s%s\"", sha, gz ? "-gz" : "");
    snprintf(ver, sizeof ver, "%lld", (long long)version);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
    if (vary)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, MHD_HTTP_HEADER_ACCEPT_ENCODING);
    if (gz)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    MHD_add_response_header(resp, "X-Content-Version", ver);
}

static enum MHD_Result not_modified(http_req *r, const char *sha, int64_t version, bool vary,
                                    bool gz)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    file_headers(resp, sha, version, vary, gz);
    /* a 304 names the representation, not its encoding of a body */
    MHD_del_response_header(resp, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
    return http_reply_response(r, 304, resp, 0);
}

/* What a Range header asks of a file of `size` bytes (RFC 9110 14.2). */
typedef enum {
    RANGE_WHOLE,         /* none, not understood, or several ranges: 200 */
    RANGE_PART,          /* one satisfiable range: 206 */
    RANGE_UNSATISFIABLE, /* no range overlaps the file: 416 */
} range_kind;

/* Parses one range-spec "A-B", "A-" or "-N" of s[0..n); false when it is
 * malformed.  *sat says whether it overlaps the file. */
static bool range_spec(const char *s, size_t n, int64_t size, int64_t *first, int64_t *last,
                       bool *sat)
{
    char buf[48];
    if (n == 0 || n >= sizeof buf)
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    char *dash = strchr(buf, '-');
    if (!dash)
        return false;
    *dash = '\0';
    int64_t a = -1, b = -1;
    if ((buf[0] && !cd_parse_i64(buf, &a)) || (dash[1] && !cd_parse_i64(dash + 1, &b)))
        return false;
    if (a < 0 && b < 0)
        return false;
    if (a < 0) { /* the last b bytes */
        *sat = b > 0 && size > 0;
        *first = b >= size ? 0 : size - b;
        *last = size - 1;
        return true;
    }
    if (b >= 0 && b < a)
        return false;
    *sat = a < size;
    *first = a;
    *last = b < 0 || b >= size ? size - 1 : b;
    return true;
}

/* Reads Range: bytes=… for a file of `size` bytes.  Several ranges are
 * answered with the whole file (200), which RFC 9110 allows and every
 * client handles; a malformed header is ignored, as it must be. */
static range_kind parse_range(const char *h, int64_t size, int64_t *first, int64_t *last)
{
    if (!h || strncmp(h, "bytes=", 6))
        return RANGE_WHOLE;
    h += 6;
    size_t specs = 0, satisfiable = 0;
    int64_t f0 = 0, l0 = 0;
    while (*h) {
        while (*h == ' ' || *h == '\t' || *h == ',')
            h++;
        size_t n = strcspn(h, ",");
        while (n && (h[n - 1] == ' ' || h[n - 1] == '\t'))
            n--;
        if (n == 0)
            break;
        int64_t a, b;
        bool sat = false;
        if (!range_spec(h, n, size, &a, &b, &sat))
            return RANGE_WHOLE;
        if (sat && satisfiable++ == 0) {
            f0 = a;
            l0 = b;
        }
        specs++;
        h += strcspn(h, ",");
    }
    if (specs == 0)
        return RANGE_WHOLE;
    if (satisfiable == 0)
        return RANGE_UNSATISFIABLE;
    if (specs > 1)
        return RANGE_WHOLE;
    *first = f0;
    *last = l0;
    return RANGE_PART;
}

/* If-Range: the range applies only while the file is still the one the
 * client has, named by its strong ETag.  A date (we send no Last-Modified)
 * or another tag means the whole file. */
static bool if_range_holds(http_req *r, const char *sha)
{
    const char *h = http_header(r, MHD_HTTP_HEADER_IF_RANGE);
    if (!h)
        return true;
    while (*h == ' ')
        h++;
    size_t n = strlen(h);
    while (n && h[n - 1] == ' ')
        n--;
    return n == 66 && h[0] == '"' && h[65] == '"' && !strncmp(h + 1, sha, 64);
}

typedef struct {
    api_ctx *s;
    blob_reader *rd;
    uint64_t base; /* the first byte sent: a range's start */
} blob_stream;

static ssize_t read_blob(void *cls, uint64_t pos, char *buf, size_t max)
{
    blob_stream *bs = cls;
    ssize_t n = blobstore_read(bs->s->bs, bs->rd, bs->base + pos, buf, max);
    if (n < 0)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    return n == 0 ? MHD_CONTENT_READER_END_OF_STREAM : n;
}

static void free_blob_stream(void *cls)
{
    blob_stream *bs = cls;
    blobstore_close_reader(bs->s->bs, bs->rd);
    free(bs);
}

/* 416 in the API's error shape, with the Content-Range that names the
 * file's size (so a client can ask again). */
static enum MHD_Result range_not_satisfiable(http_req *r, const catalog_file *f, int64_t size,
                                             int64_t version)
{
    cd_buf b = CD_BUF_INIT;
    cd_buf_printf(&b,
                  "{\"error\":{\"code\":\"range_not_satisfiable\",\"message\":\"The file is "
                  "%lld bytes long: no byte of the requested range is in it.\"}}\n",
                  (long long)size);
    size_t len = 0;
    char *data = cd_buf_steal(&b, &len);
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
    char cr[40];
    snprintf(cr, sizeof cr, "bytes */%lld", (long long)size);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, cr);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
    file_headers(resp, f->sha256, version, false, false);
    return http_reply_response(r, 416, resp, len);
}

/* The gzip form of a whole file of `size` bytes open in bs, or false (and
 * no reply) when it cannot be read. */
static bool gzip_file(blob_stream *bs, int64_t size, cd_buf *out)
{
    cd_buf raw = CD_BUF_INIT;
    cd_buf_grow(&raw, (size_t)size + 1);
    while (raw.len < (size_t)size) {
        ssize_t n =
            blobstore_read(bs->s->bs, bs->rd, raw.len, raw.data + raw.len, (size_t)size - raw.len);
        if (n <= 0) {
            cd_buf_free(&raw);
            return false;
        }
        raw.len += (size_t)n;
    }
    cd_gzip(raw.data ? raw.data : "", raw.len, out);
    cd_buf_free(&raw);
    return true;
}

enum MHD_Result api_file_get(http_req *r)
{
    catalog_file f = {0};
    int64_t version = 0;
    if (!find_file(r, &f, &version))
        return MHD_YES;
    enum MHD_Result ret;
    const char *ctype = f.content_type ? f.content_type : catalog_content_type(f.path);
    bool vary = cd_gz_compressible(ctype);
    /* a range is of the identity form: a Range request gets that */
    bool gz = vary && http_accepts_gzip(r) && !http_header(r, MHD_HTTP_HEADER_RANGE);
    if (etag_matches(r, f.sha256, gz)) {
        ret = not_modified(r, f.sha256, version, vary, gz);
        goto out;
    }
    blob_stream *bs = cd_xcalloc(1, sizeof *bs);
    bs->s = API(r);
    int64_t size = 0;
    cd_err err = {0};
    blob_status rc = blobstore_open(API(r)->bs, f.sha256, &bs->rd, &size, &err);
    if (rc != BLOB_OK) {
        free(bs);
        ret = http_reply_blob_error(r, rc == BLOB_NOT_FOUND ? BLOB_ERROR : rc, &err);
        goto out;
    }
    int64_t first = 0, last = size - 1;
    range_kind rk = r->method == HTTP_M_GET && if_range_holds(r, f.sha256)
                        ? parse_range(http_header(r, MHD_HTTP_HEADER_RANGE), size, &first, &last)
                        : RANGE_WHOLE;
    if (rk == RANGE_UNSATISFIABLE) {
        free_blob_stream(bs);
        ret = range_not_satisfiable(r, &f, size, version);
        goto out;
    }
    if (gz && size <= (int64_t)GZ_FILE_MAX) {
        cd_buf body = CD_BUF_INIT;
        bool ok = gzip_file(bs, size, &body);
        free_blob_stream(bs);
        if (!ok) {
            cd_buf_free(&body);
            ret = http_reply_error(r, 500, "internal_error", "%s could not be read.", f.path);
            goto out;
        }
        size_t blen = 0;
        char *data = cd_buf_steal(&body, &blen);
        struct MHD_Response *resp =
            MHD_create_response_from_buffer(blen, data, MHD_RESPMEM_MUST_FREE);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_SECURITY_POLICY, "sandbox");
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
        file_headers(resp, f.sha256, version, true, true);
        r->gzip = true;
        ret = http_reply_response(r, 200, resp, blen);
        goto out;
    }
    bs->base = (uint64_t)first;
    uint64_t len = (uint64_t)(last - first + 1);
    struct MHD_Response *resp =
        MHD_create_response_from_callback(len, 64 * 1024, read_blob, bs, free_blob_stream);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_SECURITY_POLICY, "sandbox");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
    file_headers(resp, f.sha256, version, vary, false);
    if (rk == RANGE_PART) {
        char cr[80];
        snprintf(cr, sizeof cr, "bytes %lld-%lld/%lld", (long long)first, (long long)last,
                 (long long)size);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, cr);
    }
    ret = http_reply_response(r, rk == RANGE_PART ? 206 : 200, resp, len);
out:
    free(f.path);
    free(f.content_type);
    return ret;
}

static void drop_ast(void *cls)
{
    commit_ast_unref(cls);
}

enum MHD_Result api_ast_get(http_req *r)
{
    if (!cd_path_is_markdown(r->file_path))
        return http_reply_error(r, 422, "not_markdown", "%s is not a markdown (.md) document.",
                                r->file_path);
    catalog_file f = {0};
    int64_t version = 0;
    if (!find_file(r, &f, &version))
        return MHD_YES;
    enum MHD_Result ret;
    commit_ast *a = NULL;
    cd_err err = {0};
    commit_render_status rc;
    bool gz = http_accepts_gzip(r);
    if (etag_matches(r, f.sha256, gz)) {
        ret = not_modified(r, f.sha256, version, true, gz);
    } else if ((rc = commit_render_get(API(r)->commit, f.sha256, &a, &err)) != 0) {
        ret = rc == COMMIT_RENDER_INVALID
                  ? http_reply_error(r, 422, "invalid_markdown", "%s cannot be rendered: %s",
                                     f.path, err.msg)
                  : http_reply_blob_error(
                        r, rc == COMMIT_RENDER_UNAVAILABLE ? BLOB_UNAVAILABLE : BLOB_ERROR, &err);
    } else {
        size_t len = a->len;
        const char *body = gz ? commit_ast_gzip(a, &len) : a->json;
        struct MHD_Response *resp =
            MHD_create_response_from_buffer_with_free_callback_cls(len, (void *)body, drop_ast, a);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
        file_headers(resp, f.sha256, version, true, gz);
        r->gzip = gz;
        ret = http_reply_response(r, 200, resp, len);
    }
    free(f.path);
    free(f.content_type);
    return ret;
}
