/* SPDX-License-Identifier: MIT */
/*
 * URL routing: which endpoint of the API a request path names, its raw
 * parameters, and the methods each endpoint takes.  The path is matched as
 * sent (libmicrohttpd does not unescape it, see http.c); parameters are
 * percent-decoded here and validated by srv_route_params() once the caller
 * is authenticated.
 */
#include "srv_int.h"

#include <stdlib.h>
#include <string.h>

static const char *const labels[] = {
#define X(id, label) label,
    SRV_ROUTES(X)
#undef X
};

const char *srv_route_label(srv_route r)
{
    return (unsigned)r < SRV_R_COUNT ? labels[r] : "unknown";
}

static const unsigned allowed[SRV_R_COUNT] = {
    [SRV_R_HEALTHZ] = SRV_M_GET | SRV_M_HEAD,
    [SRV_R_READYZ] = SRV_M_GET | SRV_M_HEAD,
    [SRV_R_METRICS] = SRV_M_GET | SRV_M_HEAD,
    [SRV_R_CONTENT] = SRV_M_GET | SRV_M_HEAD | SRV_M_POST,
    [SRV_R_ITEM] = SRV_M_GET | SRV_M_HEAD | SRV_M_PATCH | SRV_M_DELETE,
    [SRV_R_VERSIONS] = SRV_M_GET | SRV_M_HEAD | SRV_M_POST,
    [SRV_R_FILE] = SRV_M_GET | SRV_M_HEAD,
    [SRV_R_AST] = SRV_M_GET | SRV_M_HEAD,
    [SRV_R_ITEM_EVENTS] = SRV_M_GET,
    [SRV_R_EVENTS] = SRV_M_GET,
    [SRV_R_BLOBS_MISSING] = SRV_M_POST,
    [SRV_R_BLOB] = SRV_M_PUT,
    [SRV_R_PREVIEW] = SRV_M_GET | SRV_M_HEAD,
    [SRV_R_PREVIEW_ASSET] = SRV_M_GET | SRV_M_HEAD,
};

bool srv_route_allows(srv_route r, srv_method m)
{
    return (allowed[r] & (unsigned)m) != 0;
}

/* Splits p = KIND/NAME[/…] into rp->kind and rp->name; *end points at the
 * '/' after NAME, or is NULL.  False when KIND or NAME is empty. */
static bool split_item(const char *p, srv_raw_params *rp, const char **end)
{
    const char *slash = strchr(p, '/');
    if (!slash || slash == p)
        return false;
    rp->kind = p;
    rp->kind_len = (size_t)(slash - p);
    rp->name = slash + 1;
    *end = strchr(rp->name, '/');
    rp->name_len = *end ? (size_t)(*end - rp->name) : strlen(rp->name);
    return rp->name_len != 0;
}

static srv_route match_item(const char *p, srv_raw_params *rp)
{
    /* p follows "/api/v1/content/": KIND/NAME[/…] */
    const char *end = NULL;
    if (!split_item(p, rp, &end))
        return SRV_R_NONE;
    if (!end)
        return SRV_R_ITEM;
    if (!strcmp(end, "/versions"))
        return SRV_R_VERSIONS;
    if (!strcmp(end, "/events"))
        return SRV_R_ITEM_EVENTS;
    if (!strncmp(end, "/files/", 7)) {
        rp->rest = end + 7;
        rp->rest_len = strlen(rp->rest);
        return SRV_R_FILE;
    }
    if (!strncmp(end, "/ast/", 5)) {
        rp->rest = end + 5;
        rp->rest_len = strlen(rp->rest);
        return SRV_R_AST;
    }
    return SRV_R_NONE;
}

static srv_route match_preview(const char *p, srv_raw_params *rp)
{
    /* p follows "/preview/": _assets/FILE, or KIND/NAME[/PATH] */
    if (!strncmp(p, "_assets/", 8)) {
        rp->rest = p + 8;
        rp->rest_len = strlen(rp->rest);
        return rp->rest_len ? SRV_R_PREVIEW_ASSET : SRV_R_NONE;
    }
    /* Any other address under /preview/ is the page's, even one with no
     * KIND/NAME: it shows its own "not found" (see preview_params()). */
    const char *end = NULL;
    if (!split_item(p, rp, &end)) {
        rp->kind = rp->name = NULL;
        return SRV_R_PREVIEW;
    }
    if (end && end[1]) {
        rp->rest = end + 1;
        rp->rest_len = strlen(rp->rest);
    }
    return SRV_R_PREVIEW;
}

static srv_route match(const char *path, srv_raw_params *rp)
{
    if (!strcmp(path, "/healthz"))
        return SRV_R_HEALTHZ;
    if (!strcmp(path, "/readyz"))
        return SRV_R_READYZ;
    if (!strcmp(path, "/metrics"))
        return SRV_R_METRICS;
    if (!strncmp(path, "/preview/", 9))
        return match_preview(path + 9, rp);
    if (strncmp(path, "/api/v1/", 8))
        return SRV_R_NONE;
    const char *p = path + 8;
    if (!strcmp(p, "content"))
        return SRV_R_CONTENT;
    if (!strncmp(p, "content/", 8))
        return match_item(p + 8, rp);
    if (!strcmp(p, "events"))
        return SRV_R_EVENTS;
    if (!strcmp(p, "blobs/missing"))
        return SRV_R_BLOBS_MISSING;
    if (!strncmp(p, "blobs/", 6) && p[6] && !strchr(p + 6, '/')) {
        rp->sha = p + 6;
        rp->sha_len = strlen(rp->sha);
        return SRV_R_BLOB;
    }
    return SRV_R_NONE;
}

void srv_route_match(srv_req *r)
{
    memset(&r->raw, 0, sizeof r->raw);
    r->route = match(r->path, &r->raw);
}

static bool decode_ident(const char *s, size_t n, char *out, size_t cap)
{
    char *d = NULL;
    size_t len = 0;
    if (!srv_pct_decode(s, n, &d, &len))
        return false;
    bool ok = len < cap && strlen(d) == len;
    if (ok)
        memcpy(out, d, len + 1);
    free(d);
    return ok;
}

/* The preview page reads KIND, NAME and PATH from its own address: a
 * malformed KIND or NAME (a mistyped address) leaves r->kind empty, and
 * preview.c answers with the page and 404, which shows its "not found";
 * the path is the page's to check.  Never fails. */
static bool preview_params(srv_req *r)
{
    srv_raw_params *rp = &r->raw;
    bool ok = rp->kind && decode_ident(rp->kind, rp->kind_len, r->kind, sizeof r->kind) &&
              catalog_kind_valid(r->kind) &&
              decode_ident(rp->name, rp->name_len, r->name, sizeof r->name) &&
              catalog_name_valid(r->name);
    if (!ok)
        r->kind[0] = r->name[0] = '\0';
    return true;
}

bool srv_route_params(srv_req *r)
{
    if (r->route == SRV_R_PREVIEW)
        return preview_params(r);
    srv_raw_params *rp = &r->raw;
    if (rp->kind) {
        if (!decode_ident(rp->kind, rp->kind_len, r->kind, sizeof r->kind) ||
            !catalog_kind_valid(r->kind)) {
            srv_fail(r, 400, "invalid_kind",
                     "Unknown kind: expected tutorial, challenge, course, skill-path or roadmap.");
            return false;
        }
        if (!decode_ident(rp->name, rp->name_len, r->name, sizeof r->name) ||
            !catalog_name_valid(r->name)) {
            srv_fail(r, 400, "invalid_name",
                     "Invalid name: it must match [a-z0-9][a-z0-9-]{0,62}.");
            return false;
        }
    }
    if (rp->rest) {
        char *d = NULL;
        size_t len = 0;
        if (!srv_pct_decode(rp->rest, rp->rest_len, &d, &len)) {
            srv_fail(r, 400, "invalid_path", "The path has a malformed %%-escape or a NUL byte.");
            return false;
        }
        const char *why = srv_path_problem(d, len);
        if (why) {
            free(d);
            srv_fail(r, 400, "invalid_path", "Invalid path: %s.", why);
            return false;
        }
        r->file_path = d;
    }
    if (rp->sha) {
        if (rp->sha_len != 64 || !decode_ident(rp->sha, rp->sha_len, r->sha, sizeof r->sha) ||
            !blobstore_sha_valid(r->sha)) {
            srv_fail(r, 400, "invalid_sha256",
                     "The blob name must be a SHA-256 digest: 64 lower-case hex digits.");
            return false;
        }
    }
    return true;
}
