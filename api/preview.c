/* SPDX-License-Identifier: MIT */
/*
 * The author's live preview page (docs/preview.md).  GET /preview/KIND/NAME
 * [/PATH] answers the page's HTML shell, GET /preview/_assets/FILE its
 * scripts and styles; all of them are the files of web/, embedded in the
 * binary at build time (gen_assets.py), so the binary needs no data folder.
 *
 * The shell is the same for every item: the page reads KIND, NAME and PATH
 * from its own address and gets the content through the API (the item's
 * event stream and files/), so nothing an author wrote is ever put into
 * HTML here.  Every reply carries a strict Content-Security-Policy: our own
 * scripts, styles, workers and connections only, no inline script or style.
 *
 * Authentication: the shell answers as any API route (a bad token 401, an
 * item the caller cannot see 404, but with the shell as the 404's body),
 * except that a request with no token at all, on a server that needs one,
 * gets the shell with status 401.  The page
 * moves ?access_token= out of the address bar into the tab's
 * sessionStorage, so a reload presents no token; the shell it gets then
 * still finds the token there, and every request it makes is checked.
 *
 * A client that accepts gzip gets the scripts and styles gzip-encoded,
 * each compressed once, with the entity tag "<sha256>-gz".
 */
#include "api.h"

#include "preview_int.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gz.h"

/* The gzip form of each asset, made on first use (gz_mu). */
#define GZ_ASSETS_MAX 64
typedef struct {
    char *data;
    size_t len;
    char etag[80];
} gz_asset;
static gz_asset gz_assets[GZ_ASSETS_MAX];
static pthread_mutex_t gz_mu = PTHREAD_MUTEX_INITIALIZER;

/* a's gzip form, or NULL when it is not compressed. */
static const gz_asset *gz_of(const api_asset *a)
{
    size_t i = (size_t)(a - api_preview_assets);
    if (i >= GZ_ASSETS_MAX || !cd_gz_compressible(a->content_type))
        return NULL;
    gz_asset *g = &gz_assets[i];
    pthread_mutex_lock(&gz_mu);
    if (!g->data) {
        cd_buf b = CD_BUF_INIT;
        cd_gzip(a->data, a->size, &b);
        g->data = cd_buf_steal(&b, &g->len);
        size_t n = strlen(a->etag); /* "\"<sha>\"": -gz goes inside the quotes */
        snprintf(g->etag, sizeof g->etag, "%.*s-gz\"", (int)(n > 1 ? n - 1 : 0), a->etag);
    }
    pthread_mutex_unlock(&gz_mu);
    return g;
}

#define PREVIEW_CSP                                                                                \
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "              \
    "connect-src 'self'; worker-src 'self'; object-src 'none'; base-uri 'none'; "                  \
    "form-action 'none'; frame-ancestors 'none'"

static const api_asset *find_asset(const char *name)
{
    for (size_t i = 0; i < api_preview_assets_n; i++)
        if (!strcmp(api_preview_assets[i].name, name))
            return &api_preview_assets[i];
    return NULL;
}

/* Whether If-None-Match names the entity tag etag (or is *). */
static bool not_modified(http_req *r, const char *etag)
{
    const char *h = http_header(r, MHD_HTTP_HEADER_IF_NONE_MATCH);
    if (!h)
        return false;
    while (*h == ' ')
        h++;
    return !strcmp(h, "*") || strstr(h, etag) != NULL;
}

static void page_headers(struct MHD_Response *resp, const api_asset *a)
{
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, a->content_type);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_SECURITY_POLICY, PREVIEW_CSP);
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
}

/* The shell, with status 200 or 401; never cached (which one a request
 * gets depends on its token). */
static enum MHD_Result reply_shell(http_req *r, unsigned status)
{
    const api_asset *a = find_asset("index.html");
    if (!a)
        return http_reply_error(r, 500, "internal_error", "The preview page was not built in.");
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(a->size, (void *)a->data, MHD_RESPMEM_PERSISTENT);
    page_headers(resp, a);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (status == 401)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                "Bearer realm=\"contentd\"");
    return http_reply_response(r, status, resp, a->size);
}

/* Whether the request carries a token at all (valid or not). */
static bool token_presented(http_req *r)
{
    if (http_header(r, MHD_HTTP_HEADER_AUTHORIZATION))
        return true;
    char *q = http_query(r, "access_token");
    bool yes = q && *q;
    free(q);
    q = yes ? NULL : http_query(r, "link");
    yes = yes || (q && *q);
    free(q);
    return yes;
}

enum MHD_Result api_preview(http_req *r)
{
    if (!token_presented(r)) {
        bool needed = false;
        if (http_auth_required(r->s, &needed) != 0)
            return http_reply_error(r, 503, "catalog_unavailable",
                                    "The catalog is unavailable: cannot check the token.");
        if (needed)
            return reply_shell(r, 401);
    }
    if (!http_auth(r, true))
        return MHD_YES; /* replied */
    /* A mistyped address — malformed, or an item that does not exist or
     * that the caller may not see — gets the shell too, with 404: a browser
     * shows the page's own "not found" state (docs/preview.md) rather than
     * a JSON error, and learns nothing more than the API says. */
    if (!r->kind[0]) /* not KIND/NAME at all (route.c) */
        return reply_shell(r, 404);
    catalog_item it;
    memset(&it, 0, sizeof it);
    cd_err err = {0};
    catalog_status rc = api_item_get_as(r, &it, &err);
    catalog_item_clear(&it);
    if (rc == CAT_OK)
        return reply_shell(r, 200);
    if (rc == CAT_NOT_FOUND)
        return reply_shell(r, 404);
    return http_reply_cat_error(r, rc, &err);
}

enum MHD_Result api_preview_asset(http_req *r)
{
    const api_asset *a = find_asset(r->file_path);
    if (!a)
        return http_reply_error(r, 404, "not_found", "The preview page has no file %s.",
                                r->file_path);
    const gz_asset *g = gz_of(a);
    bool gz = g && http_accepts_gzip(r);
    const char *etag = gz ? g->etag : a->etag;
    const void *body = gz ? (const void *)g->data : (const void *)a->data;
    size_t len = gz ? g->len : a->size;
    bool same = not_modified(r, etag);
    struct MHD_Response *resp =
        same ? MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT)
             : MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_PERSISTENT);
    page_headers(resp, a);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    if (g)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, MHD_HTTP_HEADER_ACCEPT_ENCODING);
    if (gz && !same) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
        r->gzip = true;
    }
    return http_reply_response(r, same ? 304 : 200, resp, same ? 0 : len);
}
