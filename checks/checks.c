/* SPDX-License-Identifier: MIT */
/*
 * One run of the checks: read and render every document once, collect
 * every document's heading ids (a link may point into any of them), then
 * the passes in an order that lets the last one see every reference: the
 * source scan, front matter and links of each document, the files
 * themselves, and finally the assets nothing referred to.
 */
#include "checks_int.h"

#include <stdlib.h>
#include <string.h>

#include "markdown.h"

/* ---- known components ------------------------------------------------------- */

struct chk_components {
    char **names; /* normalised, sorted */
    size_t n;
};

/* name lower-cased, without '-' and '_' (MyCard, my-card → mycard). */
static char *normalise(const char *s, size_t n)
{
    char *out = cd_xmalloc(n + 1), *o = out;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (ch == '-' || ch == '_')
            continue;
        *o++ = ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
    }
    *o = '\0';
    return out;
}

static int by_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

chk_components *chk_components_parse(const char *text, size_t len)
{
    chk_components *c = cd_xcalloc(1, sizeof *c);
    size_t cap = 0;
    for (size_t i = 0; i < len;) {
        size_t end = i;
        while (end < len && text[end] != '\n')
            end++;
        size_t a = i, b = end;
        while (a < b && (text[a] == ' ' || text[a] == '\t'))
            a++;
        while (b > a && (text[b - 1] == ' ' || text[b - 1] == '\t' || text[b - 1] == '\r'))
            b--;
        if (b > a && text[a] != '#') {
            if (c->n == cap) {
                cap = cap ? cap * 2 : 16;
                c->names = cd_xrealloc(c->names, cap * sizeof *c->names);
            }
            c->names[c->n++] = normalise(text + a, b - a);
        }
        i = end + 1;
    }
    if (c->n)
        qsort(c->names, c->n, sizeof *c->names, by_str);
    return c;
}

void chk_components_free(chk_components *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++)
        free(c->names[i]);
    free(c->names);
    free(c);
}

bool chk_components_has(const chk_components *c, const char *name)
{
    char *key = normalise(name, strlen(name));
    bool found = c->n && bsearch(&key, c->names, c->n, sizeof *c->names, by_str);
    free(key);
    return found;
}

/* ---- the run ------------------------------------------------------------------ */

static int by_path(const void *a, const void *b, void *arg)
{
    const chk_file *files = arg;
    return strcmp(files[*(const size_t *)a].path, files[*(const size_t *)b].path);
}

/* Reads, indexes and renders files[index] into d. */
static int load_doc(chk_ctx *c, size_t index, chk_doc *d, cd_err *err)
{
    memset(d, 0, sizeof *d);
    d->file = index;
    d->path = c->item->files[index].path;
    char *data = NULL;
    size_t len = 0;
    if (c->item->read(c->item->read_arg, index, SIZE_MAX, &data, &len, err) != 0)
        return -1;
    d->src = cd_xrealloc(data, len + 1);
    d->src[len] = '\0';
    d->len = len;
    chk_source_index(d);
    char *out = NULL;
    size_t out_len = 0;
    md_error me = {0};
    if (md_render(d->src, d->len, 0, &out, &out_len, &me) != MD_OK) {
        chk_add(c, d->path, me.line > 0 ? (size_t)me.line : 0, CHK_ERROR, "frontmatter-invalid",
                "this document cannot be rendered: %s", me.message);
        return 0;
    }
    json_error_t je;
    d->ast = json_loadb(out, out_len, 0, &je);
    free(out);
    if (!d->ast)
        chk_add(c, d->path, 0, CHK_WARNING, "check-skipped",
                "this document is nested too deeply for its links to be checked");
    return 0;
}

static void free_docs(chk_ctx *c)
{
    for (size_t i = 0; i < c->ndocs; i++) {
        free(c->docs[i].src);
        free(c->docs[i].line_start);
        json_decref(c->docs[i].ast);
        json_decref(c->docs[i].ids);
    }
    free(c->docs);
    free(c->doc_index);
}

static int load_docs(chk_ctx *c, cd_err *err)
{
    size_t n = c->item->nfiles ? c->item->nfiles : 1;
    c->docs = cd_xcalloc(n, sizeof *c->docs);
    c->doc_index = cd_xmalloc(n * sizeof *c->doc_index);
    for (size_t i = 0; i < c->item->nfiles; i++)
        c->doc_index[i] = -1;
    for (size_t k = 0; k < c->item->nfiles; k++) {
        size_t i = c->order[k];
        if (!chk_is_markdown(c->item->files[i].path))
            continue;
        c->doc_index[i] = (long)c->ndocs;
        int rc = load_doc(c, i, &c->docs[c->ndocs], err);
        c->ndocs++; /* even on failure: free_docs() releases what it holds */
        if (rc != 0)
            return -1;
        chk_collect_ids(&c->docs[c->ndocs - 1]);
    }
    return 0;
}

int chk_run(const chk_item *item, const chk_options *o, json_t **findings, cd_err *err)
{
    static const chk_options defaults = {NULL, CHK_DEFAULT_MAX_FILE_SIZE};
    chk_ctx c = {.item = item, .o = o ? o : &defaults, .findings = json_array()};
    c.order = cd_xmalloc((item->nfiles ? item->nfiles : 1) * sizeof *c.order);
    for (size_t i = 0; i < item->nfiles; i++)
        c.order[i] = i;
    qsort_r(c.order, item->nfiles, sizeof *c.order, by_path, (void *)item->files);
    c.referenced = cd_xcalloc(item->nfiles ? item->nfiles : 1, sizeof *c.referenced);

    int rc = load_docs(&c, err);
    if (rc == 0 && chk_find_file(&c, "index.md") < 0)
        chk_add(&c, "index.md", 0, CHK_ERROR, "missing-index",
                "the item has no index.md, its root document");
    for (size_t i = 0; rc == 0 && i < c.ndocs; i++) {
        chk_source_scan(&c, &c.docs[i]);
        chk_front(&c, &c.docs[i]);
        chk_links(&c, &c.docs[i]);
    }
    if (rc == 0)
        rc = chk_assets(&c, err);
    if (rc == 0)
        chk_unused(&c);
    free_docs(&c);
    free(c.order);
    free(c.referenced);
    if (rc != 0) {
        json_decref(c.findings);
        *findings = NULL;
        return -1;
    }
    chk_sort(c.findings);
    *findings = c.findings;
    return 0;
}
