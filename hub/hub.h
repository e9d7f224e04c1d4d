/* SPDX-License-Identifier: MIT */
/*
 * hub — the event hub: who is subscribed to which item (or to the global
 * stream), the bounded queue of every subscriber, the event frames they
 * get (CONTRACT "Server-sent events") and the keep-alives of idle streams.
 * A stream may ask for some documents only in full (the others come as
 * stubs: docs/api.md, "Server-sent events") and may be gzip-encoded: each
 * event is then compressed once, and the same bytes go to every subscriber.
 *
 * The hub knows nothing of HTTP.  It listens to the catalog's changes
 * (hub_on_change is a catalog_change_cb), builds every event once, from
 * the catalog and the documents' ASTs (a callback of the configuration),
 * as the exact bytes of its frame, and queues a reference to it for every
 * subscriber that should get it.  A transport (http/sse.c) drains a
 * subscriber with hub_sub_read() and is told through its hub_transport
 * callbacks when to suspend its connection (queue empty), when to resume
 * it (an event was queued) and when to cut it (the queue overflowed).
 *
 * Time comes from the configuration's clock, so that a test can drive the
 * keep-alives (hub_tick) and the changes (hub_process) by hand, without
 * the hub's thread and without sockets.
 */
#ifndef CONTENTD_HUB_H
#define CONTENTD_HUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "catalog.h"
#include "common.h"

/* Defaults of hub_config (CONTRACT: a comment line every 15 s on idle
 * streams; docs/api.md: the subscriber buffer bound). */
#define HUB_KEEPALIVE_MS 15000
#define HUB_QUEUE_EVENTS 256
#define HUB_QUEUE_BYTES  (8u << 20)
/* What the hub's functions return. */
typedef enum hub_status {
    HUB_OK = 0,
    HUB_NOT_FOUND = -1,   /* no such item, or not one the subscriber may read */
    HUB_UNAVAILABLE = -2, /* the catalog cannot be reached: try again later */
    HUB_ERROR = -3,       /* anything else: err says what */
    HUB_CLOSED = -10,     /* hub_subscribe_*() while the hub is shutting down */
} hub_status;

typedef struct hub hub;
typedef struct hub_sub hub_sub;

typedef struct hub_config {
    catalog *cat; /* read through its door, not owned */
    /* Appends the AST document (JSON) of markdown blob sha to out (full),
     * or its stub `{"title":…,"toc":…}` (!full), and returns true, or false
     * when it cannot be had (the event then says null for it). */
    bool (*document)(void *arg, const char *sha, bool full, cd_buf *out);
    void *document_arg;
    /* The monotonic clock in milliseconds; NULL is cd_mono_ms. */
    int64_t (*now_ms)(void);
    uint32_t max_events;  /* a subscriber's queue bound in events (0: HUB_QUEUE_EVENTS) */
    size_t max_bytes;     /* and in bytes (0: HUB_QUEUE_BYTES) */
    int64_t keepalive_ms; /* idle time before `: keep-alive` (0: HUB_KEEPALIVE_MS) */
} hub_config;

/* A hub on cfg (copied).  Free with hub_free(). */
hub *hub_new(const hub_config *cfg);
/* Loads every item's owner, visibility and version from the catalog, so
 * that events about items nobody subscribed to reach the right global
 * subscribers.  hub_start() does it; a test without the thread calls it. */
hub_status hub_load(hub *h, cd_err *err) CD_WUR;
/* hub_load(), then starts the hub's thread, which applies the changes as
 * they come and sends the keep-alives when they are due. */
hub_status hub_start(hub *h, cd_err *err) CD_WUR;
/* Ends every stream cleanly (each gets what is queued, then its end) and
 * stops the thread.  Subscribing fails with HUB_CLOSED from then on. */
void hub_shutdown(hub *h);
/* Shuts down if needed and frees h; NULL is a no-op. */
void hub_free(hub *h);

/* The catalog listener (arg is the hub): queues the change for the hub's
 * thread (or hub_process) and returns at once. */
void hub_on_change(void *arg, catalog_event ev, const char *kind, const char *name,
                   int64_t version);
/* Applies every queued change that is due, in order, on the calling
 * thread: what the hub's thread does; for a hub that was not started.  A
 * change whose item cannot be read is kept, with the ones after it, for a
 * retry with backoff (the thread's, or the next call's). */
void hub_process(hub *h);
/* Sends `: keep-alive` to every subscriber idle for keepalive_ms by the
 * configured clock.  Returns when the next one is due (that clock's ms), or
 * -1 when no stream is open. */
int64_t hub_tick(hub *h);

typedef struct hub_stats {
    int64_t item_subs, global_subs; /* open streams */
    uint64_t events;                /* events queued, one per subscriber, keep-alives included */
    uint64_t overflows;             /* subscribers cut because their queue was full */
    uint64_t change_retries;        /* changes whose item could not be read at once */
} hub_stats;
void hub_stats_get(hub *h, hub_stats *out);

/* ---- subscribers ------------------------------------------------------ */

/* What the hub asks of a subscriber's connection.  suspend is called from
 * hub_sub_read() and resume from any thread with the subscriber's lock
 * held: neither may call back into the hub. */
typedef struct hub_transport {
    void (*suspend)(void *arg); /* nothing to send: stop asking until resume */
    void (*resume)(void *arg);  /* something was queued (or the stream ends) */
    void (*cut)(void *arg);     /* the queue overflowed: drop the connection now */
    void *arg;
} hub_transport;

/* A subscriber for user (may be NULL: nobody) who came with the token of
 * SHA-256 token_sha256 (NULL or "": none; its stream ends once the token is
 * revoked), on the transport t (copied).
 * It holds two references: the transport's (hub_sub_unref, once the
 * connection no longer reads) and the hub's (hub_sub_detach, once the
 * request is over).  One that never subscribed is freed with
 * hub_sub_free(). */
hub_sub *hub_sub_new(hub *h, const char *user, const char *token_sha256, const hub_transport *t);
void hub_sub_free(hub_sub *sub);
/* Makes sub's stream gzip-encoded (before it subscribes): one gzip header,
 * then every event as the piece of deflate it was compressed to once
 * (gz.h), shared with every other gzip subscriber, and the gzip trailer
 * when the stream ends cleanly. */
void hub_sub_gzip(hub_sub *sub);
/* Makes sub, before it subscribes to an item, the stream of the share link
 * whose token has that SHA-256: it shows the link's version (or follows
 * the latest), and ends when the link is revoked or expires. */
void hub_sub_set_link(hub_sub *sub, const char *token_sha256);
/* Ends the streams of share links that have expired by the wall clock;
 * returns when the next one expires (wall clock ms), or -1 when none is
 * open.  The hub's thread does it; for a hub that was not started. */
int64_t hub_expire_links(hub *h);
/* Subscribes to one item, for a client whose Last-Event-ID is last_id (-1:
 * none, -2: not a version), and queues `retry:` and the first event: none
 * when the client is current, an update from last_id when that version is
 * kept, else a snapshot.  documents is the comma-separated list of the
 * documents the client wants in full (NULL or "*": all); the others come
 * as stubs.  The first snapshot is queued whatever its size: the queue's
 * bound in bytes applies to what is queued after it.  Returns HUB_OK,
 * HUB_CLOSED, HUB_NOT_FOUND, or HUB_UNAVAILABLE / HUB_ERROR when the item
 * cannot be read (err filled, err->code the same status). */
hub_status hub_subscribe_item(hub *h, hub_sub *sub, const char *kind, const char *name,
                              int64_t last_id, const char *documents, cd_err *err) CD_WUR;
/* Subscribes to the global stream: `retry:` and a snapshot of the items
 * the user can see, then every item-level change visible to the user. */
hub_status hub_subscribe_global(hub *h, hub_sub *sub, cd_err *err) CD_WUR;

/* What hub_sub_read() returns when it has no bytes. */
#define HUB_READ_SUSPENDED 0    /* nothing queued: transport->suspend was called */
#define HUB_READ_END       (-1) /* the stream ended cleanly */
#define HUB_READ_ERROR     (-2) /* the stream was cut (overflow) */
/* Copies up to max queued bytes into buf: returns how many, or one of
 * HUB_READ_*. */
ssize_t hub_sub_read(hub_sub *sub, char *buf, size_t max);
/* Bytes read so far. */
uint64_t hub_sub_sent(hub_sub *sub);
/* The client of sub went away (its transport saw it): the stream ends at
 * once, with nothing more queued (the transport is resumed and
 * hub_sub_read() says HUB_READ_ERROR). */
void hub_sub_hangup(hub_sub *sub);
/* Whether hub_sub_hangup() ended sub. */
bool hub_sub_hung_up(hub_sub *sub);
/* The request is over: takes sub out of the hub and drops the hub's
 * reference. */
void hub_sub_detach(hub_sub *sub);
/* The connection no longer reads: drops the transport's reference. */
void hub_sub_unref(hub_sub *sub);

#endif
