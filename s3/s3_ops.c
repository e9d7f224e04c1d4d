/* SPDX-License-Identifier: MIT */
/*
 * The single-object operations of the S3 client (HEAD, PUT, GET, DELETE) and
 * ListObjectsV2 with its pagination, each one s3_req run by the engine.
 */
#include "s3_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int bad_key(const char *op, const char *key, cd_err *err)
{
    if (key && *key && strlen(key) <= 1024)
        return S3_OK;
    return cd_err_set(err, S3_ERROR, "s3 %s: the key must be 1 to 1024 bytes", op);
}

static void fill_info(const s3_req *r, s3_object_info *info)
{
    if (!info)
        return;
    info->size = r->have_total ? r->total_size : r->content_length;
    snprintf(info->etag, sizeof info->etag, "%s", r->etag);
}

s3_status s3_head_bucket(s3_client *c, cd_err *err)
{
    s3_req r;
    s3_req_init(&r, c, "head-bucket", "HEAD", NULL);
    int rc = s3_exec1(c, &r, err);
    s3_req_clear(&r);
    return s3_explain_head(c, "head-bucket", NULL, rc, err);
}

s3_status s3_head(s3_client *c, const char *key, s3_object_info *info, cd_err *err)
{
    int rc = bad_key("head", key, err);
    if (rc)
        return rc;
    s3_req r;
    s3_req_init(&r, c, "head", "HEAD", key);
    rc = s3_exec1(c, &r, err);
    if (rc == S3_OK)
        fill_info(&r, info);
    s3_req_clear(&r);
    return s3_explain_head(c, "head", key, rc, err);
}

s3_status s3_put_buffer(s3_client *c, const char *key, const void *p, size_t n,
                        const char *content_type, cd_err *err)
{
    int rc = bad_key("put", key, err);
    if (rc)
        return rc;
    s3_req r;
    s3_req_init(&r, c, "put", "PUT", key);
    r.body = S3_BODY_BUF;
    r.buf = p;
    r.len = n;
    r.content_type = content_type;
    cd_sha256_hex(p, n, r.sha);
    rc = s3_exec1(c, &r, err);
    s3_req_clear(&r);
    return rc;
}

s3_status s3_put_fd(s3_client *c, const char *key, int fd, uint64_t size, const char *sha256,
                    const char *content_type, cd_err *err)
{
    int rc = bad_key("put", key, err);
    if (rc)
        return rc;
    if (size > c->cfg.multipart_threshold)
        return s3_multipart_put(c, key, fd, size, content_type, err);
    s3_req r;
    s3_req_init(&r, c, "put", "PUT", key);
    r.body = S3_BODY_FD;
    r.fd = fd;
    r.len = size;
    r.content_type = content_type;
    if (sha256 && strlen(sha256) == 64) {
        memcpy(r.sha, sha256, 65);
    } else if (s3_sha256_fd(fd, 0, size, r.sha) < 0) {
        int e = errno;
        s3_req_clear(&r);
        return cd_err_set(err, S3_ERROR, "s3 put \"%.96s\": cannot read the file to upload: %s",
                          key, strerror(e));
    }
    rc = s3_exec1(c, &r, err);
    s3_req_clear(&r);
    return rc;
}

static int get_common(s3_client *c, s3_req *r, s3_object_info *info, cd_err *err)
{
    int rc = s3_exec1(c, r, err);
    if (rc == S3_OK)
        fill_info(r, info);
    s3_req_clear(r);
    return rc;
}

s3_status s3_get(s3_client *c, const char *key, uint64_t offset, uint64_t length, s3_sink_fn sink,
                 void *arg, s3_object_info *info, cd_err *err)
{
    int rc = bad_key("get", key, err);
    if (rc)
        return rc;
    s3_req r;
    s3_req_init(&r, c, "get", "GET", key);
    r.range_off = offset;
    r.range_len = length;
    r.sink = S3_SINK_FN;
    r.fn = sink;
    r.fn_arg = arg;
    return get_common(c, &r, info, err);
}

s3_status s3_get_buffer(s3_client *c, const char *key, cd_buf *out, cd_err *err)
{
    int rc = bad_key("get", key, err);
    if (rc)
        return rc;
    cd_buf_reset(out);
    cd_buf_grow(out, 1);
    out->data[0] = '\0';
    s3_req r;
    s3_req_init(&r, c, "get", "GET", key);
    r.sink = S3_SINK_BUF;
    r.out = out;
    return get_common(c, &r, NULL, err);
}

s3_status s3_get_fd(s3_client *c, const char *key, int fd, s3_object_info *info, cd_err *err)
{
    int rc = bad_key("get", key, err);
    if (rc)
        return rc;
    s3_req r;
    s3_req_init(&r, c, "get", "GET", key);
    r.sink = S3_SINK_FD;
    r.out_fd = fd;
    return get_common(c, &r, info, err);
}

s3_status s3_delete(s3_client *c, const char *key, cd_err *err)
{
    int rc = bad_key("delete", key, err);
    if (rc)
        return rc;
    s3_req r;
    s3_req_init(&r, c, "delete", "DELETE", key);
    rc = s3_exec1(c, &r, err);
    s3_req_clear(&r);
    return rc;
}

/* Listing ------------------------------------------------------------------------ */

/* GETs one page; the query names go in byte order, as SigV4 wants them. */
static int list_page(s3_client *c, const char *prefix, const char *start_after, int page_size,
                     const char *token, s3_list_page *page, cd_err *err)
{
    s3_req r;
    cd_buf body = CD_BUF_INIT;
    char max[16];
    snprintf(max, sizeof max, "%d", page_size);
    s3_req_init(&r, c, "list", "GET", NULL);
    if (token)
        s3_req_query(&r, "continuation-token", token);
    s3_req_query(&r, "list-type", "2");
    s3_req_query(&r, "max-keys", max);
    if (prefix && *prefix)
        s3_req_query(&r, "prefix", prefix);
    if (start_after && *start_after && !token)
        s3_req_query(&r, "start-after", start_after);
    r.sink = S3_SINK_BUF;
    r.out = &body;
    int rc = s3_exec1(c, &r, err);
    if (rc == S3_OK && !s3_xml_list(body.data ? body.data : "", body.len, page))
        rc = cd_err_set(err, S3_ERROR, "s3 list \"%.96s\": the answer is not a ListBucketResult",
                        prefix ? prefix : "");
    s3_req_clear(&r);
    cd_buf_free(&body);
    return rc;
}

s3_status s3_list(s3_client *c, const char *prefix, const char *start_after, int page_size,
                  int (*cb)(void *arg, const s3_list_entry *e), void *arg, cd_err *err)
{
    if (page_size <= 0 || page_size > 1000)
        page_size = 1000;
    char *token = NULL;
    int rc = S3_OK;
    bool stop = false;
    do {
        s3_list_page page;
        rc = list_page(c, prefix, start_after, page_size, token, &page, err);
        free(token);
        token = NULL;
        if (rc)
            break;
        for (size_t i = 0; i < page.n && !stop; i++)
            stop = cb(arg, &page.entries[i]) != 0;
        if (page.truncated && !page.next_token && !stop)
            rc = cd_err_set(err, S3_ERROR,
                            "s3 list \"%.96s\": a truncated page came without a continuation "
                            "token",
                            prefix ? prefix : "");
        else if (page.truncated && !stop)
            token = cd_xstrdup(page.next_token);
        s3_list_page_clear(&page);
    } while (token && rc == S3_OK);
    free(token);
    return rc;
}
