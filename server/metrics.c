/* SPDX-License-Identifier: MIT */
/*
 * Prometheus metrics: process-wide counters and histograms, updated with
 * relaxed atomics from any thread, and their text exposition for
 * GET /metrics.  The names are listed in docs/api.md.
 */
#include "srv_int.h"

#include <string.h>

#define NB 16
static const double bucket_s[NB] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                    0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};

typedef struct {
    atomic_uint_fast64_t b[NB + 1]; /* the last is +Inf */
    atomic_uint_fast64_t sum_ns;
} histo;

static const unsigned statuses[] = {200, 201, 204, 304, 400, 401, 403, 404,
                                    405, 409, 413, 415, 422, 500, 503, 0};
#define NS (sizeof statuses / sizeof statuses[0])

static const char *const cat_ops[] = {
#define X(n) #n,
    SRV_CAT_OPS(X)
#undef X
};
static const char *const blob_ops[] = {
#define X(n) #n,
    SRV_BLOB_OPS(X)
#undef X
};
static const char *const commit_results[] = {"created",       "unchanged", "conflict",
                                             "missing_blobs", "rejected",  "error"};
#define NCR (sizeof commit_results / sizeof commit_results[0])

static struct {
    atomic_uint_fast64_t requests[SRV_R_COUNT][NS];
    histo request_time[SRV_R_COUNT];
    histo cat[SRV_CAT_OP_COUNT];
    histo blob[SRV_BLOB_OP_COUNT];
    atomic_uint_fast64_t sse_events, sse_bytes, sse_overflows, push_bytes, change_retries;
    atomic_uint_fast64_t commits[NCR];
} m;

static void observe(histo *h, int64_t ns)
{
    double s = (double)ns / 1e9;
    int i = 0;
    while (i < NB && s > bucket_s[i])
        i++;
    atomic_fetch_add_explicit(&h->b[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->sum_ns, (uint64_t)(ns > 0 ? ns : 0), memory_order_relaxed);
}

void srv_metrics_request(srv_route route, unsigned status, int64_t ns)
{
    size_t i = 0;
    while (i < NS - 1 && statuses[i] != status)
        i++;
    atomic_fetch_add_explicit(&m.requests[route][i], 1, memory_order_relaxed);
    observe(&m.request_time[route], ns);
}

void srv_metrics_cat_op(enum srv_cat_op op, int64_t ns)
{
    observe(&m.cat[op], ns);
}

void srv_metrics_blob_op(enum srv_blob_op op, int64_t ns)
{
    observe(&m.blob[op], ns);
}

void srv_metrics_sse_events(uint64_t n)
{
    atomic_fetch_add_explicit(&m.sse_events, n, memory_order_relaxed);
}

void srv_metrics_sse_bytes(uint64_t n)
{
    atomic_fetch_add_explicit(&m.sse_bytes, n, memory_order_relaxed);
}

void srv_metrics_sse_overflow(void)
{
    atomic_fetch_add_explicit(&m.sse_overflows, 1, memory_order_relaxed);
}

void srv_metrics_change_retry(void)
{
    atomic_fetch_add_explicit(&m.change_retries, 1, memory_order_relaxed);
}

void srv_metrics_push_bytes(uint64_t n)
{
    atomic_fetch_add_explicit(&m.push_bytes, n, memory_order_relaxed);
}

void srv_metrics_commit(const char *result)
{
    for (size_t i = 0; i < NCR; i++)
        if (!strcmp(commit_results[i], result))
            atomic_fetch_add_explicit(&m.commits[i], 1, memory_order_relaxed);
}

static uint64_t get(atomic_uint_fast64_t *a)
{
    return atomic_load_explicit(a, memory_order_relaxed);
}

static void histo_text(cd_buf *b, const char *name, const char *labels, histo *h)
{
    uint64_t cum = 0;
    for (int i = 0; i <= NB; i++) {
        cum += get(&h->b[i]);
        if (i < NB)
            cd_buf_printf(b, "%s_bucket{%s,le=\"%g\"} %llu\n", name, labels, bucket_s[i],
                          (unsigned long long)cum);
        else
            cd_buf_printf(b, "%s_bucket{%s,le=\"+Inf\"} %llu\n", name, labels,
                          (unsigned long long)cum);
    }
    cd_buf_printf(b, "%s_sum{%s} %.9f\n", name, labels, (double)get(&h->sum_ns) / 1e9);
    cd_buf_printf(b, "%s_count{%s} %llu\n", name, labels, (unsigned long long)cum);
}

static bool histo_empty(histo *h)
{
    for (int i = 0; i <= NB; i++)
        if (get(&h->b[i]))
            return false;
    return true;
}

static void requests_text(cd_buf *b)
{
    cd_buf_puts(b, "# HELP contentd_http_requests_total HTTP requests by route, method-agnostic, "
                   "and status.\n# TYPE contentd_http_requests_total counter\n");
    for (int r = 0; r < SRV_R_COUNT; r++)
        for (size_t i = 0; i < NS; i++) {
            uint64_t v = get(&m.requests[r][i]);
            if (!v)
                continue;
            char st[8];
            snprintf(st, sizeof st, "%u", statuses[i]);
            cd_buf_printf(b, "contentd_http_requests_total{route=\"%s\",status=\"%s\"} %llu\n",
                          srv_route_label((srv_route)r), statuses[i] ? st : "other",
                          (unsigned long long)v);
        }
    cd_buf_puts(b, "# HELP contentd_http_request_duration_seconds Time from the request's "
                   "first byte to its completion (event streams: their lifetime).\n"
                   "# TYPE contentd_http_request_duration_seconds histogram\n");
    for (int r = 0; r < SRV_R_COUNT; r++) {
        if (histo_empty(&m.request_time[r]))
            continue;
        char labels[96];
        snprintf(labels, sizeof labels, "route=\"%s\"", srv_route_label((srv_route)r));
        histo_text(b, "contentd_http_request_duration_seconds", labels, &m.request_time[r]);
    }
}

/* The latency histogram `name` of a store: one series per operation,
 * labelled op="NAME" (ops[i] for h[i]), empty ones included. */
static void op_histos(cd_buf *b, const char *name, const char *help, const char *const *ops,
                      histo *h, int n)
{
    cd_buf_printf(b, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
    for (int i = 0; i < n; i++) {
        char labels[64];
        snprintf(labels, sizeof labels, "op=\"%s\"", ops[i]);
        histo_text(b, name, labels, &h[i]);
    }
}

static void storage_text(cd_buf *b)
{
    op_histos(b, "contentd_catalog_op_duration_seconds", "Catalog call latency.", cat_ops, m.cat,
              SRV_CAT_OP_COUNT);
    op_histos(b, "contentd_blobstore_op_duration_seconds", "Blob store call latency.", blob_ops,
              m.blob, SRV_BLOB_OP_COUNT);
}

static void counter(cd_buf *b, const char *name, const char *help, uint64_t v)
{
    cd_buf_printf(b, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help, name, name,
                  (unsigned long long)v);
}

static void gauge(cd_buf *b, const char *name, const char *help, uint64_t v)
{
    cd_buf_printf(b, "# HELP %s %s\n# TYPE %s gauge\n%s %llu\n", name, help, name, name,
                  (unsigned long long)v);
}

/* The change-stream watcher of the catalog (MongoDB only: a backend without
 * one exports none of these).  Lags are milliseconds in the catalog,
 * seconds here, as every duration of this exposition. */
static void watch_text(srv *s, cd_buf *b)
{
    catalog_watch_stats w;
    if (!catalog_watch_stats_get(s->cat, &w))
        return;
    gauge(b, "contentd_catalog_watch_running", "1 while the catalog's change-stream watcher runs.",
          w.running);
    gauge(b, "contentd_catalog_watch_connected", "1 while the change stream is open.", w.connected);
    counter(b, "contentd_catalog_watch_events_total", "Change events applied.", w.events);
    counter(b, "contentd_catalog_watch_announced_total",
            "Changes handed to the event hub from the change stream.", w.announced);
    counter(b, "contentd_catalog_watch_announced_local_total",
            "Changes handed to the event hub at once by this replica's own writes.",
            w.announced_local);
    counter(b, "contentd_catalog_watch_resumes_total",
            "Change stream re-opened from its resume token.", w.resumes);
    counter(b, "contentd_catalog_watch_resyncs_total",
            "Change stream re-opened from now after the catalog was re-read (history "
            "lost, invalidate, non-resumable error).",
            w.resyncs);
    counter(b, "contentd_catalog_watch_errors_total", "Change stream errors of any kind.",
            w.errors);
    cd_buf_puts(b, "# HELP contentd_catalog_watch_lag_seconds Time from a version's commit (on "
                   "the committing replica's clock) to its announcement here.\n"
                   "# TYPE contentd_catalog_watch_lag_seconds histogram\n");
    for (int i = 0; i < CATALOG_LAG_BUCKETS - 1; i++)
        cd_buf_printf(b, "contentd_catalog_watch_lag_seconds_bucket{le=\"%g\"} %llu\n",
                      (double)catalog_lag_bounds_ms[i] / 1000.0,
                      (unsigned long long)w.lag_buckets[i]);
    cd_buf_printf(b, "contentd_catalog_watch_lag_seconds_bucket{le=\"+Inf\"} %llu\n",
                  (unsigned long long)w.lag_buckets[CATALOG_LAG_BUCKETS - 1]);
    cd_buf_printf(b, "contentd_catalog_watch_lag_seconds_sum %.3f\n",
                  (double)w.lag_ms_sum / 1000.0);
    cd_buf_printf(b, "contentd_catalog_watch_lag_seconds_count %llu\n",
                  (unsigned long long)w.lag_count);
    cd_buf_printf(b,
                  "# HELP contentd_catalog_watch_lag_max_seconds The largest lag seen.\n"
                  "# TYPE contentd_catalog_watch_lag_max_seconds gauge\n"
                  "contentd_catalog_watch_lag_max_seconds %.3f\n",
                  (double)w.lag_ms_max / 1000.0);
}

void srv_metrics_render(srv *s, cd_buf *b)
{
    cd_buf_printf(b,
                  "# HELP contentd_build_info The running version.\n"
                  "# TYPE contentd_build_info gauge\ncontentd_build_info{version=\"%s\"} 1\n",
                  CONTENTD_VERSION);
    requests_text(b);
    int64_t item_subs = 0, global_subs = 0;
    srv_hub_counts(s->hub, &item_subs, &global_subs);
    cd_buf_puts(b, "# HELP contentd_sse_subscribers Open event streams.\n"
                   "# TYPE contentd_sse_subscribers gauge\n");
    cd_buf_printf(b, "contentd_sse_subscribers{stream=\"item\"} %lld\n", (long long)item_subs);
    cd_buf_printf(b, "contentd_sse_subscribers{stream=\"global\"} %lld\n", (long long)global_subs);
    counter(b, "contentd_sse_events_sent_total",
            "Events queued to subscribers (one per "
            "subscriber per event, keep-alives included).",
            get(&m.sse_events));
    counter(b, "contentd_sse_bytes_sent_total", "Event-stream bytes handed to the sockets.",
            get(&m.sse_bytes));
    counter(b, "contentd_sse_overflow_disconnects_total",
            "Subscribers disconnected because their queue overflowed.", get(&m.sse_overflows));
    counter(b, "contentd_sse_change_retries_total",
            "Changes the event hub could not read from the catalog at once and retried.",
            get(&m.change_retries));
    counter(b, "contentd_push_bytes_total", "Blob bytes received by PUT /api/v1/blobs.",
            get(&m.push_bytes));
    cd_buf_puts(b, "# HELP contentd_commits_total Commits by outcome.\n"
                   "# TYPE contentd_commits_total counter\n");
    for (size_t i = 0; i < NCR; i++)
        cd_buf_printf(b, "contentd_commits_total{result=\"%s\"} %llu\n", commit_results[i],
                      (unsigned long long)get(&m.commits[i]));
    uint64_t hits, misses, bytes, entries;
    srv_render_cache_stats(s->rc, &hits, &misses, &bytes, &entries);
    counter(b, "contentd_render_cache_hits_total", "AST lookups served from the cache.", hits);
    counter(b, "contentd_render_cache_misses_total", "Markdown blobs rendered.", misses);
    gauge(b, "contentd_render_cache_bytes", "Bytes of AST JSON held by the cache.", bytes);
    gauge(b, "contentd_render_cache_entries", "ASTs held by the cache.", entries);
    storage_text(b);
    watch_text(s, b);
}
