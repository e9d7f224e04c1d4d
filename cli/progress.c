/* SPDX-License-Identifier: MIT */
/*
 * Progress of long transfers on stderr: files, bytes and rate.  On a
 * terminal, a bar redrawn at most ten times a second once the work has
 * lasted 300 ms; otherwise (a log, a pipe) a plain line every few seconds
 * once it has lasted one.  Quick transfers show nothing at all, so scripts
 * see only the command's result lines.
 */
#include "cli_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define SHOW_AFTER  0.3 /* seconds, terminal */
#define REDRAW_GAP  0.1
#define PLAIN_AFTER 1.0 /* seconds, not a terminal */
#define PLAIN_GAP   3.0
#define BAR_WIDTH   24

struct cli_progress {
    const char *verb;
    size_t files;
    int64_t bytes;
    double start, last_draw;
    bool tty, shown;
};

static double now_s(void)
{
    return (double)cd_mono_ns() / 1e9;
}

const char *cli_human_bytes(double bytes, char buf[32])
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    size_t u = 0;
    while (bytes >= 1024 && u < 4)
        bytes /= 1024, u++;
    if (u == 0)
        snprintf(buf, 32, "%.0f B", bytes);
    else
        snprintf(buf, 32, "%.1f %s", bytes, units[u]);
    return buf;
}

cli_progress *cli_progress_new(const char *verb, size_t files, int64_t bytes)
{
    cli_progress *p = cd_xcalloc(1, sizeof *p);
    p->verb = verb;
    p->files = files;
    p->bytes = bytes;
    p->start = now_s();
    p->tty = isatty(STDERR_FILENO);
    return p;
}

static void draw(cli_progress *p, size_t files_done, int64_t bytes_done, double t)
{
    double frac = p->bytes > 0 ? (double)bytes_done / (double)p->bytes : 1.0;
    if (frac > 1)
        frac = 1;
    char bar[BAR_WIDTH + 1];
    int fill = (int)(frac * BAR_WIDTH);
    for (int i = 0; i < BAR_WIDTH; i++)
        bar[i] = i < fill ? '#' : '-';
    bar[BAR_WIDTH] = '\0';
    char done[32], total[32], rate[32];
    double secs = t - p->start;
    cli_human_bytes((double)bytes_done, done);
    cli_human_bytes((double)p->bytes, total);
    cli_human_bytes(secs > 0 ? (double)bytes_done / secs : 0, rate);
    fprintf(stderr, "\r\033[K%s [%s] %zu/%zu files  %s / %s  %s/s", p->verb, bar, files_done,
            p->files, done, total, rate);
    fflush(stderr);
    p->shown = true;
    p->last_draw = t;
}

static void plain_line(cli_progress *p, size_t files_done, int64_t bytes_done, double t)
{
    char done[32], total[32];
    fprintf(stderr, "content: %s: %zu/%zu files, %s / %s\n", p->verb, files_done, p->files,
            cli_human_bytes((double)bytes_done, done), cli_human_bytes((double)p->bytes, total));
    p->last_draw = t;
}

void cli_progress_update(cli_progress *p, size_t files_done, int64_t bytes_done)
{
    if (!p)
        return;
    double t = now_s();
    if (!p->tty) {
        if (t - p->start >= PLAIN_AFTER && t - p->last_draw >= PLAIN_GAP)
            plain_line(p, files_done, bytes_done, t);
        return;
    }
    if (t - p->start < SHOW_AFTER || t - p->last_draw < REDRAW_GAP)
        return;
    draw(p, files_done, bytes_done, t);
}

void cli_progress_end(cli_progress *p)
{
    if (!p)
        return;
    if (p->shown) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
    }
    free(p);
}
