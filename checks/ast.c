/* SPDX-License-Identifier: MIT */
/*
 * The part of an AST document the checks read, from its JSON text in one
 * streaming pass (yajl): `data` whole, and `body` pruned to what the walk
 * of links.c looks at — each node's `tag`, `props` and `children`, and no
 * node that has neither a tag nor children left (text, comments).  Most of
 * a lesson's AST is its text; building all of it as jansson values made
 * reading the AST the larger part of a document's facts.  A document nested
 * deeper than jansson would read (JSON_PARSER_MAX_DEPTH) is refused as
 * json_loadb() would refuse it.
 */
#include "checks_int.h"

#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>

typedef enum {
    F_SKIP,     /* a value nobody reads */
    F_BUILD,    /* a value built whole: data, props and what they hold */
    F_DOC,      /* the top-level object */
    F_NODE,     /* an AST node (body, or an element of a children array) */
    F_CHILDREN, /* a node's children array */
} frame_kind;

typedef struct {
    frame_kind kind;
    bool map;
    json_t *v; /* F_BUILD: the container built; F_NODE: the node kept; F_CHILDREN: array */
    char *key; /* the key whose value comes next (maps) */
    size_t klen;
} frame;

typedef struct {
    frame *st;
    size_t n, cap;
    json_t *doc; /* {"data":…,"body":…} */
    bool deep;
} reader;

/* What the next value in the innermost frame is for. */
static frame_kind next_kind(const reader *r, bool container)
{
    if (!r->n)
        return F_DOC;
    const frame *f = &r->st[r->n - 1];
    switch (f->kind) {
    case F_BUILD:
        return F_BUILD;
    case F_CHILDREN:
        return F_NODE;
    case F_DOC:
        if (f->key && !strcmp(f->key, "data"))
            return F_BUILD;
        if (f->key && !strcmp(f->key, "body"))
            return F_NODE;
        return F_SKIP;
    case F_NODE:
        if (f->key && !strcmp(f->key, "props"))
            return F_BUILD;
        if (f->key && !strcmp(f->key, "tag") && !container)
            return F_BUILD; /* kept as a string */
        if (f->key && !strcmp(f->key, "children"))
            return F_CHILDREN;
        return F_SKIP;
    default:
        return F_SKIP;
    }
}

/* Gives a finished value v to the innermost frame (which takes it). */
static void give(reader *r, json_t *v)
{
    if (!r->n) {
        json_decref(v);
        return;
    }
    frame *f = &r->st[r->n - 1];
    if (f->map && f->key && f->v)
        json_object_setn_new_nocheck(f->v, f->key, f->klen, v);
    else if (!f->map && f->v)
        json_array_append_new(f->v, v);
    else if (f->kind == F_DOC && f->key && r->doc)
        json_object_set_new_nocheck(r->doc, f->key, v);
    else
        json_decref(v);
    free(f->key);
    f->key = NULL;
}

/* A scalar: built when someone reads it, else dropped. */
static int scalar(reader *r, json_t *v)
{
    frame_kind k = next_kind(r, false);
    if (k == F_BUILD || (r->n && r->st[r->n - 1].kind == F_BUILD))
        give(r, v);
    else {
        json_decref(v);
        if (r->n) {
            free(r->st[r->n - 1].key);
            r->st[r->n - 1].key = NULL;
        }
    }
    return 1;
}

static int on_null(void *ctx)
{
    return scalar(ctx, json_null());
}

static int on_bool(void *ctx, int b)
{
    return scalar(ctx, json_boolean(b));
}

static int on_integer(void *ctx, long long i)
{
    return scalar(ctx, json_integer((json_int_t)i));
}

static int on_double(void *ctx, double d)
{
    return scalar(ctx, json_real(d));
}

static int on_string(void *ctx, const unsigned char *s, size_t len)
{
    reader *r = ctx;
    frame_kind k = next_kind(r, false);
    if (k != F_BUILD) { /* not read: no copy */
        if (r->n) {
            free(r->st[r->n - 1].key);
            r->st[r->n - 1].key = NULL;
        }
        return 1;
    }
    json_t *v = json_stringn_nocheck((const char *)s, len);
    if (!v)
        return 0; /* out of memory */
    give(r, v);
    return 1;
}

static int open_container(reader *r, bool map)
{
    if (r->n >= JSON_PARSER_MAX_DEPTH) {
        r->deep = true;
        return 0;
    }
    frame_kind k = next_kind(r, true);
    frame f = {.kind = k, .map = map};
    if (k == F_BUILD)
        f.v = map ? json_object() : json_array();
    else if (k == F_NODE)
        f.v = map ? json_object() : NULL;
    else if (k == F_CHILDREN)
        f.v = map ? NULL : json_array();
    if ((k == F_NODE && !map) || (k == F_CHILDREN && map) || (k == F_DOC && !map))
        f.kind = F_SKIP; /* not the shape of an AST: read past it */
    if (f.kind == F_SKIP) {
        json_decref(f.v);
        f.v = NULL;
    }
    if (f.kind == F_DOC)
        r->doc = json_object();
    r->st = cd_grow(r->st, r->n, &r->cap, 64, sizeof *r->st);
    r->st[r->n++] = f;
    return 1;
}

static int close_container(reader *r)
{
    frame f = r->st[--r->n];
    free(f.key);
    json_t *v = f.v;
    if (f.kind == F_NODE && json_object_size(v) == 0) {
        json_decref(v); /* no tag, no children: nothing for the walk */
        v = NULL;
    } else if (f.kind == F_CHILDREN && json_array_size(v) == 0) {
        json_decref(v);
        v = NULL;
    }
    if (v)
        give(r, v);
    else if (r->n) {
        free(r->st[r->n - 1].key);
        r->st[r->n - 1].key = NULL;
    }
    return 1;
}

static int on_start_map(void *ctx)
{
    return open_container(ctx, true);
}

static int on_end_map(void *ctx)
{
    return close_container(ctx);
}

static int on_start_array(void *ctx)
{
    return open_container(ctx, false);
}

static int on_end_array(void *ctx)
{
    return close_container(ctx);
}

static int on_key(void *ctx, const unsigned char *s, size_t len)
{
    reader *r = ctx;
    frame *f = &r->st[r->n - 1];
    free(f->key);
    f->key = NULL;
    if (f->kind == F_SKIP)
        return 1;
    f->key = cd_xmalloc(len + 1);
    memcpy(f->key, s, len);
    f->key[len] = '\0';
    f->klen = len;
    return 1;
}

static const yajl_callbacks callbacks = {
    .yajl_null = on_null,
    .yajl_boolean = on_bool,
    .yajl_integer = on_integer,
    .yajl_double = on_double,
    .yajl_string = on_string,
    .yajl_start_map = on_start_map,
    .yajl_map_key = on_key,
    .yajl_end_map = on_end_map,
    .yajl_start_array = on_start_array,
    .yajl_end_array = on_end_array,
};

json_t *chk_ast_load(const char *json, size_t len)
{
    reader r = {0};
    yajl_handle h = yajl_alloc(&callbacks, NULL, &r);
    if (!h)
        abort(); /* out of memory */
    bool ok = yajl_parse(h, (const unsigned char *)json, len) == yajl_status_ok &&
              yajl_complete_parse(h) == yajl_status_ok && !r.deep && r.doc;
    yajl_free(h);
    while (r.n) {
        frame *f = &r.st[--r.n];
        free(f->key);
        json_decref(f->v);
    }
    free(r.st);
    if (!ok) {
        json_decref(r.doc);
        return NULL;
    }
    return r.doc;
}
