/* SPDX-License-Identifier: MIT */
/*
 * The S3 client itself: configuration (defaults, environment), the bucket's
 * URL for virtual-host or path-style addressing, the pool of connection
 * sets (lanes) that lets threads share one client, and the small helpers
 * every request needs (SigV4 URI encoding, SHA-256).
 */
#include "s3_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libxml/parser.h>

#define MiB (1024u * 1024u)

/* Configuration ------------------------------------------------------------ */

static int env_u64(const char *name, uint64_t *out, cd_err *err)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return S3_OK;
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (errno || *end || *v == '-' || x == 0)
        return cd_err_set(err, S3_ERROR, "%s must be a positive integer, not \"%s\"", name, v);
    *out = x;
    return S3_OK;
}

s3_status s3_config_from_env(s3_config *cfg, cd_err *err)
{
    cfg->access_key = getenv("AWS_ACCESS_KEY_ID");
    cfg->secret_key = getenv("AWS_SECRET_ACCESS_KEY");
    cfg->session_token = getenv("AWS_SESSION_TOKEN");
    if (cfg->session_token && !*cfg->session_token)
        cfg->session_token = NULL;
    uint64_t v[6] = {cfg->part_size,
                     cfg->multipart_threshold,
                     (uint64_t)cfg->parallel,
                     (uint64_t)cfg->max_attempts,
                     (uint64_t)cfg->deadline_ms,
                     (uint64_t)cfg->stall_timeout_ms};
    static const char *const names[6] = {
        "CONTENTD_S3_PART_SIZE",   "CONTENTD_S3_MULTIPART_THRESHOLD",
        "CONTENTD_S3_PARALLEL",    "CONTENTD_S3_MAX_ATTEMPTS",
        "CONTENTD_S3_DEADLINE_MS", "CONTENTD_S3_STALL_TIMEOUT_MS"};
    for (int i = 0; i < 6; i++) {
        int rc = env_u64(names[i], &v[i], err);
        if (rc)
            return rc;
    }
    if (v[2] > 64 || v[3] > 100 || v[4] > INT32_MAX || v[5] > INT32_MAX)
        return cd_err_set(err, S3_ERROR,
                          "an S3 tuning variable is out of range "
                          "(parallel <= 64, attempts <= 100, times < 2^31 ms)");
    cfg->part_size = v[0];
    cfg->multipart_threshold = v[1];
    cfg->parallel = (int)v[2];
    cfg->max_attempts = (int)v[3];
    cfg->deadline_ms = (long)v[4];
    cfg->stall_timeout_ms = (long)v[5];
    return S3_OK;
}

static void apply_defaults(s3_config *c)
{
    if (!c->multipart_threshold)
        c->multipart_threshold = 8 * MiB;
    if (!c->part_size)
        c->part_size = 8 * MiB;
    if (c->parallel <= 0)
        c->parallel = 4;
    if (c->max_attempts <= 0)
        c->max_attempts = 5;
    if (c->backoff_base_ms <= 0)
        c->backoff_base_ms = 100;
    if (c->backoff_max_ms <= 0)
        c->backoff_max_ms = 5000;
    if (c->deadline_ms <= 0)
        c->deadline_ms = 300000;
    if (c->connect_timeout_ms <= 0)
        c->connect_timeout_ms = 10000;
    if (c->stall_timeout_ms <= 0)
        c->stall_timeout_ms = 30000;
}

/* A bucket name that is also a valid DNS label sequence, as virtual-host
 * addressing needs (and S3's naming rules demand anyway). */
static bool bucket_name_ok(const char *b, bool path_style)
{
    size_t n = strlen(b);
    if (n < 3 || n > 63)
        return path_style && n > 0 && n <= 255;
    for (size_t i = 0; i < n; i++) {
        char ch = b[i];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '.';
        if (!ok && !(path_style && (ch == '_' || (ch >= 'A' && ch <= 'Z'))))
            return false;
    }
    return b[0] != '-' && b[0] != '.' && b[n - 1] != '-' && b[n - 1] != '.';
}

/* Splits the endpoint into "scheme://" and "host[:port]", refusing a path,
 * a query or user info (which would confuse the signature). */
static int parse_endpoint(s3_client *c, const char *ep, char **scheme, char **hostport, cd_err *err)
{
    const char *sep = strstr(ep, "://");
    const char *host = sep ? sep + 3 : ep;
    *scheme = sep ? cd_xstrndup(ep, (size_t)(sep - ep)) : cd_xstrdup("https");
    if (strcmp(*scheme, "http") && strcmp(*scheme, "https"))
        return cd_err_set(err, S3_ERROR, "S3 endpoint %s: the scheme must be http or https", ep);
    size_t hl = strlen(host);
    while (hl && host[hl - 1] == '/')
        hl--;
    if (!hl || strcspn(host, "/?#@ ") < hl)
        return cd_err_set(err, S3_ERROR,
                          "S3 endpoint %s: give scheme://host[:port], with no path or user", ep);
    *hostport = cd_xstrndup(host, hl);
    (void)c;
    return S3_OK;
}

static int build_urls(s3_client *c, cd_err *err)
{
    char *scheme = NULL, *hostport = NULL;
    int rc = parse_endpoint(c, c->endpoint, &scheme, &hostport, err);
    if (rc)
        goto out;
    if (!bucket_name_ok(c->bucket, c->cfg.path_style)) {
        rc = cd_err_set(err, S3_ERROR, "S3 bucket \"%s\" is not a valid bucket name%s", c->bucket,
                        c->cfg.path_style ? "" : " for virtual-host addressing");
        goto out;
    }
    cd_buf b = CD_BUF_INIT;
    if (c->cfg.path_style) {
        cd_buf_printf(&b, "%s://%s/", scheme, hostport);
        s3_uri_encode(&b, c->bucket, false);
    } else {
        cd_buf_printf(&b, "%s://%s.%s", scheme, c->bucket, hostport);
    }
    c->url_base = cd_buf_steal(&b, NULL);
    free(c->endpoint);
    cd_buf_printf(&b, "%s://%s", scheme, hostport);
    c->endpoint = cd_buf_steal(&b, NULL);
out:
    free(scheme);
    free(hostport);
    return rc;
}

/* Sharing DNS and TLS sessions between lanes ------------------------------- */

static void share_lock(CURL *h, curl_lock_data d, curl_lock_access a, void *arg)
{
    s3_client *c = arg;
    pthread_mutex_lock(&c->share_lock[d]);
}

static void share_unlock(CURL *h, curl_lock_data d, void *arg)
{
    s3_client *c = arg;
    pthread_mutex_unlock(&c->share_lock[d]);
}

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc;

static void global_init(void)
{
    /* Both are process-wide and not thread-safe: run once, before any
     * client exists. */
    global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
    xmlInitParser();
}

s3_client *s3_client_new(const s3_config *cfg, cd_err *err)
{
    pthread_once(&global_once, global_init);
    if (global_rc != CURLE_OK) {
        cd_err_set(err, S3_ERROR, "cannot initialise libcurl: %s", curl_easy_strerror(global_rc));
        return NULL;
    }
    if (!cfg->endpoint || !*cfg->endpoint || !cfg->bucket || !*cfg->bucket) {
        cd_err_set(err, S3_ERROR, "S3 needs an endpoint and a bucket");
        return NULL;
    }
    if (!cfg->access_key || !*cfg->access_key || !cfg->secret_key || !*cfg->secret_key) {
        cd_err_set(err, S3_ERROR,
                   "S3 needs credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
        return NULL;
    }
    s3_client *c = cd_xcalloc(1, sizeof *c);
    c->cfg = *cfg;
    apply_defaults(&c->cfg);
    c->endpoint = cd_xstrdup(cfg->endpoint);
    c->bucket = cd_xstrdup(cfg->bucket);
    c->region = cd_xstrdup(cfg->region && *cfg->region ? cfg->region : "us-east-1");
    c->access_key = cd_xstrdup(cfg->access_key);
    c->secret_key = cd_xstrdup(cfg->secret_key);
    c->session_token = cfg->session_token ? cd_xstrdup(cfg->session_token) : NULL;
    c->cfg.endpoint = c->cfg.bucket = c->cfg.region = NULL;
    c->cfg.access_key = c->cfg.secret_key = c->cfg.session_token = NULL;
    pthread_mutex_init(&c->pool_lock, NULL);
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_init(&c->share_lock[i], NULL);
    if (strchr(c->region, ':') || !*c->region) {
        cd_err_set(err, S3_ERROR, "S3 region \"%s\" is not valid", c->region);
        goto fail;
    }
    if (build_urls(c, err))
        goto fail;
    cd_buf b = CD_BUF_INIT;
    cd_buf_printf(&b, "aws:amz:%s:s3", c->region);
    c->sigv4 = cd_buf_steal(&b, NULL);
    c->share = curl_share_init();
    if (!c->share) {
        fprintf(stderr, "contentd: cannot create a curl share handle (out of memory)\n");
        abort();
    }
    curl_share_setopt(c->share, CURLSHOPT_LOCKFUNC, share_lock);
    curl_share_setopt(c->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
    curl_share_setopt(c->share, CURLSHOPT_USERDATA, c);
    curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    return c;
fail:
    s3_client_free(c);
    return NULL;
}

static void lane_free(s3_lane *l)
{
    for (int i = 0; i < l->n_free; i++)
        curl_easy_cleanup(l->easy[i]);
    curl_multi_cleanup(l->multi);
    free(l->easy);
    free(l);
}

void s3_client_free(s3_client *c)
{
    if (!c)
        return;
    while (c->idle) {
        s3_lane *l = c->idle;
        c->idle = l->next;
        lane_free(l);
    }
    if (c->share)
        curl_share_cleanup(c->share);
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_destroy(&c->share_lock[i]);
    pthread_mutex_destroy(&c->pool_lock);
    free(c->endpoint);
    free(c->bucket);
    free(c->region);
    free(c->access_key);
    free(c->secret_key);
    free(c->session_token);
    free(c->url_base);
    free(c->sigv4);
    free(c);
}

/* Helpers -------------------------------------------------------------------- */

void s3_uri_encode(cd_buf *out, const char *s, bool keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned char ch = *p;
        if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
            ch == '-' || ch == '_' || ch == '.' || ch == '~' || (keep_slash && ch == '/')) {
            cd_buf_putc(out, (char)ch);
        } else {
            char e[3] = {'%', hex[ch >> 4], hex[ch & 15]};
            cd_buf_append(out, e, 3);
        }
    }
}

int s3_sha256_fd(int fd, uint64_t off, uint64_t len, char out[CD_SHA256_HEX])
{
    cd_sha256 *md = cd_sha256_new();
    char *buf = cd_xmalloc(MiB);
    int rc = 0;
    while (len) {
        size_t want = len < MiB ? (size_t)len : MiB;
        ssize_t got = pread(fd, buf, want, (off_t)off);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            if (got == 0)
                errno = EIO; /* the file is shorter than it was said to be */
            rc = -1;
            break;
        }
        cd_sha256_update(md, buf, (size_t)got);
        off += (uint64_t)got;
        len -= (uint64_t)got;
    }
    free(buf);
    cd_sha256_final(md, out);
    return rc;
}
