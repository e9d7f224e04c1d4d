/* SPDX-License-Identifier: MIT */
/*
 * The event hub's insides, shared by events.c (building events), hub.c
 * (who gets what, keep-alives, the change thread) and sse.c (the
 * subscriber's side of the connection).
 *
 * An event is serialised once, as the exact bytes of its event-stream frame,
 * and shared by reference count by every subscriber queue holding it.  A
 * subscriber owns a bounded ring of event references; libmicrohttpd's
 * content-reader callback copies from it into the socket buffer and
 * suspends the connection when the ring is empty, and the hub resumes it
 * when it queues the next event.  Lock order: hub->mu, then sub->mu, then
 * libmicrohttpd's own locks (inside MHD_resume_connection).
 */
#ifndef CONTENTD_HUB_INT_H
#define CONTENTD_HUB_INT_H

#include "srv_int.h"

/* Who on the global stream gets an event about an item. */
typedef enum {
    SRV_AUD_ALL,     /* everyone (keep-alives, per-item events) */
    SRV_AUD_VISIBLE, /* the owner, and everyone when the item is public */
    SRV_AUD_OWNER,   /* the owner only */
    SRV_AUD_OTHERS,  /* everyone but the owner */
} srv_audience;

typedef struct srv_event {
    atomic_int refs;  /* < 0: a static event, never freed */
    int64_t version;  /* the id: line (-1: none) */
    int64_t base;     /* update: base_version */
    bool closes;      /* the stream ends once this event is out */
    bool is_snapshot; /* an item's snapshot (cacheable in its state) */
    srv_audience audience;
    bool is_public;
    char *owner;
    size_t len;
    char *data; /* the frame: "id: …\nevent: …\ndata: …\n\n" */
} srv_event;

typedef struct srv_item_state srv_item_state;

struct srv_sub {
    pthread_mutex_t mu;
    struct MHD_Connection *conn; /* NULL once the request completed */
    int fd;                      /* its socket, to cut off a reader that stalls */
    srv_hub *hub;
    srv_item_state *item; /* NULL on the global stream */
    bool global;
    char *user;
    char token_sha256[65];      /* the token it was opened with ("": none) */
    int64_t opened_ms;          /* monotonic */
    srv_sub *prev, *next;       /* in item->subs or hub->global (hub->mu) */
    srv_sub *ka_prev, *ka_next; /* keep-alive order, oldest first (hub->mu) */
    bool linked;                /* in the hub's lists (hub->mu) */
    int refs;                   /* hub link + the response (hub->mu) */
    int64_t last_ms;            /* last event queued, monotonic (hub->mu) */
    int64_t version;            /* per item: the version the client is at */
    /* the queue (sub->mu) */
    srv_event **q;
    uint32_t q_head, q_len, q_cap;
    size_t q_bytes, off;
    bool suspended, closing, dead;
    bool hung_up; /* the client closed its end (sse_close.c) */
    bool watched; /* in the closed-stream watcher (its lock) */
    atomic_uint_fast64_t sent;
};

/* events.c */
srv_event *srv_event_new(cd_buf *frame, int64_t version);
srv_event *srv_event_ref(srv_event *ev);
void srv_event_unref(srv_event *ev);
srv_event *srv_event_retry(void);
srv_event *srv_event_keepalive(void);
/* Appends one frame: optional id, event type, JSON data (one line each). */
void srv_event_frame(cd_buf *out, const char *type, int64_t id, const char *json, size_t len);
/* The snapshot of version it->version of an item. */
int srv_event_snapshot(srv *s, const catalog_item *it, srv_event **out, cd_err *err);
/* An update from version `from` (0: empty) to `to`.  CAT_NOT_FOUND when
 * `from` is not kept. */
int srv_event_update(srv *s, const char *kind, const char *name, int64_t from, int64_t to,
                     srv_event **out, cd_err *err);
srv_event *srv_event_deleted(const char *kind, const char *name);
/* An item-level event of the global stream (created, version, updated,
 * deleted). */
srv_event *srv_event_global(const char *type, const catalog_item *it, srv_audience aud);
/* The global stream's first event: the items user can see. */
int srv_event_global_snapshot(srv *s, const char *user, srv_event **out, cd_err *err);

struct srv_item_state {
    srv_item_state *hnext;
    char kind[16], name[64];
    char *owner;
    bool is_public;
    int64_t version;
    srv_event *snapshot;    /* of version snapshot->version */
    srv_event *last_update; /* from version-1 to version */
    srv_sub *subs;
};

typedef struct srv_change {
    struct srv_change *next;
    catalog_event ev;
    char kind[16], name[64];
    int64_t version;
    int64_t due_ms;     /* monotonic: not before (a retry) */
    int64_t backoff_ms; /* the wait before the next retry */
    unsigned attempts;
} srv_change;

struct srv_hub {
    srv *s;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* CLOCK_MONOTONIC */
    srv_item_state **table;
    size_t nbuckets;
    srv_sub *global;
    srv_sub *ka_head, *ka_tail;
    int64_t n_item_subs, n_global_subs;
    uint64_t seq; /* bumped by every change applied */
    int64_t tokens_checked_ms; /* when the streams' tokens were last checked */
    srv_change *q_head, *q_tail;
    uint32_t max_events;
    size_t max_bytes;
    bool started, stop, closed;
    pthread_t thread;
};

/* hub.c, for subscribe.c (hub->mu held) */
int64_t srv_hub_mono_ms(void);
srv_item_state *srv_hub_state_find(srv_hub *h, const char *kind, const char *name);
srv_item_state *srv_hub_state_get(srv_hub *h, const catalog_item *it);
void srv_hub_link(srv_hub *h, srv_sub *sub);
bool srv_hub_push(srv_hub *h, srv_sub *sub, srv_event *ev);

/* subscribe.c: registration, called by sse.c.  last_id: -1 none, -2 unusable. */
int srv_hub_subscribe_item(srv_hub *h, srv_sub *sub, const char *kind, const char *name,
                           int64_t last_id, cd_err *err);
int srv_hub_subscribe_global(srv_hub *h, srv_sub *sub, cd_err *err);
/* For the hub thread, applying version v of item it (have_upd: the update
 * from version `from`, v-1 or 0, could be built): when a subscriber of the
 * item is at neither (a resync of the catalog's change stream announced a
 * jump), the snapshot of `it` that brings it up to date in place, else
 * NULL.  Built outside the hub lock; the caller unrefs it. */
srv_event *srv_hub_catch_up(srv_hub *h, const catalog_item *it, int64_t v, int64_t from,
                            bool have_upd);
/* Drops one reference (the response's or the link's) to sub. */
void srv_hub_release(srv_hub *h, srv_sub *sub, bool unlink);
/* Frees a subscriber that never made it into the hub. */
void srv_sub_free(srv_sub *sub);
/* The client of sub went away: the stream ends at once (its connection is
 * resumed and its content reader ends it).  Takes sub->mu. */
void srv_hub_hangup(srv_sub *sub);

/* sse_close.c (srv_sse_close_new/free are in srv_int.h) */
/* Watches sub's socket for the client hanging up (until forgotten). */
void srv_sse_close_watch(srv_sse_close *w, srv_sub *sub);
/* Stops watching; after it returns the watcher never touches sub again. */
void srv_sse_close_forget(srv_sse_close *w, srv_sub *sub);
/* How many streams ended because their client hung up. */
uint64_t srv_sse_close_hangups(srv_sse_close *w);

#define SRV_HUB_CLOSED (-10)

#endif
