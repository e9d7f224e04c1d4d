/* SPDX-License-Identifier: MIT */
/*
 * The event-stream endpoints: GET …/KIND/NAME/events (one item, for those
 * who may see it) and GET /api/v1/events (every item the caller can see).
 * The hub chooses the first events from Last-Event-ID, and the documents
 * sent in full from ?documents=; http/sse.c carries them to the connection.
 */
#include "api.h"

#include <stdlib.h>

/* The Last-Event-ID of a reconnecting client: -1 when none, -2 when it is
 * not a version number (the client then gets a snapshot). */
static int64_t last_event_id(http_req *r)
{
    const char *h = http_header(r, "Last-Event-ID");
    char *q = h ? NULL : http_query(r, "last_event_id");
    const char *v = h ? h : q;
    int64_t id = -1;
    if (v && *v && (!cd_parse_i64(v, &id) || id < 0))
        id = -2;
    free(q);
    return id;
}

static enum MHD_Result subscribe_failed(http_req *r, hub_sub *sub, hub_status rc, const cd_err *err)
{
    hub_sub_free(sub);
    if (rc == HUB_CLOSED)
        return http_reply_error(r, 503, "shutting_down", "The server is shutting down.");
    if (rc == HUB_NOT_FOUND)
        return http_reply_error(r, 404, "not_found", "No content item %s/%s.", r->kind, r->name);
    /* the hub could not read the catalog */
    return http_reply_cat_error(r, rc == HUB_UNAVAILABLE ? CAT_UNAVAILABLE : CAT_ERROR, err);
}

enum MHD_Result api_sse_item(http_req *r)
{
    if (atomic_load(&r->s->stopping))
        return http_reply_error(r, 503, "shutting_down", "The server is shutting down.");
    catalog_item it;
    if (!api_item_visible(r, &it))
        return MHD_YES;
    catalog_item_clear(&it);
    hub_sub *sub = http_sse_sub(r, API(r)->hub);
    if (r->link_sha256[0])
        hub_sub_set_link(sub, r->link_sha256);
    cd_err err = {0};
    char *docs = http_query(r, "documents"); /* NULL: every document in full */
    hub_status rc =
        hub_subscribe_item(API(r)->hub, sub, r->kind, r->name, last_event_id(r), docs, &err);
    free(docs);
    if (rc != 0)
        return subscribe_failed(r, sub, rc, &err);
    return http_sse_start(r, sub);
}

enum MHD_Result api_sse_global(http_req *r)
{
    if (r->link_sha256[0]) /* a share link grants one item's stream, not this */
        return http_reply_error(r, 404, "not_found", "A share link has no global stream.");
    if (atomic_load(&r->s->stopping))
        return http_reply_error(r, 503, "shutting_down", "The server is shutting down.");
    hub_sub *sub = http_sse_sub(r, API(r)->hub);
    cd_err err = {0};
    hub_status rc = hub_subscribe_global(API(r)->hub, sub, &err);
    if (rc != 0)
        return subscribe_failed(r, sub, rc, &err);
    return http_sse_start(r, sub);
}
