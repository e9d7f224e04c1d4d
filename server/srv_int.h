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
#include <sys/socket.h>

#include "api.h"
#include "blobstore.h"
#include "catalog.h"
#include "commit.h"
#include "common.h"
#include "http.h"
#include "hub.h"
#include "server.h"
#include "sync.h"

struct srv {
    srv_config cfg; /* a deep copy */
    catalog *cat;
    blobstore *bs;
    struct MHD_Daemon *daemon;
    commit_path *commit;
    hub *hub;
    http_server http;
    api_ctx api;
    bool listening; /* the hub listens to the catalog's changes */
    char url[128];
};

bool srv_addr_is_loopback(const struct sockaddr *sa);

#endif
