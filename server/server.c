/* SPDX-License-Identifier: MIT */
/*
 * The service's life cycle: create it on two stores, bind the listen
 * address, run libmicrohttpd (epoll, a pool of worker threads, connections
 * that can be suspended), and stop it gracefully.
 */
#include "srv_int.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define STREAM_GRACE_MS 1000

static char *xstrdup_or_null(const char *s)
{
    return s ? cd_xstrdup(s) : NULL;
}

static void config_copy(srv_config *dst, const srv_config *src)
{
    *dst = *src;
    dst->listen = xstrdup_or_null(src->listen);
    dst->data_dir = xstrdup_or_null(src->data_dir);
    dst->s3_endpoint = xstrdup_or_null(src->s3_endpoint);
    dst->s3_bucket = xstrdup_or_null(src->s3_bucket);
    dst->s3_region = xstrdup_or_null(src->s3_region);
    dst->mongodb_uri = xstrdup_or_null(src->mongodb_uri);
    dst->mongodb_db = xstrdup_or_null(src->mongodb_db);
    dst->watch = src->n_watch ? cd_xcalloc(src->n_watch, sizeof *dst->watch) : NULL;
    for (size_t i = 0; i < src->n_watch; i++)
        dst->watch[i] = cd_xstrdup(src->watch[i]);
    dst->cors = src->n_cors ? cd_xcalloc(src->n_cors, sizeof *dst->cors) : NULL;
    for (size_t i = 0; i < src->n_cors; i++)
        dst->cors[i] = cd_xstrdup(src->cors[i]);
}

/* The hub's documents: the render cache's ASTs, or their stubs. */
static bool hub_document(void *arg, const char *sha, bool full, cd_buf *out)
{
    commit_ast *a = NULL;
    cd_err err = {0};
    if ((full ? commit_render_get(arg, sha, &a, &err) : commit_stub_get(arg, sha, &a, &err)) !=
        COMMIT_RENDER_OK)
        return false;
    cd_buf_append(out, a->json, a->len);
    commit_ast_unref(a);
    return true;
}

srv *srv_new(const srv_config *cfg, catalog *cat, blobstore *bs, cd_err *err)
{
    srv *s = cd_xcalloc(1, sizeof *s);
    config_copy(&s->cfg, cfg);
    s->cat = cat;
    s->bs = bs;
    if (http_server_init(&s->http, cat, cfg->max_header_size, err) != 0) {
        srv_free(s);
        return NULL;
    }
    md_pool_options po = {.workers = (unsigned)cfg->render_workers,
                          .timeout_ms = cfg->render_timeout_ms,
                          .memory_bytes = (size_t)cfg->render_memory};
    md_error merr;
    if (md_pool_new(&po, &s->render_pool, &merr) != MD_OK) {
        cd_err_set(err, -1, "%s", merr.message);
        srv_free(s);
        return NULL;
    }
    s->http.app = &s->api;
    s->http.cors = s->cfg.cors;
    s->http.n_cors = s->cfg.n_cors;
    s->commit = commit_new(cat, bs, s->render_pool, 64u << 20);
    http_routes_init(api_endpoints, api_endpoints_n);
    hub_config hc = {.cat = cat,
                     .document = hub_document,
                     .document_arg = s->commit,
                     .max_events = cfg->sse_queue_events,
                     .max_bytes = (size_t)cfg->sse_queue_bytes};
    s->hub = hub_new(&hc);
    if (catalog_listen(cat, hub_on_change, s->hub) != 0) {
        cd_err_set(err, -1, "the catalog takes no more change listeners");
        srv_free(s);
        return NULL;
    }
    s->listening = true;
    s->api = (api_ctx){.cat = cat,
                       .bs = bs,
                       .commit = s->commit,
                       .hub = s->hub,
                       .max_blob_size = s->cfg.max_blob_size};
    return s;
}

/* Splits "HOST:PORT", "[V6]:PORT" or ":PORT". */
static int split_listen(const char *listen, char *host, size_t hcap, char *port, size_t pcap,
                        cd_err *err)
{
    const char *colon = strrchr(listen, ':');
    if (!colon || !colon[1])
        return cd_err_set(err, -1, "--listen '%s': expected HOST:PORT (e.g. 127.0.0.1:8080)",
                          listen);
    const char *h = listen;
    size_t hl = (size_t)(colon - listen);
    if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    if (hl >= hcap || strlen(colon + 1) >= pcap)
        return cd_err_set(err, -1, "--listen '%s' is too long", listen);
    memcpy(host, h, hl);
    host[hl] = '\0';
    snprintf(port, pcap, "%s", colon + 1);
    int64_t p;
    if (!cd_parse_i64(port, &p) || p < 0 || p > 65535)
        return cd_err_set(err, -1, "--listen '%s': the port must be 0..65535", listen);
    return 0;
}

bool srv_listen_valid(const char *addr, cd_err *err)
{
    char host[256], port[16];
    return split_listen(addr, host, sizeof host, port, sizeof port, err) == 0;
}

/* Binds and listens; returns the socket or -1.  *loopback says whether
 * only this machine can reach it. */
static int bind_listen(const char *addr, bool *loopback, struct sockaddr_storage *bound,
                       cd_err *err)
{
    char host[256], port[16];
    if (split_listen(addr, host, sizeof host, port, sizeof port, err) != 0)
        return -1;
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    int gai = getaddrinfo(host[0] ? host : NULL, port, &hints, &ai);
    if (gai != 0) {
        cd_err_set(err, -1, "--listen '%s': %s", addr, gai_strerror(gai));
        return -1;
    }
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 4096) != 0) {
        cd_err_set(err, -1, "cannot listen on %s: %s", addr, strerror(errno));
        if (fd >= 0)
            close(fd);
        freeaddrinfo(ai);
        return -1;
    }
    *loopback = srv_addr_is_loopback(ai->ai_addr);
    freeaddrinfo(ai);
    socklen_t len = sizeof *bound;
    getsockname(fd, (struct sockaddr *)bound, &len);
    return fd;
}

static void format_url(srv *s, const struct sockaddr_storage *ss)
{
    char host[INET6_ADDRSTRLEN + 2] = "?";
    int port = 0;
    getnameinfo((const struct sockaddr *)ss, sizeof *ss, host, sizeof host, NULL, 0,
                NI_NUMERICHOST);
    if (ss->ss_family == AF_INET6) {
        port = ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
        snprintf(s->url, sizeof s->url, "http://[%s]:%d", host, port);
    } else {
        port = ntohs(((const struct sockaddr_in *)ss)->sin_port);
        snprintf(s->url, sizeof s->url, "http://%s:%d", host, port);
    }
}

/* Raises the open-file limit to its hard maximum: every event stream holds
 * a socket.  Returns the limit now in force. */
static rlim_t raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 1024;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            getrlimit(RLIMIT_NOFILE, &rl);
    }
    return rl.rlim_cur;
}

static unsigned worker_threads(const srv_config *cfg, blobstore *bs)
{
    if (cfg->threads > 0)
        return (unsigned)cfg->threads;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1)
        n = 1;
    n *= 2;
    /* A remote store (S3: the one with a known set) keeps a worker waiting
     * milliseconds on every call, with its other connections: a push's
     * parallel uploads need a worker each. */
    long min = blobstore_knows(bs) ? 16 : 4;
    return (unsigned)(n < min ? min : n > 32 ? 32 : n);
}

/* The per-connection memory pool of libmicrohttpd: it holds the request
 * line and headers, and the read and write buffers.  libmicrohttpd keeps
 * the headers in the read buffer, copies the Cookie header once more to
 * parse it and allocates a 64-byte record per header and per cookie, so
 * accepting H bytes of headers made of browser cookies (~45 bytes each)
 * takes about 3.5 H, plus the request line and room for the reply's
 * headers.  Whatever a smaller request leaves over lets one somewhat over
 * the limits reach http.c, which answers it in the API's JSON error shape;
 * only one far over them gets libmicrohttpd's own reply.  The pool's
 * pages are most of what an idle event stream costs (libmicrohttpd zeroes
 * the part of the read buffer it gives back; docs/operations.md has the
 * figures).  CONTENTD_CONNECTION_MEMORY (config.c) sets the pool directly. */
static size_t conn_memory(const srv_config *cfg)
{
    if (cfg->connection_memory)
        return cfg->connection_memory;
    return (size_t)cfg->max_header_size * 7 / 2 + HTTP_TARGET_MAX + 4096;
}

/* Refuses to serve the network with no token in the catalog. */
static int check_exposure(srv *s, bool loopback, cd_err *err)
{
    int64_t n = 0;
    cd_err cerr = {0};
    int rc = catalog_token_count(s->cat, &n, &cerr);
    if (rc != CAT_OK)
        return cd_err_set(err, -1, "cannot read the tokens from the catalog: %s", cerr.msg);
    atomic_store(&s->http.tokens_exist, n > 0);
    if (!loopback && n == 0)
        return cd_err_set(err, -1,
                          "refusing to listen on %s, a non-loopback address, with no API "
                          "token: anyone who can reach it would act as the local user. Create "
                          "a token first (contentd token create USER) or listen on 127.0.0.1",
                          s->cfg.listen);
    return 0;
}

int srv_start(srv *s, cd_err *err)
{
    struct sockaddr_storage bound;
    bool loopback = false;
    int fd = bind_listen(s->cfg.listen, &loopback, &bound, err);
    if (fd < 0)
        return -1;
    s->http.loopback = loopback;
    if (check_exposure(s, loopback, err) != 0 || hub_start(s->hub, err) != 0) {
        close(fd);
        return -1;
    }
    /* Changes made by other replicas (MongoDB change stream) reach the hub
     * through the same on_change callback; a no-op for SQLite. */
    if (catalog_watch_start(s->cat, err) != CAT_OK) {
        close(fd);
        return -1;
    }
    rlim_t nofile = raise_nofile();
    unsigned limit = nofile > 200 ? (unsigned)(nofile - 100) : 100;
    if (limit > 1000000)
        limit = 1000000;
    unsigned threads = worker_threads(&s->cfg, s->bs);
    /* One client address (a reconnect loop, a runaway script) cannot take
     * the whole connection table: by default it gets half of it. */
    unsigned per_address =
        s->cfg.max_per_address < 0 ? (limit + 1) / 2 : (unsigned)s->cfg.max_per_address;
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    if (bound.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    s->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, http_access, &s->http, MHD_OPTION_EXTERNAL_LOGGER, http_log_mhd, NULL,
        MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_THREAD_POOL_SIZE, threads,
        MHD_OPTION_CONNECTION_LIMIT, limit, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
        MHD_OPTION_NOTIFY_COMPLETED, http_completed, &s->http, MHD_OPTION_UNESCAPE_CALLBACK,
        http_unescape_none, NULL, MHD_OPTION_URI_LOG_CALLBACK, http_uri_log, &s->http,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, conn_memory(&s->cfg),
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_address, MHD_OPTION_END);
    if (!s->daemon) {
        close(fd);
        return cd_err_set(err, -1, "cannot start the HTTP server on %s", s->cfg.listen);
    }
    format_url(s, &bound);
    cd_log("info", "server",
           "msg=listening url=%s threads=%u max_connections=%u max_per_address=%u catalog=%s "
           "blobstore=%s",
           s->url, threads, limit, per_address, catalog_backend(s->cat), blobstore_backend(s->bs));
    return 0;
}

const char *srv_url(const srv *s)
{
    return s->url;
}

void srv_stop(srv *s, int timeout_ms)
{
    if (!s->daemon)
        return;
    atomic_store(&s->http.stopping, true);
    int lfd = MHD_quiesce_daemon(s->daemon);
    if (lfd >= 0)
        close(lfd);
    hub_shutdown(s->hub);
    /* Requests in flight (commits, uploads) get timeout_ms to finish; event
     * streams, which the hub has just ended, get a second to flush their
     * last bytes — a subscriber that does not read is not waited for. */
    int64_t start = cd_mono_ms(), end = start + timeout_ms;
    pthread_mutex_lock(&s->http.active_mu);
    while (s->http.active > 0) {
        int64_t now = cd_mono_ms();
        if (now >= end || (s->http.active == s->http.streams && now >= start + STREAM_GRACE_MS))
            break;
        /* re-check the stream grace period */
        cd_cond_wait_until(&s->http.active_cv, &s->http.active_mu, now + 50);
    }
    int left = s->http.active;
    pthread_mutex_unlock(&s->http.active_mu);
    if (left)
        cd_log("warn", "server", "msg=\"stopping with requests still open\" open=%d", left);
    MHD_stop_daemon(s->daemon);
    s->daemon = NULL;
    cd_log("info", "server", "msg=stopped");
}

void srv_free(srv *s)
{
    if (!s)
        return;
    if (s->daemon)
        srv_stop(s, 0);
    /* The change-stream thread calls into the hub: it ends before the hub
     * is unhooked and freed. */
    if (s->cat)
        catalog_watch_stop(s->cat);
    if (s->listening)
        catalog_unlisten(s->cat, hub_on_change, s->hub);
    hub_free(s->hub);
    commit_free(s->commit);
    md_pool_free(s->render_pool);
    http_server_destroy(&s->http);
    srv_config_clear(&s->cfg);
    free(s);
}
