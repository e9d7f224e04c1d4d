/* SPDX-License-Identifier: MIT */
/* Operational endpoints: /healthz, /readyz, /metrics. */
#include "srv_int.h"

#include <string.h>

enum MHD_Result srv_api_healthz(srv_req *r)
{
    cd_buf b = CD_BUF_INIT;
    cd_buf_puts(&b, "{\"status\":\"ok\"}");
    return srv_reply_json(r, 200, &b);
}

/* Ready when both stores answer a ping, and not while shutting down. */
enum MHD_Result srv_api_readyz(srv_req *r)
{
    srv *s = r->s;
    if (atomic_load(&s->stopping))
        return srv_reply_error(r, 503, "not_ready", "The server is shutting down.");
    cd_err err = {0};
    if (catalog_ping(s->cat, &err) != CAT_OK)
        return srv_reply_error(r, 503, "not_ready", "The catalog (%s) does not answer: %s",
                               catalog_backend(s->cat), err.msg);
    memset(&err, 0, sizeof err);
    if (blobstore_ping(s->bs, &err) != BLOB_OK)
        return srv_reply_error(r, 503, "not_ready", "The blob store (%s) does not answer: %s",
                               blobstore_backend(s->bs), err.msg);
    cd_buf b = CD_BUF_INIT;
    cd_buf_printf(&b, "{\"status\":\"ready\",\"catalog\":\"%s\",\"blobstore\":\"%s\"}",
                  catalog_backend(s->cat), blobstore_backend(s->bs));
    return srv_reply_json(r, 200, &b);
}

enum MHD_Result srv_api_metrics(srv_req *r)
{
    cd_buf b = CD_BUF_INIT;
    srv_metrics_render(r->s, &b);
    return srv_reply_text(r, 200, "text/plain; version=0.0.4; charset=utf-8", &b);
}
