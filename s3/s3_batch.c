/* SPDX-License-Identifier: MIT */
/*
 * Batches: many small operations run together on one lane, cfg.parallel in
 * flight, each with its own retries and deadline.  Uploads of files above
 * the multipart threshold do not fit in one request; they run after the
 * rest, one by one, each with its parts in parallel.
 */
#include "s3_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct batch_item {
    s3_op *op;
    s3_req req;
    int fd;
    uint64_t size;
    bool big;     /* a multipart upload, run on its own */
    bool started; /* req holds a request to run */
} batch_item;

static int local_fail(s3_op *op, const char *what)
{
    int e = errno;
    op->status = cd_err_set(&op->err, S3_ERROR, "s3 %s \"%.96s\": %s %s: %s",
                            op->kind == S3_OP_GET_FILE ? "get" : "put", op->key, what,
                            op->path ? op->path : "", strerror(e));
    return op->status;
}

static int prepare_put_file(s3_client *c, batch_item *it)
{
    s3_op *op = it->op;
    it->fd = open(op->path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (it->fd < 0 || fstat(it->fd, &st) < 0)
        return local_fail(op, "cannot open");
    it->size = (uint64_t)st.st_size;
    if (it->size > c->cfg.multipart_threshold) {
        it->big = true;
        return S3_OK;
    }
    s3_req *r = &it->req;
    s3_req_init(r, c, "put", "PUT", op->key);
    it->started = true;
    r->body = S3_BODY_FD;
    r->fd = it->fd;
    r->len = it->size;
    if (op->sha256 && strlen(op->sha256) == 64)
        memcpy(r->sha, op->sha256, 65);
    else if (s3_sha256_fd(it->fd, 0, it->size, r->sha) < 0)
        return local_fail(op, "cannot read");
    return S3_OK;
}

/* Turns op into a request (or marks it as a big upload); a local failure
 * (a file that cannot be opened) fills op's status. */
static int prepare(s3_client *c, batch_item *it)
{
    s3_op *op = it->op;
    s3_req *r = &it->req;
    it->fd = -1;
    if (!op->key || !*op->key || strlen(op->key) > 1024)
        return op->status =
                   cd_err_set(&op->err, S3_ERROR, "s3: a batch key must be 1 to 1024 bytes");
    switch (op->kind) {
    case S3_OP_PUT_BUFFER:
        s3_req_init(r, c, "put", "PUT", op->key);
        r->body = S3_BODY_BUF;
        r->buf = op->data ? op->data : "";
        r->len = op->len;
        if (op->sha256 && strlen(op->sha256) == 64)
            memcpy(r->sha, op->sha256, 65);
        else
            cd_sha256_hex(r->buf, r->len, r->sha);
        break;
    case S3_OP_PUT_FILE:
        return prepare_put_file(c, it);
    case S3_OP_GET_BUFFER:
        s3_req_init(r, c, "get", "GET", op->key);
        cd_buf_reset(op->out);
        r->sink = S3_SINK_BUF;
        r->out = op->out;
        break;
    case S3_OP_GET_FILE:
        it->fd = open(op->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (it->fd < 0)
            return local_fail(op, "cannot create");
        s3_req_init(r, c, "get", "GET", op->key);
        r->sink = S3_SINK_FD;
        r->out_fd = it->fd;
        break;
    case S3_OP_HEAD:
        s3_req_init(r, c, "head", "HEAD", op->key);
        break;
    case S3_OP_DELETE:
        s3_req_init(r, c, "delete", "DELETE", op->key);
        break;
    }
    it->started = true;
    return S3_OK;
}

static void finish(batch_item *it)
{
    s3_op *op = it->op;
    s3_req *r = &it->req;
    if (it->started && !it->big) {
        if (op->status == S3_OK) { /* not a local failure before the request ran */
            op->status = r->status;
            if (r->status)
                op->err = r->err;
        }
        op->info.size = r->have_total ? r->total_size : r->content_length;
        snprintf(op->info.etag, sizeof op->info.etag, "%s", r->etag);
        if (op->kind == S3_OP_PUT_BUFFER || op->kind == S3_OP_PUT_FILE)
            op->info.size = r->len;
        s3_req_clear(r);
    }
    if (it->fd >= 0)
        close(it->fd);
}

s3_status s3_run_batch(s3_client *c, s3_op *ops, size_t n, cd_err *err)
{
    batch_item *items = cd_xcalloc(n ? n : 1, sizeof *items);
    s3_req **run = cd_xcalloc(n ? n : 1, sizeof *run);
    size_t nrun = 0;
    for (size_t i = 0; i < n; i++) {
        ops[i].status = S3_OK;
        ops[i].err.code = 0;
        ops[i].err.msg[0] = '\0';
        memset(&ops[i].info, 0, sizeof ops[i].info);
        items[i].op = &ops[i];
        if (prepare(c, &items[i]) == S3_OK && items[i].started)
            run[nrun++] = &items[i].req;
    }
    if (nrun)
        (void)s3_exec(c, run, nrun, c->cfg.parallel, false);
    for (size_t i = 0; i < n; i++) {
        batch_item *it = &items[i];
        if (it->big && it->op->status == S3_OK) {
            it->op->status = s3_multipart_put(c, it->op->key, it->fd, it->size, NULL, &it->op->err);
            it->op->info.size = it->size;
        }
        finish(it);
    }
    int rc = S3_OK;
    for (size_t i = 0; i < n && !rc; i++)
        if (ops[i].status)
            rc = cd_err_set(err, ops[i].status, "%s", ops[i].err.msg);
    free(items);
    free(run);
    return rc;
}
