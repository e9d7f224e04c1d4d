/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the checks' facts cache (chk_cache): each file is read
 * once while its bytes and path stay the same, a changed document alone
 * is read again, the same bytes in two places are two documents, and
 * threads share one cache while it evicts what another run uses.  The
 * item's reads are counted, the digests stand-ins.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "checks.h"
#include "checks_files.h"

typedef struct cached_item {
    tfile files[4];
    char sha[4][65];
    chk_file cf[4];
    size_t n;
    size_t reads[4]; /* per file */
    pthread_mutex_t mu;
} cached_item;

/* A stand-in SHA-256 of the bytes: distinct bytes, distinct names. */
static void fake_sha(const tfile *f, char out[65])
{
    uint64_t h = cd_hash_more(CD_HASH_SEED, f->data, file_len(f));
    snprintf(out, 65, "%016llx%048d", (unsigned long long)h, 0);
}

static int counting_read(void *arg, size_t index, size_t max, char **data, size_t *len, cd_err *err)
{
    (void)err;
    cached_item *it = arg;
    pthread_mutex_lock(&it->mu);
    it->reads[index]++;
    pthread_mutex_unlock(&it->mu);
    size_t n = file_len(&it->files[index]) < max ? file_len(&it->files[index]) : max;
    *data = malloc(n + 1);
    memcpy(*data, it->files[index].data, n);
    *len = n;
    return 0;
}

static void cached_init(cached_item *it, const tfile *files, size_t n)
{
    memset(it, 0, sizeof *it);
    pthread_mutex_init(&it->mu, NULL);
    it->n = n;
    for (size_t i = 0; i < n; i++) {
        it->files[i] = files[i];
        fake_sha(&files[i], it->sha[i]);
        it->cf[i] = (chk_file){files[i].path, it->sha[i], (int64_t)file_len(&files[i])};
    }
}

/* The text of one run over it with cache. */
static char *cached_run(cached_item *it, chk_cache *cache)
{
    chk_item item = {"course", "c", it->cf, it->n, counting_read, it};
    chk_options o = {.max_file_size = CHK_DEFAULT_MAX_FILE_SIZE, .cache = cache};
    json_t *f = NULL;
    cd_err err;
    assert_int_equal(chk_run(&item, &o, &f, &err), 0);
    cd_buf b = CD_BUF_INIT;
    chk_format_text(f, &b);
    json_decref(f);
    return cd_buf_steal(&b, NULL);
}

static const tfile course[] = {
    {"index.md", "---\ntitle: C\n---\n[one](l/one.md#b) [gone](l/two.md)\n"},
    {"l/one.md", "# One\n\n## A\n\n![p](p.png)\n\n::open\n"},
    {"l/p.png", PNG},
};
static const char course_want[] =
    "index.md:4: error: link to l/one.md#b: l/one.md has no heading with the id 'b' "
    "[broken-anchor]\n"
    "index.md:4: error: link to l/two.md: there is no such document in this item "
    "[broken-link]\n"
    "l/one.md:7: warning: component 'open' is never closed: it takes in the rest of the file "
    "(close it with a line of 2 colons) [unclosed-component]\n";

static void test_cache_reads_each_file_once(void **state)
{
    (void)state;
    cached_item it;
    cached_init(&it, course, 3);
    chk_cache *cache = chk_cache_new(100);
    char *first = cached_run(&it, cache);
    assert_string_equal(first, course_want);
    size_t before[3] = {it.reads[0], it.reads[1], it.reads[2]};
    assert_true(before[0] == 1 && before[1] == 1 && before[2] == 1);
    char *second = cached_run(&it, cache);
    assert_string_equal(second, first);
    assert_true(it.reads[0] == 1 && it.reads[1] == 1 && it.reads[2] == 1);

    /* a new version: the changed document alone is read again */
    it.files[1].data = "# One\n\n## B\n\n![p](p.png)\n";
    fake_sha(&it.files[1], it.sha[1]);
    char *third = cached_run(&it, cache);
    assert_string_equal(third, "index.md:4: error: link to l/two.md: there is no such "
                               "document in this item [broken-link]\n");
    assert_true(it.reads[0] == 1 && it.reads[1] == 2 && it.reads[2] == 1);
    free(first);
    free(second);
    free(third);
    chk_cache_free(cache);
}

static void test_cache_keys_by_path_too(void **state)
{
    (void)state;
    /* the same bytes in two places are two documents */
    const tfile files[] = {{"index.md", "---\ntitle: T\n---\n[a](a.md) [b](sub/a.md)\n"},
                           {"a.md", "# A\n\n```\nopen\n"},
                           {"sub/a.md", "# A\n\n```\nopen\n"}};
    cached_item it;
    cached_init(&it, files, 3);
    chk_cache *cache = chk_cache_new(100);
    for (int round = 0; round < 2; round++) {
        char *text = cached_run(&it, cache);
        assert_string_equal(text, "a.md:3: warning: this code fence is never closed: the rest of "
                                  "the file is shown as code (close it with a line of 3 '`') "
                                  "[unclosed-fence]\n"
                                  "sub/a.md:3: warning: this code fence is never closed: the "
                                  "rest of the file is shown as code (close it with a line of 3 "
                                  "'`') [unclosed-fence]\n");
        free(text);
    }
    chk_cache_free(cache);
}

/* Facts warmed one file at a time (chk_facts_warm()) serve the run of a
 * version holding those files, which then reads none of them again, and
 * give the findings of a run that made them itself. */
static void test_warmed_facts_serve_the_run(void **state)
{
    (void)state;
    cached_item it;
    cached_init(&it, course, 3);
    chk_cache *cache = chk_cache_new(100);
    chk_item item = {"course", "c", it.cf, it.n, counting_read, &it};
    chk_options o = {.max_file_size = CHK_DEFAULT_MAX_FILE_SIZE, .cache = cache};
    cd_err err;
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(chk_facts_warm(&item, i, &o, &err), CHK_OK);
    assert_true(it.reads[0] == 1 && it.reads[1] == 1 && it.reads[2] == 1);
    assert_int_equal(chk_facts_warm(&item, 1, &o, &err), CHK_OK); /* there already */
    assert_int_equal(it.reads[1], 1);
    char *text = cached_run(&it, cache);
    assert_string_equal(text, course_want);
    assert_true(it.reads[0] == 1 && it.reads[1] == 1 && it.reads[2] == 1);
    free(text);
    /* warmed under another path, the same bytes are another document */
    chk_file moved = it.cf[1];
    moved.path = "other/one.md";
    chk_item elsewhere = {"course", "c", &moved, 1, counting_read, &it};
    it.reads[0] = 0; /* counting_read counts index 0 for the one file */
    assert_int_equal(chk_facts_warm(&elsewhere, 0, &o, &err), CHK_OK);
    assert_int_equal(it.reads[0], 1);
    /* nothing to do without a cache */
    chk_options none = {.max_file_size = CHK_DEFAULT_MAX_FILE_SIZE};
    assert_int_equal(chk_facts_warm(&item, 0, &none, &err), CHK_OK);
    assert_int_equal(it.reads[0], 1);
    chk_cache_free(cache);
}

typedef struct runner {
    cached_item *it;
    chk_cache *cache;
    int bad;
} runner;

static void *run_many(void *arg)
{
    runner *r = arg;
    for (int i = 0; i < 30; i++) {
        char *text = cached_run(r->it, r->cache);
        r->bad += strcmp(text, course_want) != 0;
        free(text);
    }
    return NULL;
}

static void test_cache_shared_by_threads_while_evicting(void **state)
{
    (void)state;
    cached_item it;
    cached_init(&it, course, 3);
    chk_cache *cache = chk_cache_new(1); /* every run evicts what another uses */
    pthread_t t[4];
    runner r[4];
    for (int i = 0; i < 4; i++) {
        r[i] = (runner){&it, cache, 0};
        pthread_create(&t[i], NULL, run_many, &r[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(r[i].bad, 0);
    }
    chk_cache_free(cache);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cache_reads_each_file_once),
        cmocka_unit_test(test_cache_keys_by_path_too),
        cmocka_unit_test(test_warmed_facts_serve_the_run),
        cmocka_unit_test(test_cache_shared_by_threads_while_evicting),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
