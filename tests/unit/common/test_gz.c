/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for common/gz.c: Accept-Encoding, which types are compressed,
 * and that pieces compressed apart, in any order, between one header and
 * the trailer, make one valid gzip stream (what every gzip event stream
 * is), as a whole body does.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "gz.h"
#include "support.h"

static void test_accepted(void **state)
{
    (void)state;
    assert_true(cd_gz_accepted("gzip"));
    assert_true(cd_gz_accepted("gzip, deflate, br"));
    assert_true(cd_gz_accepted("br;q=1.0, GZIP;q=0.5"));
    assert_true(cd_gz_accepted("*"));
    assert_false(cd_gz_accepted(NULL));
    assert_false(cd_gz_accepted(""));
    assert_false(cd_gz_accepted("identity"));
    assert_false(cd_gz_accepted("gzip;q=0"));
    assert_false(cd_gz_accepted("x-gzip2, br"));
}

static void test_compressible(void **state)
{
    (void)state;
    assert_true(cd_gz_compressible("text/markdown; charset=utf-8"));
    assert_true(cd_gz_compressible("application/json"));
    assert_true(cd_gz_compressible("image/svg+xml"));
    assert_true(cd_gz_compressible("application/vnd.api+json"));
    assert_true(cd_gz_compressible("text/css"));
    assert_false(cd_gz_compressible("image/png"));
    assert_false(cd_gz_compressible("application/gzip"));
    assert_false(cd_gz_compressible("font/woff2"));
    assert_false(cd_gz_compressible(NULL));
}

static void test_pieces_make_one_stream(void **state)
{
    (void)state;
    const char *parts[] = {"retry: 2000\n\n", "id: 1\nevent: snapshot\ndata: {\"a\":1}\n\n",
                           ": keep-alive\n\n", ""};
    cd_buf one[4] = {CD_BUF_INIT, CD_BUF_INIT, CD_BUF_INIT, CD_BUF_INIT};
    uint32_t crcs[4];
    for (int i = 0; i < 4; i++)
        crcs[i] = cd_gz_piece(parts[i], strlen(parts[i]), &one[i]);
    /* pieces 1, 0, 2, 2, 3: each reused as it is */
    const int order[] = {1, 0, 2, 2, 3};
    cd_buf stream = CD_BUF_INIT, want = CD_BUF_INIT;
    cd_buf_append(&stream, CD_GZ_HEADER, CD_GZ_HEADER_LEN);
    uint32_t crc = 0;
    uint64_t n = 0;
    for (size_t k = 0; k < sizeof order / sizeof *order; k++) {
        int i = order[k];
        cd_buf_append(&stream, one[i].data, one[i].len);
        crc = cd_gz_crc_add(crc, crcs[i], strlen(parts[i]));
        n += strlen(parts[i]);
        cd_buf_puts(&want, parts[i]);
    }
    unsigned char tail[CD_GZ_TRAILER_MAX];
    cd_buf_append(&stream, tail, cd_gz_trailer(crc, n, tail));
    cd_buf got = CD_BUF_INIT;
    ts_gunzip(&stream, &got);
    assert_int_equal(got.len, want.len);
    assert_memory_equal(got.data, want.data, want.len);
    /* and a whole body */
    cd_buf body = CD_BUF_INIT, back = CD_BUF_INIT;
    cd_gzip(want.data, want.len, &body);
    ts_gunzip(&body, &back);
    assert_int_equal(back.len, want.len);
    assert_memory_equal(back.data, want.data, want.len);
    for (int i = 0; i < 4; i++)
        cd_buf_free(&one[i]);
    cd_buf_free(&stream);
    cd_buf_free(&want);
    cd_buf_free(&got);
    cd_buf_free(&body);
    cd_buf_free(&back);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepted),
        cmocka_unit_test(test_compressible),
        cmocka_unit_test(test_pieces_make_one_stream),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
