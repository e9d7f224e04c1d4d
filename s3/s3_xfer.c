/* SPDX-License-Identifier: MIT */
/*
 * The request engine: runs a set of S3 requests over one curl multi handle
 * with a bounded number in flight, and retries each one that fails for a
 * transient reason (5xx, 429/SlowDown, timeouts, stalls, connection resets)
 * after an exponential, jittered wait, until it succeeds, fails for good, runs
 * out of attempts or passes its operation's deadline.
 *
 * Signing is libcurl's (CURLOPT_AWS_SIGV4).  We hand it everything SigV4
 * needs in canonical form, because curl 7.88 signs the URL as given: the key
 * is URI-encoded exactly once by s3_uri_encode(), the query is built in
 * byte order of its names with encoded values, and x-amz-content-sha256
 * carries the payload's real SHA-256 (curl signs that header's value as the
 * payload hash instead of hashing the body itself).
 */
#include "s3_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

/* Requests ------------------------------------------------------------------ */

void s3_req_init(s3_req *r, s3_client *c, const char *op, const char *method, const char *key)
{
    memset(r, 0, sizeof *r);
    r->client = c;
    r->op = op;
    r->method = method;
    r->key = key;
    r->fd = r->out_fd = -1;
    memcpy(r->sha, S3_EMPTY_SHA256, 65);
    r->deadline = s3_now_ms() + c->cfg.deadline_ms;
}

void s3_req_clear(s3_req *r)
{
    cd_buf_free(&r->query);
    cd_buf_free(&r->errbody);
    curl_slist_free_all(r->hdrs);
    r->hdrs = NULL;
}

void s3_req_query(s3_req *r, const char *name, const char *value)
{
    if (r->query.len)
        cd_buf_putc(&r->query, '&');
    s3_uri_encode(&r->query, name, false);
    cd_buf_putc(&r->query, '=');
    if (value)
        s3_uri_encode(&r->query, value, false);
}

/* Lanes ----------------------------------------------------------------------- */

static s3_lane *lane_get(s3_client *c)
{
    pthread_mutex_lock(&c->pool_lock);
    s3_lane *l = c->idle;
    if (l)
        c->idle = l->next;
    pthread_mutex_unlock(&c->pool_lock);
    if (l)
        return l;
    l = cd_xcalloc(1, sizeof *l);
    l->multi = curl_multi_init();
    l->easy = cd_xcalloc((size_t)c->cfg.parallel, sizeof *l->easy);
    for (int i = 0; i < c->cfg.parallel; i++)
        l->easy[i] = curl_easy_init();
    l->n_free = c->cfg.parallel;
    for (int i = 0; i < c->cfg.parallel; i++) {
        if (!l->multi || !l->easy[i]) {
            fprintf(stderr, "contentd: cannot create curl handles (out of memory)\n");
            abort();
        }
    }
    curl_multi_setopt(l->multi, CURLMOPT_MAXCONNECTS, (long)c->cfg.parallel * 2);
    return l;
}

static void lane_put(s3_client *c, s3_lane *l)
{
    pthread_mutex_lock(&c->pool_lock);
    l->next = c->idle;
    c->idle = l;
    pthread_mutex_unlock(&c->pool_lock);
}

/* Callbacks --------------------------------------------------------------------- */

static size_t on_read(char *p, size_t size, size_t nmemb, void *arg)
{
    s3_req *r = arg;
    size_t want = size * nmemb;
    uint64_t left = r->len - r->sent;
    if (want > left)
        want = (size_t)left;
    if (!want)
        return 0;
    if (r->body == S3_BODY_BUF) {
        memcpy(p, r->buf + r->sent, want);
    } else {
        ssize_t got;
        do
            got = pread(r->fd, p, want, (off_t)(r->off + r->sent));
        while (got < 0 && errno == EINTR);
        if (got <= 0) {
            r->read_failed = true;
            return CURL_READFUNC_ABORT;
        }
        want = (size_t)got;
    }
    r->sent += want;
    return want;
}

static int on_seek(void *arg, curl_off_t offset, int origin)
{
    s3_req *r = arg;
    if (origin != SEEK_SET || offset < 0 || (uint64_t)offset > r->len)
        return CURL_SEEKFUNC_FAIL;
    r->sent = (uint64_t)offset;
    return CURL_SEEKFUNC_OK;
}

static bool header_is(const char *h, size_t n, const char *name, const char **val, size_t *vn)
{
    size_t l = strlen(name);
    if (n <= l || strncasecmp(h, name, l) != 0 || h[l] != ':')
        return false;
    const char *v = h + l + 1, *end = h + n;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
        end--;
    *val = v;
    *vn = (size_t)(end - v);
    return true;
}

static size_t on_header(char *h, size_t size, size_t nmemb, void *arg)
{
    s3_req *r = arg;
    size_t n = size * nmemb;
    const char *v;
    size_t vn;
    char tmp[128];
    if (n >= 5 && memcmp(h, "HTTP/", 5) == 0) { /* a new response (after 100 Continue) */
        r->etag[0] = '\0';
        r->content_length = 0;
        r->have_total = false;
        r->retry_after_ms = 0;
    } else if (header_is(h, n, "etag", &v, &vn) && vn < sizeof r->etag) {
        memcpy(r->etag, v, vn);
        r->etag[vn] = '\0';
    } else if (header_is(h, n, "content-length", &v, &vn) && vn < sizeof tmp) {
        memcpy(tmp, v, vn);
        tmp[vn] = '\0';
        r->content_length = strtoull(tmp, NULL, 10);
    } else if (header_is(h, n, "content-range", &v, &vn) && vn < sizeof tmp) {
        /* "bytes FIRST-LAST/TOTAL" */
        memcpy(tmp, v, vn);
        tmp[vn] = '\0';
        unsigned long long first, last, total;
        if (sscanf(tmp, "bytes %llu-%llu/%llu", &first, &last, &total) == 3) {
            r->resp_pos = first;
            r->total_size = total;
            r->have_total = true;
        }
    } else if (header_is(h, n, "retry-after", &v, &vn) && vn && vn < 8) {
        memcpy(tmp, v, vn);
        tmp[vn] = '\0';
        r->retry_after_ms = strtol(tmp, NULL, 10) * 1000;
    }
    return n;
}

/* Gives the sink the part of a response chunk that lies in the wanted range
 * [range_off + got, range_off + range_len) of the object: a server that
 * ignores Range answers 200 from byte 0, and that must not reach the sink
 * twice. */
static int deliver(s3_req *r, const char *p, size_t n)
{
    uint64_t want = r->range_off + r->got;
    uint64_t end = r->range_len ? r->range_off + r->range_len : UINT64_MAX;
    uint64_t pos = r->resp_pos;
    r->resp_pos += n;
    if (pos + n <= want || pos >= end)
        return 0;
    if (pos < want) {
        p += want - pos;
        n -= (size_t)(want - pos);
        pos = want;
    }
    if (pos > want)
        return -1; /* a gap: the server skipped bytes we asked for */
    if (end - pos < n)
        n = (size_t)(end - pos);
    int rc = 0;
    if (r->sink == S3_SINK_BUF) {
        cd_buf_append(r->out, p, n);
    } else if (r->sink == S3_SINK_FD) {
        for (size_t done = 0; done < n && rc == 0;) {
            ssize_t w = write(r->out_fd, p + done, n - done);
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0)
                rc = -1;
            else
                done += (size_t)w;
        }
    } else if (r->sink == S3_SINK_FN) {
        rc = r->fn(r->fn_arg, p, n);
    }
    if (rc == 0)
        r->got += n;
    return rc;
}

static size_t on_write(char *p, size_t size, size_t nmemb, void *arg)
{
    s3_req *r = arg;
    size_t n = size * nmemb;
    long http = 0;
    curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &http);
    if (http < 200 || http >= 300 || r->check_body || r->sink == S3_SINK_DISCARD) {
        if (r->errbody.len < S3_ERRBODY_MAX)
            cd_buf_append(&r->errbody, p, n);
        return n;
    }
    if (!r->resp_started) {
        r->resp_started = true;
        if (http == 200)
            r->resp_pos = 0; /* the whole object, whatever we asked for */
    }
    if (deliver(r, p, n) != 0) {
        r->sink_failed = true;
        return 0;
    }
    return n;
}

static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    s3_req *r = arg;
    int64_t now = s3_now_ms();
    curl_off_t bytes = dlnow + ulnow;
    if (bytes != r->last_bytes || !r->last_progress) {
        r->last_bytes = bytes;
        r->last_progress = now;
        return 0;
    }
    if (now - r->last_progress > r->client->cfg.stall_timeout_ms) {
        r->stalled = true;
        return 1; /* CURLE_ABORTED_BY_CALLBACK, retried as a stall */
    }
    return 0;
}

/* Attempts ---------------------------------------------------------------------- */

static void add_header(s3_req *r, const char *fmt, const char *v)
{
    cd_buf h = CD_BUF_INIT;
    cd_buf_printf(&h, fmt, v);
    struct curl_slist *n = curl_slist_append(r->hdrs, h.data);
    if (!n) {
        fprintf(stderr, "contentd: out of memory\n");
        abort();
    }
    r->hdrs = n;
    cd_buf_free(&h);
}

static void set_headers(s3_req *r)
{
    s3_client *c = r->client;
    curl_slist_free_all(r->hdrs);
    r->hdrs = NULL;
    add_header(r, "x-amz-content-sha256: %s", r->sha);
    if (c->session_token)
        add_header(r, "x-amz-security-token: %s", c->session_token);
    if (r->content_type)
        add_header(r, "Content-Type: %s", r->content_type);
    if (r->range_off || r->range_len || r->got) {
        char range[64];
        uint64_t first = r->range_off + r->got;
        if (r->range_len)
            snprintf(range, sizeof range, "%" PRIu64 "-%" PRIu64, first,
                     r->range_off + r->range_len - 1);
        else
            snprintf(range, sizeof range, "%" PRIu64 "-", first);
        add_header(r, "Range: bytes=%s", range);
    }
    if (r->got && r->match_etag[0])
        add_header(r, "If-Match: %s", r->match_etag);
}

static char *request_url(const s3_req *r)
{
    s3_client *c = r->client;
    cd_buf u = CD_BUF_INIT;
    cd_buf_puts(&u, c->url_base);
    if (r->key) {
        cd_buf_putc(&u, '/');
        s3_uri_encode(&u, r->key, true);
    } else if (!c->cfg.path_style) {
        cd_buf_putc(&u, '/');
    }
    if (r->query.len) {
        cd_buf_putc(&u, '?');
        cd_buf_append(&u, r->query.data, r->query.len);
    }
    return cd_buf_steal(&u, NULL);
}

static void set_method(s3_req *r, CURL *e)
{
    if (!strcmp(r->method, "HEAD")) {
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else if (!strcmp(r->method, "PUT")) {
        curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)r->len);
    } else if (!strcmp(r->method, "POST")) {
        curl_easy_setopt(e, CURLOPT_POST, 1L);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->len);
    } else if (strcmp(r->method, "GET") != 0) {
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r->method);
    }
    if (r->body != S3_BODY_NONE) {
        curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(e, CURLOPT_READDATA, r);
        curl_easy_setopt(e, CURLOPT_SEEKFUNCTION, on_seek);
        curl_easy_setopt(e, CURLOPT_SEEKDATA, r);
    }
}

/* Prepares easy handle e for the next attempt of r. */
static void attempt_setup(s3_req *r, CURL *e, int64_t now)
{
    s3_client *c = r->client;
    curl_easy_reset(e);
    r->easy = e;
    r->attempts++;
    r->sent = 0;
    r->resp_started = r->stalled = r->sink_failed = r->read_failed = false;
    r->resp_pos = r->range_off + r->got;
    r->http = 0;
    r->etag[0] = r->s3code[0] = r->s3msg[0] = r->errbuf[0] = '\0';
    r->have_total = false;
    r->retry_after_ms = 0;
    r->last_progress = 0;
    cd_buf_reset(&r->errbody);
    set_headers(r);
    char *url = request_url(r);
    curl_easy_setopt(e, CURLOPT_URL, url);
    free(url);
    curl_easy_setopt(e, CURLOPT_PRIVATE, r);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_AWS_SIGV4, c->sigv4);
    curl_easy_setopt(e, CURLOPT_USERNAME, c->access_key);
    curl_easy_setopt(e, CURLOPT_PASSWORD, c->secret_key);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->hdrs);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "contentd/" CONTENTD_VERSION);
    curl_easy_setopt(e, CURLOPT_SHARE, c->share);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, c->cfg.connect_timeout_ms);
    int64_t left = r->deadline - now;
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(left > 1 ? left : 1));
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(e, CURLOPT_XFERINFODATA, r);
    set_method(r, e);
}

/* Retry policy ------------------------------------------------------------------ */

bool s3_http_retryable(long http, const char *code)
{
    if (http >= 500 || http == 429)
        return true;
    /* S3 answers 400 RequestTimeout when the body came too slowly, and some
     * servers say SlowDown with a 4xx. */
    return code && (!strcmp(code, "RequestTimeout") || !strcmp(code, "SlowDown") ||
                    !strcmp(code, "InternalError") || !strcmp(code, "ServiceUnavailable"));
}

bool s3_curl_retryable(CURLcode rc)
{
    switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_HTTP3:
    case CURLE_WEIRD_SERVER_REPLY:
        return true;
    default:
        return false;
    }
}

long s3_backoff_ms(const s3_config *cfg, int attempt, double rnd)
{
    double d = (double)cfg->backoff_base_ms;
    for (int i = 1; i < attempt && d < (double)cfg->backoff_max_ms; i++)
        d *= 2;
    if (d > (double)cfg->backoff_max_ms)
        d = (double)cfg->backoff_max_ms;
    return (long)(d / 2 + rnd * d / 2);
}

static double random_unit(void)
{
    uint32_t x = 0;
    if (getrandom(&x, sizeof x, GRND_NONBLOCK) != (ssize_t)sizeof x)
        x = (uint32_t)s3_now_ms() * 2654435761u;
    return (double)x / 4294967296.0;
}

static int status_of_http(long http)
{
    if (http == 404)
        return S3_NOT_FOUND;
    if (http == 401 || http == 403)
        return S3_DENIED;
    if (http >= 500 || http == 429)
        return S3_UNAVAILABLE;
    return S3_ERROR;
}

/* Whether a GET that succeeded delivered fewer bytes than it should: a 200
 * or 206 whose body ends before the object (or the asked range) does, which
 * curl accepts when the length header agrees.  Describes it in r->problem. */
static bool short_body(s3_req *r)
{
    if (r->sink == S3_SINK_DISCARD || strcmp(r->method, "GET") != 0)
        return false;
    uint64_t total = r->have_total    ? r->total_size
                     : r->http == 200 ? r->content_length
                                      : UINT64_MAX;
    uint64_t end = total;
    if (r->range_len && r->range_off + r->range_len < end)
        end = r->range_off + r->range_len;
    if (end == UINT64_MAX || r->range_off + r->got >= end)
        return false;
    snprintf(r->problem, sizeof r->problem, "the body ended at byte %" PRIu64 " of %" PRIu64,
             r->range_off + r->got, end);
    return true;
}

/* Describes the failed attempt in r->problem; returns whether it is worth
 * another try and sets *status to the status it ends with if not. */
static bool judge(s3_req *r, CURLcode rc, int *status)
{
    s3_client *c = r->client;
    bool have_code = r->errbody.len && s3_xml_error(r->errbody.data, r->errbody.len, r->s3code,
                                                    sizeof r->s3code, r->s3msg, sizeof r->s3msg);
    if (rc == CURLE_OK) {
        long http = r->http >= 200 && r->http < 300 ? 500 : r->http; /* 200 with <Error> */
        if (!have_code && r->http == 404)
            snprintf(r->s3code, sizeof r->s3code, "%s", r->key ? "NoSuchKey" : "NoSuchBucket");
        snprintf(r->problem, sizeof r->problem, "HTTP %ld%s%s%s%.80s%s", r->http,
                 r->s3code[0] ? " " : "", r->s3code, r->s3msg[0] ? " (" : "", r->s3msg,
                 r->s3msg[0] ? ")" : "");
        *status = status_of_http(http);
        return s3_http_retryable(http, r->s3code);
    }
    *status = S3_ERROR;
    if (r->sink_failed) {
        snprintf(r->problem, sizeof r->problem, "the received bytes could not be stored");
        return false;
    }
    if (r->read_failed) {
        snprintf(r->problem, sizeof r->problem, "the bytes to upload could not be read");
        return false;
    }
    if (r->stalled) {
        snprintf(r->problem, sizeof r->problem, "stalled: no byte moved for %ld ms",
                 c->cfg.stall_timeout_ms);
        *status = S3_UNAVAILABLE;
        return true;
    }
    snprintf(r->problem, sizeof r->problem, "%.60s%s%.120s", curl_easy_strerror(rc),
             r->errbuf[0] ? ": " : "", r->errbuf);
    bool again = s3_curl_retryable(rc);
    if (again || rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE ||
        rc == CURLE_SSL_CERTPROBLEM)
        *status = S3_UNAVAILABLE;
    return again;
}

static void fail(s3_req *r, int status, const char *why)
{
    const char *key = r->key ? r->key : r->client->bucket;
    size_t kl = strlen(key);
    r->done = true;
    r->status = status;
    cd_err_set(&r->err, status, "s3 %s \"%.*s%s\": %s%s", r->op, kl > 96 ? 93 : (int)kl, key,
               kl > 96 ? "..." : "", r->problem, why);
}

/* Ends an attempt: success, a scheduled retry, or a failure. */
static void attempt_done(s3_req *r, CURLcode rc, int64_t now)
{
    curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &r->http);
    if (r->got && r->etag[0] && !r->match_etag[0])
        memcpy(r->match_etag, r->etag, sizeof r->etag);
    int status = S3_UNAVAILABLE;
    bool again;
    bool ok = rc == CURLE_OK && r->http >= 200 && r->http < 300 &&
              !(r->check_body && r->errbody.len &&
                s3_xml_error(r->errbody.data, r->errbody.len, NULL, 0, NULL, 0));
    if (ok && !short_body(r)) {
        r->done = true;
        r->status = S3_OK;
        return;
    }
    if (ok)
        again = true; /* a short body, described by short_body() */
    else
        again = judge(r, rc, &status);
    if (!again) {
        fail(r, status, "");
        return;
    }
    char why[64];
    if (r->attempts >= r->client->cfg.max_attempts) {
        snprintf(why, sizeof why, " after %d attempts", r->attempts);
        fail(r, S3_UNAVAILABLE, why);
        return;
    }
    long wait = s3_backoff_ms(&r->client->cfg, r->attempts, random_unit());
    if (r->retry_after_ms > wait)
        wait = r->retry_after_ms < r->client->cfg.backoff_max_ms ? r->retry_after_ms
                                                                 : r->client->cfg.backoff_max_ms;
    if (now + wait >= r->deadline) {
        snprintf(why, sizeof why, " (deadline of %ld ms reached after %d attempts)",
                 r->client->cfg.deadline_ms, r->attempts);
        fail(r, S3_UNAVAILABLE, why);
        return;
    }
    r->not_before = now + wait;
}

/* The engine ----------------------------------------------------------------------- */

/* Starts every waiting request whose time has come, while slots are free. */
static void start_ready(s3_lane *l, s3_req **reqs, size_t n, int64_t now)
{
    for (size_t i = 0; i < n && l->n_free > 0; i++) {
        s3_req *r = reqs[i];
        if (r->done || r->easy || r->not_before > now)
            continue;
        if (now >= r->deadline) {
            if (!r->problem[0])
                snprintf(r->problem, sizeof r->problem, "not started");
            fail(r, S3_UNAVAILABLE, " (deadline reached)");
            continue;
        }
        CURL *e = l->easy[--l->n_free];
        attempt_setup(r, e, now);
        curl_multi_add_handle(l->multi, e);
    }
}

/* How long the loop may sleep: until curl wants attention or the next
 * waiting request may start. */
static long wait_ms(s3_lane *l, s3_req **reqs, size_t n, int64_t now)
{
    long t = 1000;
    curl_multi_timeout(l->multi, &t);
    if (t < 0 || t > 1000)
        t = 1000;
    for (size_t i = 0; i < n && l->n_free > 0; i++) {
        if (!reqs[i]->done && !reqs[i]->easy) {
            int64_t d = reqs[i]->not_before - now;
            if (d < t)
                t = d < 0 ? 0 : (long)d;
        }
    }
    return t;
}

/* After a request failed for good in a fail-fast run: the others stop
 * (the in-flight ones are cut off) and take the failure's status and
 * message. */
static void cancel_rest(s3_lane *l, s3_req **reqs, size_t n, const s3_req *failed)
{
    for (size_t i = 0; i < n; i++) {
        s3_req *r = reqs[i];
        if (r->done)
            continue;
        if (r->easy) {
            curl_multi_remove_handle(l->multi, r->easy);
            l->easy[l->n_free++] = r->easy;
            r->easy = NULL;
        }
        r->done = true;
        r->status = failed->status;
        r->err = failed->err;
    }
}

int s3_exec(s3_client *c, s3_req **reqs, size_t n, int parallel, bool fail_fast)
{
    s3_lane *l = lane_get(c);
    int keep = l->n_free;
    if (parallel > 0 && parallel < l->n_free)
        l->n_free = parallel; /* the handles above stay unused */
    size_t done = 0;
    for (size_t i = 0; i < n; i++)
        done += reqs[i]->done;
    while (done < n) {
        start_ready(l, reqs, n, s3_now_ms());
        int running = 0;
        curl_multi_perform(l->multi, &running);
        CURLMsg *m;
        int left;
        while ((m = curl_multi_info_read(l->multi, &left))) {
            if (m->msg != CURLMSG_DONE)
                continue;
            s3_req *r = NULL;
            curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
            CURLcode rc = m->data.result;
            curl_multi_remove_handle(l->multi, m->easy_handle);
            attempt_done(r, rc, s3_now_ms());
            l->easy[l->n_free++] = r->easy;
            r->easy = NULL;
            if (fail_fast && r->done && r->status)
                cancel_rest(l, reqs, n, r);
        }
        done = 0;
        for (size_t i = 0; i < n; i++)
            done += reqs[i]->done;
        if (done < n)
            curl_multi_poll(l->multi, NULL, 0, (int)wait_ms(l, reqs, n, s3_now_ms()), NULL);
    }
    l->n_free = keep;
    lane_put(c, l);
    for (size_t i = 0; i < n; i++)
        if (reqs[i]->status)
            return reqs[i]->status;
    return S3_OK;
}

int s3_exec1(s3_client *c, s3_req *r, cd_err *err)
{
    int rc = s3_exec(c, &r, 1, 1, false);
    if (rc)
        cd_err_set(err, rc, "%s", r->err.msg);
    return rc;
}
