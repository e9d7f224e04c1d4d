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
#include <sys/types.h>
#include <sys/socket.h>

#include <jansson.h>
#include <microhttpd.h>

#include "blobstore.h"
#include "catalog.h"
#include "commit.h"
#include "common.h"
#include "hub.h"
#include "server.h"

/* ---- limits ---------------------------------------------------------- */

#define SRV_JSON_BODY_MAX (1u << 20)     /* request JSON bodies but commits': 413 above */
#define SRV_DRAIN_MAX     (256ull << 20) /* body bytes read and dropped before an error reply */
#define SRV_TARGET_MAX    (8u << 10)     /* request target (path and query): 414 above */


/* ---- the service ----------------------------------------------------- */

struct srv {
    srv_config cfg; /* a deep copy */
    catalog *cat;
    blobstore *bs;
    struct MHD_Daemon *daemon;
    commit_path *commit;
    hub *hub;
    bool listening; /* the hub listens to the catalog's changes */
    char url[128];
    bool loopback;
    atomic_bool stopping;
    atomic_bool tokens_exist;      /* once true, stays true: tokens are never deleted */
    pthread_mutex_t active_mu;
    pthread_cond_t active_cv;
    int active;  /* requests between their first callback and completion */
    int streams; /* of which event streams */
};

/* ---- routes and requests -------------------------------------------- */

typedef enum {
    SRV_M_GET = 1 << 0,
    SRV_M_HEAD = 1 << 1,
    SRV_M_POST = 1 << 2,
    SRV_M_PUT = 1 << 3,
    SRV_M_PATCH = 1 << 4,
    SRV_M_DELETE = 1 << 5,
    SRV_M_OTHER = 1 << 6,
} srv_method;

typedef enum {
    SRV_BODY_NONE,    /* no endpoint: the body is not read */
    SRV_BODY_DISCARD, /* read and dropped (up to SRV_DRAIN_MAX) */
    SRV_BODY_JSON,    /* collected for srv_json_body(), up to the row's body_max */
    SRV_BODY_STREAM,  /* handed to the row's body_begin/body_chunk as it comes */
} srv_body_mode;

typedef struct srv_req srv_req;

/* One endpoint of the API: one row of the table (api/api_routes.c). */
typedef struct srv_endpoint {
    unsigned methods;    /* SRV_M_* of this row */
    const char *pattern; /* "/api/v1/content/{kind}/{name}" (http/route.c) */
    enum MHD_Result (*handler)(srv_req *r); /* once the request is complete */
    srv_body_mode body;
    bool auth;        /* a token is required (once any exists); false: open, or the handler's */
    bool query_token; /* ?access_token= is accepted too (EventSource, preview links) */
    size_t body_max;  /* SRV_BODY_JSON: the largest body (0: SRV_JSON_BODY_MAX) */
    const char *body_too_large; /* and its 413 message, with one %u of MiB */
    /* SRV_BODY_STREAM: called on the headers, for each chunk, and when the
     * request is freed. */
    void (*body_begin)(srv_req *r);
    void (*body_chunk)(srv_req *r, const char *p, size_t n);
    void (*body_free)(srv_req *r);
} srv_endpoint;

/* The table of endpoints, in matching order (api/api_routes.c). */
extern const srv_endpoint srv_endpoints[];
extern const size_t srv_endpoints_n;

/* Rows (sharing a pattern: one label) at most. */
#define SRV_ROUTES_MAX 64
/* Reads the table: srv_route_match() uses it from then on. */
void srv_routes_init(const srv_endpoint *rows, size_t n);
/* Distinct route labels (0 is "unknown"), and their names for /metrics. */
unsigned srv_route_count(void);
const char *srv_route_label(unsigned label);

struct srv_blob_upload; /* api_blobs.c */

/* Route parameters as found in the path (pointers into srv_req.path). */
typedef struct srv_raw_params {
    const char *kind, *name, *rest, *sha, *version;
    size_t kind_len, name_len, rest_len, sha_len, version_len;
} srv_raw_params;

/* One HTTP request, from its first callback to MHD's completion notice
 * (http.c frees it there). */
struct srv_req {
    srv *s;
    struct MHD_Connection *conn;
    srv_method method;
    const char *method_str;
    char *path; /* the raw request path, as sent (for the log) */
    const char *raw_target; /* the target in libmicrohttpd's buffer (valid until the body) */
    size_t raw_target_len;  /* its length as a C string */
    const srv_endpoint *endpoint; /* NULL: none (404 or 405) */
    unsigned route;               /* its label (srv_route_label) */
    srv_raw_params raw;
    char kind[CD_KIND_MAX]; /* route parameters, validated */
    char name[CD_NAME_MAX];
    char *file_path; /* files/, ast/, preview: the decoded, validated path */
    char sha[CD_SHA256_HEX];    /* blobs/SHA */
    int64_t version;            /* versions/{version}: >= 1 */
    char *user;      /* the authenticated user (NULL on open routes) */
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
    hub_sub *sub;   /* an event stream's subscriber */
    void *sse_conn; /* and its transport (sse.c), freed with the request */
};

/* Matches r->path to an endpoint (route.c): sets r->endpoint, r->route
 * and r->raw. */
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

/* ---- JSON helpers (json.c) ------------------------------------------- */

/* Parses the request body as a JSON object; replies 400 and returns NULL
 * when it is not one.  The caller frees the result with json_decref(). */
json_t *srv_json_body(srv_req *r);

/* ---- API handlers (api_*.c): called once the request is complete ----- */

enum MHD_Result srv_api_content_list(srv_req *r);
enum MHD_Result srv_api_content_create(srv_req *r);
enum MHD_Result srv_api_item_get(srv_req *r);
enum MHD_Result srv_api_item_patch(srv_req *r);
enum MHD_Result srv_api_item_delete(srv_req *r);
enum MHD_Result srv_api_versions_get(srv_req *r);
enum MHD_Result srv_api_version_checks(srv_req *r);
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

/* ---- metrics (metrics.c) -------------------------------------------- */

void srv_metrics_request(unsigned route, unsigned status, int64_t ns);
void srv_metrics_sse_bytes(uint64_t n);
void srv_metrics_push_bytes(uint64_t n);
void srv_metrics_render(srv *s, cd_buf *out);

/* ---- logging ---------------------------------------------------------- */

/* libmicrohttpd's own messages, logged through cd_log(). */
void srv_log_mhd(void *cls, const char *fmt, va_list ap) CD_PRINTF(2, 0);

/* ---- small helpers (util.c, paths.c) -------------------------------- */

/* Why path[0..n) is not an acceptable content path (NULL when it is). */
const char *srv_path_problem(const char *path, size_t n);
/* Percent-decodes s[0..n) into a new NUL-terminated string (the caller
 * frees it); false on a malformed escape or an escaped NUL. */
bool srv_pct_decode(const char *s, size_t n, char **out, size_t *out_len);
bool srv_parse_i64(const char *s, int64_t *out);
bool srv_addr_is_loopback(const struct sockaddr *sa);

#endif
