/* SPDX-License-Identifier: MIT */
/*
 * Declarations shared by the files of s3/ and nothing else: the client's
 * body, one HTTP request to S3 (s3_req, set up in s3_xfer.c), the engine
 * that runs a set of them over a curl multi handle with retries
 * (s3_engine.c), the XML readers
 * (s3_xml.c) and multipart upload (s3_multipart.c).
 */
#ifndef CONTENTD_S3_INT_H
#define CONTENTD_S3_INT_H

#include "s3.h"

#include <pthread.h>

#include <curl/curl.h>

/* SHA-256 of the empty string: the payload hash of GET, HEAD and DELETE. */
#define S3_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* Longest error body kept for parsing (S3's are well under 1 KiB). */
#define S3_ERRBODY_MAX 65536

/* A connection set: one multi handle (its connection cache is what keeps
 * connections alive between operations) and the easy handles that run on it.
 * A lane serves one operation at a time; idle lanes wait in the client's
 * pool. */
typedef struct s3_lane {
    struct s3_lane *next;
    CURLM *multi;
    CURL **easy; /* cfg.parallel handles; the free ones are easy[0..n_free) */
    int n_free;
} s3_lane;

struct s3_client {
    s3_config cfg;  /* defaults applied; its strings point into the fields below */
    char *endpoint; /* "scheme://host[:port]" as configured, no trailing '/' */
    char *bucket;
    char *region;
    char *access_key;
    char *secret_key;
    char *session_token;
    char *url_base; /* the bucket's URL: path style ".../BUCKET", else "scheme://BUCKET.host" */
    char *sigv4;    /* "aws:amz:REGION:s3" */
    CURLSH *share;  /* DNS and TLS sessions shared by every lane */
    pthread_mutex_t share_lock[CURL_LOCK_DATA_LAST];
    pthread_mutex_t pool_lock;
    s3_lane *idle;
};

typedef enum s3_body_kind { S3_BODY_NONE, S3_BODY_BUF, S3_BODY_FD } s3_body_kind;
typedef enum s3_sink_kind { S3_SINK_DISCARD, S3_SINK_BUF, S3_SINK_FD, S3_SINK_FN } s3_sink_kind;

/* One S3 request and its state across attempts.  Set up with s3_req_init()
 * and the fields of the "request" group, run with s3_exec(), released with
 * s3_req_clear(). */
typedef struct s3_req {
    /* The request. */
    s3_client *client;
    const char *op;           /* the operation, for messages: "put", "get", … */
    const char *method;       /* "GET", "PUT", "POST", "DELETE", "HEAD" */
    const char *key;          /* NULL: the bucket itself */
    cd_buf query;             /* canonical (sorted, encoded) query, without '?' */
    const char *content_type; /* may be NULL */
    s3_body_kind body;
    const char *buf; /* S3_BODY_BUF */
    int fd;          /* S3_BODY_FD: bytes [off, off+len) of fd */
    uint64_t off, len;
    char sha[CD_SHA256_HEX];       /* the payload's SHA-256 (hex) */
    uint64_t range_off, range_len; /* GET of part of the object (range_len 0: to the end) */
    bool check_body; /* a 200 whose body is an <Error> fails (CompleteMultipartUpload) */
    s3_sink_kind sink;
    cd_buf *out;   /* S3_SINK_BUF, appended to */
    int out_fd;    /* S3_SINK_FD, written sequentially */
    s3_sink_fn fn; /* S3_SINK_FN */
    void *fn_arg;
    int64_t deadline; /* monotonic ms; the operation's end */

    /* State. */
    int attempts;
    int64_t not_before; /* monotonic ms: the next attempt waits until then */
    int64_t last_progress;
    curl_off_t last_bytes;
    uint64_t sent;     /* body bytes read by curl in this attempt */
    uint64_t got;      /* object bytes given to the sink, over every attempt */
    uint64_t resp_pos; /* object offset of the next byte of this response */
    bool resp_started;
    bool stalled, sink_failed, read_failed, done;
    bool empty_object; /* the answer said the object is empty (on_header) */
    CURL *easy;
    struct curl_slist *hdrs;
    char errbuf[CURL_ERROR_SIZE];
    char match_etag[80]; /* the ETag a resumed GET must still find (If-Match) */
    char problem[320];   /* the last failure, for the final message */

    /* The last response. */
    long http;
    char etag[80];
    char s3code[64];
    char s3msg[160];
    uint64_t content_length, total_size;
    bool have_total;
    long retry_after_ms;
    cd_buf errbody;

    /* The outcome. */
    s3_status status;
    cd_err err;
} s3_req;

/* Zeroes r for operation op (method, key) with the client's deadline from
 * now, an empty body, a discarded response and the empty payload hash. */
void s3_req_init(s3_req *r, s3_client *c, const char *op, const char *method, const char *key);
void s3_req_clear(s3_req *r);
/* Appends one name=value pair to r's query; pairs must be added in byte
 * order of their names (SigV4 canonical order; curl 7.88 does not sort).
 * value NULL gives "name=". */
void s3_req_query(s3_req *r, const char *name, const char *value);

/* Prepares easy handle e for the next attempt of r (s3_xfer.c). */
void s3_attempt_setup(s3_req *r, CURL *e, int64_t now);

/* Runs the n requests, at most parallel of them at once, each until it
 * succeeds or fails for good; every r->status and r->err is filled.  With
 * fail_fast, the first request to fail for good stops the others, which
 * then carry its status and message.  Returns the status of the first failed
 * request (by index), or S3_OK. */
s3_status s3_exec(s3_client *c, s3_req **reqs, size_t n, int parallel, bool fail_fast);

/* Runs one request and copies a failure's message to err. */
s3_status s3_exec1(s3_client *c, s3_req *r, cd_err *err);

/* The wait before attempt `attempt` + 1 (attempt >= 1): exponential from
 * base, capped at max, with "equal jitter" (uniformly random in its upper
 * half) drawn from rnd in [0, 1). */
long s3_backoff_ms(const s3_config *cfg, int attempt, double rnd);
/* Whether a response (HTTP status, S3 error code) is worth another try. */
bool s3_http_retryable(long http, const char *code);
/* Whether a transport error is worth another try. */
bool s3_curl_retryable(CURLcode rc);

/* What to check about a refusal (HTTP status, S3 error code, "" when the
 * answer had none), as a static sentence, or NULL when configuration is not
 * the likely cause (s3_explain.c). */
const char *s3_error_hint(long http, const char *code);
/* When rc, the outcome of a HEAD of key (NULL: the bucket), is S3_DENIED,
 * asks again with a GET of at most one byte and, when that refusal names an
 * error code, replaces err with its message.  Returns the status to report. */
s3_status s3_explain_head(s3_client *c, const char *op, const char *key, s3_status rc, cd_err *err);
/* SHA-256 (hex) of the bytes [off, off+len) of fd; -1 with errno on a read
 * error. */
int s3_sha256_fd(int fd, uint64_t off, uint64_t len, char out[CD_SHA256_HEX]);

/* XML readers (libxml2).  Every one takes the whole body. */

/* When body is an S3 <Error> document, copies its Code and Message (cut to
 * fit) and returns true. */
bool s3_xml_error(const char *body, size_t n, char *code, size_t code_n, char *msg, size_t msg_n);

/* One page of a ListObjectsV2 answer. */
typedef struct s3_list_page {
    s3_list_entry *entries; /* keys and etags owned by the page */
    size_t n;
    bool truncated;
    char *next_token; /* NextContinuationToken, or NULL */
} s3_list_page;

/* Parses a ListBucketResult; false when body is not one. */
bool s3_xml_list(const char *body, size_t n, s3_list_page *page);
void s3_list_page_clear(s3_list_page *page);

/* The UploadId of an InitiateMultipartUploadResult (free() it), or NULL. */
char *s3_xml_upload_id(const char *body, size_t n);

/* Multipart upload of the first size bytes of fd as key (s3_multipart.c). */
s3_status s3_multipart_put(s3_client *c, const char *key, int fd, uint64_t size,
                           const char *content_type, cd_err *err);

#endif
