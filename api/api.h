/* SPDX-License-Identifier: MIT */
/*
 * api — the handlers of the HTTP API (CONTRACT "HTTP API") and their table
 * of endpoints (api_routes.c): items, versions and the commit, files and
 * ASTs, blob uploads, event streams, the preview page, and the operational
 * endpoints (/healthz, /readyz, /metrics).  They run on the HTTP layer
 * (http/http.h) with an api_ctx as the server's app.
 */
#ifndef CONTENTD_API_H
#define CONTENTD_API_H

#include "blobstore.h"
#include "catalog.h"
#include "commit.h"
#include "hub.h"
#include "http.h"

/* What the handlers work on (none of it owned). */
typedef struct api_ctx {
    catalog *cat;
    blobstore *bs;
    commit_path *commit;
    hub *hub;
    int64_t max_blob_size; /* PUT /api/v1/blobs: 413 above */
} api_ctx;

/* The handlers' context of a request. */
#define API(r) ((api_ctx *)(r)->s->app)

/* The table of endpoints, in matching order (api_routes.c). */
extern const http_endpoint api_endpoints[];
extern const size_t api_endpoints_n;

/* ---- handlers (api_*.c): called once the request is complete -------- */

enum MHD_Result api_content_list(http_req *r);
enum MHD_Result api_content_create(http_req *r);
enum MHD_Result api_item_get(http_req *r);
enum MHD_Result api_item_patch(http_req *r);
enum MHD_Result api_item_delete(http_req *r);
enum MHD_Result api_versions_get(http_req *r);
enum MHD_Result api_version_checks(http_req *r);
enum MHD_Result api_commit(http_req *r);
enum MHD_Result api_file_get(http_req *r);
enum MHD_Result api_ast_get(http_req *r);
enum MHD_Result api_blobs_missing(http_req *r);
enum MHD_Result api_healthz(http_req *r);
enum MHD_Result api_readyz(http_req *r);
enum MHD_Result api_metrics(http_req *r);
/* The preview page (preview.c): its HTML shell, and its scripts and
 * styles (no authentication: they hold nothing of any item). */
enum MHD_Result api_preview(http_req *r);
enum MHD_Result api_preview_asset(http_req *r);
/* Streaming blob upload: begin on the headers, then chunks, then finish. */
void api_blob_begin(http_req *r);
void api_blob_chunk(http_req *r, const char *p, size_t n);
enum MHD_Result api_blob_finish(http_req *r);
void api_blob_free(http_req *r);
/* Event streams (api_events.c). */
enum MHD_Result api_sse_item(http_req *r);
enum MHD_Result api_sse_global(http_req *r);

/* Loads the item of r into *it as api_item_visible() does, without
 * replying: CAT_NOT_FOUND when the caller may not see it. */
int api_item_get_as(http_req *r, catalog_item *it, cd_err *err);
/* The version of it the caller reads by default: a share link's (the
 * latest for one that follows edits), else catalog_version_for(); *others
 * says whether ?version= may ask for another. */
int64_t api_version_for(http_req *r, const catalog_item *it, bool *others);
/* Loads an item and checks the caller may see it (owner, member, public,
 * or a share link of it that has not expired); replies 404 (or 503) and
 * returns false when not. */
bool api_item_visible(http_req *r, catalog_item *it);

/* api_item_visible(), and the caller is the owner; replies 403 when not. */
bool api_item_owned(http_req *r, catalog_item *it);
/* Replies with the item as the caller sees it (readers of a published item:
 * its published version), with its files when with_files. */
enum MHD_Result api_reply_item(http_req *r, unsigned status, bool with_files);
/* Review and sharing (api_review.c). */
enum MHD_Result api_publish(http_req *r);
enum MHD_Result api_members_get(http_req *r);
enum MHD_Result api_member_put(http_req *r);
enum MHD_Result api_member_delete(http_req *r);
enum MHD_Result api_rollback(http_req *r);
enum MHD_Result api_links_post(http_req *r);
enum MHD_Result api_links_get(http_req *r);
enum MHD_Result api_link_delete(http_req *r);
/* Comments (api_comments.c). */
enum MHD_Result api_comments_post(http_req *r);
enum MHD_Result api_comments_get(http_req *r);
enum MHD_Result api_comment_patch(http_req *r);
/* GET …/versions/N/diff?to=M (api_diff.c). */
enum MHD_Result api_version_diff(http_req *r);

/* Blob bytes received by PUT /api/v1/blobs: counted, and the count. */
void api_count_push(uint64_t n);
uint64_t api_push_bytes(void);

/* Writes the Prometheus text of every module's counters (metrics.c). */
void api_metrics_render(api_ctx *a, cd_buf *out);

#endif
