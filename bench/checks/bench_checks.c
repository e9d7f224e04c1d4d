/* SPDX-License-Identifier: MIT */
/*
 * bench_checks — what the checks cost on one item, in-process, the way the
 * server will run them at commit: every file already in memory (the blob
 * store hands over bytes), chk_run() over the whole version.
 *
 * Loads every file under DIR into memory once, runs the checks once
 * untimed, then again and again for at least --seconds, and reports the
 * median and the slowest run.  For comparison it also times rendering the
 * same documents with md_render() alone (what the checks spend on the
 * renderer), and rendering plus loading each AST into jansson (what they
 * spend before their own passes), with the same clock and loop.
 *
 * Last, the case of a commit on a server that keeps a chk_cache: each run
 * checks a version that differs from the previous run's by one lesson.
 *
 * Output, key=value, one line each, for bench/checks/run to show:
 *   what=checks files=302 docs=301 bytes=1234567 runs=40 median_ms=41.2 max_ms=44.0 findings=0
 *   what=render files=302 docs=301 bytes=1234567 runs=45 median_ms=35.1 max_ms=37.9 rendered=301
 */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_args.h"
#include "checks.h"
#include "common.h"
#include "markdown.h"

#define MAX_RUNS 100000

typedef struct mfile {
    char *path;
    char *data;
    size_t len;
} mfile;

static mfile *files;
static size_t nfiles, cap;
static size_t root_len;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int load(const char *fpath, const struct stat *st, int type, struct FTW *ftw)
{
    (void)ftw;
    if (type != FTW_F || !S_ISREG(st->st_mode))
        return 0;
    FILE *f = fopen(fpath, "rb");
    if (!f)
        return 0;
    cd_buf b = CD_BUF_INIT;
    int bad = cd_buf_read(&b, f, 0);
    fclose(f);
    if (bad) {
        fprintf(stderr, "bench_checks: %s: read error\n", fpath);
        cd_buf_free(&b);
        return -1;
    }
    files = cd_grow(files, nfiles, &cap, 64, sizeof *files);
    mfile *m = &files[nfiles++];
    m->path = cd_xstrdup(fpath + root_len + 1);
    m->data = cd_buf_steal(&b, &m->len);
    return 0;
}

static int mem_read(void *arg, size_t index, size_t max, char **data, size_t *len, cd_err *err)
{
    (void)arg, (void)err;
    size_t n = files[index].len < max ? files[index].len : max;
    *data = cd_xmalloc(n + 1);
    memcpy(*data, files[index].data, n);
    *len = n;
    return 0;
}

static int by_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* One timed pass of each kind. */
static size_t run_checks(const chk_item *item)
{
    json_t *findings = NULL;
    cd_err err;
    if (chk_run(item, NULL, &findings, &err) != 0) {
        fprintf(stderr, "bench_checks: %s\n", err.msg);
        exit(1);
    }
    size_t n = json_array_size(findings);
    json_decref(findings);
    return n;
}

static bool parse_too; /* run_render: also load the AST into jansson */

/* run_cached: the files' names for the cache, the lesson each run edits. */
static chk_cache *cache;
static char (*shas)[65];
static size_t edited, edits;
static char *edited_orig;
static size_t edited_len;

/* One commit of a version that differs from the last by one lesson: the
 * lesson gets a new line (so new bytes, a new name), then the checks run
 * with the cache that earlier runs filled. */
static size_t run_cached(const chk_item *item)
{
    cd_buf b = CD_BUF_INIT;
    cd_buf_append(&b, edited_orig, edited_len);
    cd_buf_printf(&b, "\nEdit %zu.\n", ++edits);
    free(files[edited].data);
    files[edited].data = cd_buf_steal(&b, &files[edited].len);
    ((chk_file *)item->files)[edited].size = (int64_t)files[edited].len;
    snprintf(shas[edited], 65, "%064zx", edits);
    json_t *findings = NULL;
    cd_err err;
    chk_options o = {.max_file_size = CHK_DEFAULT_MAX_FILE_SIZE, .cache = cache};
    if (chk_run(item, &o, &findings, &err) != 0) {
        fprintf(stderr, "bench_checks: %s\n", err.msg);
        exit(1);
    }
    size_t n = json_array_size(findings);
    json_decref(findings);
    return n;
}

static size_t run_render(const chk_item *item)
{
    size_t docs = 0;
    for (size_t i = 0; i < nfiles; i++) {
        size_t n = strlen(files[i].path);
        if (n < 3 || strcmp(files[i].path + n - 3, ".md"))
            continue;
        char *out = NULL;
        size_t len;
        if (md_render(files[i].data, files[i].len, 0, &out, &len, NULL) == MD_OK)
            docs++;
        if (out && parse_too)
            json_decref(json_loadb(out, len, 0, NULL));
        free(out);
    }
    (void)item;
    return docs;
}

/* Runs fn for at least seconds (and at least 3 times); prints the line. */
static void measure(const char *what, size_t (*fn)(const chk_item *), const chk_item *item,
                    double seconds, const char *extra)
{
    static double t[MAX_RUNS];
    size_t result = fn(item), runs = 0; /* warm-up */
    double start = now();
    while (runs < MAX_RUNS && (runs < 3 || now() - start < seconds)) {
        double t0 = now();
        fn(item);
        t[runs++] = (now() - t0) * 1000;
    }
    qsort(t, runs, sizeof *t, by_double);
    printf("what=%s %s runs=%zu median_ms=%.2f max_ms=%.2f %s=%zu\n", what, extra, runs,
           t[runs / 2], t[runs - 1], strncmp(what, "checks", 6) ? "rendered" : "findings", result);
}

int main(int argc, char **argv)
{
    double seconds;
    const char *dir;
    int rc = bench_dir_args("bench_checks", argc, argv, &dir, &seconds);
    if (rc != 0)
        return rc;
    root_len = strlen(dir);
    while (root_len > 1 && dir[root_len - 1] == '/')
        root_len--;
    if (nftw(dir, load, 16, FTW_PHYS) != 0) {
        perror(dir);
        return 1;
    }
    chk_file *cf = cd_xcalloc(nfiles ? nfiles : 1, sizeof *cf);
    size_t bytes = 0, docs = 0;
    for (size_t i = 0; i < nfiles; i++) {
        cf[i] = (chk_file){files[i].path, NULL, (int64_t)files[i].len};
        bytes += files[i].len;
        size_t n = strlen(files[i].path);
        docs += n > 3 && !strcmp(files[i].path + n - 3, ".md");
    }
    chk_item item = {NULL, NULL, cf, nfiles, mem_read, NULL};
    char extra[128];
    snprintf(extra, sizeof extra, "files=%zu docs=%zu bytes=%zu", nfiles, docs, bytes);
    measure("checks", run_checks, &item, seconds, extra);
    measure("render", run_render, &item, seconds, extra);
    parse_too = true;
    measure("render+parse", run_render, &item, seconds, extra);

    /* With the cache, each run a version with one lesson changed. */
    shas = cd_xcalloc(nfiles ? nfiles : 1, sizeof *shas);
    for (size_t i = 0; i < nfiles; i++) {
        snprintf(shas[i], 65, "f%063zx", i);
        cf[i].sha256 = shas[i];
        size_t n = strlen(files[i].path);
        if (n > 3 && !strcmp(files[i].path + n - 3, ".md") && strcmp(files[i].path, "index.md"))
            edited = i; /* the last lesson in walk order */
    }
    edited_orig = cd_xstrndup(files[edited].data, files[edited].len);
    edited_len = files[edited].len;
    cache = chk_cache_new(100000);
    measure("checks-cached", run_cached, &item, seconds, extra);
    chk_cache_free(cache);
    free(shas);
    free(edited_orig);
    for (size_t i = 0; i < nfiles; i++)
        free(files[i].path), free(files[i].data);
    free(files);
    free(cf);
    return 0;
}
