/* SPDX-License-Identifier: MIT */
/*
 * Internal declarations of the markdown module.  The renderer works in three
 * stages: cmark-gfm parses (with our component extension, component.c), the
 * cmark tree is converted into a small HTML-like tree (the "hast", mirroring
 * the unified/hast tree MDC builds; convert*.c), raw HTML is re-parsed with
 * gumbo (html.c) and sanitised (sanitize.c), and the tree is written out
 * as the AST document with data and toc (output.c).  Every node and string of one
 * render lives in one arena, released in a single call.
 */
#ifndef CONTENTD_MD_INT_H
#define CONTENTD_MD_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <cmark-gfm.h>
#include <cmark-gfm-extension_api.h>

#include "common.h"
#include "markdown.h"

/* ---- arena ------------------------------------------------------------ */

typedef struct md_arena md_arena;

md_arena *md_arena_new(void);
/* Frees the arena; a few standard chunks stay with the thread for the next
 * render (released when the thread ends). */
void md_arena_free(md_arena *a);
void *md_alloc(md_arena *a, size_t n);     /* zeroed, 16-byte aligned */
void *md_alloc_raw(md_arena *a, size_t n); /* not zeroed */
char *md_strndup(md_arena *a, const char *s, size_t n);
char *md_strdup(md_arena *a, const char *s);

/* ---- string-keyed map (map.c) ------------------------------------------- */

typedef struct md_map md_map;

/* An empty map in arena a (freed with it). */
md_map *md_map_new(md_arena *a);
/* The value slot of key[0..len), NULL for a key not seen yet (the map keeps
 * a copy of the key).  Storing NULL makes the key absent again. */
void **md_map_slot(md_map *m, const char *key, size_t len);
/* The value of key[0..len), or NULL. */
void *md_map_get(const md_map *m, const char *key, size_t len);

/* ---- JSON values (front matter, bound props) ---------------------------- */

typedef enum { JV_NULL, JV_BOOL, JV_NUM, JV_STR, JV_ARR, JV_OBJ } jv_type;

typedef struct jv {
    jv_type type;
    bool b;
    double num;
    const char *str; /* JV_STR; JV_NUM keeps nothing here */
    size_t len;
    const char *key; /* when a member of an object */
    size_t key_len;
    struct jv *first, *last, *next; /* JV_ARR / JV_OBJ members */
} jv;

jv *jv_new(md_arena *a, jv_type t);
void jv_append(jv *parent, jv *child);
jv *jv_get(const jv *obj, const char *key);
void jv_write(cd_buf *b, const jv *v);
void md_write_number(cd_buf *b, double d);

/* Parses a YAML document into a JSON value (maps, lists, scalars resolved
 * with the YAML 1.2 core schema; timestamps stay strings).  line_offset is
 * added to error line numbers.  Returns NULL and fills err on failure; an
 * empty document yields an empty object. */
struct md_error;
jv *md_yaml_parse(md_arena *a, const char *src, size_t len, int line_offset, struct md_error *err);

/* ---- the tree ------------------------------------------------------------ */

typedef enum { PV_STR, PV_JSON } pv_kind;

typedef struct hprop {
    const char *name;
    const char *val; /* PV_STR: raw string; PV_JSON: JSON text */
    size_t len;
    pv_kind kind;
    struct hprop *next, *prev;
} hprop;

typedef enum { H_ROOT, H_ELEM, H_TEXT, H_RAW } htype;

typedef struct hnode {
    htype type;
    bool from_md; /* made by the markdown stage (not raw HTML) */
    const char *tag;
    const char *text; /* H_TEXT */
    size_t len;
    size_t cap; /* bytes allocated for text, when it is growable */
    hprop *props, *props_last;
    md_map *prop_map; /* name → hprop, once an element has many props */
    struct hnode *parent, *first, *last, *next, *prev;
} hnode;

hnode *h_elem(md_arena *a, const char *tag);
hnode *h_text(md_arena *a, const char *s, size_t n);
void h_append(hnode *parent, hnode *child);
/* Inserts child before ref (at the end when ref is NULL). */
void h_insert_before(hnode *parent, hnode *ref, hnode *child);
/* Appends text, merging with a preceding text node as hast does. */
void h_append_text(md_arena *a, hnode *parent, const char *s, size_t n);
void h_remove(hnode *n);
void h_prop_str(md_arena *a, hnode *n, const char *name, const char *v, size_t len);
void h_prop_json(md_arena *a, hnode *n, const char *name, const char *json);
hprop *h_prop_get(const hnode *n, const char *name);
/* Orders n's props by name (UTF-16 code units, as JavaScript's sort):
 * MDC's tree has a component's props sorted. */
void h_props_sort(hnode *n);
void h_prop_del(hnode *n, const char *name);
/* The node after n in a pre-order walk of root's subtree, going into n's
 * children when descend is true; NULL at the end.  Every pass walks with
 * it, without recursion: a tree may be 100,000 levels deep. */
hnode *h_walk_next(const hnode *root, const hnode *n, bool descend);
/* Concatenated text of the subtree (hast-util-to-string). */
void h_text_content(const hnode *n, cd_buf *out);

/* ---- props from MDC attribute syntax ------------------------------------- */

/* Whose attribute list it is: remark-mdc hands a block component both its
 * attributes and their bound form, an inline component or span only the
 * bound form, and an element ({attrs} after **strong**, a link...) only
 * the attributes. */
enum md_attrs_mode { MD_ATTRS_ELEMENT, MD_ATTRS_BLOCK, MD_ATTRS_INLINE };
/* Parses an MDC attribute list s[0..n) (the text between { and }) and adds
 * the props to el as MDC does.  Returns false when the syntax is invalid. */
bool md_attrs_apply(md_arena *a, hnode *el, const char *s, size_t n, enum md_attrs_mode mode);
/* Adds one attribute as hast would store it (class → className list,
 * known booleans and numbers typed, aria-/data- camel-cased...). */
void md_prop_from_attr(md_arena *a, hnode *el, const char *name, size_t nlen, const char *val,
                       size_t vlen, bool has_value);
/* Adds the props of a component's YAML block (unflattening obj first). */
void md_yaml_props(md_arena *a, hnode *el, jv *obj);
/* flat.unflatten, in place: the top-level key "a.b" becomes {a: {b: ...}}. */
void md_jv_unflatten(md_arena *a, jv *obj);

/* ---- the component syntax extension --------------------------------------- */

cmark_syntax_extension *md_component_extension_new(void);
bool md_is_component(cmark_node *n);
bool md_is_slot(cmark_node *n);
/* Name, attribute text and YAML props text of a component or slot node. */
const char *md_component_name(cmark_node *n);
const char *md_component_attrs(cmark_node *n, size_t *len);
const char *md_component_yaml(cmark_node *n, size_t *len, int *line);

/* ---- inline syntax (inline.c, inline_component.c; escapes: escape.c) ------- */

struct md_inline_info;
struct md_ctx;
/* Inline components, spans and {attrs} after elements, on the cmark tree. */
void md_inline_syntax(struct md_ctx *c, cmark_node *doc);
/* The paragraph holding a table cell's inlines after md_inline_syntax()
 * (NULL for a cell it did not see). */
cmark_node *md_cell_inlines(cmark_node *cell);
/* What md_inline_syntax() attached to a node, or NULL. */
const struct md_inline_info *md_inline_get(cmark_node *n);
const char *md_inline_tag(const struct md_inline_info *in);
/* True for a custom inline node that is a component (not a span). */
bool md_is_inline_component(cmark_node *n);
/* Escaped "\[" "\]" "\:" protected through parsing: md_escape_mark()
 * writes s with marks (returns false, writing nothing, when there is
 * nothing to mark), md_unmark_tree() restores them in the parsed tree and
 * md_unmark() in one string (NULL when it holds no mark). */
bool md_escape_mark(const char *s, size_t n, cd_buf *out);
void md_unmark_tree(struct md_ctx *c, cmark_node *doc);
char *md_unmark(md_arena *a, const char *s, bool escape_applies);
const char *md_inline_attrs(const struct md_inline_info *in, size_t *len);

/* ---- cmark-gfm private state (cmark_private.c, the only reader) ---------- */

/* True while the parser still has block n open. */
bool md_cmark_is_open(cmark_node *n);
/* True when block n's last line was blank (what makes a list loose). */
bool md_cmark_last_line_blank(cmark_node *n);
/* A footnote reference's definition (NULL when it has none). */
cmark_node *md_cmark_footnote_def(cmark_node *ref);
/* A footnote definition's label: *len bytes, not NUL-terminated. */
const char *md_cmark_footnote_label(cmark_node *def, size_t *len);
/* Which reference to its definition ref is (1 for the first). */
int md_cmark_footnote_ref_ix(cmark_node *ref);
/* How many references point to definition def. */
int md_cmark_footnote_def_count(cmark_node *def);
/* Removes the first k bytes of a text node's literal in O(1) (no copy of
 * the rest).  Only for nodes of the render's allocator (md_cmark_node_new,
 * the parsed tree), whose free() does nothing. */
void md_cmark_text_drop_head(cmark_node *text, size_t k);

/* A cmark node in the render's allocator (the parsed tree's). */
cmark_node *md_cmark_node_new(cmark_node_type type);

/* ---- stages ----------------------------------------------------------------- */

typedef struct md_ctx {
    md_arena *arena;
    struct md_error *err;
    bool has_raw; /* raw HTML was seen: the tree needs the gumbo pass */
    int yaml_error;
} md_ctx;

/* cmark tree → hast root. */
hnode *md_convert(md_ctx *c, cmark_node *doc);
/* Re-parses the tree with raw HTML through gumbo, keeping markdown nodes. */
hnode *md_reparse_html(md_ctx *c, hnode *root);
/* Allow-list and URL sanitising of the whole tree, plus rel=nofollow. */
void md_sanitize(md_ctx *c, hnode *root);
/* Heading ids as MDC derives them. */
void md_heading_ids(md_ctx *c, hnode *root);
/* github-slugger: appends the slug of s to out (without duplicate suffix). */
void md_slug(const char *s, size_t n, cd_buf *out);

bool md_url_safe(const char *url, size_t len, bool is_img_src);

/* The attribute by which html.c finds markdown-made elements again in
 * gumbo's tree; md_sanitize() removes any that is left, or written. */
#define MD_REF_ATTR "data-mdc-ref"

/* Writes {data, body, toc}; returns data (in the render's arena). */
/* Writes the AST document of root into out; *toc_at and *toc_len: where the
 * toc object is in out (0, 0 when there is none). */
jv *md_write_document(md_ctx *c, hnode *root, jv *front, cd_buf *out, size_t *toc_at,
                      size_t *toc_len);

#endif
