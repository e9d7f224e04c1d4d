/* SPDX-License-Identifier: MIT */
/*
 * server — the contentd service: the HTTP API, the server-sent-event hub,
 * authentication and the operational endpoints, on top of a catalog and a
 * blob store (whichever backends sit behind them).
 *
 * The `contentd` binary (main.c) loads a srv_config from flags and the
 * environment, opens the stores, and runs one srv until SIGTERM/SIGINT.  A
 * folder watcher (`contentd serve --watch DIR`, folder_watch.c) drives the
 * same commit path (sync/sync.h).
 */
#ifndef CONTENTD_SERVER_H
#define CONTENTD_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "blobstore.h"
#include "catalog.h"
#include "common.h"

/* Exit statuses of the binary (CONTRACT "Binaries"). */
enum { SRV_EXIT_OK = 0, SRV_EXIT_FAIL = 1, SRV_EXIT_USAGE = 2 };

/* Everything `contentd` can be configured with (CONTRACT "Configuration").
 * Strings are owned by the struct and released by srv_config_clear(). */
typedef struct srv_config {
    char *listen;      /* "HOST:PORT", "[V6]:PORT" or ":PORT" */
    char *data_dir;    /* the embedded data folder */
    char *s3_endpoint; /* NULL: the embedded blob store */
    char *s3_bucket;
    char *s3_region;
    bool s3_path_style;
    char *mongodb_uri; /* NULL: the embedded catalog */
    char *mongodb_db;
    char **watch; /* folders to watch (serve --watch), n_watch of them */
    size_t n_watch;
    unsigned watch_quiet_ms;     /* the watch's quiet window (0: 50 ms) */
    unsigned watch_max_delay_ms; /* and its maximum delay (0: 500 ms) */
    int64_t max_blob_size;       /* bytes */
    int64_t max_header_size;     /* bytes of request header fields accepted */
    char **cors;                 /* origins allowed cross-origin requests, n_cors of them */
    size_t n_cors;
    int threads;               /* HTTP worker threads; 0 picks from the CPU count */
    uint32_t sse_queue_events; /* a subscriber's queue bound (0: the hub's default) */
    int64_t sse_queue_bytes;   /* in bytes (0: the hub's default) */
    size_t connection_memory;  /* libmicrohttpd's per-connection pool (0: the default) */
    /* Connections one client address may hold at once: 0 no limit, -1 the
     * default (half the connection limit). */
    int64_t max_per_address;
    bool log_debug; /* CONTENTD_LOG_LEVEL=debug: write the log's debug lines */
    /* markdown rendering in worker processes (docs/operations.md) */
    int render_workers;         /* 0: one per CPU, 2 to 16 */
    unsigned render_timeout_ms; /* budget per document (0: 20,000 ms) */
    int64_t render_memory;      /* address-space budget per worker, bytes (0: 4 GiB) */
} srv_config;

/* Fills cfg with the defaults, then overrides them from the environment
 * (flags are applied by the caller afterwards).  Returns 0, or SRV_EXIT_USAGE
 * with err filled when an environment variable has a bad value. */
int srv_config_from_env(srv_config *cfg, cd_err *err) CD_WUR;
/* Parses a per-address connection limit: 0 (none) to 1000000. */
bool srv_parse_per_address(const char *s, int64_t *out);
/* Parses a debounce window of `serve --watch`: 1..60000 milliseconds. */
bool srv_parse_watch_ms(const char *s, unsigned *out);
/* Parses a size such as "64MiB", "512k", "1G" or "1048576" into bytes. */
bool srv_parse_size(const char *s, int64_t *out);
/* Parses --max-header-size / CONTENTD_MAX_HEADER_SIZE: a size from
 * SRV_HEADER_SIZE_MIN to SRV_HEADER_SIZE_MAX. */
bool srv_parse_header_size(const char *s, int64_t *out);
#define SRV_HEADER_SIZE_DEFAULT (16 << 10)
#define SRV_HEADER_SIZE_MIN     (1 << 10)
#define SRV_HEADER_SIZE_MAX     (1 << 20)
/* Whether addr has the form of a listen address (HOST:PORT, [V6]:PORT,
 * :PORT, port 0..65535); err says what is wrong when not. */
bool srv_listen_valid(const char *addr, cd_err *err);
/* Whether o is an origin as --cors-origin takes it: http:// or https://,
 * a host and an optional port, no path. */
bool http_cors_origin_valid(const char *o);
/* Adds origin o to cfg's allowed origins; false when it is not valid. */
bool srv_config_add_cors(srv_config *cfg, const char *o);
/* Frees what cfg owns and zeroes it. */
void srv_config_clear(srv_config *cfg);

/* Opens the catalog and the blob store that cfg selects (creating the data
 * folder when needed): the catalog is MongoDB when a URI is configured
 * (catalog_open_mongo: one clear sentence when it is unreachable or not a
 * replica set), the blobs go to S3 when a bucket is configured.  On
 * success the caller closes both with their ops->close(); on failure both
 * are NULL and err says why. */
int srv_stores_open(const srv_config *cfg, catalog **cat, blobstore **bs, cd_err *err) CD_WUR;

typedef struct srv srv;

/* Creates the service on stores it does not own (the caller closes them
 * after srv_free).  Hooks the catalog's on_change callback to the event hub.
 * Returns NULL and fills err on failure. */
srv *srv_new(const srv_config *cfg, catalog *cat, blobstore *bs, cd_err *err);
/* Binds the listen address and starts the HTTP worker threads; refuses a
 * non-loopback address while the catalog holds no token.  Starts following
 * the changes other replicas make (catalog_watch_start: the MongoDB change
 * stream; srv_free stops it).  On success the listening URL is available
 * from srv_url(). */
int srv_start(srv *s, cd_err *err) CD_WUR;
/* "http://HOST:PORT" of a started server (owned by s). */
const char *srv_url(const srv *s);
/* Graceful stop: stops accepting, ends every event stream, waits (up to
 * timeout_ms) for in-flight requests such as commits, then closes. */
void srv_stop(srv *s, int timeout_ms);
/* Frees a stopped (or never started) server. */
void srv_free(srv *s);

/* `contentd rebuild-catalog`: replays every manifest of bs into cat, which
 * must be empty.  Prints a summary (and each manifest skipped) on stderr. */
int srv_rebuild_catalog(catalog *cat, blobstore *bs, cd_err *err) CD_WUR;

#endif
