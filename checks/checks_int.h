/* SPDX-License-Identifier: MIT */
/*
 * Internal declarations of the checks module.  A run has two stages:
 *
 *  1. Facts, per file, from its bytes and path alone: what a document
 *     refers to (with the line of each reference), its heading ids, its
 *     components, its front matter's kind and name, and every finding
 *     that needs no other file (open fences, tasks, titles, an image's
 *     format).  This is the expensive stage (rendering, the AST walk), so
 *     facts are kept in a cache keyed by SHA-256 and path: a commit that
 *     changes one lesson of a course makes the facts of that lesson only.
 *  2. Resolution, per run: the references against this version's file
 *     list and ids, kind and name against the item, components against
 *     the known list, sizes against the limit, then the assets nothing
 *     referred to.
 *
 *   facts.c     stage 1 for a document: read, render, walk; and for images
 *   source.c    the source text: lines, front matter, open fences/components
 *   links.c     the AST walk: references, ids, components
 *   front.c     front matter: kind, name, title, file references
 *   tasks.c     front matter tasks: unknown needs, cycles
 *   assets.c    image formats (stage 1); sizes and unused assets (stage 2)
 *   resolve.c   stage 2 for a document's references
 *   refs.c      content paths: resolving a reference, finding the file
 *   cache.c     the facts cache
 *   report.c    findings: adding, sorting, counting, text
 *   checks.c    the run
 */
#ifndef CONTENTD_CHECKS_INT_H
#define CONTENTD_CHECKS_INT_H

#include "checks.h"

#define CHK_ERROR   "error"
#define CHK_WARNING "warning"

/* A reference a document makes, unresolved: a link (to a document, an
 * anchor or a file) or a file reference (an image, a prop, a front matter
 * value). */
typedef struct chk_fref {
    bool link;
    char *ref;
    char *what; /* how the message names it: "image", "link to", ... */
    size_t line;
} chk_fref;

typedef struct chk_fcomp {
    char *tag;
    size_t line;
} chk_fcomp;

/* What one file says, from its bytes and path alone.  Immutable once made;
 * shared by the cache and the runs that use it (refcounted under the
 * cache's lock). */
typedef struct chk_facts {
    json_t *local; /* findings that need no other file */
    bool walked;   /* a document whose AST was walked: ids is complete */
    json_t *ids;   /* {id: true} */
    chk_fref *refs;
    size_t nrefs, cap_refs;
    chk_fcomp *comps;
    size_t ncomps, cap_comps;
    char *kind, *name; /* the front matter's, when strings */
    size_t kind_line, name_line;
    /* The one mutable part, under chk_mentions_lock(): which asset paths
     * the source holds ({path: true|false}), learnt by the runs that
     * looked for unused assets (assets.c), at most CHK_MENTIONS_MAX. */
    json_t *mentions;
    /* the cache's */
    char *key;
    unsigned refcount;
    cd_hnode node; /* in the cache's table, by key */
    cd_lnode lru;  /* in the cache's list, the least recently used first */
} chk_facts;

/* Stage 1 for a markdown document while its facts are made. */
typedef struct chk_doc {
    const char *path;
    char *src; /* its bytes, NUL-terminated */
    size_t len;
    size_t *line_start; /* byte offset of each line */
    size_t nlines;
    size_t fm_first, fm_last; /* the front matter's lines (1-based); 0: none */
    json_t *ast;              /* the AST document; NULL when it could not be rendered */
    size_t cursor;            /* where the next reference is searched from */
    size_t budget;            /* bytes the line searches may still examine */
    chk_facts *f;
} chk_doc;

typedef struct chk_ctx {
    const chk_item *item;
    const chk_options *o;
    size_t *order;     /* file indices sorted by path */
    chk_facts **facts; /* per file; NULL for a file with none */
    bool *referenced;  /* per file: something refers to it */
    json_t **squashed; /* per file, made on the first broken anchor into it:
                          {squashed id: id} (resolve.c) */
    json_t *findings;
} chk_ctx;

/* ---- report.c ------------------------------------------------------------ */

/* Appends a finding to the array out. */
void chk_add(json_t *out, const char *path, size_t line, const char *severity, const char *code,
             const char *fmt, ...) CD_PRINTF(6, 7);
/* Appends a copy of each finding of from (facts may be shared: a caller
 * of chk_run() may change its findings freely). */
void chk_add_copies(json_t *out, const json_t *from);
/* Sorts by path, line, code, message. */
void chk_sort(json_t *findings);

/* ---- refs.c ---------------------------------------------------------------- */

/* The index of the file with that path, or -1. */
long chk_find_file(const chk_ctx *c, const char *path);
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
/* Line searches are bounded: a document may make each search miss and
 * scan it whole.  Takes n bytes from d's budget; false (and the search
 * gives up: line 0) once it is spent.  The budget is a few times the
 * document's size, far more than any real document uses. */
bool chk_source_spend(chk_doc *d, size_t n);
/* The line of the next occurrence of needle (from d->cursor, wrapping to
 * the start), advancing the cursor past it; 0 when it does not occur. */
size_t chk_source_find(chk_doc *d, const char *needle);
/* The first line in [from, to] holding word as a whole word (neighbours
 * not letters, digits, '-' or '_'); 0 when none does. */
size_t chk_source_word(chk_doc *d, size_t from, size_t to, const char *word);
/* Unclosed fences and MDC block components. */
void chk_source_scan(chk_doc *d);

/* ---- facts.c, links.c, front.c, tasks.c ------------------------------------- */

chk_facts *chk_facts_new(void);
void chk_facts_free(chk_facts *f);
/* Records a reference of d found at line (0: search the source for it). */
void chk_fact_ref(chk_doc *d, bool link, const char *ref, size_t line, const char *what);
/* The facts of files[index] (a document or an image), or NULL for a file
 * with none; -1 (err) when it cannot be read. */
int chk_facts_make(const chk_ctx *c, size_t index, chk_facts **out, cd_err *err);
/* The AST's ids, references and components into d->f. */
void chk_walk(chk_doc *d);
/* The front matter of d into d->f. */
void chk_front(chk_doc *d);
/* The tasks of d's front matter. */
void chk_tasks(chk_doc *d, json_t *tasks, size_t line);

/* ---- assets.c, resolve.c ---------------------------------------------------- */

/* An image's format against its extension, into f->local; -1 (err) when
 * it cannot be read; 0 and nothing for a file that is not an image. */
int chk_image_facts(const chk_ctx *c, size_t index, chk_facts *f, bool *is_image, cd_err *err);
/* Files over the size limit. */
void chk_sizes(chk_ctx *c);
/* Assets nothing refers to (reads documents only if there is a candidate). */
int chk_unused(chk_ctx *c, cd_err *err);
/* A document's facts against this version: references, kind, components. */
void chk_resolve_doc(chk_ctx *c, size_t index);

/* How many paths a document's mentions remember. */
#define CHK_MENTIONS_MAX 1024
/* The lock of every facts' mentions. */
void chk_mentions_lock(void);
void chk_mentions_unlock(void);

/* ---- cache.c ------------------------------------------------------------------ */

/* The cache's key of a file: "SHA-256 path" (hex holds no space). */
void chk_cache_key(cd_buf *key, const char *sha256, const char *path);
/* The facts stored under key, with a reference for the caller; NULL. */
chk_facts *chk_cache_get(chk_cache *cache, const char *key);
/* Stores f under key (which it takes a reference of) unless another run
 * stored facts under it meanwhile; returns the facts to use, with a
 * reference for the caller. */
chk_facts *chk_cache_put(chk_cache *cache, const char *key, chk_facts *f);
/* Drops the caller's reference (facts without a cache are freed). */
void chk_cache_release(chk_cache *cache, chk_facts *f);

#endif
