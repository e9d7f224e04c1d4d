/* SPDX-License-Identifier: MIT */
/*
 * HTTP to the contentd server on libcurl.  One easy handle serves the
 * sequential calls of a command; upload.c makes more handles through
 * cli_http_easy() for parallel PUTs.  Every handle keeps its connections in
 * one cache (a curl share), so the kept-alive connections outlive a batch
 * of uploads: push --watch's PUT and POST of a save, and the next save's,
 * travel on connections already open.
 *
 * Every failure becomes one sentence: the server's `message` for an error
 * answer, or for a transfer that did not complete, what happened in words
 * ("cannot reach http://127.0.0.1:8080: connection refused") rather than a
 * curl error code.
 */
#include "cli_int.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Bodies of JSON answers are small; a larger one is not the server's. */
#define MAX_JSON_BODY (256 << 20)

struct cli_http {
    CURL *easy;
    CURLSH *share; /* the connection (and DNS) cache of every handle */
    char *base;    /* without a trailing '/' */
    char *given;   /* as the user wrote it */
    /* plain: downloads; put: blob uploads; get and post: JSON calls. */
    struct curl_slist *hdrs_plain, *hdrs_put, *hdrs_get, *hdrs_post;
    char errbuf[CURL_ERROR_SIZE];
};

static volatile sig_atomic_t interrupted;
static int wake_pipe[2] = {-1, -1}; /* written by the handler: poll()able */

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
    if (wake_pipe[1] >= 0) {
        int saved = errno;
        ssize_t n = write(wake_pipe[1], "", 1);
        (void)n;
        errno = saved;
    }
}

int cli_interrupt_fd(void)
{
    return wake_pipe[0];
}

void cli_interrupt_install(void)
{
    if (wake_pipe[0] < 0 && pipe2(wake_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
        wake_pipe[0] = wake_pipe[1] = -1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sa.sa_flags = SA_RESETHAND; /* a second Ctrl-C kills */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
}

bool cli_interrupted(void)
{
    return interrupted != 0;
}

static int xferinfo(void *arg, curl_off_t dlt, curl_off_t dln, curl_off_t ult, curl_off_t uln)
{
    return interrupted ? 1 : 0;
}

cli_http *cli_http_new(const cli_config *cfg)
{
    static bool global_done;
    if (!global_done) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        /* CURLOPT_NOSIGNAL leaves SIGPIPE to us: a peer that closes a TLS
         * connection must be an error, not the end of the process. */
        signal(SIGPIPE, SIG_IGN);
        global_done = true;
    }
    cli_http *h = cd_xcalloc(1, sizeof *h);
    h->given = cd_xstrdup(cfg->server);
    size_t n = strlen(cfg->server);
    while (n > 0 && cfg->server[n - 1] == '/')
        n--;
    h->base = cd_xstrndup(cfg->server, n);
    /* One thread uses the handles: the share needs no lock functions. */
    h->share = curl_share_init();
    if (!h->share) {
        fputs("content: out of memory\n", stderr);
        abort();
    }
    curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
    curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    struct curl_slist **lists[] = {&h->hdrs_plain, &h->hdrs_put, &h->hdrs_get, &h->hdrs_post};
    for (size_t i = 0; i < 4; i++) {
        if (cfg->token && *cfg->token) {
            cd_buf auth = CD_BUF_INIT;
            cd_buf_printf(&auth, "Authorization: Bearer %s", cfg->token);
            *lists[i] = curl_slist_append(*lists[i], auth.data);
            cd_buf_free(&auth);
        }
        /* No 100-continue round trip: the server answers early anyway. */
        *lists[i] = curl_slist_append(*lists[i], "Expect:");
    }
    h->hdrs_put = curl_slist_append(h->hdrs_put, "Content-Type: application/octet-stream");
    h->hdrs_get = curl_slist_append(h->hdrs_get, "Accept: application/json");
    h->hdrs_post = curl_slist_append(h->hdrs_post, "Accept: application/json");
    h->hdrs_post = curl_slist_append(h->hdrs_post, "Content-Type: application/json");
    h->easy = cli_http_easy(h, h->errbuf);
    return h;
}

void cli_http_free(cli_http *h)
{
    if (!h)
        return;
    curl_easy_cleanup(h->easy);
    curl_share_cleanup(h->share); /* after every handle that used it */
    curl_slist_free_all(h->hdrs_plain);
    curl_slist_free_all(h->hdrs_put);
    curl_slist_free_all(h->hdrs_get);
    curl_slist_free_all(h->hdrs_post);
    free(h->base);
    free(h->given);
    free(h);
}

const char *cli_http_server(const cli_http *h)
{
    return h->given;
}

/* The options every handle carries; curl_easy_reset() clears them. */
static void common_options(cli_http *h, CURL *e, char *errbuf)
{
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "content/" CONTENTD_VERSION);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, 10L);
    /* A server that sends nothing for a minute is gone. */
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, xferinfo);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h->hdrs_plain);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_SHARE, h->share);
}

CURL *cli_http_easy(cli_http *h, char errbuf[CURL_ERROR_SIZE])
{
    CURL *e = curl_easy_init();
    if (!e) {
        fputs("content: out of memory\n", stderr);
        abort();
    }
    common_options(h, e, errbuf);
    return e;
}

void cli_http_put_options(cli_http *h, CURL *e, char errbuf[CURL_ERROR_SIZE])
{
    curl_easy_reset(e);
    common_options(h, e, errbuf);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h->hdrs_put);
    curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
}

void cli_http_blob_put_options(cli_http *h, CURL *e, char errbuf[CURL_ERROR_SIZE], const char *path,
                               struct curl_slist **hdrs)
{
    cli_http_put_options(h, e, errbuf);
    *hdrs = NULL;
    if (!cd_path_is_markdown(path))
        return;
    for (const struct curl_slist *l = h->hdrs_put; l; l = l->next)
        *hdrs = curl_slist_append(*hdrs, l->data);
    char *esc = cli_http_escape_path(path);
    cd_buf line = CD_BUF_INIT;
    cd_buf_printf(&line, "Content-Path: %s", esc);
    *hdrs = curl_slist_append(*hdrs, line.data);
    cd_buf_free(&line);
    free(esc);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, *hdrs);
}

char *cli_http_url(const cli_http *h, const char *path)
{
    cd_buf b = CD_BUF_INIT;
    cd_buf_printf(&b, "%s%s", h->base, path);
    return cd_buf_steal(&b, NULL);
}

char *cli_http_escape_path(const char *s)
{
    cd_buf b = CD_BUF_INIT;
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        bool plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                     (*p >= '0' && *p <= '9') || strchr("/-._~", *p);
        if (plain) {
            cd_buf_putc(&b, (char)*p);
        } else {
            char esc[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            cd_buf_append(&b, esc, 3);
        }
    }
    return cd_buf_steal(&b, NULL);
}

void cli_reply_clear(cli_reply *r)
{
    json_decref(r->json);
    memset(r, 0, sizeof *r);
}

/* A sentence for the OS error of a failed connection, lower-cased. */
static void os_reason(CURL *e, char *out, size_t n, const char *fallback)
{
    long os = 0;
    curl_easy_getinfo(e, CURLINFO_OS_ERRNO, &os);
    snprintf(out, n, "%s", os ? strerror((int)os) : fallback);
    if (out[0] >= 'A' && out[0] <= 'Z' && !(out[1] >= 'A' && out[1] <= 'Z'))
        out[0] = (char)(out[0] - 'A' + 'a');
}

/* Drops one final '.' of a sentence (not of "..." or "e.g."-like endings
 * that a clause after it would not double). */
static void drop_final_period(char *msg)
{
    size_t n = strlen(msg);
    if (n >= 2 && msg[n - 1] == '.' && msg[n - 2] != '.')
        msg[n - 1] = '\0';
}

void cli_err_append(cd_err *err, const char *fmt, ...)
{
    drop_final_period(err->msg);
    size_t n = strlen(err->msg);
    if (n + 2 >= sizeof err->msg)
        return;
    memcpy(err->msg + n, "; ", 3);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg + n + 2, sizeof err->msg - n - 2, fmt, ap);
    va_end(ap);
}

/* The sentence of cli_http_curl_fail(), by curl error. */
static int curl_fail(const cli_http *h, CURL *e, CURLcode rc, const char *errbuf, cd_err *err)
{
    char why[160];
    const char *url = h->given;
    switch (rc) {
    case CURLE_ABORTED_BY_CALLBACK:
        return cd_err_set(err, -1, "interrupted");
    case CURLE_COULDNT_RESOLVE_HOST:
        return cd_err_set(err, -1, "cannot reach %s: unknown host", url);
    case CURLE_COULDNT_CONNECT:
        os_reason(e, why, sizeof why, "connection failed");
        return cd_err_set(err, -1, "cannot reach %s: %s", url, why);
    case CURLE_OPERATION_TIMEDOUT:
        return cd_err_set(err, -1, "%s did not answer in time", url);
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
        os_reason(e, why, sizeof why, "the connection was closed");
        return cd_err_set(err, -1, "lost the connection to %s: %s", url, why);
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
        return cd_err_set(err, -1, "'%s' is not an http:// or https:// URL", url);
    default:
        if (errbuf && errbuf[0])
            return cd_err_set(err, -1, "request to %s failed: %s", url, errbuf);
        return cd_err_set(err, -1, "request to %s failed: %s", url, curl_easy_strerror(rc));
    }
}

int cli_http_curl_fail(const cli_http *h, CURL *e, CURLcode rc, const char *errbuf, cd_err *err)
{
    int ret = curl_fail(h, e, rc, errbuf, err);
    bool final = rc == CURLE_UNSUPPORTED_PROTOCOL || rc == CURLE_URL_MALFORMAT;
    err->code = final ? CLI_ERR_FINAL : CLI_ERR_TRANSIENT;
    return ret;
}

int cli_http_status_fail(long status, const cd_buf *body, cli_reply *r, cd_err *err)
{
    r->status = status;
    json_decref(r->json);
    r->json = body->len ? json_loadb(body->data, body->len, 0, NULL) : NULL;
    json_t *e = json_object_get(r->json, "error");
    const char *code = json_string_value(json_object_get(e, "code"));
    const char *msg = json_string_value(json_object_get(e, "message"));
    snprintf(r->code, sizeof r->code, "%s", code ? code : "");
    /* Worth trying again as it is: the server failed, was busy or timed out. */
    bool transient = status >= 500 || status == 408 || status == 429;
    int c = transient ? CLI_ERR_TRANSIENT : CLI_ERR_FINAL;
    if (status == 401) {
        cd_err_set(err, c, "%s", msg && *msg ? msg : "the server wants a token");
        drop_final_period(err->msg);
        size_t n = strlen(err->msg);
        snprintf(err->msg + n, sizeof err->msg - n,
                 " (give a valid token with --token or CONTENT_TOKEN)");
        return -1;
    }
    if (msg && *msg)
        cd_err_set(err, c, "%s", msg);
    else
        cd_err_set(err, c, "the server answered HTTP %ld with no explanation", status);
    return -1;
}

static size_t write_buf(char *p, size_t size, size_t nmemb, void *arg)
{
    cd_buf *b = arg;
    size_t n = size * nmemb;
    if (b->len + n > MAX_JSON_BODY)
        return 0;
    cd_buf_append(b, p, n);
    return n;
}

/* Sets method and body on h->easy (after a reset). */
static void set_method(cli_http *h, const char *method, const char *body)
{
    if (body) {
        curl_easy_setopt(h->easy, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
        curl_easy_setopt(h->easy, CURLOPT_HTTPHEADER, h->hdrs_post);
    } else {
        curl_easy_setopt(h->easy, CURLOPT_HTTPHEADER, h->hdrs_get);
    }
    if (strcmp(method, body ? "POST" : "GET"))
        curl_easy_setopt(h->easy, CURLOPT_CUSTOMREQUEST, method);
}

/* Runs the transfer configured on h->easy; on completion *status is set. */
static int perform(cli_http *h, long *status, cd_err *err)
{
    h->errbuf[0] = '\0';
    CURLcode rc = curl_easy_perform(h->easy);
    if (rc != CURLE_OK)
        return cli_http_curl_fail(h, h->easy, rc, h->errbuf, err);
    curl_easy_getinfo(h->easy, CURLINFO_RESPONSE_CODE, status);
    return 0;
}

int cli_http_json(cli_http *h, const char *method, const char *path, json_t *body, cli_reply *r,
                  cd_err *err)
{
    cli_reply_clear(r);
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    char *url = cli_http_url(h, path);
    cd_buf resp = CD_BUF_INIT;
    curl_easy_reset(h->easy);
    common_options(h, h->easy, h->errbuf);
    curl_easy_setopt(h->easy, CURLOPT_URL, url);
    curl_easy_setopt(h->easy, CURLOPT_WRITEFUNCTION, write_buf);
    curl_easy_setopt(h->easy, CURLOPT_WRITEDATA, &resp);
    set_method(h, method, text);
    long status = 0;
    int rc = perform(h, &status, err);
    if (rc == 0 && status >= 300)
        rc = cli_http_status_fail(status, &resp, r, err);
    else if (rc == 0) {
        r->status = status;
        r->json = resp.len ? json_loadb(resp.data, resp.len, 0, NULL) : NULL;
        if (resp.len && !r->json)
            rc = cd_err_set(err, -1, "%s answered %s %s with something that is not JSON", h->given,
                            method, path);
    }
    cd_buf_free(&resp);
    free(url);
    free(text);
    return rc;
}

typedef struct dl_state {
    CURL *easy;
    cli_sink sink;
    void *arg;
    cd_buf errbody; /* the body of an error answer */
    int status_known;
    long status;
} dl_state;

static size_t write_sink(char *p, size_t size, size_t nmemb, void *arg)
{
    dl_state *s = arg;
    size_t n = size * nmemb;
    if (!s->status_known) {
        curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &s->status);
        s->status_known = 1;
    }
    if (s->status >= 300)
        return write_buf(p, size, nmemb, &s->errbody);
    return s->sink(s->arg, p, n) == 0 ? n : 0;
}

int cli_http_download(cli_http *h, const char *path, cli_sink sink, void *arg, cli_reply *r,
                      cd_err *err)
{
    cli_reply_clear(r);
    char *url = cli_http_url(h, path);
    dl_state s = {.easy = h->easy, .sink = sink, .arg = arg};
    curl_easy_reset(h->easy);
    common_options(h, h->easy, h->errbuf);
    curl_easy_setopt(h->easy, CURLOPT_URL, url);
    curl_easy_setopt(h->easy, CURLOPT_WRITEFUNCTION, write_sink);
    curl_easy_setopt(h->easy, CURLOPT_WRITEDATA, &s);
    long status = 0;
    int rc = perform(h, &status, err);
    if (rc == 0 && status >= 300)
        rc = cli_http_status_fail(status, &s.errbody, r, err);
    else if (rc == 0)
        r->status = status;
    cd_buf_free(&s.errbody);
    free(url);
    return rc;
}
