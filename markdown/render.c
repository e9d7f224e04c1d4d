/* SPDX-License-Identifier: MIT */
/*
 * md_render(): the pipeline.  Input is made valid UTF-8 with LF line ends,
 * the front matter is split off and parsed, cmark-gfm parses the rest with
 * the GFM extensions and ours, and the tree goes through conversion, the
 * raw-HTML pass, sanitising and heading ids before it is written.
 */
#include "markdown.h"
#include "md_int.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmark-gfm-core-extensions.h>
#include <cmark-gfm_version.h>

/* Inputs larger than this are refused rather than rendered slowly. */
#define MD_MAX_INPUT (64u << 20)

static pthread_once_t ext_once = PTHREAD_ONCE_INIT;
static cmark_syntax_extension *gfm[4];

static void find_extensions(void)
{
    cmark_gfm_core_extensions_ensure_registered();
    static const char *const names[] = {"table", "strikethrough", "autolink", "tasklist"};
    for (int i = 0; i < 4; i++)
        gfm[i] = cmark_find_syntax_extension(names[i]);
}

/* Valid UTF-8 with "\r\n" folded to "\n", as MDC's parseMarkdown does. */
static void normalise(const char *src, size_t len, cd_buf *out)
{
    cd_buf fixed = CD_BUF_INIT;
    if (!cd_utf8_valid(src, len)) {
        cd_utf8_repair(&fixed, src, len);
        src = fixed.data;
        len = fixed.len;
    }
    cd_buf_grow(out, len);
    size_t run = 0;
    for (size_t i = 0; i + 1 < len; i++) {
        if (src[i] == '\r' && src[i + 1] == '\n') {
            cd_buf_append(out, src + run, i - run);
            run = i + 1;
        }
    }
    cd_buf_append(out, src + run, len - run);
    cd_buf_free(&fixed);
}

/* remark-mdc's parseFrontMatter: "---" at the very start, up to the first
 * "\n---"; the body starts right after that marker. */
static int front_matter(md_ctx *c, const char *s, size_t len, jv **front, size_t *body_off)
{
    *front = NULL;
    *body_off = 0;
    if (len < 3 || memcmp(s, "---", 3))
        return 0;
    const char *end = NULL;
    for (size_t i = 3; i + 4 <= len; i++)
        if (s[i] == '\n' && !memcmp(s + i + 1, "---", 3)) {
            end = s + i;
            break;
        }
    if (!end || end - s <= 4)
        return 0;
    /* with the line break that ends the last line: MDC's YAML parser gives
     * a final block scalar ("run: |") its newline even without one */
    *front = md_yaml_parse(c->arena, s + 4, (size_t)(end - s - 4) + 1, 1, c->err);
    if (!*front)
        return -1;
    *body_off = (size_t)(end - s) + 4;
    return 0;
}

/* cmark-gfm 0.29's table rows append cells to a linked list in time linear
 * in the row, so a row of c cells costs c² steps.  A document whose rows
 * would cost more than this in all is parsed without the table extension
 * (real tables are far below it: 300 rows of 250 columns). */
#define MD_TABLE_BUDGET 20000000ull

static bool has_huge_rows(const char *s, size_t len)
{
    unsigned long long pipes = 0, cost = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || s[i] == '\n') {
            cost += pipes * pipes;
            if (cost > MD_TABLE_BUDGET)
                return true;
            pipes = 0;
        } else if (s[i] == '|') {
            pipes++;
        }
    }
    return false;
}

/* cmark's allocations in the render arena: each is a size header and the
 * block; free is a no-op and the arena goes at the end of the render. */
static __thread md_arena *cmark_arena;

static void *arena_calloc(size_t n, size_t size)
{
    size_t bytes = n * size;
    size_t *p = md_alloc(cmark_arena, bytes + 16);
    p[0] = bytes;
    return (char *)p + 16;
}

static void *arena_realloc(void *old, size_t bytes)
{
    size_t *p = md_alloc_raw(cmark_arena, bytes + 16);
    p[0] = bytes;
    if (old) {
        size_t was = *(size_t *)((char *)old - 16);
        memcpy((char *)p + 16, old, was < bytes ? was : bytes);
    }
    return (char *)p + 16;
}

static void arena_free(void *p)
{
    (void)p;
}

static cmark_mem arena_mem = {arena_calloc, arena_realloc, arena_free};

/* cmark links only nodes of one allocator: new nodes must use the parse's. */
cmark_node *md_cmark_node_new(cmark_node_type type)
{
    return cmark_node_new_with_mem(type, &arena_mem);
}

static cmark_node *parse(const char *s, size_t len, cmark_syntax_extension *mdc)
{
    int opts = CMARK_OPT_FOOTNOTES | CMARK_OPT_UNSAFE;
    cmark_parser *p = cmark_parser_new_with_mem(opts, &arena_mem);
    bool tables = !has_huge_rows(s, len);
    /* ours first: the table extension claims every line that follows a
     * paragraph line, whether or not a table starts there */
    cmark_parser_attach_syntax_extension(p, mdc);
    for (int i = 0; i < 4; i++)
        if (gfm[i] && (i != 0 || tables))
            cmark_parser_attach_syntax_extension(p, gfm[i]);
    cmark_parser_feed(p, s, len);
    cmark_node *doc = cmark_parser_finish(p);
    cmark_parser_free(p);
    return doc;
}

/* Pretty output indents this many levels of JSON nesting; deeper values
 * are written compact, so the output stays linear in the document (a tree
 * 10,000 blockquotes deep would otherwise need gigabytes of indentation). */
#define PRETTY_MAX_DEPTH 32

static void pretty_newline(cd_buf *out, int depth)
{
    if (depth > PRETTY_MAX_DEPTH)
        return;
    cd_buf_putc(out, '\n');
    for (int k = 0; k < depth; k++)
        cd_buf_append(out, "  ", 2);
}

static void pretty_print(const char *s, size_t n, cd_buf *out)
{
    int depth = 0;
    bool in_str = false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (in_str) {
            cd_buf_putc(out, ch);
            if (ch == '\\' && i + 1 < n)
                cd_buf_putc(out, s[++i]);
            else if (ch == '"')
                in_str = false;
            continue;
        }
        switch (ch) {
        case '"':
            in_str = true;
            cd_buf_putc(out, ch);
            break;
        case '{':
        case '[':
            cd_buf_putc(out, ch);
            if (i + 1 < n && (s[i + 1] == '}' || s[i + 1] == ']')) {
                cd_buf_putc(out, s[++i]);
                break;
            }
            pretty_newline(out, ++depth);
            break;
        case '}':
        case ']':
            pretty_newline(out, depth > PRETTY_MAX_DEPTH ? depth : depth - 1);
            depth--;
            cd_buf_putc(out, ch);
            break;
        case ',':
            cd_buf_putc(out, ',');
            pretty_newline(out, depth);
            break;
        case ':':
            cd_buf_puts(out, depth > PRETTY_MAX_DEPTH ? ":" : ": ");
            break;
        default:
            cd_buf_putc(out, ch);
        }
    }
}

/* A copy of s[0..n) with each U+0000 replaced by U+FFFD. */
static char *text_copy(const char *s, size_t n)
{
    cd_buf b = CD_BUF_INIT;
    cd_buf_grow(&b, n + 1);
    for (size_t i = 0; i < n; i++) {
        if (s[i])
            cd_buf_putc(&b, s[i]);
        else
            cd_buf_append(&b, "\xEF\xBF\xBD", 3);
    }
    cd_buf_putc(&b, '\0');
    return cd_buf_steal(&b, NULL);
}

static char *field_text(const jv *v)
{
    if (v->type == JV_STR)
        return text_copy(v->str, v->len);
    char num[32];
    if (v->type == JV_NUM && v->num == floor(v->num) && fabs(v->num) < 9007199254740992.0) {
        snprintf(num, sizeof num, "%lld", (long long)v->num);
        return cd_xstrdup(num);
    }
    return cd_xstrdup("");
}

/* The result's fields from data (made by md_write_document). */
static void fill_result(md_result *res, const jv *data)
{
    size_t n = 0;
    for (const jv *m = data->first; m; m = m->next)
        n++;
    res->fields = cd_xcalloc(n ? n : 1, sizeof *res->fields);
    for (const jv *m = data->first; m; m = m->next) {
        if (m->type == JV_NULL)
            continue;
        md_field *f = &res->fields[res->nfields++];
        f->key = text_copy(m->key, m->key_len);
        f->value = field_text(m);
        bool title = !strcmp(f->key, "title"), desc = !strcmp(f->key, "description");
        if ((title || desc) && m->type == JV_STR)
            *(title ? &res->title : &res->description) = f->value;
    }
    /* the copies stay owned by fields; "" when data has no string there */
    if (!res->title)
        res->title = "";
    if (!res->description)
        res->description = "";
}

const char *md_result_field(const md_result *res, const char *key)
{
    const char *v = NULL;
    for (size_t i = 0; i < res->nfields; i++) /* the last of a key wins, as in JSON.parse */
        if (!strcmp(res->fields[i].key, key))
            v = res->fields[i].value;
    return v;
}

void md_result_free(md_result *res)
{
    free(res->json);
    for (size_t i = 0; i < res->nfields; i++) {
        free(res->fields[i].key);
        free(res->fields[i].value);
    }
    free(res->fields);
    memset(res, 0, sizeof *res);
}

md_status md_render(const char *src, size_t len, unsigned flags, char **out, size_t *out_len,
                    md_error *err)
{
    md_result res;
    int rc = md_render_result(src, len, flags, &res, err);
    *out = res.json;
    if (out_len)
        *out_len = res.len;
    res.json = NULL;
    md_result_free(&res);
    return rc;
}

md_status md_render_result(const char *src, size_t len, unsigned flags, md_result *res,
                           md_error *err)
{
    md_error local;
    if (!err)
        err = &local;
    err->line = 0;
    err->message[0] = '\0';
    memset(res, 0, sizeof *res);
    if (len > MD_MAX_INPUT) {
        snprintf(err->message, sizeof err->message,
                 "document too large (%zu bytes; the limit is %u)", len, MD_MAX_INPUT);
        return MD_ERR_INPUT;
    }
    pthread_once(&ext_once, find_extensions);

    int rc = MD_OK;
    md_ctx c = {.arena = md_arena_new(), .err = err};
    cd_buf text = CD_BUF_INIT, json = CD_BUF_INIT;
    cmark_syntax_extension *mdc = md_component_extension_new();
    normalise(src, len, &text);
    const char *s = text.data ? text.data : "";

    jv *front;
    size_t off;
    if (front_matter(&c, s, text.len, &front, &off) < 0) {
        rc = MD_ERR_YAML;
        goto out;
    }
    cmark_arena = c.arena;
    cd_buf marked = CD_BUF_INIT;
    bool has_marks = md_escape_mark(s + off, text.len - off, &marked);
    cmark_node *doc =
        has_marks ? parse(marked.data, marked.len, mdc) : parse(s + off, text.len - off, mdc);
    cd_buf_free(&marked);
    md_inline_syntax(&c, doc);
    if (has_marks)
        md_unmark_tree(&c, doc);
    hnode *root = md_convert(&c, doc);
    cmark_node_free(doc);
    if (c.has_raw)
        root = md_reparse_html(&c, root);
    md_sanitize(&c, root);
    md_heading_ids(&c, root);
    jv *data = md_write_document(&c, root, front, &json, &res->toc_at, &res->toc_len);
    fill_result(res, data);
    if (flags & MD_PRETTY) {
        res->toc_at = res->toc_len = 0;
        cd_buf pretty = CD_BUF_INIT;
        pretty_print(json.data, json.len, &pretty);
        cd_buf_free(&json);
        json = pretty;
    }
    res->json = cd_buf_steal(&json, &res->len);
out:
    cmark_syntax_extension_free(cmark_get_default_mem_allocator(), mdc);
    cd_buf_free(&text);
    cd_buf_free(&json);
    md_arena_free(c.arena);
    return rc;
}

const char *md_version(void)
{
    static char v[64];
    if (!v[0])
        snprintf(v, sizeof v, "%s (cmark-gfm %s)", CONTENTD_VERSION, CMARK_GFM_VERSION_STRING);
    return v;
}
