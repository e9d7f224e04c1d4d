/* SPDX-License-Identifier: MIT */
/*
 * The blob store commands of s3_tool: they go through the blobstore ops
 * table exactly as the server does (streaming put in chunks, reads through
 * a reader), on the S3 backend.
 */
#include "s3_tool.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHUNK 65536

static int blob_put(blobstore *bs, const char *sha, const char *path, cd_err *e)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cd_err_set(e, BLOB_ERROR, "cannot open %s", path);
    blob_writer *w = NULL;
    int rc = blobstore_put_begin(bs, sha, -1, &w, e);
    char *buf = malloc(CHUNK);
    ssize_t got;
    while (rc == 0 && (got = read(fd, buf, CHUNK)) > 0)
        rc = blobstore_put_write(bs, w, buf, (size_t)got, e);
    if (w && rc == 0)
        rc = blobstore_put_finish(bs, w, e);
    else if (w)
        blobstore_put_abort(bs, w);
    free(buf);
    close(fd);
    return rc;
}

/* Reads the blob in odd-sized chunks, as a server answering ranges would. */
static int blob_get(blobstore *bs, const char *sha, const char *path, cd_err *e)
{
    blob_reader *r = NULL;
    int64_t size = 0;
    int rc = blobstore_open(bs, sha, &r, &size, e);
    if (rc)
        return rc;
    FILE *out = strcmp(path, "-") ? fopen(path, "wb") : stdout;
    char *buf = malloc(CHUNK + 7);
    uint64_t off = 0;
    while (out && off < (uint64_t)size) {
        ssize_t got = blobstore_read(bs, r, off, buf, CHUNK + 7);
        if (got <= 0) {
            rc = cd_err_set(e, BLOB_ERROR, "read at %" PRIu64 " failed", off);
            break;
        }
        fwrite(buf, 1, (size_t)got, out);
        off += (uint64_t)got;
    }
    if (!out)
        rc = cd_err_set(e, BLOB_ERROR, "cannot create %s", path);
    else if (out != stdout)
        fclose(out);
    free(buf);
    blobstore_close_reader(bs, r);
    return rc;
}

static int object_put(blobstore *bs, const char *key, const char *path, cd_err *e)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return cd_err_set(e, BLOB_ERROR, "cannot open %s", path);
    cd_buf b = CD_BUF_INIT;
    int bad = cd_buf_read(&b, f, 0);
    fclose(f);
    int rc = bad ? cd_err_set(e, BLOB_ERROR, "cannot read %s", path)
                 : blobstore_put_object(bs, key, b.data ? b.data : "", b.len, e);
    cd_buf_free(&b);
    return rc;
}

static int print_manifest(void *arg, const char *kind, const char *name, int64_t version,
                          const char *json, size_t len)
{
    printf("%s %s %" PRId64 " %zu\n", kind, name, version, len);
    return 0;
}

int blob_command(const s3_config *cfg, const char *cmd, int argc, char **argv, cd_err *e)
{
    blobstore *bs = blobstore_open_s3(cfg->endpoint, cfg->bucket, cfg->region, cfg->path_style, e);
    if (!bs)
        return BLOB_ERROR;
    int rc;
    bool present = false;
    cd_buf out = CD_BUF_INIT;
    if (!strcmp(cmd, "manifests")) {
        rc = blobstore_each_manifest(bs, print_manifest, NULL, e);
    } else if (argc < 1) {
        rc = cd_err_set(e, BLOB_ERROR, "%s needs an argument", cmd);
    } else if (!strcmp(cmd, "blob-has")) {
        if ((rc = blobstore_has(bs, argv[0], &present, e)) == 0)
            printf("%s\n", present ? "present" : "absent");
    } else if (!strcmp(cmd, "object-get")) {
        if ((rc = blobstore_get_object(bs, argv[0], &out, e)) == 0)
            fwrite(out.data, 1, out.len, stdout);
    } else if (argc < 2) {
        rc = cd_err_set(e, BLOB_ERROR, "%s needs two arguments", cmd);
    } else if (!strcmp(cmd, "blob-put")) {
        rc = blob_put(bs, argv[0], argv[1], e);
    } else if (!strcmp(cmd, "blob-get")) {
        rc = blob_get(bs, argv[0], argv[1], e);
    } else if (!strcmp(cmd, "object-put")) {
        rc = object_put(bs, argv[0], argv[1], e);
    } else {
        rc = cd_err_set(e, BLOB_ERROR, "unknown command %s", cmd);
    }
    cd_buf_free(&out);
    blobstore_close(bs);
    fflush(stdout);
    return rc;
}
