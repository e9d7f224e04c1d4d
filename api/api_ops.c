/* SPDX-License-Identifier: MIT */
/* Operational endpoints: /healthz, /readyz, /metrics. */
#include "api.h"

#include <string.h>

enum MHD_Result api_healthz(http_req *r)
{
    cd_buf b = CD_BUF_INIT;
    cd_buf_puts(&b, "{\"status\":\"ok\"}");
    return http_reply_json(r, 200, &b);
}

/* Ready when both stores answer a ping, and not while shutting down. */
enum MHD_Result api_readyz(http_req *r)
{
    api_ctx *s = API(r);
    if (atomic_load(&r->s->stopping))
        return http_reply_error(r, 503, "not_ready", "The server is shutting down.");
    cd_err err = {0};
    if (catalog_ping(s->cat, &err) != CAT_OK)
        return http_reply_error(r, 503, "not_ready", "The catalog (%s) does not answer: %s",
                                catalog_door(s->cat)->backend, err.msg);
    memset(&err, 0, sizeof err);
    if (blobstore_ping(s->bs, &err) != BLOB_OK)
        return http_reply_error(r, 503, "not_ready", "The blob store (%s) does not answer: %s",
                                blobstore_door(s->bs)->backend, err.msg);
    cd_buf b = CD_BUF_INIT;
    cd_buf_printf(&b, "{\"status\":\"ready\",\"catalog\":\"%s\",\"blobstore\":\"%s\"}",
                  catalog_door(s->cat)->backend, blobstore_door(s->bs)->backend);
    return http_reply_json(r, 200, &b);
}

enum MHD_Result api_metrics(http_req *r)
{
    cd_buf b = CD_BUF_INIT;
    api_metrics_render(API(r), &b);
    return http_reply_text(r, 200, "text/plain; version=0.0.4; charset=utf-8", &b);
}
