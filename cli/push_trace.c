/* SPDX-License-Identifier: MIT */
/*
 * The per-save debug line of `content push --watch` (CONTENT_LOG_LEVEL=
 * debug; docs/watch.md, "Diagnosing a save"), the client's counterpart of
 * the server's `mod=watch msg=save` line: which batches of the watcher a
 * push answered, what it sent (path, size and SHA-256 prefix of each new
 * or changed file, so it can be compared with the saved bytes), the
 * version it made, and when each step ended, in ms after the batch's first
 * inotify event — hashed, the PUTs answered, the POST of the version
 * answered.  event_at is that event on the wall clock, to line the line up
 * with the server's and a bench's own times.
 */
#include "cli_int.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TRACE_MAX_CHANGES 8

static int by_path(const void *key, const void *elem)
{
    return strcmp(key, ((const folder_file *)elem)->path);
}

/* ` path:size:sha256[0:12]` of each added or modified file (the first
 * TRACE_MAX_CHANGES, then `+N`), `-path` of each removed one. */
static void changes(cd_buf *out, const folder_tree *t, const cli_push_diff *d)
{
    cd_buf c = CD_BUF_INIT;
    size_t shown = 0, total = d->nadded + d->nmodified + d->nremoved;
    const char **lists[] = {d->added, d->modified};
    size_t counts[] = {d->nadded, d->nmodified};
    for (size_t l = 0; l < 2; l++)
        for (size_t i = 0; i < counts[l] && shown < TRACE_MAX_CHANGES; i++, shown++) {
            const folder_file *f = bsearch(lists[l][i], t->files, t->n, sizeof *t->files, by_path);
            cd_buf_printf(&c, "%s%s:%lld:%.12s", shown ? "," : "", lists[l][i],
                          (long long)(f ? f->size : -1), f ? f->sha256 : "");
        }
    for (size_t i = 0; i < d->nremoved && shown < TRACE_MAX_CHANGES; i++, shown++)
        cd_buf_printf(&c, "%s-%s", shown ? "," : "", d->removed[i]);
    if (total > shown)
        cd_buf_printf(&c, "%s+%zu", shown ? "," : "", total - shown);
    cd_log_kv(out, "changes", c.len ? c.data : "");
    cd_buf_free(&c);
}

/* ` KEY=MS`: t (monotonic ns) in ms after t0, when t was reached. */
static void step(cd_buf *b, const char *key, int64_t t0, int64_t t)
{
    if (t)
        cd_buf_printf(b, " %s=%.2f", key, (double)(t - t0) / 1e6);
}

void cli_push_trace(const char *kind, const char *name, int rc, int64_t version,
                    const folder_tree *t, const cli_push_diff *d, const cli_push_round *round,
                    const cli_push_times *times)
{
    bool batch = round && round->first && round->event_ns;
    int64_t t0 = batch ? round->event_ns : times->started;
    struct timespec rt;
    clock_gettime(CLOCK_REALTIME, &rt);
    double at_ms =
        (double)rt.tv_sec * 1e3 + (double)rt.tv_nsec / 1e6 - (double)(cd_mono_ns() - t0) / 1e6;
    cd_buf b = CD_BUF_INIT;
    char item[CD_KIND_MAX + CD_NAME_MAX + 2];
    snprintf(item, sizeof item, "%s/%s", kind, name);
    cd_log_kv(&b, "item", item);
    cd_buf_printf(&b, " status=%s version=%lld changed=%s", rc == CLI_OK ? "ok" : "failed",
                  (long long)version, cli_push_diff_empty(d) ? "false" : "true");
    if (batch)
        cd_buf_printf(&b, " batches=%llu-%llu", (unsigned long long)round->first,
                      (unsigned long long)round->last);
    else
        cd_buf_puts(&b, " batches=none");
    changes(&b, t, d);
    cd_buf_printf(&b, " event_at=%.3f", at_ms);
    step(&b, "started_ms", t0, times->started);
    step(&b, "hashed_ms", t0, times->hashed);
    step(&b, "put_ms", t0, times->put);
    step(&b, "posted_ms", t0, times->posted);
    cd_log("debug", "push", "msg=save%s", b.data);
    cd_buf_free(&b);
}
