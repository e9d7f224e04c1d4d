/* SPDX-License-Identifier: MIT */
/*
 * Parallel blob uploads: PUT /api/v1/blobs/SHA for each missing blob, a
 * bounded number at a time on one curl multi handle, whose connection
 * cache keeps the connections alive from one blob to the next.  The file
 * is streamed from disk (never held in memory); the server hashes what
 * arrives and keeps nothing whose digest differs, so a file edited since
 * it was hashed is refused, and reported as such.
 *
 * The first failure (or Ctrl-C) abandons the others: the caller never
 * commits unless every blob was acknowledged, and blobs that did arrive
 * stay on the server for the next push, which does not send them again.
 */
#include "cli_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct slot {
    CURL *easy;
    char errbuf[CURL_ERROR_SIZE];
    const folder_file *file;
    int fd;
    int64_t read_bytes;      /* sent so far, for the progress bar */
    bool short_read;         /* the file shrank since it was hashed */
    struct curl_slist *hdrs; /* this transfer's headers, when not the shared ones */
    cd_buf body;             /* the answer, shown if it is an error */
} slot;

typedef struct uploader {
    cli_http *h;
    CURLM *multi;
    slot *slots;
    unsigned nslots;
    const folder_file *files;
    const size_t *idx;
    size_t n, next, done;
    int64_t acked;
    cli_progress *progress;
} uploader;

static size_t read_file(char *buf, size_t size, size_t nitems, void *arg)
{
    slot *s = arg;
    size_t want = size * nitems;
    int64_t left = s->file->size - s->read_bytes;
    if ((int64_t)want > left)
        want = (size_t)left;
    ssize_t n;
    do
        n = read(s->fd, buf, want);
    while (n < 0 && errno == EINTR);
    if (n < 0 || (n == 0 && want > 0)) {
        s->short_read = true;
        return CURL_READFUNC_ABORT;
    }
    s->read_bytes += n;
    return (size_t)n;
}

static size_t write_body(char *p, size_t size, size_t nmemb, void *arg)
{
    slot *s = arg;
    if (s->body.len < 65536)
        cd_buf_append(&s->body, p, size * nmemb);
    return size * nmemb;
}

/* Starts the next upload in slot s; -1 (err) if its file cannot be read. */
static int start(uploader *u, slot *s, cd_err *err)
{
    const folder_file *f = &u->files[u->idx[u->next++]];
    s->fd = open(f->src, O_RDONLY | O_CLOEXEC);
    if (s->fd < 0)
        return cd_err_set(err, -1, "cannot read %s: %s", f->path, strerror(errno));
    s->file = f;
    s->read_bytes = 0;
    s->short_read = false;
    cd_buf_reset(&s->body);
    cli_http_blob_put_options(u->h, s->easy, s->errbuf, f->path, &s->hdrs);
    char path[96];
    snprintf(path, sizeof path, "/api/v1/blobs/%s", f->sha256);
    char *url = cli_http_url(u->h, path);
    curl_easy_setopt(s->easy, CURLOPT_URL, url); /* libcurl copies it */
    free(url);
    curl_easy_setopt(s->easy, CURLOPT_INFILESIZE_LARGE, (curl_off_t)f->size);
    curl_easy_setopt(s->easy, CURLOPT_READFUNCTION, read_file);
    curl_easy_setopt(s->easy, CURLOPT_READDATA, s);
    curl_easy_setopt(s->easy, CURLOPT_WRITEFUNCTION, write_body);
    curl_easy_setopt(s->easy, CURLOPT_WRITEDATA, s);
    curl_easy_setopt(s->easy, CURLOPT_PRIVATE, s);
    curl_multi_add_handle(u->multi, s->easy);
    return 0;
}

static void stop(uploader *u, slot *s)
{
    if (!s->file)
        return;
    curl_multi_remove_handle(u->multi, s->easy);
    curl_slist_free_all(s->hdrs);
    s->hdrs = NULL;
    close(s->fd);
    s->fd = -1;
    s->file = NULL;
}

/* The outcome of the finished transfer in s: 0 when acknowledged. */
static int finished(uploader *u, slot *s, CURLcode rc, cd_err *err)
{
    const char *path = s->file->path;
    if (s->short_read)
        return cd_err_set(err, CLI_ERR_TRANSIENT, "%s changed while it was being pushed", path);
    if (rc != CURLE_OK)
        return cli_http_curl_fail(u->h, s->easy, rc, s->errbuf, err);
    long status = 0;
    curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
    if (status >= 200 && status < 300) {
        u->done++;
        u->acked += s->file->size;
        return 0;
    }
    cli_reply r = {0};
    cd_err why;
    cli_http_status_fail(status, &s->body, &r, &why);
    bool changed = !strcmp(r.code, "digest_mismatch");
    cli_reply_clear(&r);
    if (changed)
        return cd_err_set(err, CLI_ERR_TRANSIENT, "%s changed while it was being pushed", path);
    cd_err_set(err, why.code, "uploading %s: %s", path, why.msg);
    return -1;
}

/* Handles every finished transfer, starting the next uploads in the freed
 * slots.  -1 (err) on the first failure. */
static int reap(uploader *u, cd_err *err)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(u->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        slot *s = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
        CURLcode rc = msg->data.result;
        int frc = finished(u, s, rc, err);
        stop(u, s);
        if (frc != 0)
            return -1;
        if (u->next < u->n && start(u, s, err) != 0)
            return -1;
    }
    return 0;
}

static int64_t in_flight(const uploader *u)
{
    int64_t b = u->acked;
    for (unsigned i = 0; i < u->nslots; i++)
        if (u->slots[i].file)
            b += u->slots[i].read_bytes;
    return b;
}

static int run(uploader *u, cd_err *err)
{
    for (unsigned i = 0; i < u->nslots && u->next < u->n; i++)
        if (start(u, &u->slots[i], err) != 0)
            return -1;
    while (u->done < u->n) {
        int running = 0;
        CURLMcode mc = curl_multi_perform(u->multi, &running);
        if (mc != CURLM_OK)
            return cd_err_set(err, CLI_ERR_TRANSIENT, "upload failed: %s", curl_multi_strerror(mc));
        if (reap(u, err) != 0)
            return -1;
        if (cli_interrupted())
            return cd_err_set(err, CLI_ERR_TRANSIENT, "interrupted");
        cli_progress_update(u->progress, u->done, in_flight(u));
        if (u->done < u->n)
            curl_multi_poll(u->multi, NULL, 0, 100, NULL);
    }
    return 0;
}

int cli_upload(cli_http *h, const folder_file *files, const size_t *idx, size_t n,
               unsigned parallel, int64_t *sent, cd_err *err)
{
    int64_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += files[idx[i]].size;
    uploader u = {.h = h, .files = files, .idx = idx, .n = n};
    u.nslots = parallel ? parallel : 1;
    if (u.nslots > n) /* a save of one file: one handle, not a pool of them */
        u.nslots = n ? (unsigned)n : 1;
    u.multi = curl_multi_init();
    curl_multi_setopt(u.multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)u.nslots);
    curl_multi_setopt(u.multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)u.nslots);
    u.slots = cd_xcalloc(u.nslots, sizeof *u.slots);
    for (unsigned i = 0; i < u.nslots; i++) {
        u.slots[i].easy = cli_http_easy(h, u.slots[i].errbuf);
        u.slots[i].fd = -1;
    }
    u.progress = cli_progress_new("uploading", n, total);
    int rc = run(&u, err);
    cli_progress_end(u.progress);
    for (unsigned i = 0; i < u.nslots; i++) {
        stop(&u, &u.slots[i]);
        curl_easy_cleanup(u.slots[i].easy);
        cd_buf_free(&u.slots[i].body);
    }
    free(u.slots);
    curl_multi_cleanup(u.multi);
    *sent = u.acked;
    return rc;
}
