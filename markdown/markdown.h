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

enum md_status {
    MD_OK = 0,
    MD_ERR_YAML = -1,  /* the front matter is not valid YAML */
    MD_ERR_INPUT = -2, /* the input cannot be rendered (e.g. too large) */
};

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
int md_render(const char *src, size_t len, unsigned flags, char **out, size_t *out_len,
              md_error *err) __attribute__((warn_unused_result));

/* True when an element of that tag is HTML to MDC (an element of any other
 * tag is a component): the same list the renderer decides with. */
bool md_is_html_tag(const char *name);

/* The library's version string, e.g. "0.1.0 (cmark-gfm 0.29.0.gfm.6)". */
const char *md_version(void);

#endif
