/* SPDX-License-Identifier: MIT */
/*
 * checks — what is wrong with one version of a content item, before a
 * student finds out: links to documents, headings and assets that are not
 * there, assets nobody uses, oversized files, images whose bytes are not
 * what their name says, front matter that does not fit the item, `needs`
 * of tasks that name nothing or go round in a cycle, unknown MDC
 * components, and a component or fence left open to the end of the file.
 *
 * The same code serves the server (at commit), `content push` and the
 * offline `content check`: the caller hands over the file list and a
 * callback that reads a file's bytes (from a folder, from the blob store),
 * and gets back findings
 *
 *   {"path","line","severity":"error"|"warning","code","message"}
 *
 * as a JSON array sorted by path and line.  `line` is 1-based; 0 means
 * the finding is about the whole file.  Every `code` is stable and listed
 * in docs/checks.md.  Markdown is rendered with the markdown module, so
 * heading ids and components are exactly what the renderer makes.
 */
#ifndef CONTENTD_CHECKS_H
#define CONTENTD_CHECKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common.h"
#include "markdown.h"

/* One file of the version.  The strings are borrowed for the call. */
typedef struct chk_file {
    const char *path;   /* the content path: relative, '/'-separated */
    const char *sha256; /* lower-case hex: with path, the cache's key; NULL: not cached */
    int64_t size;
} chk_file;

/* What chk_run() and a chk_read_fn return. */
typedef enum chk_status {
    CHK_OK = 0,
    CHK_UNREAD = -1, /* a file could not be read: err says which and why */
} chk_status;

/* Reads at most max bytes from the start of files[index] into *data (the
 * library frees it with free()) and their count into *len.  Returns CHK_OK,
 * or CHK_UNREAD with err saying why: the whole run then fails with that
 * error.  A reader on a store translates the store's status to these. */
typedef chk_status (*chk_read_fn)(void *arg, size_t index, size_t max, char **data, size_t *len,
                                  cd_err *err);

/* A set of known MDC component names.  Names match after lower-casing and
 * dropping '-' and '_', as Nuxt resolves `::my-card` and `::MyCard` to the
 * same component. */
typedef struct chk_components chk_components;

/* Parses a list with one name per line (blank lines and lines starting
 * with '#' are skipped, spaces around a name trimmed).  The caller frees
 * the set with chk_components_free(). */
chk_components *chk_components_parse(const char *text, size_t len);
void chk_components_free(chk_components *c);
/* True when name (as the AST writes a tag) is in the set. */
bool chk_components_has(const chk_components *c, const char *name);

/* A cache of what the checks learn from each file on its own (a document's
 * references, ids and components, an image's format...), keyed by the
 * file's SHA-256 and path: a run over a version that differs from the one
 * before by one lesson renders that lesson alone.  Any number of runs on
 * any threads may share one cache.  It keeps at most max_files entries,
 * the least recently used going first.  Free it with chk_cache_free()
 * once no run uses it. */
typedef struct chk_cache chk_cache;
chk_cache *chk_cache_new(size_t max_files);
void chk_cache_free(chk_cache *cache);

/* Storing the cache's facts (stored.c): a server keeps them with a
 * version, so that after a restart the checks of the next version need
 * not read the files that did not change.  Facts depend on a file's bytes
 * and path alone, so they are keyed by its SHA-256 and path and are right
 * in any version of any item, provided they were made by the same code:
 * keep them with chk_facts_stamp() and read them back only under an equal
 * stamp.  Bump CHK_FACTS_FORMAT whenever what the facts hold changes. */
#define CHK_FACTS_FORMAT 1
/* The release, renderer and facts format that make the facts; static. */
const char *chk_facts_stamp(void);
/* The facts cache holds for the file (sha256, path), as a new JSON object
 * the caller releases with json_decref(); NULL when it holds none (a file
 * that is neither a document nor an image has none). */
json_t *chk_cache_export(chk_cache *cache, const char *sha256, const char *path);
/* True for a file the checks make facts of (a document, an image). */
bool chk_file_has_facts(const char *path);
/* True when the cache holds facts for (sha256, path). */
bool chk_cache_has(chk_cache *cache, const char *sha256, const char *path);
/* Puts facts that chk_cache_export() gave, for the same (sha256, path),
 * into the cache (kept when it has some already).  Returns 0, or -1 when
 * j is not facts of this form for path (nothing is stored).  j stays the
 * caller's. */
int chk_cache_import(chk_cache *cache, const char *sha256, const char *path, const json_t *j);

/* The default of chk_options.max_file_size: 10 MiB. */
#define CHK_DEFAULT_MAX_FILE_SIZE ((int64_t)10 << 20)

/* Renders a document for the checks as md_render() would: returns MD_OK
 * with *out the AST document (*out_len bytes, NUL-terminated; the library
 * frees it with free()), or an md_status with err saying why (the
 * document's frontmatter-invalid finding).  sha256 is the file's (NULL
 * when not known): a caller that has rendered it already (the server's
 * render cache) hands that AST over instead of rendering it again. */
typedef md_status (*chk_render_fn)(void *arg, const char *sha256, const char *src, size_t len,
                                   char **out, size_t *out_len, md_error *err);

typedef struct chk_options {
    const chk_components *components; /* borrowed; NULL: components are not checked */
    int64_t max_file_size;            /* bytes; 0: no limit */
    chk_cache *cache;                 /* borrowed; NULL: nothing is kept between runs.
                                         Only files with a sha256 are cached. */
    chk_render_fn render;             /* NULL: md_render() in this process */
    void *render_arg;
} chk_options;

/* The version to check.  Everything is borrowed for the call. */
typedef struct chk_item {
    const char *kind; /* the item's kind; NULL: not known, kind is not compared */
    const char *name; /* the item's name; NULL: not compared */
    const chk_file *files;
    size_t nfiles;
    chk_read_fn read;
    void *read_arg;
} chk_item;

/* Runs every check on item.  Returns CHK_OK with *findings a new JSON array
 * (sorted by path, then line; the caller releases it with json_decref()),
 * or CHK_UNREAD with err when a file could not be read (then *findings is
 * NULL).
 * o may be NULL (the defaults: no components list, the default size
 * limit, no cache).  Files are read through item->read only when their
 * facts are not in o->cache: documents whole, images' first 4 KiB, and
 * documents again only when an asset may be unused and their facts do not
 * yet say whether their source names its path.  Safe to call from
 * any number of threads at once. */
chk_status chk_run(const chk_item *item, const chk_options *o, json_t **findings,
                   cd_err *err) CD_WUR;

/* How many findings of that severity ("error" or "warning") the array
 * holds. */
size_t chk_count(const json_t *findings, const char *severity);

/* Appends the findings (from chk_run() or from a server's answer) to out
 * as lines `PATH:LINE: severity: message [code]`, `PATH: severity: …`
 * when the line is 0.  Paths are shown with control characters escaped;
 * elements that are not findings are skipped. */
void chk_format_text(const json_t *findings, cd_buf *out);

#endif
