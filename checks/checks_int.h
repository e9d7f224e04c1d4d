/* SPDX-License-Identifier: MIT */
/*
 * Internal declarations of the checks module.  One run builds a context:
 * the files sorted by path, each markdown document read and rendered once
 * (source text, line index, AST, heading ids), and a flag per file saying
 * whether anything refers to it.  The passes then add findings to one
 * array:
 *
 *   report.c    findings: adding, sorting, counting, text
 *   refs.c      content paths: resolving a reference, finding the file
 *   source.c    the source text: lines, front matter, open fences/components
 *   links.c     the AST: links, images, anchors, component props, components
 *   front.c     front matter: kind, name, title, file references, tasks
 *   assets.c    unused assets, oversized files, image formats
 *   checks.c    the run: reading, rendering, the order of the passes
 */
#ifndef CONTENTD_CHECKS_INT_H
#define CONTENTD_CHECKS_INT_H

#include "checks.h"

#define CHK_ERROR   "error"
#define CHK_WARNING "warning"

/* One markdown document of the item. */
typedef struct chk_doc {
    size_t file;      /* index into the item's files */
    const char *path; /* borrowed from the item */
    char *src;        /* its bytes, NUL-terminated */
    size_t len;
    size_t *line_start; /* byte offset of each line */
    size_t nlines;
    size_t fm_first; /* first and last line of the front matter (1-based), */
    size_t fm_last;  /* 0 when there is none */
    json_t *ast;     /* the AST document; NULL when it could not be rendered */
    json_t *ids;     /* {id: true} of every element id of the body */
    size_t cursor;   /* where the next reference is searched from */
} chk_doc;

typedef struct chk_ctx {
    const chk_item *item;
    const chk_options *o;
    size_t *order;    /* file indices sorted by path */
    bool *referenced; /* per file: something refers to it */
    long *doc_index;  /* per file: its index in docs, or -1 */
    chk_doc *docs;
    size_t ndocs;
    json_t *findings;
} chk_ctx;

/* ---- report.c ------------------------------------------------------------ */

void chk_add(chk_ctx *c, const char *path, size_t line, const char *severity, const char *code,
             const char *fmt, ...) CD_PRINTF(6, 7);
/* Sorts by path, line, code, message. */
void chk_sort(json_t *findings);

/* ---- refs.c ---------------------------------------------------------------- */

/* The index of the file with that path, or -1. */
long chk_find_file(const chk_ctx *c, const char *path);
/* The document of files[index], or NULL. */
chk_doc *chk_doc_of(const chk_ctx *c, size_t index);
/* True for a path ending in ".md": a document. */
bool chk_is_markdown(const char *path);

enum chk_ref {
    CHK_REF_NONE,    /* not a reference to a file of the item (URL, /abs, empty) */
    CHK_REF_OUTSIDE, /* a relative path that leaves the item: not ours to check */
    CHK_REF_LOCAL,   /* *path is a content path of the item ("" for its root) */
};
/* Resolves ref, as written in the document at doc_path, to a content path
 * (percent-decoded, "." and ".." applied) in path, and its "#fragment"
 * (decoded, without '#') in frag. */
enum chk_ref chk_resolve(const char *doc_path, const char *ref, cd_buf *path, cd_buf *frag);
/* The file a link to path means: path itself, path.md, path/index.md
 * (and index.md for the root); -1 when none exists. */
long chk_link_target(const chk_ctx *c, const char *path);
/* True when s looks like a file name: no spaces, no scheme, and an
 * extension of a file an item carries (image, media, document). */
bool chk_looks_like_file(const char *s);

/* ---- source.c ---------------------------------------------------------------- */

/* Fills d's line index and front matter range from d->src. */
void chk_source_index(chk_doc *d);
/* The 1-based line of byte offset off. */
size_t chk_line_of(const chk_doc *d, size_t off);
/* The line of the next occurrence of needle (from d->cursor, wrapping to
 * the start), advancing the cursor past it; 0 when it does not occur. */
size_t chk_source_find(chk_doc *d, const char *needle);
/* The first line in [from, to] holding word as a whole word (neighbours
 * not letters, digits, '-' or '_'); 0 when none does. */
size_t chk_source_word(const chk_doc *d, size_t from, size_t to, const char *word);
/* Unclosed fences and MDC block components. */
void chk_source_scan(chk_ctx *c, chk_doc *d);

/* ---- links.c, front.c, assets.c ---------------------------------------------- */

/* Collects the element ids of d's body into d->ids. */
void chk_collect_ids(chk_doc *d);
/* Links, images, anchors, component props and unknown components. */
void chk_links(chk_ctx *c, chk_doc *d);
/* The front matter of d. */
void chk_front(chk_ctx *c, chk_doc *d);
/* The tasks of d's front matter. */
void chk_tasks(chk_ctx *c, chk_doc *d, json_t *tasks, size_t line);
/* Checks a reference to a file (an image, a prop, a front matter value)
 * found at line of d: marks it used or reports it missing. */
void chk_file_ref(chk_ctx *c, chk_doc *d, const char *ref, size_t line, const char *what);
/* Oversized files and image formats (reads the images' first bytes). */
int chk_assets(chk_ctx *c, cd_err *err);
/* Assets nothing refers to. */
void chk_unused(chk_ctx *c);

#endif
