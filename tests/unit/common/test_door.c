/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the door of a store (common/door.c): each call timed into
 * its own operation's histogram, the call's value and type passed through,
 * names past the list, and the /metrics text of every operation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "common.h"

#define OPS(X) X(get) X(put) X(list)
#define OP_(n) OP_##n,
enum { OPS(OP_) OP_COUNT };
static const char *const names[] = {OPS(CD_X_NAME)};

static uint64_t count(const cd_histo *h)
{
    uint64_t n = 0;
    for (int i = 0; i <= CD_HISTO_BUCKETS; i++)
        n += atomic_load(&h->b[i]);
    return n;
}

typedef enum { ST_OK = 0, ST_GONE = -7 } status;

static status slow_gone(void)
{
    struct timespec ts = {0, 2000000}; /* 2 ms: past the 1 ms bucket */
    nanosleep(&ts, NULL);
    return ST_GONE;
}

static void test_call_is_timed_into_its_op(void **state)
{
    (void)state;
    cd_door d;
    cd_door_init(&d, "mem", names, OP_COUNT);
    assert_string_equal(d.backend, "mem");
    for (unsigned i = 0; i < OP_COUNT; i++)
        assert_true(cd_histo_empty(cd_door_latency(&d, i)));
    status st = CD_DOOR_CALL(&d, OP_put, slow_gone());
    assert_int_equal(st, ST_GONE);
    assert_int_equal(count(cd_door_latency(&d, OP_put)), 1);
    assert_true(cd_histo_empty(cd_door_latency(&d, OP_get)));
    assert_true(cd_histo_empty(cd_door_latency(&d, OP_list)));
    /* 2 ms or more: nothing in the buckets up to 1 ms. */
    const cd_histo *h = cd_door_latency(&d, OP_put);
    for (int i = 0; i < CD_HISTO_BUCKETS && cd_histo_bounds_s[i] <= 0.001; i++)
        assert_int_equal(atomic_load(&h->b[i]), 0);
    assert_true(atomic_load(&h->sum_ns) >= 2000000);
}

static void test_names(void **state)
{
    (void)state;
    cd_door d;
    cd_door_init(&d, "mem", names, OP_COUNT);
    assert_string_equal(cd_door_op_name(&d, OP_get), "get");
    assert_string_equal(cd_door_op_name(&d, OP_list), "list");
    assert_string_equal(cd_door_op_name(&d, OP_COUNT), "unknown");
    assert_null(cd_door_latency(&d, OP_COUNT));
}

static void test_text_lists_every_op(void **state)
{
    (void)state;
    cd_door d;
    cd_door_init(&d, "mem", names, OP_COUNT);
    (void)CD_DOOR_CALL(&d, OP_list, 0);
    cd_buf b = CD_BUF_INIT;
    cd_door_text(&b, "x_seconds", "X latency.", &d);
    char *text = cd_buf_steal(&b, NULL);
    assert_non_null(strstr(text, "# HELP x_seconds X latency.\n# TYPE x_seconds histogram\n"));
    assert_ptr_equal(strstr(text, "# HELP"), text);
    assert_non_null(strstr(text, "x_seconds_count{op=\"get\"} 0\n"));
    assert_non_null(strstr(text, "x_seconds_count{op=\"put\"} 0\n"));
    assert_non_null(strstr(text, "x_seconds_count{op=\"list\"} 1\n"));
    assert_non_null(strstr(text, "x_seconds_bucket{op=\"list\",le=\"+Inf\"} 1\n"));
    /* In the order of the list. */
    assert_true(strstr(text, "op=\"get\"") < strstr(text, "op=\"put\""));
    assert_true(strstr(text, "op=\"put\"") < strstr(text, "op=\"list\""));
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_call_is_timed_into_its_op),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_text_lists_every_op),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
