/* SPDX-License-Identifier: MIT */
/*
 * The request layer on libmicrohttpd: one http_req per request, built on the
 * first callback (headers), fed the body in chunks, dispatched to its
 * handler on the last callback, logged and freed when libmicrohttpd reports
 * the request complete.
 *
 * Request log: one line per request on stderr, at completion:
 *   ts=… level=info mod=http method=GET path=/api/v1/content status=200
 *   bytes=123 dur_ms=0.412 user=local remote=127.0.0.1 [end=closed]
 * An event stream is logged when it ends (bytes and duration of the whole
 * stream); `end=` appears when the request did not complete normally.
 */
#include "http.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *http_header(http_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

char *http_query(http_req *r, const char *name)
{
    const char *v = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
    if (!v)
        return NULL;
    char *out = NULL;
    /* '+' means a space in a query string */
    char *tmp = cd_xstrdup(v);
    for (char *p = tmp; *p; p++)
        if (*p == '+')
            *p = ' ';
    bool ok = http_pct_decode(tmp, strlen(tmp), &out, NULL);
    free(tmp);
    return ok ? out : NULL;
}

static http_method method_of(const char *m)
{
    static const struct {
        const char *name;
        http_method m;
    } t[] = {{"GET", HTTP_M_GET},        {"HEAD", HTTP_M_HEAD},   {"POST", HTTP_M_POST},
             {"PUT", HTTP_M_PUT},        {"PATCH", HTTP_M_PATCH}, {"DELETE", HTTP_M_DELETE},
             {"OPTIONS", HTTP_M_OPTIONS}};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (!strcmp(m, t[i].name))
            return t[i].m;
    return HTTP_M_OTHER;
}

/* Whether Content-Type names JSON: application/json or any +json type. */
static bool is_json_type(const char *ct)
{
    if (!ct)
        return false;
    while (*ct == ' ')
        ct++;
    size_t n = strcspn(ct, ";");
    while (n && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
        n--;
    if (n == 16 && !strncasecmp(ct, "application/json", 16))
        return true;
    return n > 5 && !strncasecmp(ct + n - 5, "+json", 5) && !strncasecmp(ct, "application/", 12);
}

/* What the headers say about the body. */
static void read_body_headers(http_req *r)
{
    r->content_length = -1;
    const char *cl = http_header(r, MHD_HTTP_HEADER_CONTENT_LENGTH);
    int64_t v;
    if (cl && cd_parse_i64(cl, &v) && v >= 0)
        r->content_length = v;
    const char *te = http_header(r, MHD_HTTP_HEADER_TRANSFER_ENCODING);
    r->expect_body = r->content_length > 0 || (te && strcasestr(te, "chunked"));
    const char *ex = http_header(r, MHD_HTTP_HEADER_EXPECT);
    r->expect_continue = ex && !strcasecmp(ex, "100-continue");
}

/* The largest JSON body of r's endpoint: a commit carries a whole file
 * list (common.h), every other body is small. */
static size_t json_body_max(const http_req *r)
{
    return r->endpoint->body_max ? r->endpoint->body_max : HTTP_JSON_BODY_MAX;
}

static void fail_json_too_large(http_req *r)
{
    const http_endpoint *e = r->endpoint;
    if (!e->body_max || !e->body_too_large) {
        http_fail(r, 413, "payload_too_large", "The JSON body is larger than %u KiB.",
                  HTTP_JSON_BODY_MAX >> 10);
        return;
    }
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    http_fail(r, 413, "payload_too_large", e->body_too_large, (unsigned)(e->body_max >> 20));
#pragma GCC diagnostic pop
}

/* Checks a JSON body's media type and announced size. */
static void check_json_body(http_req *r)
{
    const char *ct = http_header(r, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (!is_json_type(ct)) {
        http_fail(r, 415, "unsupported_media_type",
                  "This endpoint takes a JSON body: send Content-Type: application/json.");
        return;
    }
    if (r->content_length > (int64_t)json_body_max(r))
        fail_json_too_large(r);
}

/* The request line and headers against the limits (HTTP_TARGET_MAX,
 * --max-header-size); false after failing the request. */
static bool head_fits(http_req *r)
{
    if (r->raw_target_len > HTTP_TARGET_MAX) {
        http_fail(r, 414, "uri_too_long", "The request target is longer than %u KiB.",
                  HTTP_TARGET_MAX >> 10);
        return false;
    }
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
    size_t line = strlen(r->method_str) + r->raw_target_len + 12; /* " HTTP/1.1\r\n" */
    size_t headers = ci && ci->header_size > line ? ci->header_size - line : 0;
    int64_t max = r->s->max_header_size;
    if ((int64_t)headers > max) {
        http_fail(r, 431, "header_fields_too_large",
                  "The request headers take %zu bytes; this server accepts %lld "
                  "(--max-header-size).",
                  headers, (long long)max);
        return false;
    }
    return true;
}

/* The first callback: route, authenticate, validate, prepare for the body. */
static void begin(http_req *r)
{
    read_body_headers(r);
    if (!head_fits(r))
        return;
    http_route_match(r);
    const http_endpoint *e = r->endpoint;
    if (!e && r->route == 0) {
        http_fail(r, 404, "not_found", "No such endpoint.");
        return;
    }
    if (r->method == HTTP_M_OPTIONS) { /* a CORS preflight: no token comes with it */
        if (!r->expect_body)
            (void)http_cors_preflight(r);
        else
            http_fail(r, 400, "invalid_request", "OPTIONS takes no body.");
        return;
    }
    if (!e) {
        http_fail(r, 405, "method_not_allowed", "%s is not allowed on this endpoint.",
                  r->method_str);
        return;
    }
    if (e->auth && !http_auth(r, e->query_token))
        return;
    if (!http_route_params(r))
        return;
    r->body_mode = e->body;
    if (r->body_mode == HTTP_BODY_JSON)
        check_json_body(r);
    else if (r->body_mode == HTTP_BODY_STREAM)
        e->body_begin(r);
}

static enum MHD_Result body_chunk(http_req *r, const char *p, size_t n)
{
    r->received += n;
    switch (r->body_mode) {
    case HTTP_BODY_JSON:
        if (r->body.len + n > json_body_max(r)) {
            fail_json_too_large(r);
            cd_buf_free(&r->body);
            break;
        }
        cd_buf_append(&r->body, p, n);
        break;
    case HTTP_BODY_STREAM:
        r->endpoint->body_chunk(r, p, n);
        break;
    default:
        break;
    }
    if (r->body_mode == HTTP_BODY_DISCARD && r->received > HTTP_DRAIN_MAX)
        return MHD_NO; /* not worth reading any further: drop the connection */
    return MHD_YES;
}

static enum MHD_Result dispatch(http_req *r)
{
    if (!r->endpoint)
        return http_reply_error(r, 404, "not_found", "No such endpoint.");
    return r->endpoint->handler(r);
}

const unsigned http_statuses[HTTP_STATUSES] = {200, 201, 204, 304, 400, 401, 403, 404,
                                               405, 409, 413, 415, 422, 500, 503, 0};

static struct {
    atomic_uint_fast64_t requests[HTTP_ROUTES_MAX + 1][HTTP_STATUSES];
    cd_histo request_time[HTTP_ROUTES_MAX + 1];
} m;

static void count_request(unsigned route, unsigned status, int64_t ns)
{
    int i = 0;
    while (i < HTTP_STATUSES - 1 && http_statuses[i] != status)
        i++;
    atomic_fetch_add_explicit(&m.requests[route][i], 1, memory_order_relaxed);
    cd_histo_observe(&m.request_time[route], ns);
}

uint64_t http_requests(unsigned route, int status_index)
{
    return atomic_load_explicit(&m.requests[route][status_index], memory_order_relaxed);
}

const cd_histo *http_request_time(unsigned route)
{
    return &m.request_time[route];
}

static http_req *req_new(http_server *s, struct MHD_Connection *c)
{
    http_req *r = cd_xcalloc(1, sizeof *r);
    r->s = s;
    r->conn = c;
    r->t0_ns = cd_mono_ns();
    pthread_mutex_lock(&s->active_mu);
    s->active++;
    pthread_mutex_unlock(&s->active_mu);
    return r;
}

/* libmicrohttpd hands the request target over as a C string, so a NUL
 * byte sent in it would silently cut the path short ("index.md\0/../x"
 * read as "index.md").  This callback sees the target before anything
 * else touches it: it remembers where the C string ends, and the access
 * handler compares that with where the target really ends (the byte
 * before the HTTP version, which follows it in the same buffer). */
http_status http_server_init(http_server *hs, catalog *cat, int64_t max_header_size, cd_err *err)
{
    hs->cat = cat;
    hs->max_header_size = max_header_size;
    pthread_mutex_init(&hs->active_mu, NULL);
    pthread_mutex_init(&hs->token_mu, NULL);
    cd_cond_init_mono(&hs->active_cv);
    hs->closer = http_sse_close_new(err);
    return hs->closer ? HTTP_OK : HTTP_ERROR;
}

void http_server_destroy(http_server *hs)
{
    http_sse_close_free(hs->closer);
    hs->closer = NULL;
    pthread_mutex_destroy(&hs->active_mu);
    pthread_mutex_destroy(&hs->token_mu);
    pthread_cond_destroy(&hs->active_cv);
}

void *http_uri_log(void *cls, const char *uri, struct MHD_Connection *c)
{
    http_req *r = req_new(cls, c);
    r->raw_target = uri;
    r->raw_target_len = strlen(uri);
    return r;
}

/* Whether the target the client sent is longer than the C string seen:
 * it held a NUL byte. */
static bool target_has_nul(const http_req *r, const char *version)
{
    if (!r->raw_target || !version || version <= r->raw_target || version[-1] != '\0')
        return false; /* the version is not where the request line puts it */
    return (size_t)(version - 1 - r->raw_target) != r->raw_target_len;
}

enum MHD_Result http_access(void *cls, struct MHD_Connection *c, const char *url,
                            const char *method, const char *version, const char *data, size_t *size,
                            void **con_cls)
{
    http_req *r = *con_cls;
    if (!r || !r->method_str) {
        if (!r)
            r = req_new(cls, c);
        *con_cls = r;
        r->method_str = method;
        r->method = method_of(method);
        r->path = cd_xstrdup(url);
        if (target_has_nul(r, version))
            http_fail(r, 400, "invalid_request", "The request target holds a NUL byte.");
        else
            begin(r);
        r->phase = HTTP_PH_BODY;
        return MHD_YES;
    }
    if (r->responded) { /* replied early: libmicrohttpd skips the body */
        *size = 0;
        return MHD_YES;
    }
    if (*size) {
        enum MHD_Result res = body_chunk(r, data, *size);
        *size = 0;
        return res;
    }
    r->phase = HTTP_PH_FINAL;
    if (r->pending)
        return http_reply_error(r, r->pending_status, r->pending_code, "%s", r->pending_msg);
    enum MHD_Result res = dispatch(r);
    if (!r->responded)
        return http_reply_error(r, 500, "internal_error", "The request was not answered.");
    return res;
}

static const char *end_reason(enum MHD_RequestTerminationCode toe)
{
    switch (toe) {
    case MHD_REQUEST_TERMINATED_COMPLETED_OK:
        return NULL;
    case MHD_REQUEST_TERMINATED_WITH_ERROR:
        return "error";
    case MHD_REQUEST_TERMINATED_TIMEOUT_REACHED:
        return "timeout";
    case MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN:
        return "shutdown";
    case MHD_REQUEST_TERMINATED_READ_ERROR:
        return "read_error";
    case MHD_REQUEST_TERMINATED_CLIENT_ABORT:
        return "closed";
    default:
        return "error";
    }
}

static void remote_of(struct MHD_Connection *c, char *out, size_t cap)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(out, cap, "-");
    if (!ci || !ci->client_addr)
        return;
    socklen_t len = ci->client_addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                           : sizeof(struct sockaddr_in);
    getnameinfo(ci->client_addr, len, out, (socklen_t)cap, NULL, 0, NI_NUMERICHOST);
}

static void log_request(http_req *r, enum MHD_RequestTerminationCode toe)
{
    int64_t ns = cd_mono_ns() - r->t0_ns;
    char remote[64];
    remote_of(r->conn, remote, sizeof remote);
    cd_buf b = CD_BUF_INIT;
    cd_log_kv(&b, "method", r->method_str);
    cd_log_kv(&b, "path", r->path);
    cd_buf_printf(&b, " status=%u bytes=%llu dur_ms=%.3f", r->status, (unsigned long long)r->bytes,
                  (double)ns / 1e6);
    cd_log_kv(&b, "user", r->user ? r->user : "-");
    cd_log_kv(&b, "remote", remote);
    if (r->gzip)
        cd_buf_puts(&b, " enc=gzip");
    const char *why = r->client_gone ? "closed" : end_reason(toe);
    if (why)
        cd_buf_printf(&b, " end=%s", why);
    cd_log("info", "http", "%s", b.data + 1);
    cd_buf_free(&b);
    count_request(r->route, r->status, ns);
}

void http_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                    enum MHD_RequestTerminationCode toe)
{
    http_server *s = cls;
    http_req *r = *con_cls;
    if (!r)
        return;
    *con_cls = NULL;
    bool stream = r->sub != NULL;
    if (r->sub)
        http_sse_completed(r);
    if (r->endpoint && r->endpoint->body_free)
        r->endpoint->body_free(r);
    /* A request libmicrohttpd refused before our handler saw it (its own
     * 4xx, logged through http_log_mhd) has no method: nothing to log. */
    if (r->method_str)
        log_request(r, toe);
    free(r->path);
    free(r->file_path);
    free(r->user);
    free(r->pending_msg);
    free(r->sse_conn);
    cd_buf_free(&r->body);
    free(r);
    pthread_mutex_lock(&s->active_mu);
    s->active--;
    if (stream)
        s->streams--;
    pthread_cond_broadcast(&s->active_cv);
    pthread_mutex_unlock(&s->active_mu);
}

/* libmicrohttpd unescapes the path and the query by default, which would
 * turn "%2F" into a separator and "%00" into the end of the string before
 * we could see them.  We keep both raw and decode each part ourselves. */
size_t http_unescape_none(void *cls, struct MHD_Connection *c, char *s)
{
    (void)cls;
    (void)c;
    return strlen(s);
}
