/* SPDX-License-Identifier: MIT */
/*
 * One run of the checks: the facts of every file (from the cache, or made:
 * facts.c), then each document's facts resolved against this version, the
 * sizes, and last the assets that no reference reached.
 */
#include "checks_int.h"

#include <pthread.h>
#include <stdatomic.h>
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
            c->names = cd_grow(c->names, c->n, &cap, 16, sizeof *c->names);
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

/* The facts of files[index]: from the cache when its SHA-256 and path
 * were seen before, else made (and cached). */
static int facts_of(chk_ctx *c, size_t index, cd_err *err)
{
    const chk_file *file = &c->item->files[index];
    chk_cache *cache = c->o->cache;
    cd_buf key = CD_BUF_INIT;
    if (cache && file->sha256) {
        chk_cache_key(&key, file->sha256, file->path);
        c->facts[index] = chk_cache_get(cache, key.data);
    }
    int rc = 0;
    if (!c->facts[index]) {
        rc = chk_facts_make(c, index, &c->facts[index], err);
        if (rc == 0 && c->facts[index] && key.data)
            c->facts[index] = chk_cache_put(cache, key.data, c->facts[index]);
    }
    cd_buf_free(&key);
    return rc;
}

#define FACTS_THREADS_MAX 16

/* The facts of every file, o->threads at a time: the files are taken in
 * path order, and a failure is the one of the first file, by path, that
 * failed, as when they are made one by one. */
typedef struct {
    chk_ctx *c;
    atomic_size_t next;
    pthread_mutex_t mu;
    size_t failed; /* the first failed position in c->order; nfiles: none */
    cd_err err;
} facts_run;

static void *facts_worker(void *arg)
{
    facts_run *r = arg;
    size_t n = r->c->item->nfiles;
    for (size_t k; (k = atomic_fetch_add(&r->next, 1)) < n;) {
        pthread_mutex_lock(&r->mu);
        bool past = k > r->failed;
        pthread_mutex_unlock(&r->mu);
        if (past)
            break;
        cd_err e = {0};
        if (facts_of(r->c, r->c->order[k], &e) != 0) {
            pthread_mutex_lock(&r->mu);
            if (k < r->failed) {
                r->failed = k;
                r->err = e;
            }
            pthread_mutex_unlock(&r->mu);
        }
    }
    return NULL;
}

static int all_facts(chk_ctx *c, cd_err *err)
{
    const chk_item *item = c->item;
    unsigned threads = c->o->threads;
    if (threads > FACTS_THREADS_MAX)
        threads = FACTS_THREADS_MAX;
    if (threads <= 1 || item->nfiles < 2) {
        for (size_t k = 0; k < item->nfiles; k++)
            if (facts_of(c, c->order[k], err) != 0)
                return -1;
        return 0;
    }
    facts_run r = {.c = c, .failed = item->nfiles};
    atomic_init(&r.next, 0);
    pthread_mutex_init(&r.mu, NULL);
    cd_run_workers(threads, facts_worker, &r);
    pthread_mutex_destroy(&r.mu);
    if (r.failed == item->nfiles)
        return 0;
    if (err)
        *err = r.err;
    return -1;
}

/* The passes over c, in order: every file's facts, then what needs the
 * whole version. */
static int passes(chk_ctx *c, cd_err *err)
{
    const chk_item *item = c->item;
    if (all_facts(c, err) != 0)
        return -1;
    if (chk_find_file(c, "index.md") < 0)
        chk_add(c->findings, "index.md", 0, CHK_ERROR, "missing-index",
                "the item has no index.md, its root document");
    for (size_t k = 0; k < item->nfiles; k++) {
        size_t i = c->order[k];
        if (c->facts[i] && chk_is_markdown(item->files[i].path))
            chk_resolve_doc(c, i);
        else if (c->facts[i]) /* an image's format */
            chk_add_copies(c->findings, c->facts[i]->local);
    }
    chk_sizes(c);
    return chk_unused(c, err);
}

chk_status chk_facts_warm(const chk_item *item, size_t index, const chk_options *o, cd_err *err)
{
    if (!o || !o->cache || index >= item->nfiles || !item->files[index].sha256)
        return CHK_OK;
    chk_ctx c = {.item = item, .o = o, .facts = cd_xcalloc(item->nfiles, sizeof *c.facts)};
    int rc = facts_of(&c, index, err);
    chk_cache_release(o->cache, c.facts[index]);
    free(c.facts);
    return rc == 0 ? CHK_OK : CHK_UNREAD;
}

chk_status chk_run(const chk_item *item, const chk_options *o, json_t **findings, cd_err *err)
{
    static const chk_options defaults = {.max_file_size = CHK_DEFAULT_MAX_FILE_SIZE};
    chk_ctx c = {.item = item, .o = o ? o : &defaults, .findings = json_array()};
    size_t n = item->nfiles ? item->nfiles : 1;
    c.order = cd_xmalloc(n * sizeof *c.order);
    for (size_t i = 0; i < item->nfiles; i++)
        c.order[i] = i;
    qsort_r(c.order, item->nfiles, sizeof *c.order, by_path, (void *)item->files);
    c.referenced = cd_xcalloc(n, sizeof *c.referenced);
    c.facts = cd_xcalloc(n, sizeof *c.facts);
    c.squashed = cd_xcalloc(n, sizeof *c.squashed);
    chk_status rc = passes(&c, err) == 0 ? CHK_OK : CHK_UNREAD;
    for (size_t i = 0; i < item->nfiles; i++) {
        chk_cache_release(c.o->cache, c.facts[i]);
        json_decref(c.squashed[i]);
    }
    free(c.facts);
    free(c.squashed);
    free(c.order);
    free(c.referenced);
    if (rc != 0) {
        json_decref(c.findings);
        c.findings = NULL;
    } else {
        chk_sort(c.findings);
    }
    *findings = c.findings;
    return rc;
}
