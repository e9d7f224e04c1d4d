/* SPDX-License-Identifier: MIT */
/*
 * URL routing on one table of endpoints (the API's: api/api_routes.c): a
 * request path is matched, as sent (libmicrohttpd does not unescape it, see
 * http.c), against each row's pattern in turn, and the first row whose
 * pattern and method match is the endpoint.  A pattern is literal segments
 * and parameters: {kind}, {name}, {sha256}, {version} (one segment each), {path} (the
 * rest of the path, '/' included, maybe empty), {file} (the same, not
 * empty), and a last "/{path?}" (nothing, or '/' and the rest).  The first
 * row whose pattern matches names the endpoint; among the rows of that
 * pattern, the one of the request's method serves it (none: 405).
 * Parameters are percent-decoded and validated by http_route_params() once
 * the caller is authenticated.
 */
#include "http.h"

#include <stdlib.h>
#include <string.h>

static const http_endpoint *table;
static size_t table_n;
/* Per row: the index of its metrics label (rows sharing a pattern share
 * it); label 0 is "unknown". */
static unsigned row_label[HTTP_ROUTES_MAX];
static const char *labels[HTTP_ROUTES_MAX + 1] = {"unknown"};
static unsigned n_labels = 1;

void http_routes_init(const http_endpoint *rows, size_t n)
{
    table = rows;
    table_n = n < HTTP_ROUTES_MAX ? n : HTTP_ROUTES_MAX;
    n_labels = 1;
    for (size_t i = 0; i < table_n; i++) {
        unsigned l = 1;
        while (l < n_labels && strcmp(labels[l], rows[i].pattern))
            l++;
        if (l == n_labels)
            labels[n_labels++] = rows[i].pattern;
        row_label[i] = l;
    }
}

unsigned http_route_count(void)
{
    return n_labels;
}

unsigned http_route_methods(unsigned label)
{
    unsigned m = 0;
    for (size_t i = 0; i < table_n; i++)
        if (row_label[i] == label)
            m |= table[i].methods;
    return m;
}

const char *http_route_label(unsigned label)
{
    return label < n_labels ? labels[label] : "unknown";
}

static bool param_is(const char *p, size_t len, const char *name)
{
    return strlen(name) == len && !strncmp(p, name, len);
}

/* Matches path against pattern, filling rp; false when it does not. */
static bool match(const char *pattern, const char *path, http_raw_params *rp)
{
    memset(rp, 0, sizeof *rp);
    const char *p = pattern, *s = path;
    while (*p) {
        if (!*s && !strcmp(p, "/{path?}"))
            return true; /* no path */
        if (*p != '{') {
            if (*p++ != *s++)
                return false;
            continue;
        }
        const char *name = p + 1;
        size_t plen = strcspn(name, "}");
        p = name + plen + 1;
        if (param_is(name, plen, "path") || param_is(name, plen, "path?") ||
            param_is(name, plen, "file")) {
            if (!*s && name[0] == 'f')
                return false;
            rp->rest = s;
            rp->rest_len = strlen(s);
            return !*p;
        }
        size_t n = strcspn(s, "/");
        if (n == 0)
            return false;
        if (param_is(name, plen, "kind")) {
            rp->kind = s;
            rp->kind_len = n;
        } else if (param_is(name, plen, "name")) {
            rp->name = s;
            rp->name_len = n;
        } else if (param_is(name, plen, "version")) {
            rp->version = s;
            rp->version_len = n;
        } else {
            rp->sha = s;
            rp->sha_len = n;
        }
        s += n;
    }
    return !*s;
}

void http_route_match(http_req *r)
{
    r->endpoint = NULL;
    r->route = 0;
    memset(&r->raw, 0, sizeof r->raw);
    const char *pattern = NULL;
    for (size_t i = 0; i < table_n; i++) {
        if (pattern ? strcmp(pattern, table[i].pattern)
                    : !match(table[i].pattern, r->path, &r->raw))
            continue;
        pattern = table[i].pattern;
        r->route = row_label[i];
        if (table[i].methods & (unsigned)r->method) {
            r->endpoint = &table[i];
            return;
        }
    }
}

static bool decode_ident(const char *s, size_t n, char *out, size_t cap)
{
    char *d = NULL;
    size_t len = 0;
    if (!http_pct_decode(s, n, &d, &len))
        return false;
    bool ok = len < cap && strlen(d) == len;
    if (ok)
        memcpy(out, d, len + 1);
    free(d);
    return ok;
}

/* A row that reads KIND, NAME and PATH from its own address (the preview
 * page): a malformed KIND or NAME (a mistyped address) leaves r->kind
 * empty, for the handler to answer; the path is the handler's to check.
 * Never fails. */
static bool lenient_params(http_req *r)
{
    http_raw_params *rp = &r->raw;
    bool ok = rp->kind && decode_ident(rp->kind, rp->kind_len, r->kind, sizeof r->kind) &&
              cd_kind_valid(r->kind) &&
              decode_ident(rp->name, rp->name_len, r->name, sizeof r->name) &&
              cd_name_valid(r->name);
    if (!ok)
        r->kind[0] = r->name[0] = '\0';
    return true;
}

bool http_route_params(http_req *r)
{
    if (r->endpoint->lenient_params)
        return lenient_params(r);
    http_raw_params *rp = &r->raw;
    if (rp->kind) {
        if (!decode_ident(rp->kind, rp->kind_len, r->kind, sizeof r->kind) ||
            !cd_kind_valid(r->kind)) {
            http_fail(r, 400, "invalid_kind",
                      "Unknown kind: expected tutorial, challenge, course, skill-path or roadmap.");
            return false;
        }
        if (!decode_ident(rp->name, rp->name_len, r->name, sizeof r->name) ||
            !cd_name_valid(r->name)) {
            http_fail(r, 400, "invalid_name",
                      "Invalid name: it must match [a-z0-9][a-z0-9-]{0,62}.");
            return false;
        }
    }
    if (rp->rest) {
        char *d = NULL;
        size_t len = 0;
        if (!http_pct_decode(rp->rest, rp->rest_len, &d, &len)) {
            http_fail(r, 400, "invalid_path", "The path has a malformed %%-escape or a NUL byte.");
            return false;
        }
        const char *why = cd_path_why(d, len, false);
        if (why) {
            free(d);
            http_fail(r, 400, "invalid_path", "Invalid path: %s.", why);
            return false;
        }
        r->file_path = d;
    }
    if (rp->version) {
        char digits[24];
        bool ok = rp->version_len < sizeof digits && rp->version[0] != '0';
        for (size_t i = 0; ok && i < rp->version_len; i++)
            ok = rp->version[i] >= '0' && rp->version[i] <= '9';
        if (ok) {
            memcpy(digits, rp->version, rp->version_len);
            digits[rp->version_len] = '\0';
            r->version = strtoll(digits, NULL, 10);
            ok = r->version > 0 && r->version < INT64_MAX;
        }
        if (!ok) {
            http_fail(r, 400, "invalid_version", "The version must be an integer >= 1.");
            return false;
        }
    }
    if (rp->sha) {
        if (rp->sha_len != 64 || !decode_ident(rp->sha, rp->sha_len, r->sha, sizeof r->sha) ||
            !cd_sha_valid(r->sha)) {
            http_fail(r, 400, "invalid_sha256",
                      "The blob name must be a SHA-256 digest: 64 lower-case hex digits.");
            return false;
        }
    }
    return true;
}
