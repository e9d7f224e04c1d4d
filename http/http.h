/* SPDX-License-Identifier: MIT */
/*
 * http — the HTTP layer on libmicrohttpd: one http_req per request, from
 * its first callback (routing on a table of endpoints, authentication, the
 * checks of the body's type and size) through its body (collected, dropped
 * or streamed to the endpoint's hooks) to its handler and its log line;
 * the replies and the one error shape of the API; tokens; and the
 * event-stream transport of the hub's subscribers (sse.c).
 *
 * The handlers and their table are the API's (api/api.h); they reach their
 * own context through http_server.app.
 */
#ifndef CONTENTD_HTTP_H
#define CONTENTD_HTTP_H

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>
#include <microhttpd.h>

#include "blobstore.h"
#include "catalog.h"
#include "common.h"
#include "hub.h"

/* ---- limits ---------------------------------------------------------- */

#define HTTP_JSON_BODY_MAX (1u << 20)     /* request JSON bodies but commits': 413 above */
#define HTTP_DRAIN_MAX     (256ull << 20) /* body bytes read and dropped before an error reply */
#define HTTP_TARGET_MAX    (8u << 10)     /* request target (path and query): 414 above */

/* ---- the server's state, shared by its requests ------------------------ */

/* The closed-stream watcher (sse_close.c): one thread, one epoll set, that
 * ends an event stream as soon as its client hangs up. */
typedef struct http_sse_close http_sse_close;

typedef struct http_server {
    catalog *cat;            /* where tokens are checked */
    int64_t max_header_size; /* bytes of request headers accepted (431 above) */
    bool loopback;           /* listening on loopback only */
    atomic_bool stopping;
    atomic_bool tokens_exist; /* once true, stays true: revoking the last token does not
                                 open the service to everyone */
    pthread_mutex_t active_mu;
    pthread_cond_t active_cv;
    int active;             /* requests between their first callback and completion */
    int streams;            /* of which event streams */
    void *app;              /* the handlers' context */
    http_sse_close *closer; /* notices event streams whose client left */
    char *const *cors;      /* the origins allowed to call (CORS), n_cors of them */
    size_t n_cors;
    pthread_mutex_t token_mu;
    struct http_token_seen {
        char sha256[CD_SHA256_HEX];
        int64_t at_ms;
    } token_seen[64]; /* when each token's use was last recorded (token_mu) */
} http_server;

/* What the HTTP layer's own functions return (a reply is an MHD result). */
typedef enum http_status {
    HTTP_OK = 0,
    HTTP_UNAVAILABLE = -1, /* the catalog cannot be reached: answer 503 */
    HTTP_ERROR = -2,       /* anything else: err says what */
} http_status;

/* Initialises hs (zeroed by the caller) for the catalog cat, and starts its
 * closed-stream watcher; HTTP_ERROR with err filled when that cannot start. */
http_status http_server_init(http_server *hs, catalog *cat, int64_t max_header_size,
                             cd_err *err) CD_WUR;
/* Frees what init made; after the HTTP daemon has stopped. */
void http_server_destroy(http_server *hs);

/* ---- routes and requests -------------------------------------------- */

typedef enum {
    HTTP_M_GET = 1 << 0,
    HTTP_M_HEAD = 1 << 1,
    HTTP_M_POST = 1 << 2,
    HTTP_M_PUT = 1 << 3,
    HTTP_M_PATCH = 1 << 4,
    HTTP_M_DELETE = 1 << 5,
    HTTP_M_OPTIONS = 1 << 6,
    HTTP_M_OTHER = 1 << 7,
} http_method;

typedef enum {
    HTTP_BODY_NONE,    /* no endpoint: the body is not read */
    HTTP_BODY_DISCARD, /* read and dropped (up to HTTP_DRAIN_MAX) */
    HTTP_BODY_JSON,    /* collected for http_json_body(), up to the row's body_max */
    HTTP_BODY_STREAM,  /* handed to the row's body_begin/body_chunk as it comes */
} http_body_mode;

typedef struct http_req http_req;

/* One endpoint: one row of the application's table (the API's:
 * api/api_routes.c). */
typedef struct http_endpoint {
    unsigned methods;                        /* HTTP_M_* of this row */
    const char *pattern;                     /* "/api/v1/content/{kind}/{name}" (http/route.c) */
    enum MHD_Result (*handler)(http_req *r); /* once the request is complete */
    http_body_mode body;
    bool auth;           /* a token is required (once any exists); false: open, or the handler's */
    bool query_token;    /* ?access_token= is accepted too (EventSource, preview links) */
    bool lenient_params; /* a bad KIND/NAME is the handler's to answer (route.c) */
    size_t body_max;     /* HTTP_BODY_JSON: the largest body (0: HTTP_JSON_BODY_MAX) */
    const char *body_too_large; /* and its 413 message, with one %u of MiB */
    /* HTTP_BODY_STREAM: called on the headers, for each chunk, and when the
     * request is freed. */
    void (*body_begin)(http_req *r);
    void (*body_chunk)(http_req *r, const char *p, size_t n);
    void (*body_free)(http_req *r);
} http_endpoint;

/* Rows (sharing a pattern: one label) at most. */
#define HTTP_ROUTES_MAX 64
/* Reads the table: http_route_match() uses it from then on. */
void http_routes_init(const http_endpoint *rows, size_t n);
/* Distinct route labels (0 is "unknown"), and their names for /metrics. */
unsigned http_route_count(void);
/* The HTTP_M_* methods the rows of route label take. */
unsigned http_route_methods(unsigned label);
const char *http_route_label(unsigned label);

/* Route parameters as found in the path (pointers into http_req.path). */
typedef struct http_raw_params {
    const char *kind, *name, *rest, *sha, *version;
    size_t kind_len, name_len, rest_len, sha_len, version_len;
} http_raw_params;

/* One HTTP request, from its first callback to MHD's completion notice
 * (http.c frees it there). */
struct http_req {
    http_server *s;
    struct MHD_Connection *conn;
    http_method method;
    const char *method_str;
    char *path;                    /* the raw request path, as sent (for the log) */
    const char *raw_target;        /* the target in libmicrohttpd's buffer (valid until the body) */
    size_t raw_target_len;         /* its length as a C string */
    const http_endpoint *endpoint; /* NULL: none (404 or 405) */
    unsigned route;                /* its label (http_route_label) */
    http_raw_params raw;
    char kind[CD_KIND_MAX]; /* route parameters, validated */
    char name[CD_NAME_MAX];
    /* versions/{version}: >= 1 */
    int64_t version;
    char *file_path;                  /* files/, ast/, preview: the decoded, validated path */
    char sha[CD_SHA256_HEX];          /* blobs/SHA */
    char token_sha256[CD_SHA256_HEX]; /* the SHA-256 of the token it came with ("": none) */
    char *user; /* the authenticated user (NULL on open routes, and for a share link) */
    char link_sha256[CD_SHA256_HEX]; /* a share link token's SHA-256 ("" when none) */
    int64_t t0_ns;
    enum { HTTP_PH_HEADERS, HTTP_PH_BODY, HTTP_PH_FINAL } phase;
    /* the body */
    http_body_mode body_mode;
    bool expect_body; /* Content-Length > 0 or chunked */
    bool expect_continue;
    int64_t content_length; /* -1 when not given */
    uint64_t received;
    cd_buf body;
    void *upload; /* a streamed body's state (the endpoint's hooks) */
    /* an error decided before the body was read: sent once it is drained */
    bool pending;
    unsigned pending_status;
    const char *pending_code; /* a string literal */
    char *pending_msg;
    /* the outcome, for the log and the metrics */
    bool responded;
    unsigned status;
    uint64_t bytes;
    hub_sub *sub;     /* an event stream's subscriber */
    bool client_gone; /* the event stream ended because its client left */
    void *sse_conn;   /* and its transport (sse.c), freed with the request */
    bool gzip;        /* the body sent is gzip-encoded (logged as enc=gzip) */
};

/* Matches r->path to an endpoint (route.c): sets r->endpoint, r->route
 * and r->raw. */
void http_route_match(http_req *r);
/* Decodes and validates the matched parameters into r->kind, r->name,
 * r->version, r->file_path and r->sha; fails the request (400) when one is
 * bad. */
bool http_route_params(http_req *r);

/* libmicrohttpd's callbacks (http.c): the access handler, the completion
 * notice, and the unescaper that leaves the URL as sent. */
enum MHD_Result http_access(void *cls, struct MHD_Connection *c, const char *url,
                            const char *method, const char *version, const char *data, size_t *size,
                            void **con_cls);
void http_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                    enum MHD_RequestTerminationCode toe);
size_t http_unescape_none(void *cls, struct MHD_Connection *c, char *s);
/* MHD_OPTION_URI_LOG_CALLBACK: allocates the request (cls is the http_server) and
 * notes the target's length as a C string, to refuse a NUL byte in it. */
void *http_uri_log(void *cls, const char *uri, struct MHD_Connection *c);

/* Request-level accessors (http.c). */
const char *http_header(http_req *r, const char *name);
/* Whether the client accepts a gzip body (Accept-Encoding). */
bool http_accepts_gzip(http_req *r);
/* A query argument, percent-decoded; NULL when absent or malformed.
 * The caller frees the result. */
char *http_query(http_req *r, const char *name);

/* ---- replies (reply.c) ----------------------------------------------- */

/* Every reply sets r->responded, r->status and r->bytes, and returns what
 * the access handler returns to MHD.  Bodies passed in are taken over. */
enum MHD_Result http_reply_json(http_req *r, unsigned status, cd_buf *body);
enum MHD_Result http_reply_error(http_req *r, unsigned status, const char *code, const char *fmt,
                                 ...) CD_PRINTF(4, 5);
/* An error whose object carries one more member: `"key": json`. */
enum MHD_Result http_reply_error_extra(http_req *r, unsigned status, const char *code,
                                       const char *msg, const char *key, const char *json);
enum MHD_Result http_reply_empty(http_req *r, unsigned status);
enum MHD_Result http_reply_text(http_req *r, unsigned status, const char *ctype, cd_buf *body);
/* Queues resp (adding the common headers) with status; drops our
 * reference. */
enum MHD_Result http_reply_response(http_req *r, unsigned status, struct MHD_Response *resp,
                                    uint64_t bytes);
/* Decides an error while the body is still to come: replied now when that
 * is safe, else after the body has been read and dropped (see reply.c).
 * code must be a string literal (it is kept by reference). */
void http_fail(http_req *r, unsigned status, const char *code, const char *fmt, ...)
    CD_PRINTF(4, 5);
/* Maps a catalog / blob store status to an error reply. */
enum MHD_Result http_reply_cat_error(http_req *r, catalog_status status, const cd_err *err);
enum MHD_Result http_reply_blob_error(http_req *r, blob_status status, const cd_err *err);

/* ---- CORS (cors.c) --------------------------------------------------- */

/* Whether o has the form of an origin: http(s)://HOST[:PORT], nothing more. */
bool http_cors_origin_valid(const char *o);
/* Adds the CORS headers of r's reply (Vary: Origin while CORS is on, and
 * Access-Control-Allow-Origin for an allowed Origin). */
void http_cors_headers(http_req *r, struct MHD_Response *resp);
/* Answers an OPTIONS request to a known route: 204 with Allow, and the
 * preflight's Access-Control-Allow-* headers for an allowed origin. */
enum MHD_Result http_cors_preflight(http_req *r);

/* ---- JSON helpers (json.c) ------------------------------------------- */

/* Parses the request body as a JSON object; replies 400 and returns NULL
 * when it is not one.  The caller frees the result with json_decref(). */
json_t *http_json_body(http_req *r);

/* ---- auth (auth.c) --------------------------------------------------- */

/* Authenticates r: on success sets r->user and returns true; else replies
 * (401/503) through http_fail and returns false.  With allow_query_token, a
 * share link (?link=TOKEN, or a token starting HTTP_LINK_PREFIX) is taken
 * as it is: r->link_sha256 is set, r->user stays NULL, and the handler
 * checks the link. */
bool http_auth(http_req *r, bool allow_query_token);
/* Whether requests need a token: once any token exists, always.  Returns
 * HTTP_OK, or HTTP_UNAVAILABLE / HTTP_ERROR when the catalog cannot tell. */
http_status http_auth_required(http_server *s, bool *yes) CD_WUR;
/* Creates a token for user: *token (the caller frees it) is shown once,
 * only its SHA-256 is stored.  HTTP_UNAVAILABLE when the catalog cannot be
 * reached, HTTP_ERROR on any other failure (err says what). */
http_status http_token_create(catalog *cat, const char *user, char **token, cd_err *err) CD_WUR;
bool http_user_valid(const char *user);
/* A new random secret: prefix and 43 base64url digits (32 bytes); NULL when
 * no random bytes can be had.  The caller frees it. */
char *http_secret_new(const char *prefix);
#define HTTP_LINK_PREFIX "cdl_"

/* ---- event streams (sse.c) ------------------------------------------ */

/* Streams sub's events as r's response (text/event-stream); sub must be
 * subscribed.  On failure sub is taken out of the hub. */
enum MHD_Result http_sse_start(http_req *r, hub_sub *sub);
/* A subscriber of h whose transport is r's connection. */
hub_sub *http_sse_sub(http_req *r, hub *h);
/* Completion of an event stream's request: detaches its subscriber. */
void http_sse_completed(http_req *r);
/* The closed-stream watcher (sse_close.c).  NULL on failure, with err
 * filled. */
http_sse_close *http_sse_close_new(cd_err *err);
void http_sse_close_free(http_sse_close *w);
/* Watches the socket fd of sub for the client hanging up (until
 * forgotten); false when it could not. */
bool http_sse_close_watch(http_sse_close *w, hub_sub *sub, int fd);
/* Stops watching; after it returns the watcher never touches sub again. */
void http_sse_close_forget(http_sse_close *w, hub_sub *sub, int fd);
/* How many streams ended because their client hung up. */
uint64_t http_sse_close_hangups(http_sse_close *w);
/* Bytes of event streams handed to the sockets. */
uint64_t http_sse_bytes(void);

/* ---- request metrics (http.c) ----------------------------------------- */

/* Requests by route label and status (http_statuses[i], 0 is any other),
 * and their durations by route label. */
#define HTTP_STATUSES 16
extern const unsigned http_statuses[HTTP_STATUSES];
uint64_t http_requests(unsigned route, int status_index);
const cd_histo *http_request_time(unsigned route);

/* ---- logging ---------------------------------------------------------- */

/* libmicrohttpd's own messages, logged through cd_log(). */
void http_log_mhd(void *cls, const char *fmt, va_list ap) CD_PRINTF(2, 0);

/* ---- paths and escapes (paths.c) ------------------------------------ */

/* Percent-decodes s[0..n) into a new NUL-terminated string (the caller
 * frees it); false on a malformed escape or an escaped NUL. */
bool http_pct_decode(const char *s, size_t n, char **out, size_t *out_len);

#endif
