/* SPDX-License-Identifier: MIT */
/*
 * Latency histograms for /metrics: fixed buckets from 100 µs to 10 s,
 * updated with relaxed atomics from any thread, written in Prometheus's
 * text format.  Each module keeps the histograms of its own calls; the
 * metrics endpoint only writes them out.
 */
#include "common.h"

#include <stdio.h>

const double cd_histo_bounds_s[CD_HISTO_BUCKETS] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                    0.01,   0.025,   0.05,   0.1,   0.25,   0.5,
                                                    1,      2.5,     5,      10};

void cd_histo_observe(cd_histo *h, int64_t ns)
{
    double s = (double)ns / 1e9;
    int i = 0;
    while (i < CD_HISTO_BUCKETS && s > cd_histo_bounds_s[i])
        i++;
    atomic_fetch_add_explicit(&h->b[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->sum_ns, (uint64_t)(ns > 0 ? ns : 0), memory_order_relaxed);
}

static uint64_t get(const atomic_uint_fast64_t *a)
{
    return atomic_load_explicit(a, memory_order_relaxed);
}

bool cd_histo_empty(const cd_histo *h)
{
    for (int i = 0; i <= CD_HISTO_BUCKETS; i++)
        if (get(&h->b[i]))
            return false;
    return true;
}

void cd_histo_text(cd_buf *b, const char *name, const char *labels, const cd_histo *h)
{
    uint64_t cum = 0;
    for (int i = 0; i <= CD_HISTO_BUCKETS; i++) {
        cum += get(&h->b[i]);
        if (i < CD_HISTO_BUCKETS)
            cd_buf_printf(b, "%s_bucket{%s,le=\"%g\"} %llu\n", name, labels, cd_histo_bounds_s[i],
                          (unsigned long long)cum);
        else
            cd_buf_printf(b, "%s_bucket{%s,le=\"+Inf\"} %llu\n", name, labels,
                          (unsigned long long)cum);
    }
    cd_buf_printf(b, "%s_sum{%s} %.9f\n", name, labels, (double)get(&h->sum_ns) / 1e9);
    cd_buf_printf(b, "%s_count{%s} %llu\n", name, labels, (unsigned long long)cum);
}
