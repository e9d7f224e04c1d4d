/* SPDX-License-Identifier: MIT */
/*
 * The content folder as a file list (folder.h): every file the ignore
 * rules keep, with its content path checked against the CONTRACT's rules
 * and its SHA-256; and index.md's front matter.  A file that cannot be
 * pushed (a bad name, a symlink out of the folder) is reported by name, so
 * that `content push` says so before the server sees anything and
 * `serve --watch` refuses the folder until it changes.
 */
#include "folder.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "markdown.h"

#define MAX_DEPTH 256

typedef struct walk {
    const ignore_rules *ig;
    folder_tree *t;
    char *root_real; /* realpath of the folder */
    size_t root_len;
    struct {
        dev_t dev;
        ino_t ino;
    } stack[MAX_DEPTH]; /* the directories being walked, for link loops */
    size_t depth;
} walk;

static void problem(walk *w, const char *rel, const char *fmt, ...) CD_PRINTF(3, 4);

/* Records "<rel><fmt...>" as one line of t->problems. */
static void problem(walk *w, const char *rel, const char *fmt, ...)
{
    cd_path_printable(&w->t->problems, rel);
    va_list ap;
    va_start(ap, fmt);
    cd_buf_vprintf(&w->t->problems, fmt, ap);
    va_end(ap);
    cd_buf_putc(&w->t->problems, '\n');
    w->t->nproblems++;
}

static void add_file(folder_tree *t, const char *rel, const char *src, const struct stat *st)
{
    t->files = cd_grow(t->files, t->n, &t->cap, 64, sizeof *t->files);
    folder_file *f = &t->files[t->n++];
    memset(f, 0, sizeof *f);
    f->path = cd_xstrdup(rel);
    f->src = cd_xstrdup(src);
    f->size = st->st_size;
    f->dev = st->st_dev;
    f->ino = st->st_ino;
    f->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
    f->ctime_ns = (int64_t)st->st_ctim.tv_sec * 1000000000 + st->st_ctim.tv_nsec;
}

/* For the symlink at fs (content path rel): its resolved target in
 * *target (free with free()) and what it is in *st; false (the problem
 * recorded) when it may not be followed. */
static bool resolve_link(walk *w, const char *fs, const char *rel, char **target, struct stat *st)
{
    char text[PATH_MAX];
    ssize_t n = readlink(fs, text, sizeof text - 1);
    text[n > 0 ? n : 0] = '\0';
    cd_buf shown = CD_BUF_INIT;
    cd_path_printable(&shown, text);
    *target = realpath(fs, NULL);
    bool ok = false;
    if (!*target || stat(*target, st) != 0) {
        problem(w, rel, " -> %s: the symlink's target does not exist", shown.data);
    } else if (!cd_path_inside(*target, w->root_real, w->root_len)) {
        problem(w, rel, " -> %s: symlink points outside the folder", shown.data);
    } else {
        ok = true;
    }
    cd_buf_free(&shown);
    if (!ok) {
        free(*target);
        *target = NULL;
    }
    return ok;
}

static int walk_dir(walk *w, const char *fs, const char *rel, cd_err *err);

/* One directory entry: fs is its local path, rel its content path. */
static int walk_entry(walk *w, const char *fs, const char *rel, cd_err *err)
{
    struct stat st;
    if (lstat(fs, &st) != 0)
        return errno == ENOENT ? 0 : cd_err_set(err, -1, "cannot read %s: %s", fs, strerror(errno));
    bool link = S_ISLNK(st.st_mode);
    struct stat tst;
    bool is_dir = S_ISDIR(st.st_mode) || (link && stat(fs, &tst) == 0 && S_ISDIR(tst.st_mode));
    if (ignore_match(w->ig, rel, is_dir))
        return 0;
    const char *why = cd_path_why(rel, strlen(rel), true);
    if (why) {
        problem(w, rel, ": %s", why);
        return 0;
    }
    char *target = NULL;
    if (link && !resolve_link(w, fs, rel, &target, &st))
        return 0;
    int rc = 0;
    if (S_ISDIR(st.st_mode))
        rc = walk_dir(w, target ? target : fs, rel, err);
    else if (S_ISREG(st.st_mode))
        add_file(w->t, rel, target ? target : fs, &st);
    else
        w->t->nskipped++, cd_buf_printf(&w->t->skipped, "%s\n", rel);
    free(target);
    return rc;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The entry names of directory fs, sorted; free each and the array. */
static int list_dir(const char *fs, char ***names, size_t *n, cd_err *err)
{
    DIR *d = opendir(fs);
    if (!d)
        return cd_err_set(err, -1, "cannot read folder %s: %s", fs, strerror(errno));
    size_t cap = 0;
    *names = NULL;
    *n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        *names = cd_grow(*names, *n, &cap, 32, sizeof **names);
        (*names)[(*n)++] = cd_xstrdup(de->d_name);
    }
    closedir(d);
    if (*n)
        qsort(*names, *n, sizeof **names, by_name);
    return 0;
}

/* Pushes directory fs on the loop stack; false (a problem) when it is
 * already being walked or the tree is too deep. */
static bool enter_dir(walk *w, const char *fs, const char *rel)
{
    struct stat st;
    if (stat(fs, &st) != 0)
        return false;
    for (size_t i = 0; i < w->depth; i++) {
        if (w->stack[i].dev == st.st_dev && w->stack[i].ino == st.st_ino) {
            problem(w, rel, ": the symlink makes a loop (it leads back to a folder above it)");
            return false;
        }
    }
    if (w->depth == MAX_DEPTH) {
        problem(w, rel, ": folders nested more than %d deep", MAX_DEPTH);
        return false;
    }
    w->stack[w->depth].dev = st.st_dev;
    w->stack[w->depth].ino = st.st_ino;
    w->depth++;
    return true;
}

static int walk_dir(walk *w, const char *fs, const char *rel, cd_err *err)
{
    if (!enter_dir(w, fs, rel))
        return 0;
    char **names = NULL;
    size_t n = 0;
    int rc = list_dir(fs, &names, &n, err);
    cd_buf cfs = CD_BUF_INIT, crel = CD_BUF_INIT;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        cd_buf_reset(&cfs);
        cd_buf_reset(&crel);
        cd_buf_printf(&cfs, "%s/%s", fs, names[i]);
        cd_buf_printf(&crel, "%s%s%s", rel, *rel ? "/" : "", names[i]);
        rc = walk_entry(w, cfs.data, crel.data, err);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    cd_buf_free(&cfs);
    cd_buf_free(&crel);
    w->depth--;
    return rc;
}

folder_status folder_sha256_file(const char *path, char hex[CD_SHA256_HEX], int64_t *size,
                                 cd_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cd_err_set(err, errno == ENOENT ? FOLDER_MISSING : FOLDER_ERROR,
                          "cannot read %s: %s", path, strerror(errno));
    folder_status rc = FOLDER_OK;
    if (cd_sha256_fd(fd, hex, size) != 0)
        rc = cd_err_set(err, FOLDER_ERROR, "cannot read %s: %s", path, strerror(errno));
    close(fd);
    return rc;
}

static int by_path(const void *a, const void *b)
{
    return strcmp(((const folder_file *)a)->path, ((const folder_file *)b)->path);
}

/* The sha256 of f from prev, if prev hashed the very same file: same
 * path, inode, size and times, and not modified so close to prev's scan
 * that a later write could share its timestamp. */
static const char *cached_sha(const folder_tree *prev, const folder_file *f)
{
    if (!prev)
        return NULL;
    size_t lo = 0, hi = prev->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(prev->files[mid].path, f->path);
        if (c == 0) {
            const folder_file *p = &prev->files[mid];
            bool same = p->dev == f->dev && p->ino == f->ino && p->size == f->size &&
                        p->mtime_ns == f->mtime_ns && p->ctime_ns == f->ctime_ns &&
                        f->mtime_ns < prev->scanned_ns - 1000000000;
            return same ? p->sha256 : NULL;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* Hashes every file (or takes its hash from prev); a file that vanished
 * since the walk is dropped. */
static folder_status hash_all(folder_tree *t, const folder_tree *prev, cd_err *err)
{
    size_t keep = 0;
    for (size_t i = 0; i < t->n; i++) {
        folder_file *f = &t->files[i];
        const char *sha = cached_sha(prev, f);
        folder_status rc = FOLDER_OK;
        if (sha)
            memcpy(f->sha256, sha, sizeof f->sha256);
        else
            rc = folder_sha256_file(f->src, f->sha256, &f->size, err);
        if (rc == FOLDER_MISSING) {
            free(f->path);
            free(f->src);
            continue;
        }
        if (rc != 0) {
            for (size_t j = i; j < t->n; j++)
                free(t->files[j].path), free(t->files[j].src);
            t->n = keep;
            return FOLDER_ERROR;
        }
        t->files[keep++] = *f;
    }
    t->n = keep;
    return FOLDER_OK;
}

folder_status folder_scan(const char *dir, const ignore_rules *ig, const folder_tree *prev,
                          folder_tree *t, cd_err *err)
{
    memset(t, 0, sizeof *t);
    t->scanned_ns = cd_now_ms() * 1000000;
    walk w = {.ig = ig, .t = t};
    w.root_real = realpath(dir, NULL);
    if (!w.root_real)
        return cd_err_set(err, FOLDER_ERROR, "cannot read folder %s: %s", dir, strerror(errno));
    w.root_len = strlen(w.root_real);
    if (w.root_len == 1)
        w.root_len = 0; /* the folder is "/": every target is inside */
    int rc = walk_dir(&w, w.root_real, "", err);
    free(w.root_real);
    if (rc != 0)
        return FOLDER_ERROR;
    if (t->nproblems) {
        const char *nl = strchr(t->problems.data, '\n');
        return cd_err_set(err, FOLDER_ERROR, "%.*s", (int)(nl - t->problems.data),
                          t->problems.data);
    }
    qsort(t->files, t->n, sizeof *t->files, by_path);
    return hash_all(t, prev, err);
}

void folder_tree_clear(folder_tree *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->files[i].path);
        free(t->files[i].src);
    }
    free(t->files);
    cd_buf_free(&t->problems);
    cd_buf_free(&t->skipped);
    memset(t, 0, sizeof *t);
}

/* ---- index.md's front matter -------------------------------------------- */

#define MAX_INDEX_SIZE (16 << 20)

folder_status folder_read_index(const char *path, cd_buf *b, bool *missing, cd_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        *missing = errno == ENOENT;
        return *missing
                   ? FOLDER_OK
                   : cd_err_set(err, FOLDER_ERROR, "cannot read %s: %s", path, strerror(errno));
    }
    int got = cd_buf_read(b, f, MAX_INDEX_SIZE);
    fclose(f);
    if (got < 0)
        return cd_err_set(err, FOLDER_ERROR, "cannot read %s", path);
    if (got > 0)
        return cd_err_set(err, FOLDER_ERROR, "%s is larger than 16 MiB", path);
    return FOLDER_OK;
}

folder_status folder_front_matter(const char *path, md_pool *pool, json_t **data, md_error *me,
                                  cd_err *err)
{
    *data = NULL;
    cd_buf src = CD_BUF_INIT;
    bool missing = false;
    folder_status rc = folder_read_index(path, &src, &missing, err);
    if (rc != 0 || missing) {
        cd_buf_free(&src);
        return rc;
    }
    md_result res = {0};
    md_status mrc = pool ? md_pool_render(pool, src.data ? src.data : "", src.len, 0, &res, me)
                         : md_render_result(src.data ? src.data : "", src.len, 0, &res, me);
    cd_buf_free(&src);
    if (mrc != MD_OK) {
        md_result_free(&res);
        return FOLDER_BAD_MARKDOWN;
    }
    json_t *doc = json_loadb(res.json, res.len, 0, NULL);
    md_result_free(&res);
    json_t *d = json_object_get(doc, "data");
    *data = d ? json_incref(d) : json_object();
    json_decref(doc);
    return FOLDER_OK;
}
