/* SPDX-License-Identifier: MIT */
/*
 * The event-stream endpoints: GET …/KIND/NAME/events (one item, for those
 * who may see it) and GET /api/v1/events (every item the caller can see).
 * The hub chooses the first events from Last-Event-ID; http/sse.c carries
 * them to the connection.
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

static enum MHD_Result subscribe_failed(http_req *r, hub_sub *sub, int rc, const cd_err *err)
{
    hub_sub_free(sub);
    if (rc == HUB_CLOSED)
        return http_reply_error(r, 503, "shutting_down", "The server is shutting down.");
    if (rc == CAT_NOT_FOUND)
        return http_reply_error(r, 404, "not_found", "No content item %s/%s.", r->kind, r->name);
    return http_reply_cat_error(r, rc, err);
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
    cd_err err = {0};
    int rc = hub_subscribe_item(API(r)->hub, sub, r->kind, r->name, last_event_id(r), &err);
    if (rc != 0)
        return subscribe_failed(r, sub, rc, &err);
    return http_sse_start(r, sub);
}

enum MHD_Result api_sse_global(http_req *r)
{
    if (atomic_load(&r->s->stopping))
        return http_reply_error(r, 503, "shutting_down", "The server is shutting down.");
    hub_sub *sub = http_sse_sub(r, API(r)->hub);
    cd_err err = {0};
    int rc = hub_subscribe_global(API(r)->hub, sub, &err);
    if (rc != 0)
        return subscribe_failed(r, sub, rc, &err);
    return http_sse_start(r, sub);
}
