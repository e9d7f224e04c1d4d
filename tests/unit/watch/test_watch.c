/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of watch/: every way an author's tools change a folder ends
 * with the right path in a batch.  The editors' save sequences are replayed
 * system call by system call (vim: swap file, `4913` probe, backup rename,
 * write; VS Code and Sublime: temporary file renamed over the original);
 * `sed -i`, `cp`, `mv` and `rm -r` are the real commands.  Then the tree
 * itself: subfolders appearing with files already in them, renames, moves
 * in, out and between two watched folders, ignored folders, the root
 * deleted or moved away and back, and the API's errors.
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
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "watch_test_util.h"

#define NONE ((size_t)-1)

/* Waits for path in a batch at or after from; fails the test if it never
 * comes.  Returns the batch index. */
static size_t expect_path(fx *f, size_t from, const char *path)
{
    size_t i = rec_wait_path(&f->r, from, path, WAIT_MS);
    if (i == NONE)
        fail_msg("no batch listed %s", path);
    return i;
}

/* Editors ------------------------------------------------------------------ */

/* vim with its defaults (swapfile, writebackup, backupcopy=auto): the swap
 * file, the `4913` probe for a writable directory, the original renamed to
 * the backup, the new file written, the backup removed. */
static void vim_save(fx *f)
{
    put(f, "root/.notes.md.swp", "swap 1");
    char *probe = fx_path(f, "root/4913");
    int fd = open(probe, O_CREAT | O_EXCL | O_WRONLY, 0644);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(unlink(probe), 0);
    free(probe);
    rename_in(f, "root/notes.md", "root/notes.md~");
    put(f, "root/notes.md", "# Notes\n\nsaved by vim\n");
    unlink_in(f, "root/notes.md~");
    put(f, "root/.notes.md.swp", "swap 2");
}

static void test_vim_save(void **state)
{
    fx *f = *state;
    put(f, "root/notes.md", "# Notes\n");
    fx_start(f, NULL);
    vim_save(f);
    size_t i = expect_path(f, 0, "notes.md");
    size_t end = sentinel(f, "sentinel");
    assert_true(i <= end);
    /* The probe was born and gone within the burst. */
    assert_false(rec_any_prefix(&f->r, 0, end, "4913"));
}

/* The consumer's rules, as push applies them: swap, backup and probe files,
 * and .git/. */
static bool ignore_editor_noise(void *arg, const char *rel, bool is_dir)
{
    const char *base = strrchr(rel, '/') ? strrchr(rel, '/') + 1 : rel;
    size_t n = strlen(base);
    (void)arg;
    if (strcmp(rel, ".git") == 0 || strncmp(rel, ".git/", 5) == 0)
        return true;
    if (is_dir)
        return false;
    return strcmp(base, "4913") == 0 || (n > 0 && base[n - 1] == '~') ||
           (base[0] == '.' && n > 4 && strcmp(base + n - 4, ".swp") == 0);
}

static void test_vim_save_filtered(void **state)
{
    fx *f = *state;
    put(f, "root/notes.md", "# Notes\n");
    watch_options opt = {.ignore = ignore_editor_noise};
    fx_start(f, &opt);
    vim_save(f);
    size_t i = expect_path(f, 0, "notes.md");
    size_t end = sentinel(f, "sentinel");
    /* Only the saved file and the sentinel, nothing of vim's noise. */
    for (size_t k = i; k <= end; k++) {
        rbatch b = rec_get(&f->r, k);
        for (size_t j = 0; j < b.n; j++)
            assert_true(strcmp(b.paths[j], "notes.md") == 0 || strcmp(b.paths[j], "sentinel") == 0);
    }
    assert_int_equal(rec_find(&f->r, 0, "notes.md~"), NONE);
}

/* VS Code and Sublime Text's atomic save: a temporary file beside the
 * original, renamed over it. */
static void test_atomic_write(void **state)
{
    fx *f = *state;
    mkdir_in(f, "root/docs");
    put(f, "root/docs/guide.md", "old\n");
    fx_start(f, NULL);
    put(f, "root/docs/.guide.md.tmp-4f2a", "new\n");
    rename_in(f, "root/docs/.guide.md.tmp-4f2a", "root/docs/guide.md");
    size_t i = expect_path(f, 0, "docs/guide.md");
    size_t end = sentinel(f, "sentinel");
    assert_true(i <= end);
    assert_false(rec_any_prefix(&f->r, 0, end, "docs/.guide.md.tmp"));
}

static void test_sed_inplace(void **state)
{
    fx *f = *state;
    put(f, "root/page.md", "hello world\n");
    fx_start(f, NULL);
    sh(f, "sed -i 's/world/there/' '%s/root/page.md'");
    size_t i = expect_path(f, 0, "page.md");
    size_t end = sentinel(f, "sentinel");
    assert_true(i <= end);
    /* sed's temporary file (sedXXXXXX in the same folder) never surfaces. */
    assert_false(rec_any_prefix(&f->r, 0, end, "sed"));
}

static void test_cp_over(void **state)
{
    fx *f = *state;
    put(f, "root/dst.md", "old\n");
    put(f, "out/src.md", "new\n");
    fx_start(f, NULL);
    sh(f, "cp '%s/out/src.md' '%s/root/dst.md'");
    expect_path(f, 0, "dst.md");
}

/* Moves ----------------------------------------------------------------- */

static void test_mv_file_in_and_out(void **state)
{
    fx *f = *state;
    put(f, "out/in.md", "coming in\n");
    put(f, "root/leaving.md", "going out\n");
    fx_start(f, NULL);
    sh(f, "mv '%s/out/in.md' '%s/root/in.md'");
    expect_path(f, 0, "in.md");
    sh(f, "mv '%s/root/leaving.md' '%s/out/leaving.md'");
    expect_path(f, 0, "leaving.md");
}

static void test_mv_dir_in_and_out(void **state)
{
    fx *f = *state;
    sh(f, "mkdir -p '%s/out/lesson/img' && echo a > '%s/out/lesson/index.md' && "
          "echo b > '%s/out/lesson/img/a.png'");
    mkdir_in(f, "root/old");
    put(f, "root/old/index.md", "old\n");
    fx_start(f, NULL);

    /* In: everything under it is new, and it is watched from now on. */
    sh(f, "mv '%s/out/lesson' '%s/root/lesson'");
    expect_path(f, 0, "lesson");
    expect_path(f, 0, "lesson/index.md");
    expect_path(f, 0, "lesson/img/a.png");
    size_t from = rec_count(&f->r);
    put(f, "root/lesson/img/b.png", "b\n");
    expect_path(f, from, "lesson/img/b.png");

    /* Out: a deletion, and nothing under it is watched any more. */
    from = rec_count(&f->r);
    sh(f, "mv '%s/root/old' '%s/out/old'");
    expect_path(f, from, "old");
    size_t mark = sentinel(f, "sentinel1") + 1;
    put(f, "out/old/index.md", "changed outside\n");
    size_t end = sentinel(f, "sentinel2");
    assert_false(rec_any_prefix(&f->r, mark, end, "old"));
}

static void test_rename_dir_inside(void **state)
{
    fx *f = *state;
    sh(f, "mkdir -p '%s/root/a/deep/er' && echo x > '%s/root/a/deep/er/x.md'");
    fx_start(f, NULL);
    rename_in(f, "root/a", "root/b");
    expect_path(f, 0, "a");
    expect_path(f, 0, "b");
    expect_path(f, 0, "b/deep/er/x.md");
    /* The watches moved with the folder and now speak of the new name. */
    size_t from = rec_count(&f->r);
    put(f, "root/b/deep/er/y.md", "y\n");
    size_t i = expect_path(f, from, "b/deep/er/y.md");
    assert_false(rec_any_prefix(&f->r, from, i, "a/"));
    /* And a rename back and forth in one burst ends at the right name. */
    rename_in(f, "root/b", "root/c");
    rename_in(f, "root/c", "root/d");
    from = rec_count(&f->r);
    expect_path(f, 0, "d/deep/er/y.md");
    put(f, "root/d/deep/z.md", "z\n");
    expect_path(f, from, "d/deep/z.md");
}

static void test_rm_r_subfolder(void **state)
{
    fx *f = *state;
    sh(f, "mkdir -p '%s/root/course/lesson-1' && echo a > '%s/root/course/lesson-1/index.md' && "
          "echo b > '%s/root/course/index.md'");
    fx_start(f, NULL);
    sh(f, "rm -r '%s/root/course'");
    expect_path(f, 0, "course");
    expect_path(f, 0, "course/lesson-1/index.md");
    expect_path(f, 0, "course/index.md");
    /* The same name again is a new folder, watched afresh. */
    size_t from = rec_count(&f->r);
    mkdir_in(f, "root/course");
    put(f, "root/course/index.md", "again\n");
    expect_path(f, from, "course/index.md");
    from = rec_count(&f->r);
    put(f, "root/course/more.md", "more\n");
    expect_path(f, from, "course/more.md");
}

/* New subfolders are watched as they appear; what was written into them
 * before their watch took is found by listing them. */
static void test_new_subfolders_race(void **state)
{
    fx *f = *state;
    fx_start(f, NULL);
    char rel[128], want[128];
    for (int i = 0; i < 20; i++) {
        snprintf(rel, sizeof rel, "root/n%d", i);
        mkdir_in(f, rel);
        snprintf(rel, sizeof rel, "root/n%d/a", i);
        mkdir_in(f, rel);
        snprintf(rel, sizeof rel, "root/n%d/a/b", i);
        mkdir_in(f, rel);
        snprintf(rel, sizeof rel, "root/n%d/a/b/f.md", i);
        put(f, rel, "f\n");
        snprintf(rel, sizeof rel, "root/n%d/top.md", i);
        put(f, rel, "t\n");
    }
    for (int i = 0; i < 20; i++) {
        snprintf(want, sizeof want, "n%d/a/b/f.md", i);
        expect_path(f, 0, want);
        snprintf(want, sizeof want, "n%d/top.md", i);
        expect_path(f, 0, want);
    }
    size_t from = rec_count(&f->r);
    put(f, "root/n7/a/b/later.md", "later\n");
    expect_path(f, from, "n7/a/b/later.md");
}

/* Ignore rules ------------------------------------------------------------- */

static int git_calls;

static bool ignore_git_counting(void *arg, const char *rel, bool is_dir)
{
    if (strncmp(rel, ".git/", 5) == 0)
        __atomic_add_fetch(&git_calls, 1, __ATOMIC_SEQ_CST);
    return ignore_editor_noise(arg, rel, is_dir);
}

static void test_ignored_dir_not_watched(void **state)
{
    fx *f = *state;
    sh(f, "mkdir -p '%s/root/.git/objects'");
    git_calls = 0;
    watch_options opt = {.ignore = ignore_git_counting};
    fx_start(f, &opt);
    sh(f, "mkdir -p '%s/root/.git/objects/ab' && echo x > '%s/root/.git/objects/ab/cd' && "
          "echo ref > '%s/root/.git/HEAD'");
    size_t end = sentinel(f, "sentinel");
    assert_false(rec_any_prefix(&f->r, 0, end, ".git"));
    /* Not even asked about: nothing under .git/ is watched or listed. */
    assert_int_equal(__atomic_load_n(&git_calls, __ATOMIC_SEQ_CST), 0);
}

static bool hide_drafts;

static bool ignore_drafts(void *arg, const char *rel, bool is_dir)
{
    (void)arg;
    (void)is_dir;
    return __atomic_load_n(&hide_drafts, __ATOMIC_SEQ_CST) &&
           (strcmp(rel, "drafts") == 0 || strncmp(rel, "drafts/", 7) == 0);
}

/* The consumer's rules changed (.contentignore edited): watch_rescan()
 * starts watching what is no longer ignored and lists everything. */
static void test_rescan_after_rules_change(void **state)
{
    fx *f = *state;
    mkdir_in(f, "root/drafts");
    put(f, "root/drafts/a.md", "a\n");
    __atomic_store_n(&hide_drafts, true, __ATOMIC_SEQ_CST);
    watch_options opt = {.ignore = ignore_drafts};
    fx_start(f, &opt);
    __atomic_store_n(&hide_drafts, false, __ATOMIC_SEQ_CST);
    watch_rescan(f->w);
    size_t i = rec_wait_flags(&f->r, 0, WATCH_RESCAN, WAIT_MS);
    assert_true(i != NONE);
    assert_true(rec_find(&f->r, i, "drafts/a.md") == i);
    size_t from = rec_count(&f->r);
    put(f, "root/drafts/b.md", "b\n");
    expect_path(f, from, "drafts/b.md");
}

/* The root ------------------------------------------------------------------ */

static void test_root_deleted_and_recreated(void **state)
{
    fx *f = *state;
    put(f, "root/index.md", "one\n");
    fx_start(f, NULL);
    sh(f, "rm -rf '%s/root'");
    size_t gone = rec_wait_flags(&f->r, 0, WATCH_ROOT_GONE, WAIT_MS);
    assert_true(gone != NONE);
    /* Recreated with a file in it at once: the file is in the rescan. */
    mkdir_in(f, "root");
    put(f, "root/early.md", "early\n");
    size_t back = rec_wait_flags(&f->r, gone, WATCH_ROOT_BACK | WATCH_RESCAN, WAIT_MS);
    assert_true(back != NONE);
    expect_path(f, gone, "early.md");
    /* And watched again. */
    size_t from = rec_count(&f->r);
    put(f, "root/after.md", "after\n");
    expect_path(f, from, "after.md");
}

static void test_root_moved_away_and_back(void **state)
{
    fx *f = *state;
    fx_start(f, NULL);
    sh(f, "mv '%s/root' '%s/away'");
    size_t gone = rec_wait_flags(&f->r, 0, WATCH_ROOT_GONE, WAIT_MS);
    assert_true(gone != NONE);
    /* The tree moved away is not the watched folder any more. */
    put(f, "away/x.md", "x\n");
    sh(f, "mv '%s/away' '%s/root'");
    size_t back = rec_wait_flags(&f->r, gone, WATCH_ROOT_BACK, WAIT_MS);
    assert_true(back != NONE);
    for (size_t k = gone; k < back; k++)
        assert_true(rec_find(&f->r, k, "x.md") >= back);
    size_t from = rec_count(&f->r);
    put(f, "root/y.md", "y\n");
    expect_path(f, from, "y.md");
}

/* Several folders ----------------------------------------------------------- */

static void test_two_roots_and_move_between(void **state)
{
    fx *f = *state;
    sh(f, "mkdir -p '%s/out/sub' && echo x > '%s/out/sub/x.md'");
    fx_start(f, NULL);
    rec r2;
    rec_init(&r2);
    watch_folder *w2 = NULL;
    cd_err err = {0};
    assert_int_equal(watch_start(f->out, NULL, rec_cb, &r2, &w2, &err), WATCH_OK);

    /* out/sub moves into root: out reports it gone, root reports it new. */
    sh(f, "mv '%s/out/sub' '%s/root/sub'");
    expect_path(f, 0, "sub/x.md");
    assert_true(rec_wait_path(&r2, 0, "sub", WAIT_MS) != NONE);
    /* Changes in it now belong to root only. */
    size_t from = rec_count(&f->r), from2 = rec_count(&r2);
    put(f, "root/sub/y.md", "y\n");
    expect_path(f, from, "sub/y.md");
    put(f, "out/sentinel", "s\n");
    size_t end2 = rec_wait_path(&r2, from2, "sentinel", WAIT_MS);
    assert_true(end2 != NONE);
    assert_false(rec_any_prefix(&r2, from2, end2, "sub"));
    watch_free(w2);
    rec_free(&r2);
}

static void test_start_errors(void **state)
{
    fx *f = *state;
    watch_folder *w = NULL;
    cd_err err = {0};
    char *missing = fx_path(f, "nope");
    assert_int_equal(watch_start(missing, NULL, rec_cb, &f->r, &w, &err), WATCH_ENOTDIR);
    assert_null(w);
    assert_non_null(strstr(err.msg, "nope"));
    free(missing);
    put(f, "root/file.md", "x\n");
    char *file = fx_path(f, "root/file.md");
    assert_int_equal(watch_start(file, NULL, rec_cb, &f->r, &w, &err), WATCH_ENOTDIR);
    free(file);

    fx_start(f, NULL);
    assert_string_equal(watch_path(f->w), f->root);
    /* Nested folders would share watches: refused both ways. */
    mkdir_in(f, "root/inner");
    char *inner = fx_path(f, "root/inner");
    assert_int_equal(watch_start(inner, NULL, rec_cb, &f->r, &w, &err), WATCH_EFAIL);
    assert_non_null(strstr(err.msg, "overlaps"));
    assert_int_equal(watch_start(f->base, NULL, rec_cb, &f->r, &w, &err), WATCH_EFAIL);
    assert_null(w);
    free(inner);
    /* The first watcher is unharmed. */
    put(f, "root/ok.md", "ok\n");
    expect_path(f, 0, "ok.md");
}

typedef struct stopper {
    watch_folder *w;
    int batches;
} stopper;

static void stop_from_callback(void *arg, const watch_batch *b)
{
    stopper *s = arg;
    (void)b;
    __atomic_add_fetch(&s->batches, 1, __ATOMIC_SEQ_CST);
    watch_stop(s->w);
}

static void test_stop_from_callback(void **state)
{
    fx *f = *state;
    stopper s = {0};
    cd_err err = {0};
    assert_int_equal(watch_start(f->root, NULL, stop_from_callback, &s, &s.w, &err), WATCH_OK);
    put(f, "root/a.md", "a\n");
    /* This callback has no recorder to wait on: check its counter until a
     * deadline. */
    int64_t deadline = now_ns() + (int64_t)WAIT_MS * 1000000;
    while (__atomic_load_n(&s.batches, __ATOMIC_SEQ_CST) == 0 && now_ns() < deadline)
        sleep_ms(5);
    assert_int_equal(__atomic_load_n(&s.batches, __ATOMIC_SEQ_CST), 1);
    put(f, "root/b.md", "b\n");
    watch_free(s.w); /* joins the delivery thread; no callback after this */
    assert_int_equal(s.batches, 1);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
    /* clang-format off */
    const struct CMUnitTest tests[] = {
        T(test_vim_save),
        T(test_vim_save_filtered),
        T(test_atomic_write),
        T(test_sed_inplace),
        T(test_cp_over),
        T(test_mv_file_in_and_out),
        T(test_mv_dir_in_and_out),
        T(test_rename_dir_inside),
        T(test_rm_r_subfolder),
        T(test_new_subfolders_race),
        T(test_ignored_dir_not_watched),
        T(test_rescan_after_rules_change),
        T(test_root_deleted_and_recreated),
        T(test_root_moved_away_and_back),
        T(test_two_roots_and_move_between),
        T(test_start_errors),
        T(test_stop_from_callback),
    };
    /* clang-format on */
    return cmocka_run_group_tests_name("watch", tests, NULL, NULL);
}
