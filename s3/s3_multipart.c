/* SPDX-License-Identifier: MIT */
/*
 * Multipart upload of a file: CreateMultipartUpload, the parts in parallel
 * (each with its own SHA-256, retries and the operation's one deadline),
 * then CompleteMultipartUpload.  The object appears only when Complete
 * succeeds, all at once; any failure on the way aborts the upload so that no
 * stored part is left behind to be billed.
 */
#include "s3_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PARTS 10000
#define MiB       (1024u * 1024u)

/* CreateMultipartUpload: *id receives the new upload's id (free() it). */
static int create_upload(s3_client *c, const char *key, const char *content_type, int64_t *deadline,
                         char **id, cd_err *err)
{
    s3_req r;
    cd_buf body = CD_BUF_INIT;
    s3_req_init(&r, c, "create-multipart", "POST", key);
    *deadline = r.deadline;
    s3_req_query(&r, "uploads", NULL);
    r.body = S3_BODY_BUF;
    r.buf = "";
    r.content_type = content_type ? content_type : "application/octet-stream";
    r.sink = S3_SINK_BUF;
    r.out = &body;
    int rc = s3_exec1(c, &r, err);
    if (rc == S3_OK) {
        *id = s3_xml_upload_id(body.data ? body.data : "", body.len);
        if (!*id)
            rc = cd_err_set(err, S3_ERROR,
                            "s3 create-multipart \"%.96s\": the answer carries no UploadId", key);
    }
    s3_req_clear(&r);
    cd_buf_free(&body);
    return rc;
}

/* AbortMultipartUpload, best effort: a failure leaves parts that the
 * bucket's lifecycle rule for incomplete uploads must clean. */
static void abort_upload(s3_client *c, const char *key, const char *id)
{
    s3_req r;
    s3_req_init(&r, c, "abort-multipart", "DELETE", key);
    s3_req_query(&r, "uploadId", id);
    cd_err ignored;
    (void)s3_exec1(c, &r, &ignored);
    s3_req_clear(&r);
}

static void xml_escape(cd_buf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '&')
            cd_buf_puts(b, "&amp;");
        else if (*s == '<')
            cd_buf_puts(b, "&lt;");
        else if (*s == '>')
            cd_buf_puts(b, "&gt;");
        else
            cd_buf_putc(b, *s);
    }
}

static int complete_upload(s3_client *c, const char *key, const char *id, s3_req *parts, size_t n,
                           int64_t deadline, cd_err *err)
{
    cd_buf xml = CD_BUF_INIT;
    cd_buf_puts(&xml, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CompleteMultipartUpload "
                      "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
    for (size_t i = 0; i < n; i++) {
        cd_buf_printf(&xml, "<Part><PartNumber>%zu</PartNumber><ETag>", i + 1);
        xml_escape(&xml, parts[i].etag);
        cd_buf_puts(&xml, "</ETag></Part>");
    }
    cd_buf_puts(&xml, "</CompleteMultipartUpload>");
    s3_req r;
    s3_req_init(&r, c, "complete-multipart", "POST", key);
    r.deadline = deadline;
    s3_req_query(&r, "uploadId", id);
    r.body = S3_BODY_BUF;
    r.buf = xml.data;
    r.len = xml.len;
    r.content_type = "application/xml";
    r.check_body = true; /* S3 may answer 200 and then an <Error> */
    cd_sha256_hex(xml.data, xml.len, r.sha);
    int rc = s3_exec1(c, &r, err);
    s3_req_clear(&r);
    cd_buf_free(&xml);
    return rc;
}

/* Sets up part i (0-based) of the upload; its payload hash is read from fd. */
static int part_init(s3_client *c, s3_req *r, const char *key, const char *id, int fd, uint64_t off,
                     uint64_t len, size_t i, int64_t deadline, cd_err *err)
{
    char num[24];
    snprintf(num, sizeof num, "%zu", i + 1);
    s3_req_init(r, c, "upload-part", "PUT", key);
    r->deadline = deadline;
    s3_req_query(r, "partNumber", num); /* before uploadId: byte order */
    s3_req_query(r, "uploadId", id);
    r->body = S3_BODY_FD;
    r->fd = fd;
    r->off = off;
    r->len = len;
    if (s3_sha256_fd(fd, off, len, r->sha) < 0)
        return cd_err_set(err, S3_ERROR, "s3 put \"%.96s\": cannot read part %zu of the file: %s",
                          key, i + 1, strerror(errno));
    return S3_OK;
}

s3_status s3_multipart_put(s3_client *c, const char *key, int fd, uint64_t size,
                           const char *content_type, cd_err *err)
{
    uint64_t part = c->cfg.part_size;
    if ((size + part - 1) / part > MAX_PARTS)
        part = ((size / MAX_PARTS) / MiB + 1) * MiB;
    size_t n = (size_t)((size + part - 1) / part);
    int64_t deadline;
    char *id = NULL;
    int rc = create_upload(c, key, content_type, &deadline, &id, err);
    if (rc)
        return rc;
    s3_req *parts = cd_xcalloc(n, sizeof *parts);
    s3_req **ptrs = cd_xcalloc(n, sizeof *ptrs);
    size_t ready = 0;
    for (; ready < n && rc == S3_OK; ready++) {
        uint64_t off = (uint64_t)ready * part;
        uint64_t len = size - off < part ? size - off : part;
        rc = part_init(c, &parts[ready], key, id, fd, off, len, ready, deadline, err);
        ptrs[ready] = &parts[ready];
    }
    if (rc == S3_OK) {
        rc = s3_exec(c, ptrs, n, c->cfg.parallel, true);
        for (size_t i = 0; i < n && rc; i++)
            if (parts[i].status) {
                cd_err_set(err, parts[i].status, "%s", parts[i].err.msg);
                break;
            }
    }
    if (rc == S3_OK)
        rc = complete_upload(c, key, id, parts, n, deadline, err);
    if (rc != S3_OK)
        abort_upload(c, key, id);
    for (size_t i = 0; i < ready; i++)
        s3_req_clear(&parts[i]);
    free(parts);
    free(ptrs);
    free(id);
    return rc;
}
