/* SPDX-License-Identifier: MIT */
/*
 * The blocks of an AST document: its top-level body nodes, each with the
 * key review/review.h defines and the SHA-256 of its JSON.  The document is
 * parsed with jansson keeping object order, and each node is written back
 * compactly, so two renders of the same markdown give the same hash
 * whatever spacing the JSON came with (the CLI's --pretty, the server's
 * compact text).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "review.h"

/* The state of one walk: the keys taken so far and, per "SECTION/TAG",
 * how many blocks of that tag the section has had. */
typedef struct walk {
    json_t *seen;   /* key -> true */
    json_t *counts; /* "SECTION/TAG" -> integer */
    char *section;  /* the key of the last heading with an id; "top" before one */
} walk;

static bool is_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!strchr(" \t\n\r\f\v", s[i]) || s[i] == '\0')
            return false;
    return true;
}

/* The node's tag ("text" for a text node), or NULL when the node is not a
 * block: a text node of whitespace only. */
static const char *node_tag(const json_t *node)
{
    const char *type = json_string_value(json_object_get(node, "type"));
    if (type && strcmp(type, "text") == 0) {
        const json_t *v = json_object_get(node, "value");
        if (json_is_string(v) && is_blank(json_string_value(v), json_string_length(v)))
            return NULL;
        return "text";
    }
    const char *tag = json_string_value(json_object_get(node, "tag"));
    if (tag && *tag)
        return tag;
    return type && *type ? type : "node";
}

/* The id of a heading element h1-h6 that has a non-empty one, else NULL. */
static const char *heading_id(const json_t *node, const char *tag)
{
    if (!(tag[0] == 'h' && tag[1] >= '1' && tag[1] <= '6' && tag[2] == '\0'))
        return NULL;
    const char *id = json_string_value(json_object_get(json_object_get(node, "props"), "id"));
    return id && *id ? id : NULL;
}

/* base, or base-2, base-3... whichever is not taken yet; marks it taken.
 * The caller frees the result with free(). */
static char *unique_key(walk *w, const char *base)
{
    cd_buf b = CD_BUF_INIT;
    cd_buf_puts(&b, base);
    for (unsigned k = 2; json_object_get(w->seen, b.data); k++) {
        cd_buf_reset(&b);
        cd_buf_printf(&b, "%s-%u", base, k);
    }
    json_object_set_new(w->seen, b.data, json_true());
    return cd_buf_steal(&b, NULL);
}

/* The key of a non-heading block of tag in the current section. */
static char *block_key(walk *w, const char *tag)
{
    cd_buf b = CD_BUF_INIT;
    cd_buf_printf(&b, "%s/%s", w->section, tag);
    json_int_t n = json_integer_value(json_object_get(w->counts, b.data)) + 1;
    json_object_set_new(w->counts, b.data, json_integer(n));
    cd_buf_printf(&b, "-%lld", (long long)n);
    char *key = unique_key(w, b.data);
    cd_buf_free(&b);
    return key;
}

/* Fills blk from node; false when the node cannot be serialised. */
static bool node_block(walk *w, const json_t *node, const char *tag, size_t index, rv_block *blk)
{
    char *json = json_dumps(node, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
    if (!json)
        return false;
    cd_sha256_hex(json, strlen(json), blk->hash);
    free(json);
    const char *id = heading_id(node, tag);
    if (id) {
        blk->key = unique_key(w, id);
        free(w->section);
        w->section = cd_xstrdup(blk->key);
    } else {
        blk->key = block_key(w, tag);
    }
    blk->index = index;
    return true;
}

rv_status rv_blocks(const char *ast_json, size_t len, rv_block **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    json_t *doc = json_loadb(ast_json, len, JSON_ALLOW_NUL, NULL);
    const json_t *children = json_object_get(json_object_get(doc, "body"), "children");
    if (!json_is_array(children)) {
        json_decref(doc);
        return RV_ERR_INPUT;
    }
    walk w = {json_object(), json_object(), cd_xstrdup("top")};
    size_t count = json_array_size(children), nb = 0;
    rv_block *b = count ? cd_xcalloc(count, sizeof *b) : NULL;
    rv_status st = RV_OK;
    for (size_t i = 0; i < count; i++) {
        const json_t *node = json_array_get(children, i);
        const char *tag = json_is_object(node) ? node_tag(node) : NULL;
        if (!json_is_object(node) || (tag && !node_block(&w, node, tag, i, &b[nb]))) {
            st = RV_ERR_INPUT;
            break;
        }
        if (tag)
            nb++;
    }
    json_decref(w.seen);
    json_decref(w.counts);
    free(w.section);
    json_decref(doc);
    if (st != RV_OK || nb == 0) {
        rv_blocks_free(b, nb);
        return st;
    }
    *out = b;
    *n = nb;
    return RV_OK;
}

void rv_blocks_free(rv_block *b, size_t n)
{
    if (!b)
        return;
    for (size_t i = 0; i < n; i++)
        free(b[i].key);
    free(b);
}
