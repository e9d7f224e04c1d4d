/* SPDX-License-Identifier: MIT */
/*
 * The event hub's insides.  On the path of a change to a subscriber: hub.c
 * (the listener, the thread, a new version's fan-out, a subscriber's queue
 * in and out) and hub_events.c (the frames).  Off it: hub_subscribe.c
 * (joining a stream, catching up), hub_views.c (who sees what, the changes
 * other than a new version), hub_timers.c (keep-alives, token checks, link
 * expiry), hub_sub.c (a subscriber's life, overflow) and hub_state.c (item
 * states, subscriber lists, life cycle, counters).
 *
 * An event is serialised once, as the exact bytes of its event-stream frame,
 * and shared by reference count by every subscriber queue holding it.  A
 * subscriber owns a bounded ring of event references; its transport copies
 * from it with hub_sub_read() and suspends the connection when the ring is
 * empty, and the hub resumes it when it queues the next event.  Lock order:
 * hub->mu, then sub->mu, then the transport's own (inside its resume).
 */
#ifndef CONTENTD_HUB_INT_H
#define CONTENTD_HUB_INT_H

#include "hub.h"

#include <pthread.h>
#include <stdatomic.h>

/* Who on the global stream gets an event about an item. */
typedef enum {
    HUB_AUD_ALL,     /* everyone (keep-alives, per-item events) */
    HUB_AUD_VISIBLE, /* the owner and the members, and everyone when the item is public */
    HUB_AUD_OWNER,   /* the owner and the members only (who read drafts) */
    HUB_AUD_OTHERS,  /* everyone but the owner and the members */
    HUB_AUD_READERS, /* the others, when the item is public (who read the published version) */
} hub_audience;

typedef struct hub_event {
    atomic_int refs;  /* < 0: a static event, never freed */
    int64_t version;  /* the id: line (-1: none) */
    int64_t base;     /* update: base_version */
    bool closes;      /* the stream ends once this event is out */
    bool is_snapshot; /* an item's snapshot (cacheable in its state) */
    hub_audience audience;
    bool is_public;
    char *owner;
    char **members; /* who reads drafts besides the owner */
    size_t n_members;
    size_t len;
    char *data; /* the frame: "id: …\nevent: …\ndata: …\n\n" */
    /* The frame as a piece of a gzip stream (gz.h), made once, on the
     * first gzip subscriber's read (hub_event_gz). */
    pthread_mutex_t gz_mu;
    char *gz;
    size_t gz_len;
    uint32_t crc; /* CRC-32 of data */
} hub_event;

/* The documents a subscriber wants in full: sorted, distinct paths; the
 * key (the paths joined by newlines) tells two lists apart.  Shared by
 * reference count.  NULL means every document. */
typedef struct hub_docs {
    atomic_int refs;
    char *key;
    char **paths;
    size_t n;
} hub_docs;

typedef struct hub_item hub_item;

struct hub_sub {
    pthread_mutex_t mu;
    hub_transport t;
    bool attached; /* false once the request completed (hub_sub_detach) */
    hub *hub;
    hub_item *item; /* NULL on the global stream */
    bool global;
    char *user;
    char token_sha256[CD_SHA256_HEX]; /* the token it was opened with ("": none) */
    int64_t opened_ms;                /* the hub's clock */
    hub_sub *prev, *next;             /* in item->subs or hub->global (hub->mu) */
    hub_sub *ka_prev, *ka_next;       /* keep-alive order, oldest first (hub->mu) */
    bool linked;                      /* in the hub's lists (hub->mu) */
    int refs;                         /* hub link + the response (hub->mu) */
    int64_t last_ms;                  /* last event queued, monotonic (hub->mu) */
    int64_t version;                  /* per item: the version the client is at */
    hub_docs *docs;                   /* per item: the documents wanted in full (NULL: all) */
    /* Per item: the owner or a member, who follows the latest version;
     * false for a reader, who follows the published one once there is one. */
    bool drafts;
    /* A share link's stream: its token's SHA-256, whether it shows one
     * version only (pinned; else it follows the latest) and when it ends
     * (wall clock, ms). */
    char link[CD_SHA256_HEX];
    bool pinned;
    int64_t expires_at;
    /* the queue (sub->mu) */
    hub_event **q;
    uint32_t q_head, q_len, q_cap;
    size_t q_bytes, off;
    /* the first snapshot, not counted in q_bytes: its index among the
     * events pushed, plus one (0: none queued) */
    uint64_t pushed, popped, exempt;
    bool suspended, closing, dead;
    /* gzip: header bytes sent, CRC-32 and length of what was sent, the
     * trailer's bytes sent (sub->mu) */
    bool gzip;
    unsigned gz_head, gz_tail;
    uint32_t gz_crc;
    uint64_t gz_isize;
    bool hung_up; /* the client closed its end (hub_sub_hangup) */
    atomic_uint_fast64_t sent;
};

/* hub_events.c */
hub_event *hub_event_new(cd_buf *frame, int64_t version);
hub_event *hub_event_ref(hub_event *ev);
void hub_event_unref(hub_event *ev);
hub_event *hub_event_retry(void);
hub_event *hub_event_keepalive(void);
/* The frame's gzip piece, compressed on the first call (ev's lock). */
const char *hub_event_gz(hub_event *ev, size_t *len);
/* A documents list from "a.md,b.md" (NULL for NULL or "*"); one with no
 * path is valid: every document as a stub. */
hub_docs *hub_docs_parse(const char *list);
hub_docs *hub_docs_ref(hub_docs *d);
void hub_docs_unref(hub_docs *d);
bool hub_docs_has(const hub_docs *d, const char *path);
/* Whether two lists are the same (NULL is every document). */
bool hub_docs_same(const hub_docs *a, const hub_docs *b);
/* Appends one frame: optional id, event type, JSON data (one line each). */
void hub_event_frame(cd_buf *out, const char *type, int64_t id, const char *json, size_t len);
/* The snapshot of version it->version of an item, with docs in full. */
int hub_event_snapshot(hub *h, const catalog_item *it, const hub_docs *docs, hub_event **out,
                       cd_err *err);
/* An update from version `from` (0: empty) to `to`, with docs in full.
 * CAT_NOT_FOUND when `from` is not kept. */
int hub_event_update(hub *h, const char *kind, const char *name, int64_t from, int64_t to,
                     const hub_docs *docs, hub_event **out, cd_err *err);
hub_event *hub_event_deleted(const char *kind, const char *name);
/* `event: published` of an item's stream: its published and (for who reads
 * drafts, with_latest) its latest version. */
hub_event *hub_event_published(const catalog_item *it, bool with_latest);
/* `event: comment` {"kind","name","comment":{…}}: a comment added or
 * resolved (catalog_json_comment's form, without "outdated"). */
hub_event *hub_event_comment(const char *kind, const char *name, const catalog_comment *cm);
/* An item-level event of the global stream (created, version, updated,
 * deleted). */
hub_event *hub_event_global(const char *type, const catalog_item *it, hub_audience aud);
/* The global stream's first event: the items user can see. */
int hub_event_global_snapshot(hub *h, const char *user, hub_event **out, cd_err *err);

struct hub_item {
    cd_hnode node; /* in hub->table, by kind and name */
    char kind[CD_KIND_MAX], name[CD_NAME_MAX];
    char *owner;
    bool is_public;
    int64_t version;
    int64_t published;        /* published_version as last applied */
    hub_event *snapshot;      /* of version snapshot->version */
    hub_event *last_update;   /* from version-1 to version */
    hub_event *part_snapshot; /* the last snapshot with some documents only */
    hub_docs *part_docs;      /* its documents */
    hub_sub *subs;
};

typedef struct hub_change {
    struct hub_change *next;
    catalog_event ev;
    char kind[CD_KIND_MAX], name[CD_NAME_MAX];
    int64_t version;
    int64_t due_ms;     /* the hub's clock: not before (a retry) */
    int64_t backoff_ms; /* the wait before the next retry */
    unsigned attempts;
    int64_t noted_ns; /* CLOCK_MONOTONIC: when the listener queued it */
} hub_change;

struct hub {
    hub_config cfg;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* CLOCK_MONOTONIC */
    cd_htab table;     /* hub_item by kind and name */
    hub_sub *global;
    hub_sub *ka_head, *ka_tail;
    int64_t n_item_subs, n_global_subs;
    uint64_t seq;              /* bumped by every change applied */
    int64_t tokens_checked_ms; /* when the streams' tokens were last checked */
    int64_t n_link_subs;       /* of the item streams, those of share links */
    hub_change *q_head, *q_tail;
    atomic_uint_fast64_t events, overflows, change_retries; /* for hub_stats */
    bool started, stop, closed;
    pthread_t thread;
};

/* hub.c */
/* The hub's thread (arg is the hub): applies the changes in order, and
 * what hub_timers_run() says is due. */
void *hub_run(void *arg);
/* The update of item it from version `from` to v with docs in full (a
 * reference the caller drops with hub_event_unref), or NULL (logged) when
 * it cannot be built. */
hub_event *hub_build_update(hub *h, const catalog_item *it, int64_t from, int64_t v,
                            const hub_docs *docs);
/* Queues ev for sub (hub->mu held): false when sub was dropped instead,
 * its queue over the bound. */
bool hub_push(hub *h, hub_sub *sub, hub_event *ev);
/* hub_push for a snapshot: not counted against the bound in bytes while it
 * is the only one queued. */
bool hub_push_snapshot(hub *h, hub_sub *sub, hub_event *ev);
/* Wakes a suspended subscriber (sub->mu held). */
void hub_sub_wake(hub_sub *sub);

/* hub_state.c (hub->mu held, but for hub_now and hub_status_of) */
/* The configured clock. */
int64_t hub_now(const hub *h);
/* The hub's status for a catalog status, also written to err->code (err
 * may be NULL) when it is a failure: where the catalog's codes stop. */
hub_status hub_status_of(catalog_status rc, cd_err *err);
hub_item *hub_state_find(hub *h, const char *kind, const char *name);
/* The state of an item, created from it when missing; refreshes owner and
 * visibility from it. */
hub_item *hub_state_get(hub *h, const catalog_item *it);
void hub_state_remove(hub *h, hub_item *st);
/* Puts sub in its list (the item's or the global one) and in the
 * keep-alive order; takes the hub's reference. */
void hub_link(hub *h, hub_sub *sub);
void hub_unlink(hub *h, hub_sub *sub);
/* Moves sub to the end of the keep-alive list, as last active at now. */
void hub_ka_requeue(hub *h, hub_sub *sub, int64_t now);

/* hub_timers.c (hub->mu held) */
/* Ends the streams of revoked tokens, at most every few seconds; releases
 * hub->mu while it reads the token list. */
void hub_check_tokens(hub *h, int64_t now);
/* Sends the keep-alives that are due and ends the expired share links'
 * streams; returns the ms until the next of either, or -1 for none. */
int64_t hub_timers_run(hub *h, int64_t now);

/* hub_sub.c */
/* Drops every queued event (sub->mu held). */
void hub_sub_drain(hub_sub *sub);
/* sub's queue is over its bound (sub->mu held, released here; hub->mu
 * held): drops the queue, ends and cuts the stream, unlinks sub. */
void hub_sub_overflow(hub *h, hub_sub *sub);
/* Ends a stream once its queue is out (after a delete, a lost view, a
 * revoked token or role or link; hub->mu held). */
void hub_close_sub(hub *h, hub_sub *sub);

/* hub_views.c */
/* Whether sub's user (or link) may still read what sub follows of it. */
bool hub_may_read(const hub_sub *sub, const catalog_item *it);
/* Whether sub follows the item's latest version: who reads drafts (the
 * owner, a member, a share link to the latest), and anyone while no
 * version is published; a reader follows the published one, a link to one
 * version that version. */
bool hub_follows_latest(const hub_sub *sub, const catalog_item *it);
/* An item-level event of the global stream as each one sees it (hub->mu
 * held): who reads drafts gets the item as it is; once a version is
 * published, readers get the item at that version (readers_too), or
 * nothing (a new draft). */
void hub_publish_views(hub *h, const char *type, const catalog_item *it, bool readers_too);
/* The changes other than a new version, applied (hub->mu not held). */
void hub_apply_created(hub *h, const catalog_item *it);
void hub_apply_updated(hub *h, const catalog_item *it);
void hub_apply_deleted(hub *h, const char *kind, const char *name);
/* A comment added or resolved (CAT_EV_COMMENT): `event: comment` to the
 * item's streams of its owner and members. */
void hub_apply_comment(hub *h, const char *kind, const char *name, int64_t id);

/* hub_subscribe.c */
/* For the hub thread, applying version v of item it (have_upd: the update
 * from version `from`, v-1 or 0, could be built): when a subscriber of the
 * item is at neither (a resync of the catalog's change stream announced a
 * jump), the snapshot of `it` that brings it up to date in place, else
 * NULL.  Built outside the hub lock; the caller unrefs it. */
hub_event *hub_catch_up(hub *h, const catalog_item *it, int64_t v, int64_t from, bool have_upd);

#endif
