/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for common/common.c: the growable buffer (growth, printf,
 * steal), JSON string escaping, UTF-8 validation and repair, and hex.  These
 * helpers sit under every byte the renderer and the server emit, so the
 * edge cases (control characters, overlong forms, surrogates, truncated
 * sequences, NUL bytes) are tested one by one and then by a seeded random
 * sweep.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common.h"

#define FFFD "\xEF\xBF\xBD"

/* Helpers --------------------------------------------------------------- */

/* The JSON encoding of n bytes at s; the caller frees it with free(). */
static char *json_of(const char *s, size_t n)
{
    cd_buf b = CD_BUF_INIT;
    cd_json_str(&b, s, n);
    return cd_buf_steal(&b, NULL);
}

/* The repaired form of n bytes at s; the caller frees it with free(). */
static char *repair_of(const char *s, size_t n, size_t *out_len)
{
    cd_buf b = CD_BUF_INIT;
    cd_utf8_repair(&b, s, n);
    return cd_buf_steal(&b, out_len);
}

/* Asserts that repairing in[0..n) gives exactly want (a C string). */
static void assert_repair(const char *in, size_t n, const char *want)
{
    size_t len;
    char *got = repair_of(in, n, &len);
    assert_int_equal(len, strlen(want));
    assert_memory_equal(got, want, len);
    assert_true(cd_utf8_valid(got, len));
    free(got);
}

/* Asserts that repairing prefix+bad+suffix gives prefix, one or more U+FFFD,
 * then suffix.  Used where the Unicode "maximal subpart" practice and a
 * byte-per-byte replacement legitimately differ in the number of U+FFFD. */
static void assert_repair_replaced(const char *prefix, const char *bad, size_t bad_len,
                                   const char *suffix)
{
    cd_buf in = CD_BUF_INIT;
    cd_buf_puts(&in, prefix);
    cd_buf_append(&in, bad, bad_len);
    cd_buf_puts(&in, suffix);
    size_t len;
    char *got = repair_of(in.data, in.len, &len);
    size_t pl = strlen(prefix), sl = strlen(suffix);
    assert_true(len >= pl + 3 + sl);
    assert_memory_equal(got, prefix, pl);
    assert_memory_equal(got + len - sl, suffix, sl);
    size_t mid = len - pl - sl;
    assert_int_equal(mid % 3, 0);
    for (size_t i = 0; i < mid; i += 3)
        assert_memory_equal(got + pl + i, FFFD, 3);
    assert_true(cd_utf8_valid(got, len));
    free(got);
    cd_buf_free(&in);
}

/* Allocation wrappers ---------------------------------------------------- */

static void test_xalloc(void **state)
{
    (void)state;
    char *p = cd_xmalloc(0); /* zero-size requests still return memory */
    assert_non_null(p);
    free(p);
    int *z = cd_xcalloc(16, sizeof *z);
    for (int i = 0; i < 16; i++)
        assert_int_equal(z[i], 0);
    z = cd_xrealloc(z, 1024 * sizeof *z);
    assert_int_equal(z[15], 0);
    free(z);
    char *d = cd_xstrndup("hello world", 5);
    assert_string_equal(d, "hello");
    free(d);
    d = cd_xstrdup("");
    assert_string_equal(d, "");
    free(d);
}

/* Buffer ------------------------------------------------------------------ */

static void test_buf_empty_steal(void **state)
{
    (void)state;
    cd_buf b = CD_BUF_INIT;
    size_t len = 99;
    char *s = cd_buf_steal(&b, &len);
    assert_non_null(s);
    assert_int_equal(len, 0);
    assert_string_equal(s, "");
    assert_null(b.data);
    assert_int_equal(b.cap, 0);
    free(s);
    cd_buf_free(&b); /* freeing an empty buffer is harmless */
    cd_buf_free(&b);
}

/* A stream of n bytes, 'a' + i % 26 at i (a temporary file). */
static FILE *stream_of(size_t n)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    for (size_t i = 0; i < n; i++)
        fputc('a' + (int)(i % 26), f);
    rewind(f);
    return f;
}

/* cd_buf_read: the whole stream, appended; past max, 1; a read error, -1. */
/* cd_grow: room for one more, doubling from the first capacity, the
 * elements kept. */
static void test_grow(void **state)
{
    (void)state;
    int *a = NULL;
    size_t n = 0, cap = 0;
    for (int i = 0; i < 40; i++) {
        a = cd_grow(a, n, &cap, 4, sizeof *a);
        assert_true(n < cap);
        a[n++] = i;
    }
    assert_int_equal(cap, 64); /* 4, 8, 16, 32, 64 */
    int *same = cd_grow(a, n, &cap, 4, sizeof *a);
    assert_ptr_equal(same, a); /* not full: untouched */
    assert_int_equal(cap, 64);
    for (int i = 0; i < 40; i++)
        assert_int_equal(a[i], i);
    free(a);
}

static void test_buf_read(void **state)
{
    (void)state;
    FILE *f = stream_of(200000);
    cd_buf b = CD_BUF_INIT;
    cd_buf_puts(&b, "head:");
    assert_int_equal(cd_buf_read(&b, f, 0), 0);
    assert_int_equal(b.len, 5 + 200000);
    assert_memory_equal(b.data, "head:", 5);
    for (size_t i = 0; i < 200000; i++)
        assert_int_equal(b.data[5 + i], 'a' + i % 26);
    assert_int_equal(b.data[b.len], '\0');
    cd_buf_free(&b);
    fclose(f);

    f = stream_of(1000); /* exactly max: all of it */
    assert_int_equal(cd_buf_read(&b, f, 1000), 0);
    assert_int_equal(b.len, 1000);
    cd_buf_free(&b);
    fclose(f);

    f = stream_of(1001); /* one byte more than max */
    assert_int_equal(cd_buf_read(&b, f, 1000), 1);
    assert_true(b.len > 1000);
    cd_buf_free(&b);
    fclose(f);

    f = fopen("/", "rb"); /* a folder opens, but every read fails */
    assert_non_null(f);
    assert_int_equal(cd_buf_read(&b, f, 0), -1);
    cd_buf_free(&b);
    fclose(f);
}

static void test_buf_growth(void **state)
{
    (void)state;
    cd_buf b = CD_BUF_INIT;
    size_t prev_cap = 0;
    unsigned reallocs = 0;
    for (size_t i = 0; i < 100000; i++) {
        cd_buf_putc(&b, (char)('a' + i % 26));
        assert_true(b.cap > b.len); /* room for the terminating NUL */
        assert_int_equal(b.data[b.len], '\0');
        if (b.cap != prev_cap)
            reallocs++, prev_cap = b.cap;
    }
    assert_int_equal(b.len, 100000);
    /* Geometric growth: a handful of reallocations, not one per byte. */
    assert_true(reallocs < 20);
    for (size_t i = 0; i < b.len; i++)
        assert_int_equal(b.data[i], 'a' + i % 26);

    cd_buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal(b.data, "");
    size_t cap = b.cap;
    cd_buf_puts(&b, "reuse");
    assert_int_equal(b.cap, cap); /* reset keeps the allocation */
    assert_string_equal(b.data, "reuse");
    cd_buf_free(&b);
}

static void test_buf_append_binary(void **state)
{
    (void)state;
    cd_buf b = CD_BUF_INIT;
    static const char bin[] = {'a', '\0', 'b', '\0'};
    cd_buf_append(&b, bin, sizeof bin);
    cd_buf_append(&b, NULL, 0); /* empty appends are allowed */
    assert_int_equal(b.len, 4);
    assert_memory_equal(b.data, bin, 4);
    assert_int_equal(b.data[4], '\0');

    /* One large append past several doublings at once. */
    char *big = cd_xmalloc(1 << 20);
    memset(big, 'x', 1 << 20);
    cd_buf_append(&b, big, 1 << 20);
    assert_int_equal(b.len, 4 + (1 << 20));
    assert_int_equal(b.data[b.len - 1], 'x');
    assert_int_equal(b.data[b.len], '\0');
    free(big);

    size_t len;
    char *s = cd_buf_steal(&b, &len);
    assert_int_equal(len, 4 + (1 << 20));
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    free(s);
}

static void test_buf_printf(void **state)
{
    (void)state;
    cd_buf b = CD_BUF_INIT;
    cd_buf_printf(&b, "%d-%s", 42, "x");
    assert_string_equal(b.data, "42-x");
    cd_buf_printf(&b, "%s", "");
    assert_int_equal(b.len, 4);
    /* A formatted piece larger than the current capacity. */
    cd_buf_printf(&b, "[%0500d]", 7);
    assert_int_equal(b.len, 4 + 502);
    assert_int_equal(b.data[5], '0');
    assert_int_equal(b.data[b.len - 2], '7');
    assert_int_equal(b.data[b.len - 1], ']');
    assert_int_equal(b.data[b.len], '\0');
    cd_buf_printf(&b, "%zu|%.3f|%c", (size_t)18446744073709551615ULL, 1.5, 'z');
    assert_string_equal(b.data + 506, "18446744073709551615|1.500|z");
    cd_buf_free(&b);
}

/* JSON escaping ------------------------------------------------------------ */

static void test_json_plain(void **state)
{
    (void)state;
    char *j = json_of("hello", 5);
    assert_string_equal(j, "\"hello\"");
    free(j);
    j = json_of("", 0);
    assert_string_equal(j, "\"\"");
    free(j);
    /* Non-ASCII UTF-8 and DEL pass through unescaped (JSON allows them). */
    j = json_of("caf\xC3\xA9 \xF0\x9F\x98\x80 \x7F", 12);
    assert_string_equal(j, "\"caf\xC3\xA9 \xF0\x9F\x98\x80 \x7F\"");
    free(j);
    /* "</script>" needs no escaping in JSON itself. */
    j = json_of("a/b", 3);
    assert_string_equal(j, "\"a/b\"");
    free(j);
}

static void test_json_quotes_backslash(void **state)
{
    (void)state;
    const char *in = "say \"hi\" \\ C:\\path\\";
    char *j = json_of(in, strlen(in));
    assert_string_equal(j, "\"say \\\"hi\\\" \\\\ C:\\\\path\\\\\"");
    free(j);
}

static void test_json_control_chars(void **state)
{
    (void)state;
    char *j = json_of("a\nb\rc\td", 7);
    assert_string_equal(j, "\"a\\nb\\rc\\td\"");
    free(j);
    j = json_of("\b\f", 2);
    assert_true(!strcmp(j, "\"\\b\\f\"") || !strcmp(j, "\"\\u0008\\u000c\""));
    free(j);
    j = json_of("\x01\x1f\x1b", 3);
    assert_string_equal(j, "\"\\u0001\\u001f\\u001b\"");
    free(j);
    /* An embedded NUL is data when the length says so. */
    j = json_of("a\0b", 3);
    assert_string_equal(j, "\"a\\u0000b\"");
    free(j);
}

static void test_json_every_control_char(void **state)
{
    (void)state;
    /* No byte below 0x20 may appear raw in the output. */
    char in[32];
    for (int i = 0; i < 32; i++)
        in[i] = (char)i;
    cd_buf b = CD_BUF_INIT;
    cd_json_str(&b, in, sizeof in);
    assert_int_equal(b.data[0], '"');
    assert_int_equal(b.data[b.len - 1], '"');
    for (size_t i = 0; i < b.len; i++)
        assert_true((unsigned char)b.data[i] >= 0x20);
    cd_buf_free(&b);
}

static void test_json_appends(void **state)
{
    (void)state;
    /* cd_json_str appends; it does not reset the buffer. */
    cd_buf b = CD_BUF_INIT;
    cd_buf_puts(&b, "{\"k\":");
    cd_json_str(&b, "v\"", 2);
    cd_buf_putc(&b, '}');
    assert_string_equal(b.data, "{\"k\":\"v\\\"\"}");
    cd_buf_free(&b);
}

/* UTF-8 validation --------------------------------------------------------- */

static void test_utf8_valid_sequences(void **state)
{
    (void)state;
    const unsigned char *u;
    u = (const unsigned char *)"A";
    assert_int_equal(cd_utf8_valid_len(u, 1), 1);
    u = (const unsigned char *)"\xC2\x80"; /* U+0080, smallest 2-byte */
    assert_int_equal(cd_utf8_valid_len(u, 2), 2);
    u = (const unsigned char *)"\xDF\xBF"; /* U+07FF */
    assert_int_equal(cd_utf8_valid_len(u, 2), 2);
    u = (const unsigned char *)"\xE0\xA0\x80"; /* U+0800 */
    assert_int_equal(cd_utf8_valid_len(u, 3), 3);
    u = (const unsigned char *)"\xED\x9F\xBF"; /* U+D7FF, just below surrogates */
    assert_int_equal(cd_utf8_valid_len(u, 3), 3);
    u = (const unsigned char *)"\xEE\x80\x80"; /* U+E000, just above */
    assert_int_equal(cd_utf8_valid_len(u, 3), 3);
    u = (const unsigned char *)"\xEF\xBF\xBF"; /* U+FFFF */
    assert_int_equal(cd_utf8_valid_len(u, 3), 3);
    u = (const unsigned char *)"\xF0\x90\x80\x80"; /* U+10000 */
    assert_int_equal(cd_utf8_valid_len(u, 4), 4);
    u = (const unsigned char *)"\xF4\x8F\xBF\xBF"; /* U+10FFFF, the last */
    assert_int_equal(cd_utf8_valid_len(u, 4), 4);

    const char *text = "h\xC3\xA9llo \xE2\x82\xAC \xF0\x9F\x8E\x89";
    assert_true(cd_utf8_valid(text, strlen(text)));
    assert_true(cd_utf8_valid("", 0));
}

static void test_utf8_overlong(void **state)
{
    (void)state;
    /* Every overlong form of '/' and of NUL is refused. */
    assert_int_equal(cd_utf8_valid_len((const unsigned char *)"\xC0\xAF", 2), 0);
    assert_int_equal(cd_utf8_valid_len((const unsigned char *)"\xC1\xBF", 2), 0);
    assert_int_equal(cd_utf8_valid_len((const unsigned char *)"\xE0\x80\xAF", 3), 0);
    assert_int_equal(cd_utf8_valid_len((const unsigned char *)"\xE0\x9F\xBF", 3), 0);
    assert_int_equal(cd_utf8_valid_len((const unsigned char *)"\xF0\x80\x80\xAF", 4), 0);
    assert_int_equal(cd_utf8_valid_len((const unsigned char *)"\xF0\x8F\xBF\xBF", 4), 0);
    assert_int_equal(cd_utf8_valid_len((const unsigned char *)"\xC0\x80", 2), 0);
    assert_false(cd_utf8_valid("a\xC0\x80z", 4));
    assert_false(cd_utf8_valid("\xE0\x80\xAF", 3));
}

static void test_utf8_surrogates_and_range(void **state)
{
    (void)state;
    assert_int_equal(cd_utf8_valid_len((const unsigned char *)"\xED\xA0\x80", 3), 0);
    assert_int_equal(cd_utf8_valid_len((const unsigned char *)"\xED\xBF\xBF", 3), 0);
    /* A CESU-8 surrogate pair is not UTF-8. */
    assert_false(cd_utf8_valid("\xED\xA0\xBD\xED\xB8\x80", 6));
    /* Beyond U+10FFFF, and bytes that never start a sequence. */
    assert_int_equal(cd_utf8_valid_len((const unsigned char *)"\xF4\x90\x80\x80", 4), 0);
    assert_int_equal(cd_utf8_valid_len((const unsigned char *)"\xF5\x80\x80\x80", 4), 0);
    assert_int_equal(cd_utf8_valid_len((const unsigned char *)"\xFF", 1), 0);
    assert_int_equal(cd_utf8_valid_len((const unsigned char *)"\x80", 1), 0);
    assert_int_equal(cd_utf8_valid_len((const unsigned char *)"\xBF", 1), 0);
}

static void test_utf8_truncated(void **state)
{
    (void)state;
    /* Too short for the lead byte, at the end of the input... */
    assert_int_equal(cd_utf8_valid_len((const unsigned char *)"\xE2\x82", 2), 0);
    assert_int_equal(cd_utf8_valid_len((const unsigned char *)"\xF0\x9F\x98", 3), 0);
    assert_int_equal(cd_utf8_valid_len((const unsigned char *)"\xC3", 1), 0);
    /* ...and cut short by an ASCII byte in the middle. */
    assert_int_equal(cd_utf8_valid_len((const unsigned char *)"\xE2\x82x", 3), 0);
    /* The length bound is honoured even when the bytes after it would fit. */
    assert_int_equal(cd_utf8_valid_len((const unsigned char *)"\xE2\x82\xAC", 2), 0);
    assert_false(cd_utf8_valid("abc\xE2\x82", 5));
}

static void test_utf8_nul(void **state)
{
    (void)state;
    assert_false(cd_utf8_valid("a\0b", 3));
    assert_false(cd_utf8_valid("\0", 1));
    assert_true(cd_utf8_valid("a\0b", 1)); /* only the first n bytes count */
}

/* UTF-8 repair ------------------------------------------------------------ */

static void test_repair_identity(void **state)
{
    (void)state;
    const char *text = "plain \xC3\xA9 \xE2\x82\xAC \xF0\x9F\x8E\x89 \xF4\x8F\xBF\xBF end";
    assert_repair(text, strlen(text), text);
    assert_repair("", 0, "");
}

static void test_repair_overlong(void **state)
{
    (void)state;
    /* 0xC0/0xC1 never start a sequence and 0x80.. never do either: in both
     * the per-byte and the maximal-subpart practices this is 2 and 3 U+FFFD. */
    assert_repair("a\xC0\xAFz", 4, "a" FFFD FFFD "z");
    assert_repair("a\xE0\x80\xAFz", 5, "a" FFFD FFFD FFFD "z");
    assert_repair("\xF0\x80\x80\xAF", 4, FFFD FFFD FFFD FFFD);
}

static void test_repair_surrogate(void **state)
{
    (void)state;
    assert_repair("x\xED\xA0\x80y", 5, "x" FFFD FFFD FFFD "y");
    assert_repair("\xED\xBF\xBF", 3, FFFD FFFD FFFD);
}

static void test_repair_truncated(void **state)
{
    (void)state;
    assert_repair_replaced("euro ", "\xE2\x82", 2, "");
    assert_repair_replaced("", "\xF0\x9F\x98", 3, " smile");
    assert_repair_replaced("a", "\xC3", 1, "b");
    /* A valid sequence right after a broken one is kept. */
    assert_repair("\xC3\xC3\xA9", 3, FFFD "\xC3\xA9");
    assert_repair("\xE2\x82\xE2\x82\xAC", 5, FFFD FFFD "\xE2\x82\xAC");
}

static void test_repair_nul_and_stray(void **state)
{
    (void)state;
    assert_repair("a\0b", 3, "a" FFFD "b");
    assert_repair("\0\0", 2, FFFD FFFD);
    assert_repair("\x80\xBF\xFE\xFF", 4, FFFD FFFD FFFD FFFD);
    assert_repair("\xF5\x80", 2, FFFD FFFD);
}

static void test_repair_appends(void **state)
{
    (void)state;
    cd_buf b = CD_BUF_INIT;
    cd_buf_puts(&b, "pre:");
    cd_utf8_repair(&b, "\xFF!", 2);
    assert_string_equal(b.data, "pre:" FFFD "!");
    cd_buf_free(&b);
}

/* Random bytes (fixed seed, so failures reproduce): the repaired form is
 * always valid, repairing it again changes nothing, and its JSON encoding
 * holds no raw control byte. */
static void test_repair_random(void **state)
{
    (void)state;
    uint32_t seed = 0x2545F491u;
    unsigned char in[257];
    for (int round = 0; round < 5000; round++) {
        size_t n = 0;
        seed = seed * 1664525u + 1013904223u;
        n = (seed >> 8) % sizeof in;
        for (size_t i = 0; i < n; i++) {
            seed = seed * 1664525u + 1013904223u;
            unsigned r = seed >> 24;
            /* Bias towards the interesting bytes: leads, continuations, NUL. */
            static const unsigned char pick[] = {0x00, 0x41, 0x80, 0xBF, 0xC0, 0xC2, 0xDF,
                                                 0xE0, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xFF};
            in[i] = (r & 1) ? pick[(r >> 1) % sizeof pick] : (unsigned char)(seed >> 16);
        }
        size_t len;
        char *once = repair_of((const char *)in, n, &len);
        assert_true(cd_utf8_valid(once, len));
        if (cd_utf8_valid((const char *)in, n)) {
            assert_int_equal(len, n);
            assert_memory_equal(once, in, n);
        }
        size_t len2;
        char *twice = repair_of(once, len, &len2);
        assert_int_equal(len2, len);
        assert_memory_equal(twice, once, len);
        char *j = json_of(once, len);
        for (const char *p = j; *p; p++)
            assert_true((unsigned char)*p >= 0x20);
        free(j);
        free(twice);
        free(once);
    }
}

/* Hex ------------------------------------------------------------------- */

static void test_hex(void **state)
{
    (void)state;
    static const unsigned char d[] = {0x00, 0x01, 0x7f, 0x80, 0xab, 0xff};
    char out[2 * sizeof d + 1];
    memset(out, 'x', sizeof out);
    cd_hex(d, sizeof d, out);
    assert_string_equal(out, "00017f80abff");
    cd_hex(d, 0, out);
    assert_string_equal(out, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xalloc),
        cmocka_unit_test(test_buf_empty_steal),
        cmocka_unit_test(test_buf_growth),
        cmocka_unit_test(test_grow),
        cmocka_unit_test(test_buf_read),
        cmocka_unit_test(test_buf_append_binary),
        cmocka_unit_test(test_buf_printf),
        cmocka_unit_test(test_json_plain),
        cmocka_unit_test(test_json_quotes_backslash),
        cmocka_unit_test(test_json_control_chars),
        cmocka_unit_test(test_json_every_control_char),
        cmocka_unit_test(test_json_appends),
        cmocka_unit_test(test_utf8_valid_sequences),
        cmocka_unit_test(test_utf8_overlong),
        cmocka_unit_test(test_utf8_surrogates_and_range),
        cmocka_unit_test(test_utf8_truncated),
        cmocka_unit_test(test_utf8_nul),
        cmocka_unit_test(test_repair_identity),
        cmocka_unit_test(test_repair_overlong),
        cmocka_unit_test(test_repair_surrogate),
        cmocka_unit_test(test_repair_truncated),
        cmocka_unit_test(test_repair_nul_and_stray),
        cmocka_unit_test(test_repair_appends),
        cmocka_unit_test(test_repair_random),
        cmocka_unit_test(test_hex),
    };
    return cmocka_run_group_tests_name("common", tests, NULL, NULL);
}
