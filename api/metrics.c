/* SPDX-License-Identifier: MIT */
/*
 * Prometheus metrics: process-wide counters and histograms, updated with
 * relaxed atomics from any thread, and their text exposition for
 * GET /metrics.  The names are listed in docs/api.md.
 */
#include "api.h"

#include <string.h>

static atomic_uint_fast64_t push_bytes;

void api_count_push(uint64_t n)
{
    atomic_fetch_add_explicit(&push_bytes, n, memory_order_relaxed);
}

uint64_t api_push_bytes(void)
{
    return atomic_load_explicit(&push_bytes, memory_order_relaxed);
}

static void requests_text(cd_buf *b)
{
    cd_buf_puts(b, "# HELP contentd_http_requests_total HTTP requests by route, method-agnostic, "
                   "and status.\n# TYPE contentd_http_requests_total counter\n");
    for (unsigned r = 0; r < http_route_count(); r++)
        for (int i = 0; i < HTTP_STATUSES; i++) {
            uint64_t v = http_requests(r, i);
            if (!v)
                continue;
            char st[8];
            snprintf(st, sizeof st, "%u", http_statuses[i]);
            cd_buf_printf(b, "contentd_http_requests_total{route=\"%s\",status=\"%s\"} %llu\n",
                          http_route_label(r), http_statuses[i] ? st : "other",
                          (unsigned long long)v);
        }
    cd_buf_puts(b, "# HELP contentd_http_request_duration_seconds Time from the request's "
                   "first byte to its completion (event streams: their lifetime).\n"
                   "# TYPE contentd_http_request_duration_seconds histogram\n");
    for (unsigned r = 0; r < http_route_count(); r++) {
        if (cd_histo_empty(http_request_time(r)))
            continue;
        char labels[96];
        snprintf(labels, sizeof labels, "route=\"%s\"", http_route_label(r));
        cd_histo_text(b, "contentd_http_request_duration_seconds", labels, http_request_time(r));
    }
}

/* The latency histograms of the two stores, which time their own calls:
 * one series per operation, labelled op="NAME", empty ones included. */
static void storage_text(api_ctx *s, cd_buf *b)
{
    cd_door_text(b, "contentd_catalog_op_duration_seconds", "Catalog call latency.",
                 catalog_door(s->cat));
    cd_door_text(b, "contentd_blobstore_op_duration_seconds", "Blob store call latency.",
                 blobstore_door(s->bs));
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
static void watch_text(api_ctx *s, cd_buf *b)
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

void api_metrics_render(api_ctx *s, cd_buf *b)
{
    cd_buf_printf(b,
                  "# HELP contentd_build_info The running version.\n"
                  "# TYPE contentd_build_info gauge\ncontentd_build_info{version=\"%s\"} 1\n",
                  CONTENTD_VERSION);
    requests_text(b);
    hub_stats hs;
    hub_stats_get(s->hub, &hs);
    int64_t item_subs = hs.item_subs, global_subs = hs.global_subs;
    cd_buf_puts(b, "# HELP contentd_sse_subscribers Open event streams.\n"
                   "# TYPE contentd_sse_subscribers gauge\n");
    cd_buf_printf(b, "contentd_sse_subscribers{stream=\"item\"} %lld\n", (long long)item_subs);
    cd_buf_printf(b, "contentd_sse_subscribers{stream=\"global\"} %lld\n", (long long)global_subs);
    counter(b, "contentd_sse_events_sent_total",
            "Events queued to subscribers (one per "
            "subscriber per event, keep-alives included).",
            hs.events);
    counter(b, "contentd_sse_bytes_sent_total", "Event-stream bytes handed to the sockets.",
            http_sse_bytes());
    counter(b, "contentd_sse_overflow_disconnects_total",
            "Subscribers disconnected because their queue overflowed.", hs.overflows);
    counter(b, "contentd_sse_change_retries_total",
            "Changes the event hub could not read from the catalog at once and retried.",
            hs.change_retries);
    counter(b, "contentd_push_bytes_total", "Blob bytes received by PUT /api/v1/blobs.",
            api_push_bytes());
    cd_buf_puts(b, "# HELP contentd_commits_total Commits by outcome.\n"
                   "# TYPE contentd_commits_total counter\n");
    for (int i = 0; i < COMMIT_OUTCOMES; i++)
        cd_buf_printf(b, "contentd_commits_total{result=\"%s\"} %llu\n", commit_outcomes[i],
                      (unsigned long long)commit_count(s->commit, i));
    uint64_t hits, misses, bytes, entries;
    commit_render_stats(s->commit, &hits, &misses, &bytes, &entries);
    counter(b, "contentd_render_cache_hits_total", "AST lookups served from the cache.", hits);
    counter(b, "contentd_render_cache_misses_total", "Markdown blobs rendered.", misses);
    gauge(b, "contentd_render_cache_bytes", "Bytes of AST JSON held by the cache.", bytes);
    gauge(b, "contentd_render_cache_entries", "ASTs held by the cache.", entries);
    storage_text(s, b);
    watch_text(s, b);
}
