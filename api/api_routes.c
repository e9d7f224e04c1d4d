/* SPDX-License-Identifier: MIT */
/*
 * The table of endpoints (CONTRACT "HTTP API"): one row each, in matching
 * order — method, path pattern (http/route.c), handler, what is done with
 * the body, whether a token is needed, and whether ?access_token= is
 * accepted.  Adding an endpoint is adding a row here.
 */
#include "srv_int.h"

#define GET_HEAD (SRV_M_GET | SRV_M_HEAD)
#define OPEN(m, pat, fn)  {.methods = (m), .pattern = (pat), .handler = (fn), .body = SRV_BODY_DISCARD}
#define AUTH(m, pat, fn)                                                                           \
    {.methods = (m), .pattern = (pat), .handler = (fn), .body = SRV_BODY_DISCARD, .auth = true}
#define AUTH_JSON(m, pat, fn)                                                                      \
    {.methods = (m), .pattern = (pat), .handler = (fn), .body = SRV_BODY_JSON, .auth = true}
#define AUTH_QUERY(m, pat, fn)                                                                     \
    {.methods = (m),                                                                               \
     .pattern = (pat),                                                                             \
     .handler = (fn),                                                                              \
     .body = SRV_BODY_DISCARD,                                                                     \
     .auth = true,                                                                                 \
     .query_token = true}

const srv_endpoint srv_endpoints[] = {
    OPEN(GET_HEAD, "/healthz", srv_api_healthz),
    OPEN(GET_HEAD, "/readyz", srv_api_readyz),
    OPEN(GET_HEAD, "/metrics", srv_api_metrics),
    AUTH(GET_HEAD, "/api/v1/content", srv_api_content_list),
    AUTH_JSON(SRV_M_POST, "/api/v1/content", srv_api_content_create),
    AUTH(GET_HEAD, "/api/v1/content/{kind}/{name}", srv_api_item_get),
    AUTH_JSON(SRV_M_PATCH, "/api/v1/content/{kind}/{name}", srv_api_item_patch),
    AUTH(SRV_M_DELETE, "/api/v1/content/{kind}/{name}", srv_api_item_delete),
    AUTH(GET_HEAD, "/api/v1/content/{kind}/{name}/versions", srv_api_versions_get),
    {.methods = SRV_M_POST,
     .pattern = "/api/v1/content/{kind}/{name}/versions",
     .handler = srv_api_commit,
     .body = SRV_BODY_JSON,
     .auth = true,
     .body_max = CD_COMMIT_BODY_MAX,
     .body_too_large =
         "The commit's file list is larger than %u MiB, the most one version can take."},
    AUTH(GET_HEAD, "/api/v1/content/{kind}/{name}/versions/{version}/checks",
         srv_api_version_checks),
    AUTH_QUERY(GET_HEAD, "/api/v1/content/{kind}/{name}/files/{path}", srv_api_file_get),
    AUTH_QUERY(GET_HEAD, "/api/v1/content/{kind}/{name}/ast/{path}", srv_api_ast_get),
    AUTH_QUERY(SRV_M_GET, "/api/v1/content/{kind}/{name}/events", srv_sse_item),
    AUTH_QUERY(SRV_M_GET, "/api/v1/events", srv_sse_global),
    AUTH_JSON(SRV_M_POST, "/api/v1/blobs/missing", srv_api_blobs_missing),
    {.methods = SRV_M_PUT,
     .pattern = "/api/v1/blobs/{sha256}",
     .handler = srv_api_blob_finish,
     .body = SRV_BODY_STREAM,
     .auth = true,
     .body_begin = srv_api_blob_begin,
     .body_chunk = srv_api_blob_chunk,
     .body_free = srv_api_blob_free},
    /* The preview page authenticates in its handler (preview.c); its
     * scripts and styles need no token. */
    OPEN(GET_HEAD, "/preview/_assets/{file}", srv_api_preview_asset),
    OPEN(GET_HEAD, "/preview/{kind}/{name}/{path?}", srv_api_preview),
};

const size_t srv_endpoints_n = sizeof srv_endpoints / sizeof srv_endpoints[0];
