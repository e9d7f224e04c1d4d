/* SPDX-License-Identifier: MIT */
/*
 * Cross-origin requests (CORS): a page served from another origin (a Nuxt
 * dev server on :3000) may call the API and open its event streams when
 * its origin is one of the configured ones (--cors-origin,
 * CONTENTD_CORS_ORIGINS; none by default).  Every reply to an allowed
 * origin echoes it in Access-Control-Allow-Origin; every reply carries
 * Vary: Origin while CORS is on, so that a cache never hands one origin's
 * answer to another.  Preflight OPTIONS requests are answered here, before
 * authentication (a browser never sends credentials with them).
 *
 * No Access-Control-Allow-Credentials: the API authenticates with a bearer
 * token (Authorization, or ?access_token= on streams), never a cookie.
 */
#include "http.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define PREFLIGHT_MAX_AGE "600"
#define ALLOWED_HEADERS                                                                            \
    "Authorization, Content-Type, Last-Event-ID, If-None-Match, If-Range, Range, Cache-Control"
#define EXPOSED_HEADERS                                                                            \
    "ETag, X-Content-Version, Content-Range, Accept-Ranges, Retry-After, WWW-Authenticate"

bool http_cors_origin_valid(const char *o)
{
    size_t scheme = !strncmp(o, "http://", 7) ? 7 : !strncmp(o, "https://", 8) ? 8 : 0;
    if (!scheme || !o[scheme])
        return false;
    for (const char *p = o + scheme; *p; p++)
        if (*p == '/' || *p == '?' || *p == '#' || *p == '@' || *p <= ' ' || *p == 0x7f)
            return false;
    return true;
}

/* The request's Origin when it is one of the allowed ones, else NULL. */
static const char *allowed_origin(http_req *r)
{
    const http_server *cfg = r->s;
    if (!cfg->n_cors)
        return NULL;
    const char *o = http_header(r, "Origin");
    if (!o)
        return NULL;
    for (size_t i = 0; i < cfg->n_cors; i++)
        if (!strcasecmp(o, cfg->cors[i]))
            return o;
    return NULL;
}

void http_cors_headers(http_req *r, struct MHD_Response *resp)
{
    if (!r->s->n_cors)
        return;
    MHD_add_response_header(resp, "Vary", "Origin");
    const char *o = allowed_origin(r);
    if (!o)
        return;
    MHD_add_response_header(resp, "Access-Control-Allow-Origin", o);
    MHD_add_response_header(resp, "Access-Control-Expose-Headers", EXPOSED_HEADERS);
}

/* The methods route takes, as an Allow list. */
static void methods_of(unsigned route, char *out, size_t cap)
{
    static const struct {
        http_method m;
        const char *name;
    } t[] = {{HTTP_M_GET, "GET"}, {HTTP_M_HEAD, "HEAD"},   {HTTP_M_POST, "POST"},
             {HTTP_M_PUT, "PUT"}, {HTTP_M_PATCH, "PATCH"}, {HTTP_M_DELETE, "DELETE"}};
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (http_route_methods(route) & (unsigned)t[i].m)
            len += (size_t)snprintf(out + len, cap - len, "%s%s", len ? ", " : "", t[i].name);
    snprintf(out + len, cap - len, "%sOPTIONS", len ? ", " : "");
}

enum MHD_Result http_cors_preflight(http_req *r)
{
    char methods[96];
    methods_of(r->route, methods, sizeof methods);
    struct MHD_Response *resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, methods);
    if (allowed_origin(r) && http_header(r, "Access-Control-Request-Method")) {
        MHD_add_response_header(resp, "Access-Control-Allow-Methods", methods);
        MHD_add_response_header(resp, "Access-Control-Allow-Headers", ALLOWED_HEADERS);
        MHD_add_response_header(resp, "Access-Control-Max-Age", PREFLIGHT_MAX_AGE);
    }
    return http_reply_response(r, 204, resp, 0);
}
