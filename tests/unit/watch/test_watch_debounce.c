/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of watch/'s batching: the quiet window and the maximum delay
 * (measured with CLOCK_MONOTONIC and asserted loosely: these run under ASan
 * on shared machines), a `git checkout`-sized burst of 500 rewrites folding
 * into a few batches, and an event-queue overflow turning into a rescan
 * rather than lost changes.  Short sleeps here only shape the timing of the
 * writes; every wait for the watcher is a condition with a deadline.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "watch_test_util.h"

#define NONE ((size_t)-1)
#define MS   1000000LL
/* Scheduling slack allowed on top of a promised delay. */
#define SLACK_MS 250

static size_t expect_path(fx *f, size_t from, const char *path)
{
    size_t i = rec_wait_path(&f->r, from, path, WAIT_MS);
    if (i == NONE)
        fail_msg("no batch listed %s", path);
    return i;
}

/* One save: the batch comes once the quiet window has passed, not before,
 * and not much later. */
static void check_single_save(fx *f, const char *name, int quiet_ms)
{
    char rel[64];
    snprintf(rel, sizeof rel, "root/%s", name);
    size_t from = rec_count(&f->r);
    int64_t t0 = now_ns();
    put(f, rel, "saved\n");
    size_t i = expect_path(f, from, name);
    rbatch b = rec_get(&f->r, i);
    int64_t latency = b.at_ns - t0;
    print_message("# %s: save to batch %.1f ms (quiet window %d ms)\n", name, (double)latency / MS,
                  quiet_ms);
    assert_true(latency >= quiet_ms * MS);
    assert_true(b.at_ns - b.first_ns >= quiet_ms * MS);
    assert_true(latency < (quiet_ms + SLACK_MS) * MS);
}

static void test_quiet_window_default(void **state)
{
    fx *f = *state;
    fx_start(f, NULL);
    char name[32];
    for (int i = 0; i < 5; i++) {
        snprintf(name, sizeof name, "save%d.md", i);
        check_single_save(f, name, 50);
    }
}

/* Writes root/stream.md every period_ms for total_ms, then checks that
 * batches kept coming at least every max_ms (+ slack) meanwhile. */
static void check_stream(fx *f, int period_ms, int total_ms, int max_ms)
{
    size_t from = rec_count(&f->r);
    int64_t start = now_ns(), end = start + (int64_t)total_ms * MS;
    char text[32];
    for (int n = 0; now_ns() < end; n++) {
        snprintf(text, sizeof text, "%d\n", n);
        put(f, "root/stream.md", text);
        sleep_ms(period_ms);
    }
    int64_t stop = now_ns();
    /* The last writes' batch closes the stream. */
    size_t last = sentinel(f, "stream-end");
    int64_t prev = start;
    size_t during = 0;
    for (size_t i = from; i <= last; i++) {
        rbatch b = rec_get(&f->r, i);
        if (b.at_ns > stop)
            break;
        int64_t gap = b.at_ns - prev;
        assert_true(gap <= (max_ms + SLACK_MS) * MS);
        assert_true(b.at_ns - b.first_ns <= (max_ms + SLACK_MS) * MS);
        prev = b.at_ns;
        during++;
    }
    assert_true(stop - prev <= (max_ms + SLACK_MS) * MS);
    print_message(
        "# stream every %d ms for %d ms: %zu batches, one every %.0f ms (max delay %d ms)\n",
        period_ms, total_ms, during, during ? (double)(prev - start) / (double)during / MS : 0.0,
        max_ms);
    assert_true(during >= (size_t)(total_ms / (max_ms + SLACK_MS)));
}

static void test_max_delay_default(void **state)
{
    fx *f = *state;
    fx_start(f, NULL);
    check_stream(f, 10, 2000, 500);
}

static void test_configured_windows(void **state)
{
    fx *f = *state;
    watch_options opt = {.quiet_ms = 20, .max_delay_ms = 100};
    fx_start(f, &opt);
    check_single_save(f, "one.md", 20);
    check_stream(f, 5, 1000, 100);
}

/* Saves closer together than the quiet window are one batch; saves further
 * apart than it are two. */
static void test_quiet_window_groups(void **state)
{
    fx *f = *state;
    watch_options opt = {.quiet_ms = 300, .max_delay_ms = 5000};
    fx_start(f, &opt);
    char rel[32];
    for (int i = 0; i < 5; i++) {
        snprintf(rel, sizeof rel, "root/g%d.md", i);
        put(f, rel, "x\n");
        sleep_ms(20);
    }
    size_t i = expect_path(f, 0, "g4.md");
    for (int k = 0; k < 4; k++) {
        snprintf(rel, sizeof rel, "g%d.md", k);
        assert_int_equal(rec_find(&f->r, 0, rel), i);
    }
    put(f, "root/h1.md", "x\n");
    size_t j = expect_path(f, i + 1, "h1.md");
    put(f, "root/h2.md", "x\n");
    assert_true(expect_path(f, j + 1, "h2.md") > j);
}

/* A `git checkout` of 500 files (half rewritten in place, half removed and
 * created again): a few batches at most, every path in them. */
static void test_burst_of_500(void **state)
{
    fx *f = *state;
    char rel[64], want[64];
    for (int d = 0; d < 10; d++) {
        snprintf(rel, sizeof rel, "root/d%d", d);
        mkdir_in(f, rel);
    }
    for (int i = 0; i < 500; i++) {
        snprintf(rel, sizeof rel, "root/d%d/f%03d.md", i % 10, i);
        put(f, rel, "before\n");
    }
    fx_start(f, NULL);
    int64_t t0 = now_ns();
    for (int i = 0; i < 500; i++) {
        snprintf(rel, sizeof rel, "root/d%d/f%03d.md", i % 10, i);
        if (i % 2)
            unlink_in(f, rel);
        put(f, rel, "after\n");
    }
    size_t last = 0;
    for (int i = 0; i < 500; i++) {
        snprintf(want, sizeof want, "d%d/f%03d.md", i % 10, i);
        size_t k = expect_path(f, 0, want);
        last = k > last ? k : last;
    }
    print_message("# 500 rewrites in %.1f ms: %zu batches\n",
                  (double)(rec_get(&f->r, last).at_ns - t0) / MS, last + 1);
    assert_true(last + 1 <= 3);
}

/* Complete saves ---------------------------------------------------------- */

/* The quiet window of the tests below: long, so that "at once" and "after
 * the window" stay far apart on a loaded machine. */
#define LONG_QUIET_MS 1500

/* Waits for a batch listing name (from batch `from` on) and returns how long
 * after t0 it came. */
static int64_t batch_after(fx *f, size_t from, const char *name, int64_t t0, size_t *at)
{
    size_t i = expect_path(f, from, name);
    if (at)
        *at = i;
    return rec_get(&f->r, i).at_ns - t0;
}

/* An existing file written and closed, and a file renamed into place over an
 * existing one, after a quiet folder: each is delivered at once, not after
 * the quiet window. */
static void test_complete_save_at_once(void **state)
{
    fx *f = *state;
    put(f, "root/inplace.md", "before\n");
    put(f, "root/atomic.md", "before\n");
    watch_options opt = {.quiet_ms = LONG_QUIET_MS, .max_delay_ms = 5000};
    fx_start(f, &opt);

    int64_t t0 = now_ns();
    put(f, "root/inplace.md", "after\n");
    int64_t inplace = batch_after(f, 0, "inplace.md", t0, NULL);

    /* The folder goes quiet again before the next save. */
    sleep_ms(LONG_QUIET_MS + 100);
    size_t from = rec_count(&f->r);
    t0 = now_ns();
    put(f, "root/.atomic.md.tmp", "after\n");
    rename_in(f, "root/.atomic.md.tmp", "root/atomic.md");
    size_t at;
    int64_t atomic = batch_after(f, from, "atomic.md", t0, &at);
    assert_int_equal(rec_find(&f->r, from, ".atomic.md.tmp"), NONE);
    print_message("# complete saves: in place %.1f ms, renamed into place %.1f ms "
                  "(quiet window %d ms)\n",
                  (double)inplace / MS, (double)atomic / MS, LONG_QUIET_MS);
    assert_true(inplace < LONG_QUIET_MS / 2 * MS);
    assert_true(atomic < LONG_QUIET_MS / 2 * MS);
}

/* A file written and not closed yet is not a complete save: it waits for the
 * window; its close then completes it. */
static void test_open_write_waits(void **state)
{
    fx *f = *state;
    put(f, "root/half.md", "before\n");
    watch_options opt = {.quiet_ms = LONG_QUIET_MS, .max_delay_ms = 5000};
    fx_start(f, &opt);
    char *p = fx_path(f, "root/half.md");
    int fd = open(p, O_WRONLY | O_TRUNC);
    assert_true(fd >= 0);
    int64_t t0 = now_ns();
    assert_int_equal(write(fd, "half", 4), 4);
    size_t i;
    int64_t open_write = batch_after(f, 0, "half.md", t0, &i);
    assert_true(open_write >= LONG_QUIET_MS * MS);
    t0 = now_ns();
    assert_int_equal(write(fd, " and the rest\n", 14), 14);
    assert_int_equal(close(fd), 0);
    free(p);
    int64_t closed = batch_after(f, i + 1, "half.md", t0, NULL);
    print_message("# written, not closed: %.1f ms; then closed: %.1f ms (quiet window %d ms)\n",
                  (double)open_write / MS, (double)closed / MS, LONG_QUIET_MS);
    /* The close came after a quiet window: that save is complete. */
    assert_true(closed < LONG_QUIET_MS / 2 * MS);
}

/* A new file may be an editor's temporary file, gone in a moment: it waits
 * for the window (check_single_save above, every save a new file); so does a
 * deletion. */
static void test_delete_waits(void **state)
{
    fx *f = *state;
    put(f, "root/gone.md", "before\n");
    watch_options opt = {.quiet_ms = LONG_QUIET_MS, .max_delay_ms = 5000};
    fx_start(f, &opt);
    int64_t t0 = now_ns();
    unlink_in(f, "root/gone.md");
    assert_true(batch_after(f, 0, "gone.md", t0, NULL) >= LONG_QUIET_MS * MS);
}

/* Atomic saves with a slow writer ------------------------------------------ */

/* The temporary names editors and libraries write before renaming over the
 * target: a random suffix (Python's tempfile, atomicwrites, VS Code),
 * vim's swap and backup names, Emacs' lock name, a `.tmp` suffix. */
static const char *const temp_names[] = {
    "a.png.522dd26a", ".a.png.swp", "a.png~", ".#a.png", "a.png.tmp",
};

/* Creates root/<tmp> and writes it, holds the close back for hold_ms (a
 * slow fsync on a loaded disk), closes it, holds the rename back for
 * rename_ms, and renames it over root/a.png. */
static void slow_atomic_save(fx *f, const char *tmp, int hold_ms, int rename_ms)
{
    char rel[96];
    snprintf(rel, sizeof rel, "root/%s", tmp);
    char *p = fx_path(f, rel);
    int fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd < 0)
        fail_msg("open %s: %s", p, strerror(errno));
    assert_int_equal(write(fd, "\x89PNG new", 8), 8);
    sleep_ms(hold_ms);
    assert_int_equal(close(fd), 0);
    free(p);
    sleep_ms(rename_ms);
    rename_in(f, rel, "root/a.png");
}

/* An atomic save whose temporary file stays open longer than the quiet
 * window: the batch holds while the new file is open, and the temporary
 * file, renamed away, is in no batch at all. */
static void test_slow_temp_file_never_delivered(void **state)
{
    fx *f = *state;
    put(f, "root/a.png", "\x89PNG old");
    watch_options opt = {.quiet_ms = 100, .max_delay_ms = 5000};
    fx_start(f, &opt);
    for (size_t k = 0; k < sizeof temp_names / sizeof *temp_names; k++) {
        size_t from = rec_count(&f->r);
        slow_atomic_save(f, temp_names[k], 300, 10);
        size_t i = expect_path(f, from, "a.png");
        sentinel(f, "sentinel.md");
        size_t leaked = rec_find(&f->r, from, temp_names[k]);
        if (leaked != NONE)
            fail_msg("batch %zu published the temporary file %s", leaked, temp_names[k]);
        print_message("# slow atomic save through %s: a.png in batch %zu, temporary file in none\n",
                      temp_names[k], i - from);
    }
}

/* The maximum delay may split a slow atomic save: the batch of the
 * temporary file's creation goes while it is open.  Its close-write, in the
 * next batch, is still a new file's: it waits for the window, by when the
 * rename has come, so the close never goes alone. */
static void test_new_file_closed_in_a_later_batch_waits(void **state)
{
    fx *f = *state;
    put(f, "root/a.png", "\x89PNG old");
    watch_options opt = {.quiet_ms = 300, .max_delay_ms = 400};
    fx_start(f, &opt);
    slow_atomic_save(f, "a.png.522dd26a", 700, 60);
    size_t i = expect_path(f, 0, "a.png");
    rbatch b = rec_get(&f->r, i);
    for (size_t k = 0; k < i; k++) {
        rbatch e = rec_get(&f->r, k);
        /* Only the batch cut by the maximum delay may precede the rename's. */
        if (k > 0 || e.at_ns - e.first_ns < 390 * MS)
            fail_msg("batch %zu of %zu came before the rename and not at the maximum delay", k, i);
    }
    print_message("# close-write in a later batch: a.png in batch %zu, %zu paths\n", i, b.n);
}

/* A save at once, then a burst within the window (a checkout): the burst
 * folds into the next batch, which waits for the quiet window. */
static void test_burst_after_save_folds(void **state)
{
    fx *f = *state;
    char rel[64], want[64];
    for (int i = 0; i < 100; i++) {
        snprintf(rel, sizeof rel, "root/b%03d.md", i);
        put(f, rel, "before\n");
    }
    watch_options opt = {.quiet_ms = 300, .max_delay_ms = 5000};
    fx_start(f, &opt);
    int64_t t0 = now_ns();
    put(f, "root/b000.md", "after\n");
    size_t first = expect_path(f, 0, "b000.md");
    int64_t first_ms = (rec_get(&f->r, first).at_ns - t0) / MS;
    for (int i = 1; i < 100; i++) {
        snprintf(rel, sizeof rel, "root/b%03d.md", i);
        put(f, rel, "after\n");
    }
    int64_t t_end = now_ns();
    size_t last = 0;
    for (int i = 1; i < 100; i++) {
        snprintf(want, sizeof want, "b%03d.md", i);
        size_t k = expect_path(f, 0, want);
        last = k > last ? k : last;
    }
    print_message("# save at once (%lld ms), then 99 rewrites: %zu batches\n", (long long)first_ms,
                  last + 1);
    assert_true(last + 1 <= 3);
    /* The burst's last batch waited for the window after the last write. */
    assert_true(rec_get(&f->r, last).at_ns - t_end >= 300 * MS);
}

/* Overflow ----------------------------------------------------------------- */

/* The ignore callback runs on the inotify thread: holding it on the path
 * "gate" stops all reading while the test fills the kernel's queue. */
static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool entered, open;
} gate = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, false};

static bool hold_at_gate(void *arg, const char *rel, bool is_dir)
{
    (void)arg;
    (void)is_dir;
    if (strcmp(rel, "gate") != 0)
        return false;
    pthread_mutex_lock(&gate.mu);
    if (!gate.entered) {
        gate.entered = true;
        pthread_cond_broadcast(&gate.cv);
        while (!gate.open)
            pthread_cond_wait(&gate.cv, &gate.mu);
    }
    pthread_mutex_unlock(&gate.mu);
    return false;
}

/* The kernel's inotify queue length, or -1 when it cannot be read. */
static int max_queued_events(void)
{
    FILE *fp = fopen("/proc/sys/fs/inotify/max_queued_events", "r");
    int n = -1;
    if (fp) {
        if (fscanf(fp, "%d", &n) != 1)
            n = -1;
        fclose(fp);
    }
    return n;
}

static void test_overflow_rescans(void **state)
{
    fx *f = *state;
    int q = max_queued_events(); /* in range: main() leaves the test out otherwise */
    watch_options opt = {.ignore = hold_at_gate};
    fx_start(f, &opt);
    put(f, "root/gate", "hold\n");
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += WAIT_MS / 1000;
    pthread_mutex_lock(&gate.mu);
    while (!gate.entered && pthread_cond_timedwait(&gate.cv, &gate.mu, &ts) != ETIMEDOUT)
        ;
    bool entered = gate.entered;
    pthread_mutex_unlock(&gate.mu);
    assert_true(entered);

    /* Each new file queues IN_CREATE and IN_CLOSE_WRITE. */
    int n = q / 2 + 2000;
    char rel[64];
    for (int i = 0; i < n; i++) {
        snprintf(rel, sizeof rel, "root/f%06d", i);
        char *p = fx_path(f, rel);
        int fd = open(p, O_CREAT | O_WRONLY, 0644);
        assert_true(fd >= 0);
        close(fd);
        free(p);
    }
    pthread_mutex_lock(&gate.mu);
    gate.open = true;
    pthread_cond_broadcast(&gate.cv);
    pthread_mutex_unlock(&gate.mu);

    size_t i = rec_wait_flags(&f->r, 0, WATCH_RESCAN, WAIT_MS);
    assert_true(i != NONE);
    snprintf(rel, sizeof rel, "f%06d", n - 1);
    assert_int_equal(rec_find(&f->r, i, rel), i); /* the rescan lists it */
    size_t from = rec_count(&f->r);
    put(f, "root/after.md", "after\n");
    expect_path(f, from, "after.md");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
    /* clang-format off */
    const struct CMUnitTest tests[] = {
        T(test_quiet_window_default),
        T(test_max_delay_default),
        T(test_configured_windows),
        T(test_quiet_window_groups),
        T(test_burst_of_500),
        T(test_complete_save_at_once),
        T(test_open_write_waits),
        T(test_delete_waits),
        T(test_burst_after_save_folds),
        T(test_slow_temp_file_never_delivered),
        T(test_new_file_closed_in_a_later_batch_waits),
        T(test_overflow_rescans), /* last: left out when the queue is out of range */
    };
    /* clang-format on */
    size_t n = sizeof tests / sizeof *tests;
    /* cmocka reports a skipped test as "not ok # SKIP", which meson counts
     * as a failure: the overflow test needs q / 2 + 2000 files to overflow a
     * queue of q events, so with no readable or a very large queue it is
     * left out, saying why. */
    int q = max_queued_events();
    if (q <= 0 || q > 200000) {
        printf("# skipped test_overflow_rescans: max_queued_events is %d, not in 1..200000\n", q);
        n--;
    }
    return _cmocka_run_group_tests("watch_debounce", tests, n, NULL, NULL);
}
