/* SPDX-License-Identifier: MIT */
/*
 * Declarations shared by the files of server/ and nothing else: the service
 * struct, one HTTP request's state, and the internal interfaces of the
 * request layer (http.c, reply.c), the API handlers (api_*.c), the commit
 * path (commit.c), the render cache, the event hub (hub.c, events.c, sse.c),
 * authentication, metrics and logging.
 */
#ifndef CONTENTD_SRV_INT_H
#define CONTENTD_SRV_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <stdarg.h>
#include <stdio.h>
#include <sys/types.h>
#include <sys/socket.h>

#include <jansson.h>
#include <microhttpd.h>

#include "blobstore.h"
#include "catalog.h"
#include "common.h"
#include "markdown.h"
#include "server.h"

/* ---- limits ---------------------------------------------------------- */

#define SRV_JSON_BODY_MAX (1u << 20)     /* request JSON bodies but commits': 413 above */
#define SRV_DRAIN_MAX     (256ull << 20) /* body bytes read and dropped before an error reply */
#define SRV_MD_MAX        (16u << 20)    /* largest markdown file rendered */
#define SRV_KEEPALIVE_MS  15000          /* SSE `: keep-alive` on idle streams */
#define SRV_TARGET_MAX    (8u << 10)     /* request target (path and query): 414 above */

typedef struct srv_render_cache srv_render_cache;
typedef struct srv_hub srv_hub;
typedef struct srv_sub srv_sub;
typedef struct srv_sse_close srv_sse_close;

/* ---- the service ----------------------------------------------------- */

struct srv {
    srv_config cfg; /* a deep copy */
    catalog *cat;
    blobstore *bs;
    struct MHD_Daemon *daemon;
    srv_render_cache *rc;
    md_pool *render_pool; /* markdown rendering, in worker processes */
    srv_hub *hub;
    srv_sse_close *closer; /* notices event streams whose client left (sse_close.c) */
    char url[128];
    bool loopback;
    atomic_bool stopping;
    atomic_bool tokens_exist;      /* once true, stays true: revoking the last token does not
                                      open the service to everyone */
    pthread_mutex_t commit_mu[64]; /* per item (hashed): one commit at a time */
    pthread_mutex_t active_mu;
    pthread_cond_t active_cv;
    pthread_mutex_t token_mu;
    struct srv_token_seen {
        char sha256[65];
        int64_t at_ms;
    } token_seen[64]; /* when each token's use was last recorded (token_mu) */
    int active;  /* requests between their first callback and completion */
    int streams; /* of which event streams */
};

/* Timed calls into the stores: the latency lands in the metrics. */
#define SRV_CAT_OPS(X)                                                                             \
    X(ping)                                                                                        \
    X(item_get)                                                                                    \
    X(item_list) X(item_create) X(item_update) X(item_delete) X(commit) X(files) X(versions)       \
        X(token_add) X(token_user) X(token_count) X(token_touch)
#define SRV_BLOB_OPS(X) X(ping) X(has) X(put_begin) X(put_finish) X(open) X(put_object)

enum srv_cat_op {
#define X(n) SRV_CAT_OP_##n,
    SRV_CAT_OPS(X)
#undef X
        SRV_CAT_OP_COUNT
};
enum srv_blob_op {
#define X(n) SRV_BLOB_OP_##n,
    SRV_BLOB_OPS(X)
#undef X
        SRV_BLOB_OP_COUNT
};

int64_t srv_mono_ns(void);
void srv_metrics_cat_op(enum srv_cat_op op, int64_t ns);
void srv_metrics_blob_op(enum srv_blob_op op, int64_t ns);

#define SRV_CAT(s, op, ...)                                                                        \
    __extension__({                                                                                \
        int64_t t0_ = srv_mono_ns();                                                               \
        int r_ = (s)->cat->ops->op((s)->cat, __VA_ARGS__);                                         \
        srv_metrics_cat_op(SRV_CAT_OP_##op, srv_mono_ns() - t0_);                                  \
        r_;                                                                                        \
    })
#define SRV_BLOB(s, op, ...)                                                                       \
    __extension__({                                                                                \
        int64_t t0_ = srv_mono_ns();                                                               \
        int r_ = (s)->bs->ops->op((s)->bs, __VA_ARGS__);                                           \
        srv_metrics_blob_op(SRV_BLOB_OP_##op, srv_mono_ns() - t0_);                                \
        r_;                                                                                        \
    })

/* ---- routes and requests -------------------------------------------- */

#define SRV_ROUTES(X)                                                                              \
    X(NONE, "unknown")                                                                             \
    X(HEALTHZ, "/healthz")                                                                         \
    X(READYZ, "/readyz")                                                                           \
    X(METRICS, "/metrics")                                                                         \
    X(CONTENT, "/api/v1/content")                                                                  \
    X(ITEM, "/api/v1/content/{kind}/{name}")                                                       \
    X(VERSIONS, "/api/v1/content/{kind}/{name}/versions")                                          \
    X(FILE, "/api/v1/content/{kind}/{name}/files/{path}")                                          \
    X(AST, "/api/v1/content/{kind}/{name}/ast/{path}")                                             \
    X(ITEM_EVENTS, "/api/v1/content/{kind}/{name}/events")                                         \
    X(EVENTS, "/api/v1/events")                                                                    \
    X(BLOBS_MISSING, "/api/v1/blobs/missing")                                                      \
    X(BLOB, "/api/v1/blobs/{sha256}")                                                              \
    X(PREVIEW, "/preview/{kind}/{name}")                                                           \
    X(PREVIEW_ASSET, "/preview/_assets/{file}")

typedef enum srv_route {
#define X(id, label) SRV_R_##id,
    SRV_ROUTES(X)
#undef X
        SRV_R_COUNT
} srv_route;

const char *srv_route_label(srv_route r);

typedef enum {
    SRV_M_GET = 1 << 0,
    SRV_M_HEAD = 1 << 1,
    SRV_M_POST = 1 << 2,
    SRV_M_PUT = 1 << 3,
    SRV_M_PATCH = 1 << 4,
    SRV_M_DELETE = 1 << 5,
    SRV_M_OPTIONS = 1 << 6,
    SRV_M_OTHER = 1 << 7,
} srv_method;

bool srv_route_allows(srv_route r, srv_method m);

typedef enum { SRV_BODY_NONE, SRV_BODY_JSON, SRV_BODY_BLOB, SRV_BODY_DISCARD } srv_body_mode;

struct srv_blob_upload; /* api_blobs.c */

/* Route parameters as found in the path (pointers into srv_req.path). */
typedef struct srv_raw_params {
    const char *kind, *name, *rest, *sha;
    size_t kind_len, name_len, rest_len, sha_len;
} srv_raw_params;

/* One HTTP request, from its first callback to MHD's completion notice
 * (http.c frees it there). */
typedef struct srv_req {
    srv *s;
    struct MHD_Connection *conn;
    srv_method method;
    const char *method_str;
    char *path; /* the raw request path, as sent (for the log) */
    const char *raw_target; /* the target in libmicrohttpd's buffer (valid until the body) */
    size_t raw_target_len;  /* its length as a C string */
    srv_route route;
    srv_raw_params raw;
    char kind[16]; /* route parameters, validated */
    char name[64];
    char *file_path; /* files/, ast/, preview: the decoded, validated path */
    char sha[65];    /* blobs/SHA */
    char *user;      /* the authenticated user (NULL on open routes) */
    char token_sha256[65]; /* the SHA-256 of the token it came with ("": none) */
    int64_t t0_ns;
    enum { SRV_PH_HEADERS, SRV_PH_BODY, SRV_PH_FINAL } phase;
    /* the body */
    srv_body_mode body_mode;
    bool expect_body; /* Content-Length > 0 or chunked */
    bool expect_continue;
    int64_t content_length; /* -1 when not given */
    uint64_t received;
    cd_buf body;
    struct srv_blob_upload *upload;
    /* an error decided before the body was read: sent once it is drained */
    bool pending;
    unsigned pending_status;
    const char *pending_code; /* a string literal */
    char *pending_msg;
    /* the outcome, for the log and the metrics */
    bool responded;
    unsigned status;
    uint64_t bytes;
    srv_sub *sub;     /* an event stream's subscriber */
    bool client_gone; /* the event stream ended because its client left */
} srv_req;

/* Matches r->path to a route (route.c): sets r->route and r->raw. */
void srv_route_match(srv_req *r);
/* Decodes and validates the matched parameters into r->kind, r->name,
 * r->file_path and r->sha; fails the request (400) when one is bad. */
bool srv_route_params(srv_req *r);

/* libmicrohttpd's callbacks (http.c): the access handler, the completion
 * notice, and the unescaper that leaves the URL as sent. */
enum MHD_Result srv_http_access(void *cls, struct MHD_Connection *c, const char *url,
                                const char *method, const char *version, const char *data,
                                size_t *size, void **con_cls);
void srv_http_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                        enum MHD_RequestTerminationCode toe);
size_t srv_http_unescape_none(void *cls, struct MHD_Connection *c, char *s);
/* MHD_OPTION_URI_LOG_CALLBACK: allocates the request (cls is the srv) and
 * notes the target's length as a C string, to refuse a NUL byte in it. */
void *srv_http_uri_log(void *cls, const char *uri, struct MHD_Connection *c);

/* Request-level accessors (http.c). */
const char *srv_req_header(srv_req *r, const char *name);
/* A query argument, percent-decoded; NULL when absent or malformed.
 * The caller frees the result. */
char *srv_req_query(srv_req *r, const char *name);

/* ---- replies (reply.c) ----------------------------------------------- */

/* Every reply sets r->responded, r->status and r->bytes, and returns what
 * the access handler returns to MHD.  Bodies passed in are taken over. */
enum MHD_Result srv_reply_json(srv_req *r, unsigned status, cd_buf *body);
enum MHD_Result srv_reply_error(srv_req *r, unsigned status, const char *code, const char *fmt, ...)
    CD_PRINTF(4, 5);
/* An error whose object carries one more member: `"key": json`. */
enum MHD_Result srv_reply_error_extra(srv_req *r, unsigned status, const char *code,
                                      const char *msg, const char *key, const char *json);
enum MHD_Result srv_reply_empty(srv_req *r, unsigned status);
enum MHD_Result srv_reply_text(srv_req *r, unsigned status, const char *ctype, cd_buf *body);
/* Queues resp (adding the common headers) with status; drops our
 * reference. */
enum MHD_Result srv_reply_response(srv_req *r, unsigned status, struct MHD_Response *resp,
                                   uint64_t bytes);
/* Decides an error while the body is still to come: replied now when that
 * is safe, else after the body has been read and dropped (see reply.c).
 * code must be a string literal (it is kept by reference). */
void srv_fail(srv_req *r, unsigned status, const char *code, const char *fmt, ...) CD_PRINTF(4, 5);
/* Maps a catalog / blob store status to an error reply. */
enum MHD_Result srv_reply_cat_error(srv_req *r, int status, const cd_err *err);
enum MHD_Result srv_reply_blob_error(srv_req *r, int status, const cd_err *err);

/* ---- CORS (cors.c) --------------------------------------------------- */

/* Adds the CORS headers of r's reply (Vary: Origin while CORS is on, and
 * Access-Control-Allow-Origin for an allowed Origin). */
void srv_cors_headers(srv_req *r, struct MHD_Response *resp);
/* Answers an OPTIONS request to a known route: 204 with Allow, and the
 * preflight's Access-Control-Allow-* headers for an allowed origin. */
enum MHD_Result srv_cors_preflight(srv_req *r);

/* ---- JSON helpers (json.c) ------------------------------------------- */

/* Parses the request body as a JSON object; replies 400 and returns NULL
 * when it is not one.  The caller frees the result with json_decref(). */
json_t *srv_json_body(srv_req *r);
/* Appends an item as JSON, with its n files (n < 0: without "files"). */
void srv_json_item(cd_buf *b, const catalog_item *it, const catalog_file *files, long n);
/* Appends {"items":[...]}: those of items[0..n) user may see (srv_can_see),
 * in their order, without files.  The listing's body and the global
 * stream's snapshot. */
void srv_json_visible_items(cd_buf *b, const char *user, const catalog_item *items, size_t n);
void srv_json_files(cd_buf *b, const catalog_file *files, size_t n);
void srv_json_file(cd_buf *b, const catalog_file *f);
void srv_json_time(cd_buf *b, int64_t ms);

/* ---- API handlers (api_*.c): called once the request is complete ----- */

enum MHD_Result srv_api_content_list(srv_req *r);
enum MHD_Result srv_api_content_create(srv_req *r);
enum MHD_Result srv_api_item_get(srv_req *r);
enum MHD_Result srv_api_item_patch(srv_req *r);
enum MHD_Result srv_api_item_delete(srv_req *r);
enum MHD_Result srv_api_versions_get(srv_req *r);
enum MHD_Result srv_api_commit(srv_req *r);
enum MHD_Result srv_api_file_get(srv_req *r);
enum MHD_Result srv_api_ast_get(srv_req *r);
enum MHD_Result srv_api_blobs_missing(srv_req *r);
enum MHD_Result srv_api_healthz(srv_req *r);
enum MHD_Result srv_api_readyz(srv_req *r);
enum MHD_Result srv_api_metrics(srv_req *r);
/* The preview page (preview.c): its HTML shell, and its scripts and
 * styles (no authentication: they hold nothing of any item). */
enum MHD_Result srv_api_preview(srv_req *r);
enum MHD_Result srv_api_preview_asset(srv_req *r);
/* Streaming blob upload: begin on the headers, then chunks, then finish. */
void srv_api_blob_begin(srv_req *r);
void srv_api_blob_chunk(srv_req *r, const char *p, size_t n);
enum MHD_Result srv_api_blob_finish(srv_req *r);
void srv_api_blob_free(srv_req *r);
/* SSE subscriptions (sse.c). */
enum MHD_Result srv_sse_item(srv_req *r);
enum MHD_Result srv_sse_global(srv_req *r);
/* Completion of an SSE request: detaches its subscriber from the hub. */
void srv_sse_completed(srv_req *r);

/* Loads an item and checks the caller may see it (owner, or public);
 * replies 404 (or 503) and returns false when not. */
bool srv_item_visible(srv_req *r, catalog_item *it);
bool srv_can_see(const char *user, const catalog_item *it);

/* ---- commit (commit.c) ---------------------------------------------- */

typedef enum {
    SRV_COMMIT_OK,
    SRV_COMMIT_NOT_FOUND,     /* 404 */
    SRV_COMMIT_FORBIDDEN,     /* 403: someone else's public item */
    SRV_COMMIT_INVALID,       /* 400: bad path, duplicate path */
    SRV_COMMIT_CONFLICT,      /* 409 version_conflict */
    SRV_COMMIT_MISSING_BLOBS, /* 422 missing_blobs */
    SRV_COMMIT_UNACCEPTABLE,  /* 422 (size_mismatch, invalid_markdown) */
    SRV_COMMIT_UNAVAILABLE,   /* 503 */
    SRV_COMMIT_ERROR,         /* 500 */
} srv_commit_status;

typedef struct srv_commit_result {
    srv_commit_status status;
    const char *code; /* the error code, static */
    char msg[512];
    cd_buf missing;  /* JSON array of the missing blobs (MISSING_BLOBS) */
    int64_t version; /* the item's version afterwards */
    bool created;    /* a new version was made */
} srv_commit_result;

/* Commits files[0..n) (sha256, size and path filled; paths validated by the
 * caller) as the version after base.  Sorts files by path.  Always fills
 * res; the caller frees res->missing with cd_buf_free(). */
void srv_commit(srv *s, const char *user, const char *kind, const char *name, int64_t base,
                catalog_file *files, size_t n, srv_commit_result *res);
pthread_mutex_t *srv_commit_lock(srv *s, const char *kind, const char *name);
/* Writes the item record (blobstore_item_key) of `it` with title (NULL:
 * its own) and visibility (< 0: its own): a title or visibility change
 * does this before the catalog changes, so that `rebuild-catalog` restores
 * the latest state.  Returns a blob_status. */
int srv_write_item_record(srv *s, const catalog_item *it, const char *title, int visibility,
                          cd_err *err) CD_WUR;
/* Sorts a file list by path (strcmp): the order every merge and search of
 * file lists here relies on. */
void srv_files_sort(catalog_file *files, size_t n);

/* ---- render cache (render_cache.c) ---------------------------------- */

/* A rendered AST document, shared by reference count. */
typedef struct srv_ast {
    atomic_int refs;
    size_t len;
    char *json;  /* NUL-terminated, one line (md_render's output) */
    char *title; /* data.title as the renderer saw it ("" when none) */
} srv_ast;

srv_render_cache *srv_render_cache_new(size_t max_bytes);
void srv_render_cache_free(srv_render_cache *rc);
/* The AST of markdown blob sha: from the cache, else read from the blob
 * store and rendered once.  On 0, *out holds a reference the caller drops
 * with srv_ast_unref().  Fails with a BLOB_* status, or MD_ERR_* (< -100,
 * see SRV_RENDER_ERR) with err naming the line. */
int srv_render_get(srv *s, const char *sha, srv_ast **out, cd_err *err) CD_WUR;
#define SRV_RENDER_ERR (-100)
void srv_ast_unref(srv_ast *a);
void srv_render_cache_stats(srv_render_cache *rc, uint64_t *hits, uint64_t *misses, uint64_t *bytes,
                            uint64_t *entries);

/* ---- event hub (hub.c) ---------------------------------------------- */

srv_hub *srv_hub_new(srv *s, cd_err *err);
/* Starts the hub thread (changes, keep-alives). */
int srv_hub_start(srv_hub *h, cd_err *err) CD_WUR;
/* Ends every stream cleanly and stops the hub thread. */
void srv_hub_shutdown(srv_hub *h);
void srv_hub_free(srv_hub *h);
/* The closed-stream watcher (sse_close.c): one thread, one epoll set, that
 * ends an event stream as soon as its client hangs up.  NULL on failure,
 * with err filled; free it after the HTTP daemon has stopped. */
srv_sse_close *srv_sse_close_new(cd_err *err);
void srv_sse_close_free(srv_sse_close *w);
/* The catalog's on_change callback (arg is the srv_hub). */
void srv_hub_on_change(void *arg, catalog_event ev, const char *kind, const char *name,
                       int64_t version);
void srv_hub_counts(srv_hub *h, int64_t *item_subs, int64_t *global_subs);

/* ---- auth (auth.c) --------------------------------------------------- */

/* Authenticates r: on success sets r->user and returns true; else replies
 * (401/503) through srv_fail and returns false. */
bool srv_auth(srv_req *r, bool allow_query_token);
/* Whether requests need a token: once any token exists, always.  Returns 0,
 * or a catalog status when the catalog cannot tell. */
int srv_auth_required(srv *s, bool *yes) CD_WUR;
/* Creates a token for user: *token (the caller frees it) is shown once,
 * only its SHA-256 is stored. */
int srv_token_create(catalog *cat, const char *user, char **token, cd_err *err) CD_WUR;
bool srv_user_valid(const char *user);
/* `contentd token list` (tokens.c): every token's id, user, creation and
 * last use on out, never the token. */
int srv_token_list(catalog *cat, FILE *out, cd_err *err) CD_WUR;
/* `contentd token revoke ID|USER`: deletes the token with that id, else
 * every token of that user, and says which on out; CAT_NOT_FOUND when
 * none matched. */
int srv_token_revoke(catalog *cat, const char *id_or_user, FILE *out, cd_err *err) CD_WUR;
/* A token's id: the first SRV_TOKEN_ID_LEN hex digits of its SHA-256. */
#define SRV_TOKEN_ID_LEN 12

/* ---- metrics (metrics.c) -------------------------------------------- */

void srv_metrics_request(srv_route route, unsigned status, int64_t ns);
void srv_metrics_sse_events(uint64_t n);
void srv_metrics_sse_bytes(uint64_t n);
void srv_metrics_sse_overflow(void);
void srv_metrics_change_retry(void);
void srv_metrics_push_bytes(uint64_t n);
void srv_metrics_commit(const char *result);
void srv_metrics_render(srv *s, cd_buf *out);

/* ---- logging (log.c) ------------------------------------------------- */

/* One line on stderr: `ts=… level=… mod=… ` followed by fmt (key=value
 * pairs).  Values that may hold spaces go through srv_log_q(). */
void srv_log(const char *level, const char *mod, const char *fmt, ...) CD_PRINTF(3, 4);
/* Appends ` key=value` to b, quoting and escaping value when needed. */
void srv_log_kv(cd_buf *b, const char *key, const char *value);
void srv_log_mhd(void *cls, const char *fmt, va_list ap) CD_PRINTF(2, 0);

/* ---- small helpers (util.c, paths.c) -------------------------------- */

int64_t srv_now_ms(void);
void srv_time_rfc3339(int64_t ms, char out[32]);
void srv_sha256_hex(const void *p, size_t n, char out[65]);
bool srv_is_markdown(const char *path);
/* Why path[0..n) is not an acceptable content path (NULL when it is). */
const char *srv_path_problem(const char *path, size_t n);
/* Percent-decodes s[0..n) into a new NUL-terminated string (the caller
 * frees it); false on a malformed escape or an escaped NUL. */
bool srv_pct_decode(const char *s, size_t n, char **out, size_t *out_len);
bool srv_parse_i64(const char *s, int64_t *out);
bool srv_addr_is_loopback(const struct sockaddr *sa);

#endif
