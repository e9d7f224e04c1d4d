/* SPDX-License-Identifier: MIT */
/*
 * Configuration: defaults, then the environment (CONTRACT "Configuration");
 * main.c applies the flags on top.  Also opens the stores the configuration
 * selects: the embedded catalog or MongoDB, and the data folder or an S3
 * bucket for the blobs.
 */
#include "srv_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char *env_dup(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? cd_xstrdup(v) : NULL;
}

static int watch_ms_env(const char *name, unsigned *out, cd_err *err);
static int cors_env(srv_config *cfg, cd_err *err);

/* "64MiB", "64M", "64m", "512k", "1G", "1048576" (a bare number is bytes). */
bool srv_parse_size(const char *s, int64_t *out)
{
    if (!s || !isdigit((unsigned char)*s))
        return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno)
        return false;
    unsigned long long mul = 1;
    if (*end) {
        switch (tolower((unsigned char)*end)) {
        case 'k':
            mul = 1ull << 10;
            break;
        case 'm':
            mul = 1ull << 20;
            break;
        case 'g':
            mul = 1ull << 30;
            break;
        case 'b':
            mul = 1;
            break;
        default:
            return false;
        }
        const char *rest = end + 1;
        if (mul > 1 && (!strcasecmp(rest, "ib") || !strcasecmp(rest, "b") || !*rest))
            rest = "";
        if (*rest)
            return false;
    }
    if (v > (unsigned long long)INT64_MAX / mul)
        return false;
    *out = (int64_t)(v * mul);
    return true;
}

/* The budgets of the render workers: CONTENTD_RENDER_WORKERS (1..64),
 * CONTENTD_RENDER_TIMEOUT_MS (1..3,600,000), CONTENTD_RENDER_MEMORY (a size,
 * at least 64 MiB). */
static int render_env(srv_config *cfg, cd_err *err)
{
    const char *w = getenv("CONTENTD_RENDER_WORKERS"), *t = getenv("CONTENTD_RENDER_TIMEOUT_MS"),
               *m = getenv("CONTENTD_RENDER_MEMORY");
    int64_t v = 0;
    if (w && *w && (!cd_parse_i64(w, &v) || v < 1 || v > 64))
        return cd_err_set(err, SRV_EXIT_USAGE, "CONTENTD_RENDER_WORKERS: '%s' is not 1..64", w);
    cfg->render_workers = (int)v;
    v = 0;
    if (t && *t && (!cd_parse_i64(t, &v) || v < 1 || v > 3600000))
        return cd_err_set(err, SRV_EXIT_USAGE,
                          "CONTENTD_RENDER_TIMEOUT_MS: '%s' is not a number of milliseconds "
                          "(1..3600000)",
                          t);
    cfg->render_timeout_ms = (unsigned)v;
    if (m && *m && (!srv_parse_size(m, &cfg->render_memory) || cfg->render_memory < (64ll << 20)))
        return cd_err_set(err, SRV_EXIT_USAGE,
                          "CONTENTD_RENDER_MEMORY: '%s' is not a size of at least 64MiB", m);
    return 0;
}

bool srv_parse_header_size(const char *s, int64_t *out)
{
    int64_t v;
    if (!srv_parse_size(s, &v) || v < SRV_HEADER_SIZE_MIN || v > SRV_HEADER_SIZE_MAX)
        return false;
    *out = v;
    return true;
}

int srv_config_from_env(srv_config *cfg, cd_err *err)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->listen = env_dup("CONTENTD_LISTEN");
    if (!cfg->listen)
        cfg->listen = cd_xstrdup("127.0.0.1:8080");
    cfg->data_dir = env_dup("CONTENTD_DATA");
    if (!cfg->data_dir)
        cfg->data_dir = cd_xstrdup("./contentd-data");
    cfg->s3_endpoint = env_dup("AWS_ENDPOINT_URL_S3");
    if (!cfg->s3_endpoint)
        cfg->s3_endpoint = env_dup("AWS_ENDPOINT_URL");
    cfg->s3_bucket = env_dup("CONTENTD_S3_BUCKET");
    cfg->s3_region = env_dup("AWS_REGION");
    if (!cfg->s3_region)
        cfg->s3_region = cd_xstrdup("us-east-1");
    const char *ps = getenv("CONTENTD_S3_PATH_STYLE");
    cfg->s3_path_style = ps && (!strcmp(ps, "1") || !strcasecmp(ps, "true"));
    cfg->mongodb_uri = env_dup("MONGODB_URI");
    cfg->mongodb_db = env_dup("CONTENTD_MONGODB_DB");
    if (!cfg->mongodb_db)
        cfg->mongodb_db = cd_xstrdup("contentd");
    cfg->max_blob_size = 64ll << 20;
    const char *mb = getenv("CONTENTD_MAX_BLOB_SIZE");
    if (mb && *mb && (!srv_parse_size(mb, &cfg->max_blob_size) || cfg->max_blob_size < 1))
        return cd_err_set(err, SRV_EXIT_USAGE,
                          "CONTENTD_MAX_BLOB_SIZE: '%s' is not a size of at least 1 byte (e.g. "
                          "64MiB)",
                          mb);
    cfg->max_header_size = SRV_HEADER_SIZE_DEFAULT;
    const char *mh = getenv("CONTENTD_MAX_HEADER_SIZE");
    if (mh && *mh && !srv_parse_header_size(mh, &cfg->max_header_size))
        return cd_err_set(err, SRV_EXIT_USAGE,
                          "CONTENTD_MAX_HEADER_SIZE: '%s' is not a size from 1KiB to 1MiB", mh);
    const char *th = getenv("CONTENTD_THREADS");
    int64_t t = 0;
    if (th && *th && (!cd_parse_i64(th, &t) || t < 1 || t > 256))
        return cd_err_set(err, SRV_EXIT_USAGE, "CONTENTD_THREADS: '%s' is not 1..256", th);
    cfg->threads = (int)t;
    const char *qe = getenv("CONTENTD_SSE_QUEUE_EVENTS");
    int64_t x;
    if (qe && cd_parse_i64(qe, &x) && x > 0 && x < (1ll << 31))
        cfg->sse_queue_events = (uint32_t)x;
    const char *qb = getenv("CONTENTD_SSE_QUEUE_BYTES");
    if (qb && !srv_parse_size(qb, &cfg->sse_queue_bytes))
        return cd_err_set(err, SRV_EXIT_FAIL, "CONTENTD_SSE_QUEUE_BYTES: '%s' is not a size", qb);
    const char *cm = getenv("CONTENTD_CONNECTION_MEMORY");
    if (cm && srv_parse_size(cm, &x) && x >= 4096 && x <= (16 << 20))
        cfg->connection_memory = (size_t)x;
    const char *ll = getenv("CONTENTD_LOG_LEVEL");
    cfg->log_debug = ll && !strcmp(ll, "debug");
    cd_log_set_debug(cfg->log_debug);
    cfg->max_per_address = -1;
    const char *pa = getenv("CONTENTD_MAX_CONNECTIONS_PER_ADDRESS");
    if (pa && *pa && !srv_parse_per_address(pa, &cfg->max_per_address))
        return cd_err_set(err, SRV_EXIT_USAGE,
                          "CONTENTD_MAX_CONNECTIONS_PER_ADDRESS: '%s' is not a number from 0 "
                          "(no limit) to 1000000",
                          pa);
    if (render_env(cfg, err) != 0)
        return SRV_EXIT_USAGE;
    if (watch_ms_env("CONTENTD_WATCH_QUIET_MS", &cfg->watch_quiet_ms, err) != 0 ||
        watch_ms_env("CONTENTD_WATCH_MAX_DELAY_MS", &cfg->watch_max_delay_ms, err) != 0 ||
        cors_env(cfg, err) != 0)
        return SRV_EXIT_USAGE;
    return 0;
}

bool srv_parse_per_address(const char *s, int64_t *out)
{
    int64_t v;
    if (!cd_parse_i64(s, &v) || v < 0 || v > 1000000)
        return false;
    *out = v;
    return true;
}

bool srv_parse_watch_ms(const char *s, unsigned *out)
{
    int64_t v;
    if (!cd_parse_i64(s, &v) || v < 1 || v > 60000)
        return false;
    *out = (unsigned)v;
    return true;
}

/* A debounce setting of `serve --watch` from the environment variable name. */
static int watch_ms_env(const char *name, unsigned *out, cd_err *err)
{
    const char *v = getenv(name);
    if (!v || !*v || srv_parse_watch_ms(v, out))
        return 0;
    return cd_err_set(err, SRV_EXIT_USAGE, "%s: '%s' is not a number of milliseconds (1..60000)",
                      name, v);
}

bool srv_config_add_cors(srv_config *cfg, const char *o)
{
    if (!http_cors_origin_valid(o))
        return false;
    cfg->cors = cd_xrealloc(cfg->cors, (cfg->n_cors + 1) * sizeof *cfg->cors);
    cfg->cors[cfg->n_cors++] = cd_xstrdup(o);
    return true;
}

/* CONTENTD_CORS_ORIGINS: origins separated by commas (spaces around them
 * are ignored). */
static int cors_env(srv_config *cfg, cd_err *err)
{
    const char *v = getenv("CONTENTD_CORS_ORIGINS");
    if (!v)
        return 0;
    for (const char *p = v; *p;) {
        p += strspn(p, " ,");
        size_t n = strcspn(p, ",");
        while (n && p[n - 1] == ' ')
            n--;
        if (!n)
            break;
        char *o = cd_xstrndup(p, n);
        bool ok = srv_config_add_cors(cfg, o);
        if (!ok)
            cd_err_set(err, SRV_EXIT_USAGE,
                       "CONTENTD_CORS_ORIGINS: '%s' is not an origin (e.g. http://localhost:3000)",
                       o);
        free(o);
        if (!ok)
            return SRV_EXIT_USAGE;
        p += strcspn(p, ",");
    }
    return 0;
}

void srv_config_clear(srv_config *cfg)
{
    free(cfg->listen);
    free(cfg->data_dir);
    free(cfg->s3_endpoint);
    free(cfg->s3_bucket);
    free(cfg->s3_region);
    free(cfg->mongodb_uri);
    free(cfg->mongodb_db);
    for (size_t i = 0; i < cfg->n_watch; i++)
        free(cfg->watch[i]);
    free(cfg->watch);
    for (size_t i = 0; i < cfg->n_cors; i++)
        free(cfg->cors[i]);
    free(cfg->cors);
    memset(cfg, 0, sizeof *cfg);
}

/* mkdir -p. */
static int make_dirs(const char *path, cd_err *err)
{
    char *p = cd_xstrdup(path);
    int rc = 0;
    for (char *q = p + 1;; q++) {
        char c = *q;
        if (c != '/' && c != '\0')
            continue;
        *q = '\0';
        if (mkdir(p, 0755) != 0 && errno != EEXIST) {
            rc = cd_err_set(err, -1, "cannot create the data folder %s: %s", p, strerror(errno));
            break;
        }
        *q = c;
        if (!c)
            break;
    }
    struct stat st;
    if (rc == 0 && stat(p, &st) == 0 && !S_ISDIR(st.st_mode))
        rc = cd_err_set(err, -1,
                        "the data folder %s is a file, not a folder: give --data (or "
                        "CONTENTD_DATA) a folder",
                        p);
    free(p);
    return rc;
}

/* The S3 blob store (blobstore_s3.c, docs/s3.md), selected by a bucket.  No
 * endpoint means AWS S3 itself in the configured region; an endpoint without
 * a bucket is refused, since it names no place to store anything.
 * Credentials and tuning come from the environment (AWS_*, CONTENTD_S3_*). */
static blobstore *open_s3_blobstore(const srv_config *cfg, cd_err *err)
{
    if (!cfg->s3_bucket) {
        cd_err_set(err, -1,
                   "an S3 endpoint is set (--s3-endpoint, AWS_ENDPOINT_URL_S3 or "
                   "AWS_ENDPOINT_URL) but no bucket: give --s3-bucket or CONTENTD_S3_BUCKET");
        return NULL;
    }
    cd_buf aws = CD_BUF_INIT;
    if (!cfg->s3_endpoint)
        cd_buf_printf(&aws, "https://s3.%s.amazonaws.com", cfg->s3_region);
    blobstore *bs = blobstore_open_s3(cfg->s3_endpoint ? cfg->s3_endpoint : aws.data,
                                      cfg->s3_bucket, cfg->s3_region, cfg->s3_path_style, err);
    cd_buf_free(&aws);
    return bs;
}

/* CONTENTD_KNOWN_BLOBS: how many blobs the known set holds at most (0 or
 * unset: the default). */
static size_t known_blobs_max(void)
{
    const char *v = getenv("CONTENTD_KNOWN_BLOBS");
    char *end = NULL;
    unsigned long long n = v ? strtoull(v, &end, 10) : 0;
    return v && *v && end && !*end ? (size_t)n : 0;
}

/* CONTENTD_RECENT_BYTES_SECONDS: how long the recent bytes are kept, in
 * seconds (unset or not a number: the default, 600). */
static int64_t recent_bytes_ms(void)
{
    const char *v = getenv("CONTENTD_RECENT_BYTES_SECONDS");
    char *end = NULL;
    long long n = v ? strtoll(v, &end, 10) : -1;
    return v && *v && end && !*end && n >= 0 && n <= INT64_MAX / 1000 ? n * 1000 : -1;
}

int srv_stores_open(const srv_config *cfg, catalog **cat, blobstore **bs, cd_err *err)
{
    *cat = NULL;
    *bs = NULL;
    bool s3 = cfg->s3_endpoint || cfg->s3_bucket;
    /* The data folder is made only for a store that lives in it: a replica
     * on MongoDB and S3 keeps nothing on its own disk. */
    if ((!cfg->mongodb_uri || !s3) && make_dirs(cfg->data_dir, err) != 0)
        return -1;
    if (cfg->mongodb_uri)
        *cat = catalog_open_mongo(cfg->mongodb_uri, cfg->mongodb_db, err);
    else
        *cat = catalog_open_sqlite(cfg->data_dir, err);
    if (!*cat)
        return -1;
    *bs = s3 ? open_s3_blobstore(cfg, err) : blobstore_open_fs(cfg->data_dir, err);
    /* On S3 every lookup is a request: the server remembers what it knows
     * to be stored (docs/s3.md, "What the server knows"). */
    if (*bs && s3) {
        blobstore_s3_upload_unasked(*bs); /* blobs/missing asked already */
        *bs = blobstore_known_wrap(*bs, known_blobs_max());
        blobstore_known_set_fresh_ms(*bs, recent_bytes_ms());
    }
    if (!*bs) {
        catalog_close(*cat);
        *cat = NULL;
        return -1;
    }
    return 0;
}
