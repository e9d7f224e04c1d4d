/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the known set in front of a blob store
 * (blobstore/blobstore_known.c), over a folder store in a fresh temporary
 * folder: a blob deleted from the folder behind the wrapper's back shows
 * what the wrapper answers from memory and what it asks the store below.
 * A blob is known once uploaded and acknowledged, found, or added; never
 * after a refused or abandoned upload; forgotten on request; and the set
 * keeps no more blobs than its limit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blobstore.h"

typedef struct fixture {
    char dir[64];
    blobstore *s; /* the known store, owning the folder store */
} fixture;

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static fixture *open_fixture(size_t max_blobs)
{
    fixture *f = cd_xcalloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/contentd-known-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    cd_err err = {0, ""};
    blobstore *fs = blobstore_open_fs(f->dir, &err);
    if (!fs)
        fail_msg("open: %s", err.msg);
    f->s = blobstore_known_wrap(fs, max_blobs);
    return f;
}

static int setup(void **state)
{
    *state = open_fixture(0);
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    blobstore_close(f->s);
    nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static void sha_of(const char *data, char out[CD_SHA256_HEX])
{
    cd_sha256 *md = cd_sha256_new();
    cd_sha256_update(md, data, strlen(data));
    cd_sha256_final(md, out);
}

/* Uploads data under sha (its own digest unless given); the put's status. */
static int put(blobstore *s, const char *data, const char *sha)
{
    char own[CD_SHA256_HEX];
    sha_of(data, own);
    blob_writer *w = NULL;
    cd_err err = {0, ""};
    int rc = blobstore_put_begin(s, sha ? sha : own, -1, &w, &err);
    assert_int_equal(rc, BLOB_OK);
    rc = blobstore_put_write(s, w, data, strlen(data), &err);
    assert_int_equal(rc, BLOB_OK);
    rc = blobstore_put_finish(s, w, &err);
    if (rc != BLOB_OK)
        return rc;
    /* in place in the folder, as once a version names it */
    char *key = blobstore_blob_key(sha ? sha : own);
    rc = blobstore_settle(s, (const char *const *)&key, 1, &err);
    free(key);
    return rc;
}

static bool has(blobstore *s, const char *sha)
{
    bool present = false;
    cd_err err = {0, ""};
    assert_int_equal(blobstore_has(s, sha, &present, &err), BLOB_OK);
    return present;
}

/* Removes blob sha from the folder, as someone with access to it might. */
static void delete_behind(fixture *f, const char *sha)
{
    char path[256];
    snprintf(path, sizeof path, "%s/blobs/%.2s/%s", f->dir, sha, sha);
    assert_int_equal(unlink(path), 0);
}

static void test_uploaded_is_known(void **state)
{
    fixture *f = *state;
    char sha[CD_SHA256_HEX];
    sha_of("# Lesson one\n", sha);
    assert_int_equal(blobstore_known_state(f->s, sha), 0);
    assert_false(has(f->s, sha));
    assert_int_equal(put(f->s, "# Lesson one\n", NULL), BLOB_OK);
    assert_int_equal(blobstore_known_state(f->s, sha), 1);
    delete_behind(f, sha);
    /* has() answers from the set: the folder is not asked. */
    assert_true(has(f->s, sha));
    /* open() serves the bytes it uploaded a moment ago. */
    blob_reader *r = NULL;
    int64_t size = -1;
    cd_err err = {0, ""};
    assert_int_equal(blobstore_open(f->s, sha, &r, &size, &err), BLOB_OK);
    assert_int_equal(size, 13);
    char buf[32] = {0};
    assert_int_equal(blobstore_read(f->s, r, 0, buf, sizeof buf), 13);
    assert_string_equal(buf, "# Lesson one\n");
    blobstore_close_reader(f->s, r);
    /* Forgotten, it is asked about again, and the folder says missing. */
    blobstore_known_forget(f->s, sha);
    assert_int_equal(blobstore_known_state(f->s, sha), 0);
    assert_false(has(f->s, sha));
    assert_int_equal(blobstore_open(f->s, sha, &r, &size, &err), BLOB_NOT_FOUND);
}

static void test_refused_upload_is_not_known(void **state)
{
    fixture *f = *state;
    char sha[CD_SHA256_HEX];
    sha_of("the real bytes", sha);
    assert_int_equal(put(f->s, "other bytes", sha), BLOB_DIGEST_MISMATCH);
    assert_int_equal(blobstore_known_state(f->s, sha), 0);
    assert_false(has(f->s, sha));
    /* An abandoned upload neither. */
    blob_writer *w = NULL;
    cd_err err = {0, ""};
    assert_int_equal(blobstore_put_begin(f->s, sha, -1, &w, &err), BLOB_OK);
    assert_int_equal(blobstore_put_write(f->s, w, "the real", 8, &err), BLOB_OK);
    blobstore_put_abort(f->s, w);
    assert_int_equal(blobstore_known_state(f->s, sha), 0);
    assert_false(has(f->s, sha));
}

static void test_found_and_added_are_known(void **state)
{
    fixture *f = *state;
    char a[CD_SHA256_HEX], b[CD_SHA256_HEX];
    sha_of("found", a);
    sha_of("added", b);
    /* Stored by someone else: found by asking, then known. */
    blobstore *plain = NULL;
    cd_err err = {0, ""};
    assert_non_null(plain = blobstore_open_fs(f->dir, &err));
    assert_int_equal(put(plain, "found", NULL), BLOB_OK);
    blobstore_close(plain);
    assert_int_equal(blobstore_known_state(f->s, a), 0);
    assert_true(has(f->s, a));
    assert_int_equal(blobstore_known_state(f->s, a), 1);
    /* Added (a committed version names it): known without asking. */
    blobstore_known_add(f->s, b, 5);
    assert_int_equal(blobstore_known_state(f->s, b), 1);
    assert_true(has(f->s, b));
    /* But open() does not take the set's word: it asks the folder. */
    blob_reader *r = NULL;
    int64_t size = 0;
    assert_int_equal(blobstore_open(f->s, b, &r, &size, &err), BLOB_NOT_FOUND);
    assert_true(blobstore_known_first(f->s));
    assert_false(blobstore_known_first(f->s));
}

static void hex_of(unsigned i, char out[CD_SHA256_HEX])
{
    unsigned char d[32] = {0};
    for (int k = 0; k < 32; k++)
        d[k] = (unsigned char)((i * 2654435761u) >> (k % 4 * 8)) ^ (unsigned char)(k * 31 + i);
    cd_hex(d, 32, out);
}

static void test_many_and_the_limit(void **state)
{
    fixture *f = *state;
    char sha[CD_SHA256_HEX];
    for (unsigned i = 0; i < 20000; i++) {
        hex_of(i, sha);
        blobstore_known_add(f->s, sha, i);
    }
    assert_int_equal(blobstore_known_count(f->s), 20000);
    for (unsigned i = 0; i < 20000; i += 7) {
        hex_of(i, sha);
        assert_int_equal(blobstore_known_state(f->s, sha), 1);
    }
    hex_of(20001, sha);
    assert_int_equal(blobstore_known_state(f->s, sha), 0);

    fixture *small = open_fixture(100);
    for (unsigned i = 0; i < 1000; i++) {
        hex_of(i, sha);
        blobstore_known_add(small->s, sha, i);
    }
    size_t n = blobstore_known_count(small->s);
    assert_true(n >= 1 && n <= 100);
    hex_of(999, sha);
    assert_int_equal(blobstore_known_state(small->s, sha), 0); /* past the limit: asked */
    teardown((void **)&small);
}

static void test_without_a_set(void **state)
{
    fixture *f = *state;
    cd_err err = {0, ""};
    blobstore *plain = blobstore_open_fs(f->dir, &err);
    assert_non_null(plain);
    assert_false(blobstore_knows(plain));
    assert_true(blobstore_knows(f->s));
    char sha[CD_SHA256_HEX];
    sha_of("x", sha);
    assert_int_equal(blobstore_known_state(plain, sha), -1);
    blobstore_known_add(plain, sha, 1); /* no-op */
    assert_int_equal(blobstore_known_count(plain), 0);
    assert_false(blobstore_known_first(plain));
    assert_string_equal(blobstore_door(f->s)->backend, "fs");
    blobstore_close(plain);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_uploaded_is_known, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_upload_is_not_known, setup, teardown),
        cmocka_unit_test_setup_teardown(test_found_and_added_are_known, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_and_the_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_without_a_set, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
