/* SPDX-License-Identifier: MIT */
/*
 * Authentication.  Tokens are 32 random bytes (base64url, prefixed "cd_"),
 * shown once by `contentd token create USER`; the catalog keeps only their
 * SHA-256.  A request presents one as `Authorization: Bearer TOKEN` (or, on
 * event streams, previews and file reads, `?access_token=TOKEN`).  While the
 * catalog holds no token at all — allowed on loopback only, see
 * the server starts — every request acts as the user `local`.
 */
#include "http.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

bool http_user_valid(const char *user)
{
    size_t n = strlen(user);
    if (n == 0 || n > 64 || !isalnum((unsigned char)user[0]))
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)user[i];
        if (!isalnum(c) && c != '.' && c != '_' && c != '-' && c != '@')
            return false;
    }
    return true;
}

char *http_secret_new(const char *prefix)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    unsigned char raw[33] = {0};
    if (getrandom(raw, 32, 0) != 32)
        return NULL;
    size_t p = strlen(prefix);
    char *t = cd_xmalloc(p + 44 + 1);
    memcpy(t, prefix, p);
    size_t o = p;
    for (int i = 0; i < 33; i += 3) { /* 32 bytes: 43 digits, no padding */
        uint32_t v = (uint32_t)raw[i] << 16 | (uint32_t)raw[i + 1] << 8 | raw[i + 2];
        int digits = i + 3 <= 32 ? 4 : 3;
        for (int k = 0; k < digits; k++)
            t[o++] = b64[(v >> (18 - 6 * k)) & 63];
    }
    t[o] = '\0';
    return t;
}

/* The HTTP layer's status for the catalog's, err->code set to it. */
static http_status from_catalog(catalog_status rc, cd_err *err)
{
    http_status st = rc == CAT_OK ? HTTP_OK : rc == CAT_UNAVAILABLE ? HTTP_UNAVAILABLE : HTTP_ERROR;
    if (err && st != HTTP_OK)
        err->code = st;
    return st;
}

http_status http_token_create(catalog *cat, const char *user, char **token, cd_err *err)
{
    *token = NULL;
    char *t = http_secret_new("cd_");
    if (!t)
        return cd_err_set(err, HTTP_ERROR, "cannot read random bytes for the token");
    char hash[CD_SHA256_HEX];
    cd_sha256_hex(t, strlen(t), hash);
    http_status rc = from_catalog(catalog_token_add(cat, hash, user, err), err);
    if (rc != HTTP_OK) {
        free(t);
        return rc;
    }
    *token = t;
    return HTTP_OK;
}

/* The token the request presents, or NULL; *malformed when an
 * Authorization header is there but is not a bearer token. */
static char *presented_token(http_req *r, bool allow_query, bool *malformed)
{
    *malformed = false;
    const char *h = http_header(r, MHD_HTTP_HEADER_AUTHORIZATION);
    if (h) {
        while (*h == ' ')
            h++;
        if (strncasecmp(h, "Bearer ", 7)) {
            *malformed = true;
            return NULL;
        }
        h += 7;
        while (*h == ' ')
            h++;
        size_t n = strlen(h);
        while (n && h[n - 1] == ' ')
            n--;
        if (!n) {
            *malformed = true;
            return NULL;
        }
        return cd_xstrndup(h, n);
    }
    if (!allow_query)
        return NULL;
    char *q = http_query(r, "access_token");
    if (q && !*q) {
        free(q);
        return NULL;
    }
    return q;
}

http_status http_auth_required(http_server *s, bool *yes)
{
    if (atomic_load(&s->tokens_exist)) {
        *yes = true;
        return HTTP_OK;
    }
    int64_t n = 0;
    http_status rc = from_catalog(catalog_token_count(s->cat, &n, NULL), NULL);
    if (rc != HTTP_OK)
        return rc;
    if (n > 0)
        atomic_store(&s->tokens_exist, true);
    *yes = n > 0;
    return HTTP_OK;
}

#define TOKEN_USE_EVERY_MS 60000 /* a token's last use is recorded at most this often */

/* Records that the token was used (for `contentd token list`), at most
 * once a minute per token: one write per token and minute, not one per
 * request.  A failure only leaves the time older. */
static void note_use(http_server *s, const char *hash)
{
    int64_t now = cd_now_ms();
    unsigned slot =
        (unsigned)(hash[0] * 31 + hash[1]) % (sizeof s->token_seen / sizeof s->token_seen[0]);
    struct http_token_seen *t = &s->token_seen[slot];
    pthread_mutex_lock(&s->token_mu);
    bool recent = !strcmp(t->sha256, hash) && now - t->at_ms < TOKEN_USE_EVERY_MS;
    if (!recent) {
        memcpy(t->sha256, hash, sizeof t->sha256);
        t->at_ms = now;
    }
    pthread_mutex_unlock(&s->token_mu);
    if (!recent)
        (void)!catalog_token_touch(s->cat, hash, now, NULL);
}

/* A share link presented as ?link=TOKEN, or as a token with the link
 * prefix: r->link_sha256 is its SHA-256 and r->user stays NULL (the
 * handler checks the link).  False when none is. */
static bool link_presented(http_req *r)
{
    char *tok = http_query(r, "link");
    bool malformed = false;
    if (!tok || !*tok) {
        free(tok);
        tok = presented_token(r, true, &malformed);
        if (tok && strncmp(tok, HTTP_LINK_PREFIX, strlen(HTTP_LINK_PREFIX))) {
            free(tok);
            tok = NULL;
        }
    }
    if (!tok)
        return false;
    cd_sha256_hex(tok, strlen(tok), r->link_sha256);
    free(tok);
    return true;
}

bool http_auth(http_req *r, bool allow_query_token)
{
    if (allow_query_token && link_presented(r))
        return true;
    bool any = false;
    if (http_auth_required(r->s, &any) != 0) {
        http_fail(r, 503, "catalog_unavailable",
                  "The catalog is unavailable: cannot check the token.");
        return false;
    }
    if (!any) {
        r->user = cd_xstrdup("local");
        return true;
    }
    bool malformed = false;
    char *tok = presented_token(r, allow_query_token, &malformed);
    if (!tok) {
        if (malformed)
            http_fail(r, 401, "invalid_token", "The Authorization header must be: Bearer TOKEN.");
        else
            http_fail(r, 401, "missing_token",
                      "This request needs a token: send Authorization: Bearer TOKEN.");
        return false;
    }
    char hash[CD_SHA256_HEX];
    cd_sha256_hex(tok, strlen(tok), hash);
    free(tok);
    char *user = NULL;
    cd_err err = {0};
    int rc = catalog_token_user(r->s->cat, hash, &user, &err);
    if (rc == CAT_OK) {
        r->user = user;
        memcpy(r->token_sha256, hash, sizeof r->token_sha256);
        note_use(r->s, hash);
        return true;
    }
    if (rc == CAT_NOT_FOUND)
        http_fail(r, 401, "invalid_token", "The token is not valid.");
    else
        http_fail(r, 503, "catalog_unavailable", "The catalog is unavailable: %s", err.msg);
    return false;
}
