/* SPDX-License-Identifier: MIT */
/*
 * The request engine: runs a set of S3 requests over one curl multi handle
 * (a lane from the client's pool) with a bounded number in flight, and
 * retries each one that fails for a transient reason (5xx, 429/SlowDown,
 * RequestTimeout, timeouts, stalls, connection resets, cut-short bodies)
 * after an exponential, jittered wait, until it succeeds, fails for good,
 * runs out of attempts or passes its operation's deadline.
 */
#include "s3_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

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

/* Retry policy ------------------------------------------------------------------ */

bool s3_http_retryable(long http, const char *code)
{
    if (http >= 500 || http == 429)
        return true;
    /* S3 answers 400 RequestTimeout when the body came too slowly, and some
     * servers say SlowDown with a 4xx.  Every payload hash is computed from
     * the bytes we send, so a body that does not match it (400
     * XAmzContentSHA256Mismatch, or BadDigest) was changed on the way: the
     * next attempt sends the bytes again. */
    return code && (!strcmp(code, "RequestTimeout") || !strcmp(code, "SlowDown") ||
                    !strcmp(code, "InternalError") || !strcmp(code, "ServiceUnavailable") ||
                    !strcmp(code, "XAmzContentSHA256Mismatch") || !strcmp(code, "BadDigest"));
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
        x = (uint32_t)cd_mono_ms() * 2654435761u;
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
        snprintf(r->problem, sizeof r->problem, "HTTP %ld%s%s%s%.159s%s", r->http,
                 r->s3code[0] ? " " : "", r->s3code, r->s3msg[0] ? " (" : "", r->s3msg,
                 r->s3msg[0] ? ")" : "");
        *status = status_of_http(http);
        if (*status == S3_NOT_FOUND && !strcmp(r->s3code, "NoSuchBucket"))
            *status = S3_NO_BUCKET;
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
    /* A 404 to a HEAD of a key is the everyday "not stored": no hint. */
    const char *hint = status == S3_NOT_FOUND ? NULL : s3_error_hint(r->http, r->s3code);
    r->done = true;
    r->status = status;
    cd_err_set(&r->err, status, "s3 %s \"%.*s%s\": %s%s%s%s", r->op, kl > 96 ? 93 : (int)kl, key,
               kl > 96 ? "..." : "", r->problem, why, hint ? "; " : "", hint ? hint : "");
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
    if (r->empty_object) { /* see on_header() */
        r->done = true;
        r->status = S3_OK;
        return;
    }
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
        s3_attempt_setup(r, e, now);
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

s3_status s3_exec(s3_client *c, s3_req **reqs, size_t n, int parallel, bool fail_fast)
{
    s3_lane *l = lane_get(c);
    int keep = l->n_free;
    if (parallel > 0 && parallel < l->n_free)
        l->n_free = parallel; /* the handles above stay unused */
    size_t done = 0;
    for (size_t i = 0; i < n; i++)
        done += reqs[i]->done;
    while (done < n) {
        start_ready(l, reqs, n, cd_mono_ms());
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
            attempt_done(r, rc, cd_mono_ms());
            l->easy[l->n_free++] = r->easy;
            r->easy = NULL;
            if (fail_fast && r->done && r->status)
                cancel_rest(l, reqs, n, r);
        }
        done = 0;
        for (size_t i = 0; i < n; i++)
            done += reqs[i]->done;
        if (done < n)
            curl_multi_poll(l->multi, NULL, 0, (int)wait_ms(l, reqs, n, cd_mono_ms()), NULL);
    }
    l->n_free = keep;
    lane_put(c, l);
    for (size_t i = 0; i < n; i++)
        if (reqs[i]->status)
            return reqs[i]->status;
    return S3_OK;
}

s3_status s3_exec1(s3_client *c, s3_req *r, cd_err *err)
{
    int rc = s3_exec(c, &r, 1, 1, false);
    if (rc)
        cd_err_set(err, rc, "%s", r->err.msg);
    return rc;
}
