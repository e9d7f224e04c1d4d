/* SPDX-License-Identifier: MIT */
/*
 * s3 — a client for S3-compatible object storage (AWS S3, Cloudflare R2,
 * Tigris, MinIO, Ceph RGW, s3rver) on libcurl, signing every request with
 * AWS Signature Version 4 (CURLOPT_AWS_SIGV4, with the payload's real
 * SHA-256 in x-amz-content-sha256).  One client talks to one bucket.
 *
 * What it does: PUT from a buffer or a file (multipart above a threshold,
 * parts in parallel, aborted on failure), GET to a buffer, a file or a
 * callback (whole or a byte range), HEAD, DELETE, ListObjectsV2 with
 * pagination, and batches of small operations run in parallel with a
 * bounded number in flight.  Every operation retries transient failures
 * (5xx, 429/SlowDown, timeouts, stalls, connection resets) with exponential
 * backoff and jitter under an overall deadline; other 4xx fail at once.
 * Connections are kept alive and reused between operations.
 *
 * Thread-safe: any number of threads may use one client at once (each
 * operation borrows a connection set from the client's pool).  Functions
 * return 0 or a negative s3_status and fill err with one sentence naming the
 * operation, the key, the HTTP status and the S3 error code.
 */
#ifndef CONTENTD_S3_H
#define CONTENTD_S3_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"

typedef enum s3_status {
    S3_OK = 0,
    S3_NOT_FOUND = -1,   /* 404: NoSuchKey, NoSuchUpload */
    S3_UNAVAILABLE = -2, /* transient failures outlasted the retries or the deadline */
    S3_DENIED = -3,      /* 401/403: AccessDenied, SignatureDoesNotMatch, … */
    S3_ERROR = -4,       /* any other refusal, a local I/O error, bad input */
    S3_NO_BUCKET = -5,   /* 404 NoSuchBucket: the bucket itself is missing */
} s3_status;

/* How to reach the bucket and how hard to try.  Zero/NULL fields take the
 * defaults named beside them; s3_config_from_env() fills the credentials and
 * the tuning knobs from the environment.  Strings are borrowed: the client
 * copies what it keeps. */
typedef struct s3_config {
    const char *endpoint; /* "https://host[:port]"; no scheme means https */
    const char *bucket;
    const char *region;           /* NULL: "us-east-1"; "auto" for R2 and Tigris */
    bool path_style;              /* ENDPOINT/BUCKET/KEY instead of BUCKET.ENDPOINT/KEY */
    const char *access_key;       /* AWS_ACCESS_KEY_ID */
    const char *secret_key;       /* AWS_SECRET_ACCESS_KEY */
    const char *session_token;    /* AWS_SESSION_TOKEN, or NULL */
    uint64_t multipart_threshold; /* 8 MiB: larger uploads are multipart */
    uint64_t part_size;           /* 8 MiB (at least 5 MiB on AWS) */
    int parallel;                 /* 4: transfers in flight in one operation */
    int max_attempts;             /* 5: tries of one request, the first included */
    long backoff_base_ms;         /* 100: the first retry waits up to this */
    long backoff_max_ms;          /* 5000: no wait is longer */
    long deadline_ms;             /* 300000: an operation gives up after this */
    long connect_timeout_ms;      /* 10000 */
    long stall_timeout_ms;        /* 30000: an attempt that moves no byte this long is retried */
} s3_config;

/* Fills the credentials of cfg from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY
 * and AWS_SESSION_TOKEN, and the tuning knobs from CONTENTD_S3_PART_SIZE,
 * CONTENTD_S3_MULTIPART_THRESHOLD, CONTENTD_S3_PARALLEL,
 * CONTENTD_S3_MAX_ATTEMPTS, CONTENTD_S3_DEADLINE_MS and
 * CONTENTD_S3_STALL_TIMEOUT_MS when they are set.  The strings point into
 * the environment (valid while it is not changed).  Returns S3_ERROR with err
 * filled when a tuning variable is malformed. */
s3_status s3_config_from_env(s3_config *cfg, cd_err *err) CD_WUR;

typedef struct s3_client s3_client;

/* Creates a client (no request is sent).  Returns NULL and fills err when the
 * configuration is unusable (no bucket, no credentials, a bad endpoint).
 * Release with s3_client_free(). */
s3_client *s3_client_new(const s3_config *cfg, cd_err *err);
void s3_client_free(s3_client *c);

/* What HEAD (and a finished GET) reports of an object. */
typedef struct s3_object_info {
    uint64_t size;
    char etag[80]; /* as the server sent it, quotes included */
} s3_object_info;

/* HEAD of the bucket: S3_OK when it exists and the credentials may use it,
 * S3_NO_BUCKET when it does not exist.  A refusal is asked again as a GET,
 * whose answer names the reason (a HEAD answer has no body). */
s3_status s3_head_bucket(s3_client *c, cd_err *err) CD_WUR;

/* HEAD of key: S3_NOT_FOUND when there is no such object (a 404 to a HEAD
 * cannot tell a missing bucket from a missing key).  A refusal is explained
 * as s3_head_bucket() does.  info may be NULL. */
s3_status s3_head(s3_client *c, const char *key, s3_object_info *info, cd_err *err) CD_WUR;

/* Uploads n bytes at p as key in one PUT (the buffer is streamed, not
 * copied).  content_type may be NULL. */
s3_status s3_put_buffer(s3_client *c, const char *key, const void *p, size_t n,
                        const char *content_type, cd_err *err) CD_WUR;

/* Uploads the first size bytes of the open file fd as key, read with
 * pread() (fd's offset is not used).  sha256 is the lower-case hex SHA-256
 * of those bytes when the caller knows it, else NULL (it is computed).  Above
 * the multipart threshold the upload is multipart: parts travel in parallel,
 * and a failed upload is aborted so that no part is left behind.  The fd
 * stays the caller's. */
s3_status s3_put_fd(s3_client *c, const char *key, int fd, uint64_t size, const char *sha256,
                    const char *content_type, cd_err *err) CD_WUR;

/* Receives the bytes of a GET: returns 0 to go on, non-zero to stop the
 * transfer (the GET then fails with S3_ERROR). */
typedef int (*s3_sink_fn)(void *arg, const void *p, size_t n);

/* GET of key, or of the bytes [offset, offset+length) of it when length > 0
 * (a range past the end is cut short by the server).  The bytes go to sink in
 * order and exactly once: a retry after some bytes arrived resumes from the
 * next byte with a Range request.  info (may be NULL) receives the object's
 * total size and ETag. */
s3_status s3_get(s3_client *c, const char *key, uint64_t offset, uint64_t length, s3_sink_fn sink,
                 void *arg, s3_object_info *info, cd_err *err) CD_WUR;

/* GET of key into out (replacing its contents; out stays the caller's). */
s3_status s3_get_buffer(s3_client *c, const char *key, cd_buf *out, cd_err *err) CD_WUR;

/* GET of key into the open file fd, written from fd's current offset. */
s3_status s3_get_fd(s3_client *c, const char *key, int fd, s3_object_info *info,
                    cd_err *err) CD_WUR;

/* DELETE of key.  Deleting a missing key is not an error (S3 says 204). */
s3_status s3_delete(s3_client *c, const char *key, cd_err *err) CD_WUR;

/* One object of a listing; key and etag are valid during the callback. */
typedef struct s3_list_entry {
    const char *key;
    uint64_t size;
    const char *etag;
} s3_list_entry;

/* ListObjectsV2 of the keys under prefix (NULL or "" for all) that sort
 * after start_after (may be NULL), page_size keys a request (0: 1000),
 * following continuation tokens to the end.  cb gets every key in order; a
 * non-zero return stops the listing (s3_list still returns S3_OK). */
s3_status s3_list(s3_client *c, const char *prefix, const char *start_after, int page_size,
                  int (*cb)(void *arg, const s3_list_entry *e), void *arg, cd_err *err) CD_WUR;

/* One operation of a batch. */
typedef enum s3_op_kind {
    S3_OP_PUT_BUFFER, /* data, len */
    S3_OP_PUT_FILE,   /* path (uploads of files above the threshold run one by one, multipart) */
    S3_OP_GET_BUFFER, /* out */
    S3_OP_GET_FILE,   /* path (created or truncated) */
    S3_OP_HEAD,       /* info */
    S3_OP_DELETE,
} s3_op_kind;

typedef struct s3_op {
    s3_op_kind kind;
    const char *key;
    const void *data; /* PUT_BUFFER */
    size_t len;
    const char *path;   /* PUT_FILE, GET_FILE */
    const char *sha256; /* PUT_*: the payload's hash if known, else NULL */
    cd_buf *out;        /* GET_BUFFER: replaced by the object (the caller's) */
    /* Results, filled by s3_run_batch(). */
    s3_status status;
    s3_object_info info;
    cd_err err;
} s3_op;

/* Runs the n operations with at most cfg->parallel in flight, each with its
 * own retries and deadline.  Returns S3_OK when all succeeded, else the
 * status of the first failed one, whose message goes to err. */
s3_status s3_run_batch(s3_client *c, s3_op *ops, size_t n, cd_err *err) CD_WUR;

/* The SigV4 URI encoding of s (every byte but A-Z a-z 0-9 - _ . ~ as %XX,
 * upper-case hex; '/' kept when keep_slash) appended to out. */
void s3_uri_encode(cd_buf *out, const char *s, bool keep_slash);

#endif
