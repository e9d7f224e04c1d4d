/* SPDX-License-Identifier: MIT */
/*
 * One S3 request on the wire: its setup (URL, headers, method, body) and the
 * libcurl callbacks that feed its body, read the answer's headers and hand
 * the answer's bytes to the sink.  s3_engine.c decides when attempts run and
 * what their outcome means.
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
    r->deadline = cd_mono_ms() + c->cfg.deadline_ms;
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
        unsigned long long first;
        const char *slash = strrchr(tmp, '/');
        if (sscanf(tmp, "bytes %llu-", &first) == 1)
            r->resp_pos = first;
        if (slash && slash[1] >= '0' && slash[1] <= '9') {
            r->total_size = strtoull(slash + 1, NULL, 10);
            r->have_total = true;
        }
        if (r->have_total && r->total_size == 0 && !r->range_off && !r->got) {
            /* An empty object: there is nothing to read.  S3 says so with
             * a 416 whose Content-Range has a total of 0; s3rver with a 206
             * that announces a byte it never sends.  Stop here rather than wait for that byte. */
            r->empty_object = true;
            return 0;
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
        rc = cd_write_all(r->out_fd, p, n);
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
    int64_t now = cd_mono_ms();
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

void s3_attempt_setup(s3_req *r, CURL *e, int64_t now)
{
    s3_client *c = r->client;
    curl_easy_reset(e);
    r->easy = e;
    r->attempts++;
    r->sent = 0;
    r->resp_started = r->stalled = r->sink_failed = r->read_failed = r->empty_object = false;
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
