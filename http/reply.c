/* SPDX-License-Identifier: MIT */
/*
 * Replies: JSON bodies, the one error shape of the API
 * ({"error":{"code":"snake_case","message":"sentence"}}), empty replies, and
 * the headers every reply carries.  Also http_fail(), which decides when an
 * error found before the request body has been read can be sent.
 */
#include "http.h"

#include <stdio.h>
#include <string.h>

#include "gz.h"

bool http_accepts_gzip(http_req *r)
{
    return cd_gz_accepted(http_header(r, MHD_HTTP_HEADER_ACCEPT_ENCODING));
}

enum MHD_Result http_reply_response(http_req *r, unsigned status, struct MHD_Response *resp,
                                    uint64_t bytes)
{
    if (!r->sub) /* an event stream is not sniffed; spare its memory */
        MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    if (atomic_load(&r->s->stopping))
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    http_cors_headers(r, resp);
    enum MHD_Result ok = MHD_queue_response(r->conn, status, resp);
    MHD_destroy_response(resp);
    r->responded = true;
    r->status = status;
    r->bytes = (r->method == HTTP_M_HEAD || status == 204 || status == 304) ? 0 : bytes;
    return ok;
}

enum MHD_Result http_reply_text(http_req *r, unsigned status, const char *ctype, cd_buf *body)
{
    size_t len = 0;
    char *data = cd_buf_steal(body, &len);
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    return http_reply_response(r, status, resp, len);
}

enum MHD_Result http_reply_json(http_req *r, unsigned status, cd_buf *body)
{
    cd_buf_putc(body, '\n');
    return http_reply_text(r, status, "application/json", body);
}

enum MHD_Result http_reply_empty(http_req *r, unsigned status)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    return http_reply_response(r, status, resp, 0);
}

enum MHD_Result http_reply_error_extra(http_req *r, unsigned status, const char *code,
                                       const char *msg, const char *key, const char *json)
{
    cd_buf b = CD_BUF_INIT;
    cd_buf_puts(&b, "{\"error\":{\"code\":");
    cd_json_str(&b, code, strlen(code));
    cd_buf_puts(&b, ",\"message\":");
    cd_buf b2 = CD_BUF_INIT;
    cd_utf8_repair(&b2, msg, strlen(msg));
    cd_json_str(&b, b2.data ? b2.data : "", b2.len);
    cd_buf_free(&b2);
    if (key && json) {
        cd_buf_putc(&b, ',');
        cd_json_str(&b, key, strlen(key));
        cd_buf_putc(&b, ':');
        cd_buf_puts(&b, json);
    }
    cd_buf_puts(&b, "}}");
    if (status >= 500) {
        cd_buf line = CD_BUF_INIT;
        cd_log_kv(&line, "path", r->path);
        cd_log_kv(&line, "msg", msg);
        cd_log("error", "http", "status=%u code=%s%s", status, code, line.data);
        cd_buf_free(&line);
    }
    size_t len = 0;
    cd_buf_putc(&b, '\n');
    char *data = cd_buf_steal(&b, &len);
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (status == 401)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                "Bearer realm=\"contentd\"");
    if (status == 405)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD, POST, PUT, PATCH, DELETE");
    if (status == 503)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "1");
    return http_reply_response(r, status, resp, len);
}

enum MHD_Result http_reply_error(http_req *r, unsigned status, const char *code, const char *fmt,
                                 ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return http_reply_error_extra(r, status, code, msg, NULL, NULL);
}

/* An error found before the body is read is sent at once only when that
 * cannot cut the client off mid-upload: there is no body, or the client
 * waits for "100 Continue" (libmicrohttpd then skips the body).  Otherwise
 * the body is read and dropped first (up to HTTP_DRAIN_MAX bytes), so that
 * a client that sends its whole body before reading still gets the reply
 * instead of a connection reset. */
void http_fail(http_req *r, unsigned status, const char *code, const char *fmt, ...)
{
    if (r->responded || r->pending)
        return;
    char msg[512]; /* as http_reply_error(): an S3 refusal with its hint fits */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    bool early_ok = !r->expect_body ||
                    (r->expect_continue && (r->method & (HTTP_M_POST | HTTP_M_PUT))) ||
                    r->content_length > (int64_t)HTTP_DRAIN_MAX;
    if (r->phase == HTTP_PH_FINAL || (r->phase == HTTP_PH_HEADERS && early_ok)) {
        (void)http_reply_error(r, status, code, "%s", msg);
        return;
    }
    r->pending = true;
    r->pending_status = status;
    r->pending_code = code;
    r->pending_msg = cd_xstrdup(msg);
    r->body_mode = HTTP_BODY_DISCARD;
}

enum MHD_Result http_reply_cat_error(http_req *r, catalog_status status, const cd_err *err)
{
    const char *m = err && err->msg[0] ? err->msg : "the catalog failed";
    switch (status) {
    case CAT_NOT_FOUND:
        return http_reply_error(r, 404, "not_found", "No such content item.");
    case CAT_EXISTS:
        return http_reply_error(r, 409, "already_exists", "%s", m);
    case CAT_CONFLICT:
        return http_reply_error(r, 409, "version_conflict", "%s", m);
    case CAT_UNAVAILABLE:
        return http_reply_error(r, 503, "catalog_unavailable", "The catalog is unavailable: %s", m);
    default:
        return http_reply_error(r, 500, "internal_error", "The catalog failed: %s", m);
    }
}

enum MHD_Result http_reply_blob_error(http_req *r, blob_status status, const cd_err *err)
{
    const char *m = err && err->msg[0] ? err->msg : "the blob store failed";
    switch (status) {
    case BLOB_NOT_FOUND:
        return http_reply_error(r, 404, "not_found", "No such blob.");
    case BLOB_UNAVAILABLE:
        return http_reply_error(r, 503, "blobstore_unavailable",
                                "The blob store is unavailable: %s", m);
    default:
        return http_reply_error(r, 500, "internal_error", "The blob store failed: %s", m);
    }
}
