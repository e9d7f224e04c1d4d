/* SPDX-License-Identifier: MIT */
/*
 * The table of endpoints (CONTRACT "HTTP API"): one row each, in matching
 * order — method, path pattern (http/route.c), handler, what is done with
 * the body, whether a token is needed, and whether ?access_token= is
 * accepted.  Adding an endpoint is adding a row here.
 */
#include "api.h"

#define GET_HEAD (HTTP_M_GET | HTTP_M_HEAD)
#define OPEN(m, pat, fn)                                                                           \
    {                                                                                              \
        .methods = (m), .pattern = (pat), .handler = (fn), .body = HTTP_BODY_DISCARD               \
    }
#define AUTH(m, pat, fn)                                                                           \
    {                                                                                              \
        .methods = (m), .pattern = (pat), .handler = (fn), .body = HTTP_BODY_DISCARD, .auth = true \
    }
#define AUTH_JSON(m, pat, fn)                                                                      \
    {                                                                                              \
        .methods = (m), .pattern = (pat), .handler = (fn), .body = HTTP_BODY_JSON, .auth = true    \
    }
#define AUTH_QUERY(m, pat, fn)                                                                     \
    {                                                                                              \
        .methods = (m), .pattern = (pat), .handler = (fn), .body = HTTP_BODY_DISCARD,              \
        .auth = true, .query_token = true                                                          \
    }

/* A share link is told apart (and refused) by the handler, not taken for
 * a bad token. */
#define AUTH_JSON_QUERY(m, pat, fn)                                                                \
    {                                                                                              \
        .methods = (m), .pattern = (pat), .handler = (fn), .body = HTTP_BODY_JSON, .auth = true,   \
        .query_token = true                                                                        \
    }

#define PREVIEW(pat)                                                                               \
    {                                                                                              \
        .methods = GET_HEAD, .pattern = (pat), .handler = api_preview, .body = HTTP_BODY_DISCARD,  \
        .lenient_params = true                                                                     \
    }

const http_endpoint api_endpoints[] = {
    OPEN(GET_HEAD, "/healthz", api_healthz),
    OPEN(GET_HEAD, "/readyz", api_readyz),
    OPEN(GET_HEAD, "/metrics", api_metrics),
    AUTH(GET_HEAD, "/api/v1/content", api_content_list),
    AUTH_JSON(HTTP_M_POST, "/api/v1/content", api_content_create),
    AUTH(GET_HEAD, "/api/v1/content/{kind}/{name}", api_item_get),
    AUTH_JSON(HTTP_M_PATCH, "/api/v1/content/{kind}/{name}", api_item_patch),
    AUTH(HTTP_M_DELETE, "/api/v1/content/{kind}/{name}", api_item_delete),
    AUTH(GET_HEAD, "/api/v1/content/{kind}/{name}/versions", api_versions_get),
    {.methods = HTTP_M_POST,
     .pattern = "/api/v1/content/{kind}/{name}/versions",
     .handler = api_commit,
     .body = HTTP_BODY_JSON,
     .auth = true,
     .body_max = CD_COMMIT_BODY_MAX,
     .body_too_large =
         "The commit's file list is larger than %u MiB, the most one version can take."},
    AUTH_JSON(HTTP_M_POST, "/api/v1/content/{kind}/{name}/publish", api_publish),
    AUTH(GET_HEAD, "/api/v1/content/{kind}/{name}/members", api_members_get),
    AUTH_JSON(HTTP_M_PUT, "/api/v1/content/{kind}/{name}/members/{file}", api_member_put),
    AUTH(HTTP_M_DELETE, "/api/v1/content/{kind}/{name}/members/{file}", api_member_delete),
    AUTH_JSON(HTTP_M_POST, "/api/v1/content/{kind}/{name}/rollback", api_rollback),
    AUTH_JSON(HTTP_M_POST, "/api/v1/content/{kind}/{name}/links", api_links_post),
    AUTH(GET_HEAD, "/api/v1/content/{kind}/{name}/links", api_links_get),
    AUTH(HTTP_M_DELETE, "/api/v1/content/{kind}/{name}/links/{file}", api_link_delete),
    AUTH_JSON_QUERY(HTTP_M_POST, "/api/v1/content/{kind}/{name}/comments", api_comments_post),
    AUTH_QUERY(GET_HEAD, "/api/v1/content/{kind}/{name}/comments", api_comments_get),
    AUTH_JSON_QUERY(HTTP_M_PATCH, "/api/v1/content/{kind}/{name}/comments/{file}",
                    api_comment_patch),
    AUTH(GET_HEAD, "/api/v1/content/{kind}/{name}/versions/{version}/checks", api_version_checks),
    /* with the link query accepted so that a share link gets its 404 */
    AUTH_QUERY(GET_HEAD, "/api/v1/content/{kind}/{name}/versions/{version}/diff", api_version_diff),
    AUTH_QUERY(GET_HEAD, "/api/v1/content/{kind}/{name}/files/{path}", api_file_get),
    AUTH_QUERY(GET_HEAD, "/api/v1/content/{kind}/{name}/ast/{path}", api_ast_get),
    AUTH_QUERY(HTTP_M_GET, "/api/v1/content/{kind}/{name}/events", api_sse_item),
    AUTH_QUERY(HTTP_M_GET, "/api/v1/events", api_sse_global),
    AUTH_JSON(HTTP_M_POST, "/api/v1/blobs/missing", api_blobs_missing),
    {.methods = HTTP_M_PUT,
     .pattern = "/api/v1/blobs/{sha256}",
     .handler = api_blob_finish,
     .body = HTTP_BODY_STREAM,
     .auth = true,
     .body_begin = api_blob_begin,
     .body_chunk = api_blob_chunk,
     .body_free = api_blob_free},
    /* The preview page authenticates in its handler (preview.c); its
     * scripts and styles need no token.  Any other address under
     * /preview/ is the page's, even one with no KIND/NAME: it shows its
     * own "not found". */
    OPEN(GET_HEAD, "/preview/_assets/{file}", api_preview_asset),
    PREVIEW("/preview/{kind}/{name}/{path?}"),
    PREVIEW("/preview/{path}"),
};

const size_t api_endpoints_n = sizeof api_endpoints / sizeof api_endpoints[0];
