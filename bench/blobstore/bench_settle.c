/* SPDX-License-Identifier: MIT */
/*
 * What making a version durable costs on the folder store, the two ways,
 * in the same run: a new 5 KB blob and a manifest of 1 KB
 *   one by one   each object synced, renamed and its folder synced as it is
 *                stored (blobstore_put_object(), the store's way for every
 *                object before the stage)
 *   together     the blob staged by put_finish(), the manifest by
 *                blobstore_stage_object(), both made durable by one
 *                blobstore_settle() (the commit's way now)
 * Rounds alternate which way goes first, so that a change in the disk's
 * load reaches both alike.  Prints p50, p90, p99 and mean per way, in ms.
 *
 * usage: bench_settle DATA_DIR [ROUNDS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blobstore.h"
#include "common.h"

#define BLOB_BYTES     5000
#define MANIFEST_BYTES 1000

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* A new blob of BLOB_BYTES (round r, way w) in buf; its sha in sha. */
static void make_blob(char *buf, int r, int w, char sha[CD_SHA256_HEX])
{
    for (int i = 0; i < BLOB_BYTES; i++)
        buf[i] = (char)('a' + (i * 7 + r * 13 + w) % 26);
    snprintf(buf, 32, "round %d way %d\n", r, w);
    cd_sha256 *md = cd_sha256_new();
    cd_sha256_update(md, buf, BLOB_BYTES);
    cd_sha256_final(md, sha);
}

static void must(blob_status rc, const cd_err *err, const char *what)
{
    if (rc == BLOB_OK)
        return;
    fprintf(stderr, "bench_settle: %s: %s\n", what, err->msg);
    exit(1);
}

/* One version's objects, durable before it returns; its time in ns. */
static int64_t one_version(blobstore *bs, int r, int w, bool together)
{
    char blob[BLOB_BYTES], manifest[MANIFEST_BYTES], sha[CD_SHA256_HEX];
    make_blob(blob, r, w, sha);
    memset(manifest, ' ', sizeof manifest);
    snprintf(manifest, sizeof manifest, "{\"version\":%d,\"sha\":\"%s\"}", r, sha);
    char *bkey = blobstore_blob_key(sha);
    char *mkey = blobstore_manifest_key(together ? "tutorial" : "course", "bench", r + 1);
    cd_err err = {0};
    int64_t t0 = cd_mono_ns();
    if (together) {
        blob_writer *wr = NULL;
        must(blobstore_put_begin(bs, sha, -1, &wr, &err), &err, "put_begin");
        must(blobstore_put_write(bs, wr, blob, sizeof blob, &err), &err, "put_write");
        must(blobstore_put_finish(bs, wr, &err), &err, "put_finish");
        must(blobstore_stage_object(bs, mkey, manifest, sizeof manifest, &err), &err, "stage");
        const char *keys[2] = {bkey, mkey};
        must(blobstore_settle(bs, keys, 2, &err), &err, "settle");
    } else {
        must(blobstore_put_object(bs, bkey, blob, sizeof blob, &err), &err, "put blob");
        must(blobstore_put_object(bs, mkey, manifest, sizeof manifest, &err), &err, "put manifest");
    }
    int64_t t = cd_mono_ns() - t0;
    free(bkey);
    free(mkey);
    return t;
}

static void report(const char *name, int64_t *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_i64);
    double sum = 0;
    for (int i = 0; i < n; i++)
        sum += (double)v[i];
    printf("| %s | %d | %.2f | %.2f | %.2f | %.2f |\n", name, n, v[n / 2] / 1e6,
           v[n * 9 / 10] / 1e6, v[n * 99 / 100] / 1e6, sum / n / 1e6);
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: bench_settle DATA_DIR [ROUNDS]\n");
        return 2;
    }
    int rounds = argc == 3 ? atoi(argv[2]) : 200;
    if (rounds < 1) {
        fprintf(stderr, "bench_settle: ROUNDS must be a positive number\n");
        return 2;
    }
    cd_err err = {0};
    blobstore *bs = blobstore_open_fs(argv[1], &err);
    if (!bs) {
        fprintf(stderr, "bench_settle: %s\n", err.msg);
        return 1;
    }
    int64_t *apart = cd_xcalloc((size_t)rounds, sizeof *apart);
    int64_t *together = cd_xcalloc((size_t)rounds, sizeof *together);
    for (int r = 0; r < rounds; r++) {
        bool first = r % 2;
        if (first)
            together[r] = one_version(bs, r, 1, true);
        apart[r] = one_version(bs, r, 0, false);
        if (!first)
            together[r] = one_version(bs, r, 1, true);
    }
    printf("| a version's blob (5 KB) and manifest made durable | rounds | p50 ms | p90 ms | "
           "p99 ms | mean ms |\n|---|---:|---:|---:|---:|---:|\n");
    report("one by one (put_object each)", apart, rounds);
    report("together (staged, one settle)", together, rounds);
    free(apart);
    free(together);
    blobstore_close(bs);
    return 0;
}
