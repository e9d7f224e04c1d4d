/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the folder blob store (blobstore/blobstore_fs*.c) and the
 * key helpers of blobstore/blobstore.c: streaming puts and reads, the cases
 * where nothing may become visible (digest mismatch, oversize, abort), the
 * clean-up of temporary files left by a dead writer, manifests and the byte
 * order of listings, and the keys that must be refused.  Every test works
 * in a fresh temporary folder.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "blobstore.h"
#include "blobstore_int.h"
#include "support.h"

/* Fixture ------------------------------------------------------------------ */

typedef struct fixture {
    char dir[64];
    blobstore *s;
} fixture;

static blobstore *open_or_fail(const char *dir)
{
    cd_err err = {0, ""};
    blobstore *s = blobstore_open_fs(dir, &err);
    if (!s)
        fail_msg("open: %s", err.msg);
    return s;
}

static int setup(void **state)
{
    fixture *f = cd_xcalloc(1, sizeof *f);
    ts_tmpdir(f->dir, sizeof f->dir, "blobs");
    f->s = open_or_fail(f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    if (f->s)
        blobstore_close(f->s);
    ts_rmtree(f->dir);
    free(f);
    return 0;
}

/* Helpers ------------------------------------------------------------------- */

static void sha_of(const void *p, size_t n, char out[CD_SHA256_HEX])
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int dn;
    assert_true(EVP_Digest(p, n, d, &dn, EVP_sha256(), NULL));
    cd_hex(d, dn, out);
}

/* Puts n bytes at p as blob sha in chunks of `chunk` bytes. */
static int put(blobstore *s, const char *sha, const void *p, size_t n, size_t chunk, int64_t max)
{
    blob_writer *w;
    cd_err err = {0, ""};
    int rc = blobstore_put_begin(s, sha, max, &w, &err);
    if (rc)
        return rc;
    for (size_t off = 0; off < n; off += chunk) {
        size_t len = n - off < chunk ? n - off : chunk;
        rc = blobstore_put_write(s, w, (const char *)p + off, len, &err);
        if (rc) {
            blobstore_put_abort(s, w);
            return rc;
        }
    }
    return blobstore_put_finish(s, w, &err);
}

/* Settles blob sha: durable and in place. */
static int settle_blob(blobstore *s, const char *sha)
{
    char *key = blobstore_blob_key(sha);
    int rc = blobstore_settle(s, (const char *const *)&key, 1, NULL);
    free(key);
    return rc;
}

static bool has(blobstore *s, const char *sha)
{
    bool present = true;
    assert_int_equal(blobstore_has(s, sha, &present, NULL), BLOB_OK);
    return present;
}

/* The number of entries in folder `sub` of the fixture's folder. */
static int entries(fixture *f, const char *sub)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", f->dir, sub);
    DIR *d = opendir(path);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
    closedir(d);
    return n;
}

static char *random_bytes(size_t n)
{
    char *p = cd_xmalloc(n);
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        p[i] = (char)x;
    }
    return p;
}

/* Tests ---------------------------------------------------------------------- */

static void test_keys(void **state)
{
    char sha[CD_SHA256_HEX];
    sha_of("", 0, sha);
    assert_string_equal(sha, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert_true(cd_sha_valid(sha));
    char *k = blobstore_blob_key(sha);
    assert_string_equal(
        k, "blobs/e3/e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    free(k);
    k = blobstore_manifest_key("tutorial", "hello", 12);
    assert_string_equal(k, "manifests/tutorial/hello/12.json");
    free(k);
    sha[0] = 'E';
    assert_false(cd_sha_valid(sha));
    assert_false(cd_sha_valid("abc"));
    assert_false(cd_sha_valid(NULL));
    static const char *const bad[] = {"",
                                      "/abs",
                                      "a/../b",
                                      "..",
                                      "a/./b",
                                      "a//b",
                                      "a/",
                                      "a\\b",
                                      "a/.hidden",
                                      "a\x01"
                                      "b"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(blobstore_key_valid(bad[i]));
    assert_true(blobstore_key_valid("manifests/tutorial/a-b/1.json"));
    assert_true(blobstore_key_valid("a/b..c"));
}

static void test_roundtrip(void **state)
{
    fixture *f = *state;
    blobstore *s = f->s;
    assert_string_equal(blobstore_door(s)->backend, "fs");
    assert_int_equal(blobstore_ping(s, NULL), BLOB_OK);
    size_t n = 300000;
    char *data = random_bytes(n);
    char sha[CD_SHA256_HEX];
    sha_of(data, n, sha);
    assert_false(has(s, sha));
    assert_int_equal(put(s, sha, data, n, 7919, -1), BLOB_OK);
    assert_true(has(s, sha));
    /* Staged: readable here, in place once settled. */
    char path[256];
    snprintf(path, sizeof path, "%s/blobs/%.2s/%s", f->dir, sha, sha);
    struct stat st;
    assert_int_equal(entries(f, ".tmp"), 1);
    assert_int_equal(stat(path, &st), -1);
    assert_int_equal(settle_blob(s, sha), BLOB_OK);
    assert_int_equal(entries(f, ".tmp"), 0);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, (off_t)n);
    assert_int_equal(settle_blob(s, sha), BLOB_OK); /* not staged any more: nothing to do */

    blob_reader *r;
    int64_t size;
    assert_int_equal(blobstore_open(s, sha, &r, &size, NULL), BLOB_OK);
    assert_int_equal(size, (int64_t)n);
    char *back = cd_xmalloc(n);
    size_t off = 0;
    ssize_t got;
    while ((got = blobstore_read(s, r, off, back + off, 4096)) > 0)
        off += (size_t)got;
    assert_int_equal(got, 0);
    assert_int_equal(off, n);
    assert_memory_equal(back, data, n);
    assert_int_equal(blobstore_read(s, r, n + 10, back, 10), 0);
    blobstore_close_reader(s, r);

    /* Again: idempotent, and the exact size limit is allowed. */
    assert_int_equal(put(s, sha, data, n, n, (int64_t)n), BLOB_OK);
    /* The empty blob. */
    char empty[65];
    sha_of("", 0, empty);
    assert_int_equal(put(s, empty, "", 0, 1, 0), BLOB_OK);
    assert_int_equal(blobstore_open(s, empty, &r, &size, NULL), BLOB_OK);
    assert_int_equal(size, 0);
    blobstore_close_reader(s, r);
    free(back);
    free(data);
}

static void test_nothing_visible(void **state)
{
    fixture *f = *state;
    blobstore *s = f->s;
    const char *text = "hello, world\n";
    char sha[CD_SHA256_HEX], other[65];
    sha_of(text, strlen(text), sha);
    sha_of("other", 5, other);

    /* Digest mismatch: the bytes are not those of the name. */
    assert_int_equal(put(s, other, text, strlen(text), 4, -1), BLOB_DIGEST_MISMATCH);
    assert_false(has(s, other));
    assert_false(has(s, sha));
    /* Over the limit: refused at the write that crosses it, and after. */
    blob_writer *w;
    cd_err err = {0, ""};
    assert_int_equal(blobstore_put_begin(s, sha, 5, &w, &err), BLOB_OK);
    assert_int_equal(blobstore_put_write(s, w, text, 5, &err), BLOB_OK);
    assert_int_equal(blobstore_put_write(s, w, text + 5, 1, &err), BLOB_TOO_LARGE);
    assert_non_null(strstr(err.msg, "5 bytes"));
    assert_int_equal(blobstore_put_write(s, w, text, 0, &err), BLOB_TOO_LARGE);
    assert_int_equal(blobstore_put_finish(s, w, &err), BLOB_TOO_LARGE);
    assert_false(has(s, sha));
    /* Abort. */
    assert_int_equal(blobstore_put_begin(s, sha, -1, &w, &err), BLOB_OK);
    assert_int_equal(blobstore_put_write(s, w, text, strlen(text), &err), BLOB_OK);
    blobstore_put_abort(s, w);
    assert_false(has(s, sha));
    assert_int_equal(entries(f, ".tmp"), 0);
    char fan[16];
    snprintf(fan, sizeof fan, "blobs/%.2s", sha);
    assert_int_equal(entries(f, fan), 0);

    /* Once stored, a wrong upload under its name still fails and the blob
     * stays intact. */
    assert_int_equal(put(s, sha, text, strlen(text), 3, -1), BLOB_OK);
    assert_int_equal(put(s, sha, "HELLO, WORLD\n", 13, 3, -1), BLOB_DIGEST_MISMATCH);
    assert_true(has(s, sha));
    blob_reader *r;
    int64_t size;
    char buf[32];
    assert_int_equal(blobstore_open(s, sha, &r, &size, NULL), BLOB_OK);
    assert_int_equal(blobstore_read(s, r, 0, buf, sizeof buf), (ssize_t)strlen(text));
    assert_memory_equal(buf, text, strlen(text));
    blobstore_close_reader(s, r);
    assert_int_equal(blobstore_open(s, other, &r, &size, NULL), BLOB_NOT_FOUND);
    assert_null(r);
}

static void test_bad_input(void **state)
{
    fixture *f = *state;
    blobstore *s = f->s;
    bool present;
    blob_writer *w;
    blob_reader *r;
    int64_t size;
    cd_buf b = CD_BUF_INIT;
    assert_int_equal(blobstore_has(s, "../../etc/passwd", &present, NULL), BLOB_ERROR);
    assert_int_equal(blobstore_put_begin(s, "ABC", -1, &w, NULL), BLOB_ERROR);
    assert_null(w);
    assert_int_equal(blobstore_open(s, "x", &r, &size, NULL), BLOB_ERROR);
    static const char *const keys[] = {"../x",           "/etc/passwd",        "manifests/../x",
                                       "manifests/.tmp", "blobs//a",           "other/x",
                                       "catalog.db",     "manifests/a/../../x"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        assert_int_equal(blobstore_put_object(s, keys[i], "x", 1, NULL), BLOB_ERROR);
        assert_int_equal(blobstore_get_object(s, keys[i], &b, NULL), BLOB_ERROR);
    }
    cd_err err = {0, ""};
    assert_int_equal(blobstore_list(s, "manifests/../", NULL, NULL, &err), BLOB_ERROR);
    assert_int_equal(blobstore_get_object(s, "manifests/none.json", &b, NULL), BLOB_NOT_FOUND);
    cd_buf_free(&b);
}

typedef struct keys {
    char log[1024];
    int limit;
} keys;

static int collect(void *arg, const char *key)
{
    keys *k = arg;
    size_t len = strlen(k->log);
    snprintf(k->log + len, sizeof k->log - len, "%s;", key);
    return --k->limit == 0;
}

static const char *list(blobstore *s, const char *prefix, keys *k)
{
    k->log[0] = '\0';
    if (!k->limit)
        k->limit = -1;
    cd_err err = {0, ""};
    if (blobstore_list(s, prefix, collect, k, &err) != BLOB_OK)
        fail_msg("list %s: %s", prefix, err.msg);
    k->limit = 0;
    return k->log;
}

static void test_manifests(void **state)
{
    fixture *f = *state;
    blobstore *s = f->s;
    static const char *const put_order[] = {
        "manifests/tutorial/hello/2.json", "manifests/tutorial/hello/10.json",
        "manifests/tutorial/hello/1.json", "manifests/course/c/1.json",
        "manifests/tutorial/a/1.json",     "manifests/tutorial/a-b/1.json",
    };
    for (size_t i = 0; i < 6; i++)
        assert_int_equal(
            blobstore_put_object(s, put_order[i], put_order[i], strlen(put_order[i]), NULL),
            BLOB_OK);
    /* Overwriting is atomic and allowed. */
    assert_int_equal(blobstore_put_object(s, put_order[0], "{\"v\":2}", 7, NULL), BLOB_OK);
    cd_buf b = CD_BUF_INIT;
    assert_int_equal(blobstore_get_object(s, put_order[0], &b, NULL), BLOB_OK);
    assert_int_equal(b.len, 7);
    assert_string_equal(b.data, "{\"v\":2}");
    assert_int_equal(blobstore_get_object(s, put_order[3], &b, NULL), BLOB_OK);
    assert_string_equal(b.data, put_order[3]);
    cd_buf_free(&b);
    assert_int_equal(entries(f, ".tmp"), 0);

    keys k = {"", 0};
    /* Byte order: '-' < '/' < '0', and "10" < "2", as S3 lists. */
    assert_string_equal(list(s, "manifests/", &k),
                        "manifests/course/c/1.json;manifests/tutorial/a-b/1.json;"
                        "manifests/tutorial/a/1.json;manifests/tutorial/hello/1.json;"
                        "manifests/tutorial/hello/10.json;manifests/tutorial/hello/2.json;");
    assert_string_equal(list(s, "manifests/tutorial/hello/", &k),
                        "manifests/tutorial/hello/1.json;manifests/tutorial/hello/10.json;"
                        "manifests/tutorial/hello/2.json;");
    assert_string_equal(list(s, "manifests/tutorial/hello/1", &k),
                        "manifests/tutorial/hello/1.json;manifests/tutorial/hello/10.json;");
    assert_string_equal(list(s, "manifests/tutorial/a", &k),
                        "manifests/tutorial/a-b/1.json;manifests/tutorial/a/1.json;");
    assert_string_equal(list(s, "manifests/none/", &k), "");
    assert_string_equal(list(s, "elsewhere/", &k), "");
    k.limit = 2;
    assert_string_equal(list(s, "manifests/", &k),
                        "manifests/course/c/1.json;manifests/tutorial/a-b/1.json;");

    /* The whole store: blobs before manifests, nothing else of the folder. */
    char sha[CD_SHA256_HEX];
    sha_of("x", 1, sha);
    assert_int_equal(put(s, sha, "x", 1, 1, -1), BLOB_OK);
    assert_int_equal(settle_blob(s, sha), BLOB_OK);
    char path[128];
    snprintf(path, sizeof path, "%s/catalog.db", f->dir);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fclose(fp);
    k.limit = 2;
    char want[256];
    snprintf(want, sizeof want, "blobs/%.2s/%s;manifests/course/c/1.json;", sha, sha);
    assert_string_equal(list(s, "", &k), want);
    k.limit = 1;
    snprintf(want, sizeof want, "blobs/%.2s/", sha);
    snprintf(path, sizeof path, "blobs/%.2s/%s;", sha, sha);
    assert_string_equal(list(s, want, &k), path);
}

/* blobstore_each_manifest(): item by item, versions by number (2 before
 * 10), keys of another shape skipped, and a callback that stops the walk
 * stops it without its value becoming the store's status. */
typedef struct walked {
    char seen[256];
    int calls, stop_after;
} walked;

static int walk_one(void *arg, const char *kind, const char *name, int64_t version,
                    const char *json, size_t len)
{
    walked *w = arg;
    size_t at = strlen(w->seen);
    snprintf(w->seen + at, sizeof w->seen - at, "%s/%s/%lld=%.*s;", kind, name, (long long)version,
             (int)len, json);
    return ++w->calls == w->stop_after ? 7 : 0;
}

static void test_each_manifest(void **state)
{
    fixture *f = *state;
    static const char *const keys_[] = {
        "manifests/tutorial/hello/10.json", "manifests/tutorial/hello/2.json",
        "manifests/course/c/1.json",        "manifests/tutorial/hello/x.json",
        "manifests/tutorial/flat.json",
    };
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(blobstore_put_object(f->s, keys_[i], "m", 1, NULL), BLOB_OK);
    walked w = {"", 0, 0};
    cd_err err = {0, ""};
    assert_int_equal(blobstore_each_manifest(f->s, walk_one, &w, &err), BLOB_OK);
    assert_string_equal(w.seen, "course/c/1=m;tutorial/hello/2=m;tutorial/hello/10=m;");
    walked stop = {"", 0, 2};
    assert_int_equal(blobstore_each_manifest(f->s, walk_one, &stop, &err), BLOB_OK);
    assert_string_equal(stop.seen, "course/c/1=m;tutorial/hello/2=m;");
}

static void test_stale_temporaries(void **state)
{
    fixture *f = *state;
    /* A writer in progress (another handle, as another process would). */
    const char *text = "in progress";
    char sha[CD_SHA256_HEX];
    sha_of(text, strlen(text), sha);
    blob_writer *w;
    assert_int_equal(blobstore_put_begin(f->s, sha, -1, &w, NULL), BLOB_OK);
    assert_int_equal(blobstore_put_write(f->s, w, text, 3, NULL), BLOB_OK);
    /* A dead writer's leftover: nobody holds it. */
    char path[128];
    snprintf(path, sizeof path, "%s/.tmp/up-dead", f->dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "junk", 4), 4);
    close(fd);
    assert_int_equal(entries(f, ".tmp"), 2);

    blobstore *again = open_or_fail(f->dir);
    assert_int_equal(entries(f, ".tmp"), 1);
    assert_int_equal(access(path, F_OK), -1);
    /* The live upload was left alone and completes. */
    assert_int_equal(blobstore_put_write(f->s, w, text + 3, strlen(text) - 3, NULL), BLOB_OK);
    assert_int_equal(blobstore_put_finish(f->s, w, NULL), BLOB_OK);
    /* Staged, its file still locked: another handle's sweep leaves it. */
    blobstore *third = open_or_fail(f->dir);
    blobstore_close(third);
    assert_int_equal(entries(f, ".tmp"), 1);
    assert_false(has(again, sha)); /* staged objects are this handle's until settled */
    assert_int_equal(settle_blob(f->s, sha), BLOB_OK);
    assert_true(has(again, sha));
    assert_int_equal(entries(f, ".tmp"), 0);
    blobstore_close(again);
}

typedef struct putter {
    blobstore *s;
    const char *sha;
    const char *data;
    size_t n;
    int rc;
} putter;

static void *put_thread(void *arg)
{
    putter *p = arg;
    p->rc = put(p->s, p->sha, p->data, p->n, 1000, -1);
    return NULL;
}

static void test_concurrent_puts(void **state)
{
    fixture *f = *state;
    size_t n = 100000;
    char *data = random_bytes(n);
    char sha[CD_SHA256_HEX];
    sha_of(data, n, sha);
    putter p[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        p[i] = (putter){f->s, sha, data, n, -99};
        pthread_create(&t[i], NULL, put_thread, &p[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(p[i].rc, BLOB_OK);
    }
    assert_true(has(f->s, sha));
    assert_int_equal(settle_blob(f->s, sha), BLOB_OK);
    assert_int_equal(entries(f, ".tmp"), 0);
    free(data);
}

/* The stage: a version's objects are synced together by settle(); until
 * then they are readable through the store and absent from their place. */
static void test_stage_and_settle(void **state)
{
    fixture *f = *state;
    blobstore *s = f->s;
    char sha[3][CD_SHA256_HEX];
    const char *text[3] = {"one", "two", "three"};
    for (int i = 0; i < 3; i++) {
        sha_of(text[i], strlen(text[i]), sha[i]);
        assert_int_equal(put(s, sha[i], text[i], strlen(text[i]), 2, -1), BLOB_OK);
    }
    const char *mkey = "manifests/tutorial/t/1.json";
    assert_int_equal(blobstore_stage_object(s, mkey, "{\"v\":1}", 7, NULL), BLOB_OK);
    assert_int_equal(blobstore_stage_object(s, mkey, "{\"v\":2}", 7, NULL), BLOB_OK); /* again */
    assert_int_equal(entries(f, ".tmp"), 4);
    assert_int_equal(entries(f, "manifests"), 0);
    cd_buf b = CD_BUF_INIT;
    assert_int_equal(blobstore_get_object(s, mkey, &b, NULL), BLOB_OK);
    assert_string_equal(b.data, "{\"v\":2}");
    blob_reader *r;
    int64_t size;
    assert_int_equal(blobstore_open(s, sha[2], &r, &size, NULL), BLOB_OK);
    assert_int_equal(size, 5);
    char back[8] = {0};
    assert_int_equal(blobstore_read(s, r, 0, back, sizeof back), 5);
    assert_string_equal(back, "three");
    blobstore_close_reader(s, r);

    /* Settle two blobs (one named twice), the manifest, and a key that is
     * not staged; the third blob stays staged. */
    char *names[5] = {blobstore_blob_key(sha[0]), blobstore_blob_key(sha[1]),
                      blobstore_blob_key(sha[0]), cd_xstrdup(mkey),
                      cd_xstrdup("manifests/tutorial/t/9.json")};
    assert_int_equal(blobstore_settle(s, (const char *const *)names, 5, NULL), BLOB_OK);
    assert_int_equal(entries(f, ".tmp"), 1);
    char path[256];
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/blobs/%.2s/%s", f->dir, sha[i], sha[i]);
        assert_int_equal(access(path, F_OK), i < 2 ? 0 : -1);
    }
    snprintf(path, sizeof path, "%s/%s", f->dir, mkey);
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    assert_non_null(fgets(back, sizeof back, fp));
    fclose(fp);
    assert_string_equal(back, "{\"v\":2}");
    for (int i = 0; i < 5; i++)
        free(names[i]);
    cd_buf_free(&b);

    /* Closing the store makes what is still staged durable and in place. */
    blobstore_close(s);
    f->s = open_or_fail(f->dir);
    snprintf(path, sizeof path, "%s/blobs/%.2s/%s", f->dir, sha[2], sha[2]);
    assert_int_equal(access(path, F_OK), 0);
    assert_int_equal(entries(f, ".tmp"), 0);
}

/* A full stage makes the oldest object durable to make room: what no
 * commit named does not leave later saves without a stage. */
static void test_stage_full(void **state)
{
    fixture *f = *state;
    char sha[70][CD_SHA256_HEX];
    for (int i = 0; i < 70; i++) {
        char text[16];
        snprintf(text, sizeof text, "blob %d", i);
        sha_of(text, strlen(text), sha[i]);
        assert_int_equal(put(f->s, sha[i], text, strlen(text), 4, -1), BLOB_OK);
        assert_true(has(f->s, sha[i]));
    }
    assert_int_equal(entries(f, ".tmp"), 64);
    for (int i = 0; i < 70; i++) {
        char path[256];
        snprintf(path, sizeof path, "%s/blobs/%.2s/%s", f->dir, sha[i], sha[i]);
        assert_int_equal(access(path, F_OK), i < 6 ? 0 : -1);
    }
}

typedef struct settler {
    blobstore *s;
    const char *sha;
    int rc;
} settler;

static void *settle_thread(void *arg)
{
    settler *t = arg;
    t->rc = settle_blob(t->s, t->sha);
    return NULL;
}

/* Two commits naming the same staged blob: each settle returns only once
 * the blob is in place, whichever of them moved it. */
static void test_concurrent_settles(void **state)
{
    fixture *f = *state;
    for (int round = 0; round < 20; round++) {
        char text[16], sha[CD_SHA256_HEX], path[256];
        snprintf(text, sizeof text, "shared %d", round);
        sha_of(text, strlen(text), sha);
        assert_int_equal(put(f->s, sha, text, strlen(text), 4, -1), BLOB_OK);
        settler t[3];
        pthread_t th[3];
        for (int i = 0; i < 3; i++) {
            t[i] = (settler){f->s, sha, -99};
            pthread_create(&th[i], NULL, settle_thread, &t[i]);
        }
        snprintf(path, sizeof path, "%s/blobs/%.2s/%s", f->dir, sha, sha);
        for (int i = 0; i < 3; i++) {
            pthread_join(th[i], NULL);
            assert_int_equal(t[i].rc, BLOB_OK);
            assert_int_equal(access(path, F_OK), 0);
        }
    }
    assert_int_equal(entries(f, ".tmp"), 0);
}

static void test_reopen(void **state)
{
    fixture *f = *state;
    char sha[CD_SHA256_HEX];
    sha_of("kept", 4, sha);
    assert_int_equal(put(f->s, sha, "kept", 4, 4, -1), BLOB_OK);
    blobstore_close(f->s);
    f->s = open_or_fail(f->dir);
    assert_true(has(f->s, sha));
    cd_err err = {0, ""};
    char missing[128];
    snprintf(missing, sizeof missing, "%s/no/such/dir", f->dir);
    blobstore *deep = blobstore_open_fs(missing, &err);
    assert_non_null(deep); /* the data folder is created */
    blobstore_close(deep);
    /* with its 256 blob folders: storing a blob never has to make one */
    char made[160];
    snprintf(made, sizeof made, "no/such/dir/blobs");
    assert_int_equal(entries(f, made), 256);
    snprintf(made, sizeof made, "no/such/dir/blobs/ff");
    assert_int_equal(entries(f, made), 0);
    assert_null(blobstore_open_fs("/proc/contentd-cannot-exist", &err));
    assert_non_null(strstr(err.msg, "data folder"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys),
        cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nothing_visible, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_manifests, setup, teardown),
        cmocka_unit_test_setup_teardown(test_each_manifest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_temporaries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_puts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stage_and_settle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stage_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_settles, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
