/* SPDX-License-Identifier: MIT */
/*
 * The service's own declarations, shared by the files of server/ only:
 * the struct that wires the modules together (main.c and server.c), the
 * rebuild and the small helpers.  Each module it wires has its own header:
 * hub.h, http.h, api.h, commit.h, sync.h.
 */
#ifndef CONTENTD_SRV_INT_H
#define CONTENTD_SRV_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "api.h"
#include "blobstore.h"
#include "catalog.h"
#include "commit.h"
#include "common.h"
#include "http.h"
#include "hub.h"
#include "markdown.h"
#include "server.h"
#include "sync.h"

struct srv {
    srv_config cfg; /* a deep copy */
    catalog *cat;
    blobstore *bs;
    struct MHD_Daemon *daemon;
    commit_path *commit;
    md_pool *render_pool; /* markdown rendering, in worker processes */
    hub *hub;
    http_server http;
    api_ctx api;
    bool listening; /* the hub listens to the catalog's changes */
    char url[128];
};

bool srv_addr_is_loopback(const struct sockaddr *sa);

/* `contentd token list` (tokens.c): every token's id, user, creation and
 * last use on out, never the token. */
int srv_token_list(catalog *cat, FILE *out, cd_err *err) CD_WUR;
/* `contentd token revoke ID|USER`: deletes the token with that id, else
 * every token of that user, and says which on out; CAT_NOT_FOUND when
 * none matched. */
int srv_token_revoke(catalog *cat, const char *id_or_user, FILE *out, cd_err *err) CD_WUR;
/* A token's id: the first SRV_TOKEN_ID_LEN hex digits of its SHA-256. */
#define SRV_TOKEN_ID_LEN 12

/* "2026-05-01T12:00:00.123Z" (as catalog_json_time() writes it) → ms since
 * the epoch; now when s is NULL or unreadable. */
int64_t srv_parse_time(const char *s);
/* Reads object key of bs as JSON into *out (NULL when it is not stored or
 * is no JSON; the caller drops it with json_decref()); fails only when the
 * store does, with its blob_status. */
int srv_load_json(blobstore *bs, const char *key, json_t **out, cd_err *err) CD_WUR;
/* The review state of kind/name, rebuilt in cat from its review record
 * (rebuild_review.c): published version, members, share links.  Parts the
 * record gets wrong (a version not rebuilt, a bad role) are skipped with a
 * warning on stderr; fails only when a store does. */
int srv_rebuild_review(catalog *cat, blobstore *bs, const char *kind, const char *name,
                       cd_err *err) CD_WUR;

#endif
