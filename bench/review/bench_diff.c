/* SPDX-License-Identifier: MIT */
/*
 * bench_diff — what GET …/versions/N/diff costs the server on one item,
 * in-process, with every AST already rendered (the render cache's case):
 *   blocks    rv_blocks() over every document of the item and its edited
 *             copy (asts= of them)
 *   diff-same rv_diff_json() of a version against itself (no document read)
 *   diff-one  against a version with one lesson edited (the usual review)
 *   diff-all  against a version with every document edited (the worst case:
 *             every document's blocks taken twice)
 * Each is run once untimed, then again and again for at least --seconds;
 * the median and the slowest run are printed, key=value, one line each:
 *   what=diff-one files=602 docs=301 asts=602 runs=900 median_ms=0.49 max_ms=2.41 bytes_out=15516
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_args.h"
#include "common.h"
#include "folder.h"
#include "ignore.h"
#include "markdown.h"
#include "review.h"

#define MAX_RUNS 100000

/* A rendered AST by the SHA-256 of its source. */
typedef struct ast {
    char sha[CD_SHA256_HEX];
    char *json;
    size_t len;
} ast;

static ast *asts;
static size_t nasts;
static rv_file *va, *vb_one, *vb_all; /* the versions compared */
static size_t nfiles;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int by_sha(const void *a, const void *b)
{
    return strcmp(((const ast *)a)->sha, ((const ast *)b)->sha);
}

static int by_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Renders src and keeps its AST; returns the name (SHA-256 of src). */
static const char *keep(const char *src, size_t len)
{
    ast *a = &asts[nasts++];
    cd_sha256_hex(src, len, a->sha);
    if (md_render(src, len, 0, &a->json, &a->len, NULL) != MD_OK) {
        a->json = cd_xstrdup("{\"body\":{\"children\":[]}}");
        a->len = strlen(a->json);
    }
    return a->sha;
}

static char *slurp(const char *path, size_t *len)
{
    cd_buf b = CD_BUF_INIT;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t got = 0;
    cd_buf_puts(&b, "");
    if (fd >= 0) {
        do {
            cd_buf_grow(&b, 65536);
            got = read(fd, b.data + b.len, 65536);
            if (got > 0)
                b.len += (size_t)got;
        } while (got > 0);
        close(fd);
    }
    b.data[b.len] = '\0';
    return cd_buf_steal(&b, len);
}

static int blocks_of(void *arg, const char *path, const char *sha, rv_block **out, size_t *n,
                     cd_err *err)
{
    ast key, *a;
    (void)arg;
    snprintf(key.sha, sizeof key.sha, "%s", sha);
    a = bsearch(&key, asts, nasts, sizeof *asts, by_sha);
    if (!a || rv_blocks(a->json, a->len, out, n) != RV_OK)
        return cd_err_set(err, -1, "%s: no AST", path);
    return 0;
}

static size_t run_blocks(const rv_file *b)
{
    size_t total = 0;
    (void)b;
    for (size_t i = 0; i < nasts; i++) {
        rv_block *bl;
        size_t n;
        if (rv_blocks(asts[i].json, asts[i].len, &bl, &n) == RV_OK)
            total += n;
        rv_blocks_free(bl, n);
    }
    return total;
}

static size_t run_diff(const rv_file *b)
{
    cd_buf out = CD_BUF_INIT;
    cd_err err;
    if (rv_diff_json(1, va, nfiles, 2, b, nfiles, blocks_of, NULL, &out, &err) != 0) {
        fprintf(stderr, "bench_diff: %s\n", err.msg);
        exit(1);
    }
    size_t len = out.len;
    cd_buf_free(&out);
    return len;
}

static void measure(const char *what, size_t (*fn)(const rv_file *), const rv_file *b,
                    double seconds, size_t docs)
{
    static double t[MAX_RUNS];
    size_t result = fn(b), runs = 0;
    double start = now_ms();
    while (runs < MAX_RUNS && (runs < 3 || now_ms() - start < seconds * 1e3)) {
        double t0 = now_ms();
        fn(b);
        t[runs++] = now_ms() - t0;
    }
    qsort(t, runs, sizeof *t, by_double);
    printf("what=%s files=%zu docs=%zu asts=%zu runs=%zu median_ms=%.3f max_ms=%.3f %s=%zu\n", what,
           nfiles, docs, nasts, runs, t[runs / 2], t[runs - 1],
           fn == run_blocks ? "blocks" : "bytes_out", result);
}

int main(int argc, char **argv)
{
    double seconds;
    const char *dir;
    int rc = bench_dir_args("bench_diff", argc, argv, &dir, &seconds);
    if (rc != 0)
        return rc;
    folder_tree t = {0};
    cd_err err;
    ignore_rules *ig = ignore_new(true);
    if (folder_scan(dir, ig, NULL, &t, &err) != 0) {
        fprintf(stderr, "bench_diff: %s: %s\n", dir, err.msg);
        return 1;
    }
    nfiles = t.n;
    asts = cd_xcalloc(2 * nfiles + 1, sizeof *asts);
    va = cd_xcalloc(nfiles + 1, sizeof *va);
    vb_one = cd_xcalloc(nfiles + 1, sizeof *vb_one);
    vb_all = cd_xcalloc(nfiles + 1, sizeof *vb_all);
    char(*edited)[CD_SHA256_HEX] = cd_xcalloc(nfiles + 1, sizeof *edited);
    size_t docs = 0, one = SIZE_MAX;
    for (size_t i = 0; i < nfiles; i++) {
        const folder_file *f = &t.files[i];
        va[i] = vb_one[i] = vb_all[i] = (rv_file){f->path, f->sha256};
        if (!cd_path_is_markdown(f->path))
            continue;
        size_t len;
        char *src = slurp(f->src, &len);
        keep(src, len);
        cd_buf e = CD_BUF_INIT; /* an edit: a paragraph changed in the middle, one added */
        cd_buf_append(&e, src, len / 2);
        cd_buf_puts(&e, " edited");
        cd_buf_append(&e, src + len / 2, len - len / 2);
        cd_buf_puts(&e, "\n\nA paragraph added at the end.\n");
        memcpy(edited[i], keep(e.data, e.len), CD_SHA256_HEX);
        cd_buf_free(&e);
        free(src);
        vb_all[i].sha256 = edited[i];
        if (one == SIZE_MAX && strcmp(f->path, "index.md") != 0)
            one = i;
        docs++;
    }
    if (one != SIZE_MAX)
        vb_one[one].sha256 = edited[one];
    qsort(asts, nasts, sizeof *asts, by_sha);
    measure("blocks", run_blocks, NULL, seconds, docs);
    measure("diff-same", run_diff, va, seconds, docs);
    measure("diff-one", run_diff, vb_one, seconds, docs);
    measure("diff-all", run_diff, vb_all, seconds, docs);
    for (size_t i = 0; i < nasts; i++)
        free(asts[i].json);
    free(asts);
    free(va);
    free(vb_one);
    free(vb_all);
    free(edited);
    folder_tree_clear(&t);
    ignore_free(ig);
    return 0;
}
