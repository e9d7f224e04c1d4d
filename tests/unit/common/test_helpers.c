/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the helpers of common/ every module shares: the hash table
 * and the intrusive list (hash.c), SHA-256 (sha256.c), the identifiers (ids.c), the clocks and
 * timed waits (clock.c) and the log's value quoting (log.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common.h"

typedef struct entry {
    cd_hnode node;
    int key;
} entry;

static entry *find(cd_htab *t, int key)
{
    for (cd_hnode *n = cd_htab_first(t, (uint64_t)key % 7); n; n = cd_htab_next(n)) {
        entry *e = CD_CONTAINER_OF(n, entry, node);
        if (e->key == key)
            return e;
    }
    return NULL;
}

/* Many keys sharing 7 hashes: chains, growth, deletion during a walk. */
static void test_htab(void **state)
{
    (void)state;
    cd_htab t = CD_HTAB_INIT;
    assert_null(cd_htab_first(&t, 1));
    assert_null(cd_htab_any(&t));
    enum { N = 1000 };
    entry *es = calloc(N, sizeof *es);
    for (int i = 0; i < N; i++) {
        es[i].key = i;
        cd_htab_add(&t, &es[i].node, (uint64_t)i % 7);
    }
    assert_int_equal(t.n, N);
    for (int i = 0; i < N; i++)
        assert_ptr_equal(find(&t, i), &es[i]);
    assert_null(find(&t, N));
    /* Delete the odd keys while walking; every node is seen once. */
    size_t pos = 0, seen = 0;
    for (cd_hnode *n = cd_htab_walk(&t, &pos, NULL), *next; n; n = next) {
        next = cd_htab_walk(&t, &pos, n);
        seen++;
        if (CD_CONTAINER_OF(n, entry, node)->key % 2)
            cd_htab_del(&t, n);
    }
    assert_int_equal(seen, N);
    assert_int_equal(t.n, N / 2);
    for (int i = 0; i < N; i++)
        assert_true((find(&t, i) != NULL) == (i % 2 == 0));
    for (cd_hnode *n; (n = cd_htab_any(&t));)
        cd_htab_del(&t, n);
    assert_int_equal(t.n, 0);
    cd_htab_free(&t);
    free(es);
}

static void test_hash(void **state)
{
    (void)state;
    /* FNV-1a's published values. */
    assert_true(cd_hash_str("") == 0xcbf29ce484222325ull);
    assert_true(cd_hash_str("a") == 0xaf63dc4c8601ec8cull);
    uint64_t h = cd_hash_more(cd_hash_more(CD_HASH_SEED, "fo", 2), "obar", 4);
    assert_true(h == cd_hash_str("foobar"));
}

static void test_sha256(void **state)
{
    (void)state;
    char hex[CD_SHA256_HEX];
    cd_sha256_hex("abc", 3, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    cd_sha256 *c = cd_sha256_new();
    cd_sha256_update(c, "a", 1);
    cd_sha256_update(c, "bc", 2);
    cd_sha256_final(c, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    int p[2];
    assert_int_equal(pipe(p), 0);
    assert_int_equal(write(p[1], "abc", 3), 3);
    close(p[1]);
    int64_t size = -1;
    assert_int_equal(cd_sha256_fd(p[0], hex, &size), 0);
    close(p[0]);
    assert_int_equal(size, 3);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    cd_sha256_free(cd_sha256_new()); /* dropped unfinished: no leak */
}

static void test_ids(void **state)
{
    (void)state;
    for (size_t i = 0; i < CD_KINDS_COUNT; i++) {
        assert_true(cd_kind_valid(cd_kinds[i]));
        assert_true(strlen(cd_kinds[i]) < CD_KIND_MAX);
        assert_non_null(strstr(CD_KINDS_TEXT, cd_kinds[i]));
    }
    assert_false(cd_kind_valid("Tutorial"));
    assert_false(cd_kind_valid("blog"));
    assert_false(cd_kind_valid(""));
    assert_false(cd_kind_valid(NULL));
    assert_true(cd_name_valid("a"));
    assert_true(cd_name_valid("0-hello-world"));
    assert_false(cd_name_valid("Hello"));
    assert_false(cd_name_valid("a_b"));
    assert_false(cd_name_valid("a.b"));
    assert_false(cd_name_valid(""));
    char name[CD_NAME_MAX + 1];
    memset(name, 'a', sizeof name);
    name[CD_NAME_MAX - 1] = '\0'; /* 63 characters */
    assert_true(cd_name_valid(name));
    name[CD_NAME_MAX - 1] = 'a';
    name[CD_NAME_MAX] = '\0'; /* 64 */
    assert_false(cd_name_valid(name));
    assert_false(cd_name_valid("-a"));
    assert_true(cd_name_valid("a-"));
    assert_false(cd_name_valid("A"));
    assert_true(cd_sha_valid("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
    assert_false(cd_sha_valid("BA7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
    assert_false(cd_sha_valid("ba78"));
}

/* A timed wait on the monotonic clock returns at its deadline, not before. */
static void test_wait_until(void **state)
{
    (void)state;
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t cv;
    cd_cond_init_mono(&cv);
    int64_t t0 = cd_mono_ms(), deadline = t0 + 30;
    pthread_mutex_lock(&mu);
    while (cd_cond_wait_until(&cv, &mu, deadline))
        ;
    pthread_mutex_unlock(&mu);
    assert_true(cd_mono_ms() >= deadline);
    /* A deadline in the past returns at once. */
    pthread_mutex_lock(&mu);
    assert_false(cd_cond_wait_until(&cv, &mu, t0 - 1000));
    pthread_mutex_unlock(&mu);
    pthread_cond_destroy(&cv);
    char ts[32];
    cd_time_rfc3339(1714564800123, ts);
    assert_string_equal(ts, "2024-05-01T12:00:00.123Z");
}

static void test_log_kv(void **state)
{
    (void)state;
    cd_buf b = CD_BUF_INIT;
    cd_log_kv(&b, "a", "plain");
    cd_log_kv(&b, "b", "two words");
    cd_log_kv(&b, "c", "q\"\n");
    cd_log_kv(&b, "d", "");
    assert_string_equal(b.data, " a=plain b=\"two words\" c=\"q\\\"\\n\" d=\"\"");
    cd_buf_free(&b);
}

typedef struct item {
    cd_lnode n;
    char c;
} item;

/* The list's entries from head to tail, checked against the walk back. */
static void list_text(const cd_list *l, char *out)
{
    size_t k = 0;
    for (cd_lnode *n = l->head; n; n = n->next)
        out[k++] = CD_CONTAINER_OF(n, item, n)->c;
    out[k] = '\0';
    for (cd_lnode *n = l->tail; n; n = n->prev)
        assert_int_equal(CD_CONTAINER_OF(n, item, n)->c, out[--k]);
    assert_int_equal(k, 0);
}

static void test_list(void **state)
{
    (void)state;
    item it[4] = {{.c = 'a'}, {.c = 'b'}, {.c = 'c'}, {.c = 'd'}};
    cd_list l = {NULL, NULL};
    char got[8];
    cd_list_push_back(&l, &it[1].n);
    cd_list_push_front(&l, &it[0].n);
    cd_list_push_back(&l, &it[2].n);
    cd_list_push_back(&l, &it[3].n);
    list_text(&l, got);
    assert_string_equal(got, "abcd");
    cd_list_remove(&l, &it[1].n); /* a middle one */
    cd_list_remove(&l, &it[0].n); /* the head */
    cd_list_remove(&l, &it[3].n); /* the tail */
    list_text(&l, got);
    assert_string_equal(got, "c");
    assert_true(it[0].n.prev == NULL && it[0].n.next == NULL);
    cd_list_remove(&l, &it[2].n); /* the last one */
    assert_null(l.head);
    assert_null(l.tail);
    cd_list_push_front(&l, &it[3].n); /* an emptied list takes nodes again */
    list_text(&l, got);
    assert_string_equal(got, "d");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_htab),   cmocka_unit_test(test_hash),
        cmocka_unit_test(test_list),   cmocka_unit_test(test_sha256),
        cmocka_unit_test(test_ids),    cmocka_unit_test(test_wait_until),
        cmocka_unit_test(test_log_kv),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
