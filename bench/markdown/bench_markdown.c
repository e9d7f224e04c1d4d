/* SPDX-License-Identifier: MIT */
/*
 * bench_markdown — in-process throughput of the markdown renderer.
 *
 * Loads every corpus file into memory once, then renders the whole corpus
 * again and again for at least --seconds (after one untimed warm-up pass) and
 * reports input megabytes (10^6 bytes) per second.  Two engines run on the
 * same bytes with the same clock and the same loop:
 *
 *   ours        md_render(): the AST document, JSON written to memory
 *   cmark-html  cmark-gfm parse + cmark_render_html() with the same GFM
 *               extensions — the floor that building an AST is measured
 *               against, without the process start-up the CLI pays
 *
 * Output is one line per engine, key=value, for bench/markdown/run to parse:
 *   engine=ours files=12 bytes=123456 passes=300 seconds=2.001 mb_per_s=18.51
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmark-gfm-core-extensions.h>
#include <cmark-gfm.h>

#include "common.h"
#include "markdown.h"

struct corpus {
    char **data;
    size_t *len;
    size_t n;
    size_t bytes;
};

/* One engine: renders one document, returns output bytes (0 on failure). */
typedef size_t (*render_fn)(const char *src, size_t len);

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Reads path whole into *out (freed by the caller with free()). */
static int load_file(const char *path, char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "bench_markdown: %s: %s\n", path, strerror(errno));
        return -1;
    }
    cd_buf b = CD_BUF_INIT;
    int bad = cd_buf_read(&b, f, 0);
    fclose(f);
    if (bad) {
        fprintf(stderr, "bench_markdown: %s: read error\n", path);
        cd_buf_free(&b);
        return -1;
    }
    *out = cd_buf_steal(&b, len);
    return 0;
}

static size_t render_ours(const char *src, size_t len)
{
    char *out = NULL;
    size_t out_len = 0;
    md_error err;
    if (md_render(src, len, 0, &out, &out_len, &err) != MD_OK) {
        fprintf(stderr, "bench_markdown: md_render failed: line %d: %s\n", err.line, err.message);
        return 0;
    }
    free(out);
    return out_len ? out_len : 1;
}

static cmark_llist *cmark_exts;

static void cmark_setup(void)
{
    static const char *const names[] = {"table", "strikethrough", "autolink", "tasklist"};
    cmark_gfm_core_extensions_ensure_registered();
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        cmark_syntax_extension *e = cmark_find_syntax_extension(names[i]);
        if (e)
            cmark_exts = cmark_llist_append(cmark_get_default_mem_allocator(), cmark_exts, e);
    }
}

/* What `cmark-gfm -e table -e strikethrough -e autolink -e tasklist
 * -e footnotes` does per document, minus reading the file and writing out. */
static size_t render_cmark_html(const char *src, size_t len)
{
    int opts = CMARK_OPT_DEFAULT | CMARK_OPT_FOOTNOTES;
    cmark_parser *p = cmark_parser_new(opts);
    for (cmark_llist *l = cmark_exts; l; l = l->next)
        cmark_parser_attach_syntax_extension(p, l->data);
    cmark_parser_feed(p, src, len);
    cmark_node *doc = cmark_parser_finish(p);
    char *html = cmark_render_html(doc, opts, cmark_parser_get_syntax_extensions(p));
    size_t n = strlen(html) + 1;
    free(html);
    cmark_node_free(doc);
    cmark_parser_free(p);
    return n;
}

/* Renders every document once; returns output bytes, 0 if one failed. */
static size_t one_pass(const struct corpus *c, render_fn fn)
{
    size_t out = 0;
    for (size_t i = 0; i < c->n; i++) {
        size_t r = fn(c->data[i], c->len[i]);
        if (!r)
            return 0;
        out += r;
    }
    return out;
}

static int run_engine(const char *name, const struct corpus *c, render_fn fn, double seconds)
{
    size_t out_bytes = one_pass(c, fn); /* warm-up: caches, allocator, lazy init */
    if (!out_bytes)
        return -1;
    unsigned long passes = 0;
    double t0 = now(), elapsed;
    do {
        if (!one_pass(c, fn))
            return -1;
        passes++;
        elapsed = now() - t0;
    } while (elapsed < seconds);
    double in_bytes = (double)c->bytes * (double)passes;
    printf("engine=%s files=%zu bytes=%zu out_bytes=%zu passes=%lu seconds=%.3f "
           "mb_per_s=%.2f\n",
           name, c->n, c->bytes, out_bytes, passes, elapsed, in_bytes / elapsed / 1e6);
    fflush(stdout);
    return 0;
}

static void usage(FILE *f)
{
    fputs("usage: bench_markdown [--seconds S] [--engine ours|cmark-html|all] FILE...\n", f);
}

int main(int argc, char **argv)
{
    double seconds = 2.0;
    const char *engine = "all";
    struct corpus c = {NULL, NULL, 0, 0};
    int status = 1, i;

    for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1] == '-'; i++) {
        if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
            seconds = atof(argv[++i]);
        else if (!strcmp(argv[i], "--engine") && i + 1 < argc)
            engine = argv[++i];
        else if (!strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (i >= argc || seconds <= 0) {
        usage(stderr);
        return 2;
    }
    c.n = (size_t)(argc - i);
    c.data = cd_xcalloc(c.n, sizeof *c.data);
    c.len = cd_xcalloc(c.n, sizeof *c.len);
    for (size_t k = 0; k < c.n; k++) {
        if (load_file(argv[i + (int)k], &c.data[k], &c.len[k]) < 0)
            goto out;
        c.bytes += c.len[k];
    }
    if (!c.bytes) {
        fputs("bench_markdown: the corpus is empty\n", stderr);
        goto out;
    }
    cmark_setup();
    int all = !strcmp(engine, "all");
    if ((all || !strcmp(engine, "ours")) && run_engine("ours", &c, render_ours, seconds) < 0)
        goto out;
    if ((all || !strcmp(engine, "cmark-html")) &&
        run_engine("cmark-html", &c, render_cmark_html, seconds) < 0)
        goto out;
    status = 0;
out:
    for (size_t k = 0; k < c.n; k++)
        free(c.data[k]);
    free(c.data);
    free(c.len);
    cmark_llist_free(cmark_get_default_mem_allocator(), cmark_exts);
    return status;
}
