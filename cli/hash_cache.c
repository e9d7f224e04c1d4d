/* SPDX-License-Identifier: MIT */
/*
 * The hashes of the last push of a folder, kept between runs so that the
 * next `content push` of the same folder reads only the files that changed
 * (as git's index does): one file per folder under
 * $XDG_CACHE_HOME/content/hashes/ (else ~/.cache/content/hashes/), named by
 * the SHA-256 of the folder's real path.  A line per file:
 *
 *   SHA256 SIZE DEV INO MTIME_NS CTIME_NS PATH
 *
 * after a first line `content-hashes 1 SCANNED_NS`.  The folder scan
 * (folder_scan()) reuses a hash only for the very same file — same path,
 * inode, size and times, and not modified within a second of the scan that
 * hashed it — so a file changed since is read again.  A cache that is
 * missing, unreadable or not in this format is ignored; one that cannot be
 * written is not kept.  Nothing here can fail a push.
 */
#include "cli_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAGIC "content-hashes 1"

/* The cache file of folder dir into out; false when there is no place. */
static bool cache_path(const char *dir, cd_buf *out)
{
    const char *env = getenv("CONTENT_HASH_CACHE");
    if (env && !strcmp(env, "0"))
        return false;
    char real[PATH_MAX];
    if (!realpath(dir, real))
        return false;
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (xdg && *xdg == '/')
        cd_buf_printf(out, "%s/content/hashes", xdg);
    else if (home && *home == '/')
        cd_buf_printf(out, "%s/.cache/content/hashes", home);
    else
        return false;
    cd_sha256 *md = cd_sha256_new();
    cd_sha256_update(md, real, strlen(real));
    char hex[CD_SHA256_HEX];
    cd_sha256_final(md, hex);
    cd_buf_printf(out, "/%s", hex);
    return true;
}

/* Parses one line into f (path copied); false when it is not one. */
static bool parse_line(char *line, folder_file *f)
{
    char sha[CD_SHA256_HEX];
    int64_t size, mtime, ctime;
    uint64_t dev, ino;
    int off = 0;
    if (sscanf(line, "%64s %" SCNd64 " %" SCNu64 " %" SCNu64 " %" SCNd64 " %" SCNd64 " %n", sha,
               &size, &dev, &ino, &mtime, &ctime, &off) != 6 ||
        off == 0 || !cd_sha_valid(sha) || !line[off])
        return false;
    memset(f, 0, sizeof *f);
    memcpy(f->sha256, sha, CD_SHA256_HEX);
    f->size = size;
    f->dev = dev;
    f->ino = ino;
    f->mtime_ns = mtime;
    f->ctime_ns = ctime;
    f->path = cd_xstrdup(line + off);
    return true;
}

void cli_hash_cache_load(const char *dir, folder_tree *out)
{
    memset(out, 0, sizeof *out);
    cd_buf path = CD_BUF_INIT;
    FILE *fp = cache_path(dir, &path) ? fopen(path.data, "re") : NULL;
    cd_buf_free(&path);
    if (!fp)
        return;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len = getline(&line, &cap, fp);
    long long scanned = 0;
    bool ok = len > 0 && sscanf(line, MAGIC " %lld", &scanned) == 1;
    out->scanned_ns = scanned;
    while (ok && (len = getline(&line, &cap, fp)) > 0) {
        if (line[len - 1] == '\n')
            line[len - 1] = '\0';
        out->files = cd_grow(out->files, out->n, &out->cap, 256, sizeof *out->files);
        ok = parse_line(line, &out->files[out->n]);
        out->n += ok;
        /* folder_scan() looks paths up by binary search */
        ok = ok &&
             (out->n < 2 || strcmp(out->files[out->n - 2].path, out->files[out->n - 1].path) < 0);
    }
    free(line);
    fclose(fp);
    if (!ok)
        folder_tree_clear(out);
}

/* mkdir -p of the folders of file path p (modified in place and restored). */
static void make_parents(char *p)
{
    for (char *s = strchr(p + 1, '/'); s; s = strchr(s + 1, '/')) {
        *s = '\0';
        if (mkdir(p, 0700) != 0 && errno != EEXIST) {
            *s = '/';
            return;
        }
        *s = '/';
    }
}

void cli_hash_cache_save(const char *dir, const folder_tree *t)
{
    cd_buf path = CD_BUF_INIT, tmp = CD_BUF_INIT, body = CD_BUF_INIT;
    if (!cache_path(dir, &path))
        goto out;
    cd_buf_printf(&body, MAGIC " %lld\n", (long long)t->scanned_ns);
    for (size_t i = 0; i < t->n; i++) {
        const folder_file *f = &t->files[i];
        cd_buf_printf(&body, "%s %" PRId64 " %" PRIu64 " %" PRIu64 " %" PRId64 " %" PRId64 " %s\n",
                      f->sha256, f->size, f->dev, f->ino, f->mtime_ns, f->ctime_ns, f->path);
    }
    make_parents(path.data);
    cd_buf_printf(&tmp, "%s.%ld.tmp", path.data, (long)getpid());
    int fd = open(tmp.data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        goto out;
    bool ok = cd_write_all(fd, body.data, body.len) >= 0;
    ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp.data, path.data) != 0)
        unlink(tmp.data);
out:
    cd_buf_free(&path);
    cd_buf_free(&tmp);
    cd_buf_free(&body);
}
