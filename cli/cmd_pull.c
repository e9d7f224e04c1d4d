/* SPDX-License-Identifier: MIT */
/*
 * `content pull KIND/NAME [DIR]`: the item's current version into DIR.
 *
 * Every file is fetched at that one version (?version=N, so a push landing
 * meanwhile cannot mix two versions), checked against its SHA-256 and
 * size, written to a temporary file and renamed into place: a reader of
 * DIR sees the old file or the new one, never half of one.  Paths are
 * checked against the CONTRACT's rules before anything is written, and
 * folders are entered with O_NOFOLLOW from DIR down, so no path — nor a
 * symlink already in DIR — can make a file land outside DIR.  Files that
 * already hold the right bytes are not downloaded again; local files that
 * the version does not list are left alone.
 */
#include "cli_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char pull_help[] =
    "usage: content pull KIND/NAME [DIR]\n"
    "\n"
    "Downloads the current version of KIND/NAME into DIR (default ./NAME),\n"
    "creating subfolders.  Each file is verified against its SHA-256 and\n"
    "replaced atomically; files already up to date are not downloaded again.\n"
    "Local files the version does not list are left in place.\n"
    "\n"
    "  --server URL, --token TOKEN, --output text|json   (see content --help)\n";

typedef struct pull {
    cli_http *h;
    char kind[CD_KIND_MAX], name[CD_NAME_MAX];
    const char *dir;
    int rootfd;
    int64_t version;
    size_t nfiles, fetched;
    int64_t bytes;
    cd_err err;
} pull;

typedef struct sink_state {
    int fd;
    cd_sha256 *md;
    int64_t got, want;
    int werrno; /* a failed write's errno */
} sink_state;

static int sink(void *arg, const void *p, size_t n)
{
    sink_state *s = arg;
    s->got += (int64_t)n;
    if (s->got > s->want)
        return -1; /* more bytes than the file list says: refuse */
    cd_sha256_update(s->md, p, n);
    if (cd_write_all(s->fd, p, n) < 0) {
        s->werrno = errno;
        return -1;
    }
    return 0;
}

/* The folder holding path's last segment, opened from p->rootfd one
 * segment at a time (created as needed, symlinks refused).  Returns the
 * fd, or -1 with p->err set.  *base points into path. */
static int open_parent(pull *p, const char *path, const char **base)
{
    int fd = dup(p->rootfd);
    char *copy = cd_xstrdup(path);
    char *seg = copy;
    for (char *slash; fd >= 0 && (slash = strchr(seg, '/')) != NULL; seg = slash + 1) {
        *slash = '\0';
        int next = -1;
        if (mkdirat(fd, seg, 0777) == 0 || errno == EEXIST)
            next = openat(fd, seg, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (next < 0)
            cd_err_set(&p->err, -1, "cannot write %s: %s/%s is %s", path, p->dir, copy,
                       errno == ELOOP || errno == ENOTDIR ? "a symlink or not a folder"
                                                          : strerror(errno));
        close(fd);
        fd = next;
        *slash = '/';
    }
    *base = path + (seg - copy);
    free(copy);
    return fd;
}

/* Whether the file base in dirfd already holds sha256 (a regular file). */
static bool up_to_date(int dirfd, const char *base, const char *sha256)
{
    int fd = openat(dirfd, base, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return false;
    struct stat st;
    char hex[CD_SHA256_HEX];
    int64_t size;
    bool same = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && cd_sha256_fd(fd, hex, &size) == 0 &&
                !strcmp(hex, sha256);
    close(fd);
    return same;
}

/* Downloads path into the open temporary file s->fd; 0 when its bytes
 * are exactly the expected ones. */
static int download(pull *p, const char *path, const char *sha256, sink_state *s)
{
    char *esc = cli_http_escape_path(path);
    cd_buf url = CD_BUF_INIT;
    cd_buf_printf(&url, "/api/v1/content/%s/%s/files/%s?version=%lld", p->kind, p->name, esc,
                  (long long)p->version);
    free(esc);
    cli_reply r = {0};
    int rc = cli_http_download(p->h, url.data, sink, s, &r, &p->err);
    cli_reply_clear(&r);
    cd_buf_free(&url);
    char hex[CD_SHA256_HEX];
    cd_sha256_final(s->md, hex);
    s->md = NULL;
    if (s->werrno)
        return cd_err_set(&p->err, -1, "cannot write %s: %s", path, strerror(s->werrno));
    if (s->got > s->want || (rc == 0 && (s->got != s->want || strcmp(hex, sha256))))
        return cd_err_set(&p->err, -1, "%s: the downloaded bytes do not match its SHA-256", path);
    return rc;
}

/* One file of the version: skipped if up to date, else downloaded to a
 * temporary file and renamed over path. */
static int pull_file(pull *p, const char *path, const char *sha256, int64_t size)
{
    const char *base;
    int dirfd = open_parent(p, path, &base);
    if (dirfd < 0)
        return -1;
    if (up_to_date(dirfd, base, sha256)) {
        close(dirfd);
        return 0;
    }
    char tmp[64];
    snprintf(tmp, sizeof tmp, ".content-pull-%ld-%zu.tmp", (long)getpid(), p->fetched);
    sink_state s = {.want = size, .md = cd_sha256_new()};
    s.fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    int rc = s.fd < 0 ? cd_err_set(&p->err, -1, "cannot write %s: %s", path, strerror(errno))
                      : download(p, path, sha256, &s);
    if (s.fd >= 0 && close(s.fd) != 0 && rc == 0)
        rc = cd_err_set(&p->err, -1, "cannot write %s: %s", path, strerror(errno));
    if (rc == 0 && renameat(dirfd, tmp, dirfd, base) != 0)
        rc = cd_err_set(&p->err, -1, "cannot write %s: %s", path, strerror(errno));
    if (rc != 0 && s.fd >= 0)
        unlinkat(dirfd, tmp, 0);
    cd_sha256_free(s.md);
    close(dirfd);
    if (rc == 0)
        p->fetched++, p->bytes += size;
    return rc;
}

/* Every path of the list must be a valid content path: checked before
 * anything is written. */
static int check_paths(pull *p, json_t *files)
{
    size_t i;
    json_t *f;
    json_array_foreach(files, i, f)
    {
        const char *path = json_string_value(json_object_get(f, "path"));
        const char *sha = json_string_value(json_object_get(f, "sha256"));
        const char *why = path ? cli_path_problem(path, strlen(path)) : "no path";
        if (!why && (!sha || strlen(sha) != 64))
            why = "no SHA-256";
        if (why) {
            cd_buf shown = CD_BUF_INIT;
            cd_path_printable(&shown, path ? path : "?");
            cd_err_set(&p->err, -1, "refusing to pull %s/%s: the server lists '%s': %s", p->kind,
                       p->name, shown.data, why);
            cd_buf_free(&shown);
            return -1;
        }
    }
    return 0;
}

static int make_root(pull *p)
{
    if (mkdir(p->dir, 0777) != 0 && errno != EEXIST)
        return cd_err_set(&p->err, -1, "cannot create folder %s: %s", p->dir, strerror(errno));
    p->rootfd = open(p->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (p->rootfd < 0)
        return cd_err_set(&p->err, -1, "cannot open folder %s: %s", p->dir, strerror(errno));
    return 0;
}

static int pull_all(pull *p, json_t *item)
{
    json_t *files = json_object_get(item, "files");
    p->version = json_integer_value(json_object_get(item, "version"));
    if (!json_is_array(files))
        return cd_err_set(&p->err, -1, "the server's answer has no file list");
    if (check_paths(p, files) != 0 || make_root(p) != 0)
        return -1;
    p->nfiles = json_array_size(files);
    size_t i;
    json_t *f;
    int64_t total = 0, done = 0;
    json_array_foreach(files, i, f)
    {
        total += json_integer_value(json_object_get(f, "size"));
    }
    cli_progress *prog = cli_progress_new("pulling", p->nfiles, total);
    int rc = 0;
    json_array_foreach(files, i, f)
    {
        int64_t size = json_integer_value(json_object_get(f, "size"));
        rc = pull_file(p, json_string_value(json_object_get(f, "path")),
                       json_string_value(json_object_get(f, "sha256")), size);
        if (rc != 0)
            break;
        cli_progress_update(prog, i + 1, done += size);
    }
    cli_progress_end(prog);
    return rc;
}

static void report(const cli_config *cfg, const pull *p)
{
    if (cfg->output == CLI_OUT_JSON) {
        json_t *o = json_pack("{s:s, s:s, s:I, s:s, s:I, s:I, s:I}", "kind", p->kind, "name",
                              p->name, "version", (json_int_t)p->version, "dir", p->dir, "files",
                              (json_int_t)p->nfiles, "downloaded", (json_int_t)p->fetched, "bytes",
                              (json_int_t)p->bytes);
        char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        puts(s);
        free(s);
        json_decref(o);
        return;
    }
    char b[32];
    printf("pulled %s/%s version %lld into %s/ (%zu file%s, %zu downloaded, %s)\n", p->kind,
           p->name, (long long)p->version, p->dir, p->nfiles, p->nfiles == 1 ? "" : "s", p->fetched,
           cli_human_bytes((double)p->bytes, b));
}

static int parse(cli_config *cfg, int argc, char **argv, pull *p)
{
    cli_args a = {.cmd = "pull",
                  .usage = "content pull KIND/NAME [DIR]",
                  .help = pull_help,
                  .max_words = 2,
                  .id = true};
    int rc = cli_args_parse(cfg, argc, argv, NULL, &a);
    if (rc >= 0)
        return rc;
    memcpy(p->kind, a.kind, sizeof p->kind);
    memcpy(p->name, a.name, sizeof p->name);
    p->dir = a.n_words == 2 ? a.words[1] : p->name;
    return -1;
}

int cmd_pull(cli_config *cfg, int argc, char **argv)
{
    pull p = {.rootfd = -1};
    int rc = parse(cfg, argc, argv, &p);
    if (rc >= 0)
        return rc;
    if ((rc = cli_config_check(cfg, "pull")) != 0)
        return rc;
    cli_interrupt_install();
    p.h = cli_http_new(cfg);
    char path[128];
    snprintf(path, sizeof path, "/api/v1/content/%s/%s", p.kind, p.name);
    cli_reply r = {0};
    rc = cli_http_json(p.h, "GET", path, NULL, &r, &p.err);
    if (rc == 0)
        rc = pull_all(&p, r.json);
    if (rc == 0)
        report(cfg, &p);
    else
        cli_error("pull: %s", p.err.msg);
    cli_reply_clear(&r);
    cli_http_free(p.h);
    if (p.rootfd >= 0)
        close(p.rootfd);
    return rc == 0 ? CLI_OK : CLI_FAIL;
}
