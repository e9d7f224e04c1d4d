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

#endif
