/* SPDX-License-Identifier: MIT */
/*
 * markdown — turns an author's markdown into the AST document of the
 * contract: the JSON that Nuxt MDC's parseMarkdown() returns ({data, body,
 * toc}), so a Nuxt front end hands it to <MDCRenderer> unchanged.
 *
 * Parsing is cmark-gfm with its GFM extensions plus our MDC component
 * extension; front matter goes through libyaml; raw HTML through gumbo and an
 * allow-list.  The renderer is reentrant: each call owns all its state, so
 * any number of threads may render at once.
 */
#ifndef CONTENTD_MARKDOWN_H
#define CONTENTD_MARKDOWN_H

#include <stdbool.h>
#include <stddef.h>

typedef enum md_status {
    MD_OK = 0,
    MD_ERR_YAML = -1,   /* the front matter is not valid YAML */
    MD_ERR_INPUT = -2,  /* the input cannot be rendered (e.g. too large) */
    MD_ERR_FAILED = -3, /* isolated rendering: the renderer crashed, or ran past its time or
                         * memory budget (md_pool_render) */
} md_status;

enum md_flags {
    MD_PRETTY = 1 << 0, /* indent the JSON output for people */
};

/* What went wrong, for one clear line on a terminal or in an HTTP error. */
typedef struct md_error {
    int line; /* 1-based line of the source, 0 when not tied to one */
    char message[256];
} md_error;

/* Renders src[0..len) (any bytes: invalid UTF-8 is replaced by U+FFFD) to the
 * AST document.  On MD_OK, *out is a NUL-terminated JSON text of *out_len
 * bytes that the caller frees with free().  On failure *out is NULL and err
 * (if not NULL) says why. */
md_status md_render(const char *src, size_t len, unsigned flags, char **out, size_t *out_len,
                    md_error *err) __attribute__((warn_unused_result));

/* One member of the document's data (front matter and the derived title
 * and description), as text. */
typedef struct md_field {
    char *key;
    char *value; /* a string; an integer in decimal; "" for any other type */
} md_field;

/* A rendered document with the fields a server takes from it, so that no
 * caller has to parse the JSON again.  Every string is NUL-terminated
 * UTF-8 (a U+0000 in a value becomes U+FFFD); md_result_free() frees them. */
typedef struct md_result {
    char *json; /* the AST document, *len bytes */
    size_t len;
    char *title;       /* data.title when it is a string, else "" */
    char *description; /* data.description when it is a string, else "" */
    md_field *fields;  /* data's top-level members, except null ones */
    size_t nfields;
    /* Where json holds the value of the document's toc (an object), so that
     * a caller needing only the toc does not parse the whole AST; toc_len 0
     * when the document has none (data.toc: false) or under MD_PRETTY. */
    size_t toc_at, toc_len;
} md_result;

/* md_render(), keeping the title, the description and data's top-level
 * fields beside the JSON.  On MD_OK res is filled and the caller releases
 * it with md_result_free(); on failure res is zeroed and err says why. */
md_status md_render_result(const char *src, size_t len, unsigned flags, md_result *res,
                           md_error *err) __attribute__((warn_unused_result));
/* The value of data member key (as md_field says), or NULL when absent. */
const char *md_result_field(const md_result *res, const char *key);
/* Frees what res holds and zeroes it; a zeroed res is fine. */
void md_result_free(md_result *res);

/* ---- isolated rendering (isolate.c) ---------------------------------------
 *
 * A pool of worker processes renders one document at a time each, so that a
 * document that crashes the renderer, runs past the time budget or needs
 * more memory than the budget costs only itself.  The workers are the
 * calling program started again with the single argument MD_WORKER_ARG: a
 * program that makes a pool calls md_worker_main() first thing in main()
 * when it sees that argument. */

#define MD_WORKER_ARG "--markdown-worker"

typedef struct md_pool md_pool;

typedef struct md_pool_options {
    unsigned workers;    /* worker processes (0: one per CPU, 2 to 16) */
    unsigned timeout_ms; /* wall-clock budget of one document (0: 20,000) */
    size_t memory_bytes; /* address-space budget of a worker (0: 4 GiB) */
    const char *exe;     /* the program to start (NULL: /proc/self/exe) */
} md_pool_options;

/* Starts the workers (o may be NULL: the defaults).  On MD_OK *out is the
 * pool, freed with md_pool_free(); else err says why none could start. */
md_status md_pool_new(const md_pool_options *o, md_pool **out, md_error *err)
    __attribute__((warn_unused_result));
/* Ends the workers and frees the pool (NULL is fine).  No render may be
 * running. */
void md_pool_free(md_pool *p);
/* md_render_result() in a worker; any number of threads may call it (each
 * waits for a free worker).  Returns what the renderer returned, or
 * MD_ERR_FAILED when the worker crashed, was killed at the deadline or
 * could not start: res then holds the failure document (an empty body and
 * "error": {"code", "message"}, docs/ast.md) and err the message.  Either
 * way, on MD_OK and MD_ERR_FAILED the caller frees res with
 * md_result_free(). */
md_status md_pool_render(md_pool *p, const char *src, size_t len, unsigned flags, md_result *res,
                         md_error *err) __attribute__((warn_unused_result));
/* The worker's loop, on stdin/stdout: returns the exit status for main(). */
int md_worker_main(void);

/* True when an element of that tag is HTML to MDC (an element of any other
 * tag is a component): the same list the renderer decides with. */
bool md_is_html_tag(const char *name);

/* The library's version string, e.g. "0.1.0 (cmark-gfm 0.29.0.gfm.6)". */
const char *md_version(void);

#endif
