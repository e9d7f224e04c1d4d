/* SPDX-License-Identifier: MIT */
/*
 * The checks (checks/) on a scanned folder, shared by `content check` and
 * `content push`: their two flags, the callback that reads a file of the
 * folder, and the printing, which takes the findings as JSON so that it
 * shows the server's findings and our own alike.
 */
#include "cli_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_COMPONENTS_FILE (1 << 20)

/* N, NK, NM, NG (binary units; "KiB", "MiB", "GiB" too): bytes, or -1. */
static int64_t parse_size(const char *v)
{
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (end == v || n < 0 || errno)
        return -1;
    int shift = 0;
    if (*end == 'k' || *end == 'K')
        shift = 10;
    else if (*end == 'm' || *end == 'M')
        shift = 20;
    else if (*end == 'g' || *end == 'G')
        shift = 30;
    if (shift)
        end += !strcmp(end + 1, "iB") ? 3 : 1;
    if (*end || n > (INT64_MAX >> shift))
        return -1;
    return (int64_t)n << shift;
}

void cli_check_opts_init(cli_check_opts *o)
{
    memset(o, 0, sizeof *o);
    o->max_file_size = CHK_DEFAULT_MAX_FILE_SIZE;
}

int cli_check_flag(void *opts, const char *cmd, int argc, char **argv, int *i)
{
    cli_check_opts *o = opts;
    int g = cli_flag(cmd, "--components", argc, argv, i, &o->components_file);
    if (g != 0)
        return g;
    const char *v = NULL;
    if ((g = cli_flag(cmd, "--max-file-size", argc, argv, i, &v)) != 1)
        return g;
    if ((o->max_file_size = parse_size(v)) < 0) {
        cli_error("%s: --max-file-size: '%s' is not a size (bytes, or a number with K, M or G; "
                  "0 for no limit)",
                  cmd, v);
        return CLI_USAGE;
    }
    return 1;
}

/* Reads up to max bytes of the folder's file t->files[index]. */
static chk_status read_file(void *arg, size_t index, size_t max, char **data, size_t *len,
                            cd_err *err)
{
    const folder_file *f = &((const folder_tree *)arg)->files[index];
    int fd = open(f->src, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cd_err_set(err, CHK_UNREAD, "cannot read %s: %s", f->src, strerror(errno));
    cd_buf b = CD_BUF_INIT;
    char chunk[65536];
    ssize_t n = 0;
    while (b.len < max) {
        size_t want = max - b.len < sizeof chunk ? max - b.len : sizeof chunk;
        n = read(fd, chunk, want);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        cd_buf_append(&b, chunk, (size_t)n);
    }
    int saved = errno;
    close(fd);
    if (n < 0) {
        cd_buf_free(&b);
        return cd_err_set(err, CHK_UNREAD, "cannot read %s: %s", f->src, strerror(saved));
    }
    *data = cd_buf_steal(&b, len);
    return CHK_OK;
}

/* The known components of o->components_file (NULL when none is given). */
static int load_components(const cli_check_opts *o, chk_components **out, cd_err *err)
{
    *out = NULL;
    if (!o->components_file)
        return 0;
    FILE *f = fopen(o->components_file, "rb");
    if (!f)
        return cd_err_set(err, -1, "cannot read the components list %s: %s", o->components_file,
                          strerror(errno));
    cd_buf b = CD_BUF_INIT;
    int got = cd_buf_read(&b, f, MAX_COMPONENTS_FILE);
    bool bad = got<0, big = got> 0;
    fclose(f);
    if (!bad && !big)
        *out = chk_components_parse(b.data ? b.data : "", b.len);
    cd_buf_free(&b);
    if (bad || big)
        return cd_err_set(err, -1, "cannot read the components list %s: %s", o->components_file,
                          big ? "larger than 1 MiB" : "read error");
    return 0;
}

int cli_check_tree(const folder_tree *t, const char *kind, const char *name,
                   const cli_check_opts *o, json_t **findings, cd_err *err)
{
    *findings = NULL;
    chk_options opts = {.max_file_size = o->max_file_size, .cache = o->cache};
    chk_components *known = NULL;
    if (load_components(o, &known, err) != 0)
        return -1;
    opts.components = known;
    chk_file *files = cd_xcalloc(t->n ? t->n : 1, sizeof *files);
    for (size_t i = 0; i < t->n; i++)
        files[i] = (chk_file){t->files[i].path, t->files[i].sha256, t->files[i].size};
    chk_item item = {kind, name, files, t->n, read_file, (void *)t};
    int rc = chk_run(&item, &opts, findings, err);
    free(files);
    chk_components_free(known);
    return rc;
}

void cli_check_print(const json_t *findings, FILE *to)
{
    cd_buf out = CD_BUF_INIT;
    chk_format_text(findings, &out);
    if (out.len)
        fwrite(out.data, 1, out.len, to);
    cd_buf_free(&out);
}

void cli_check_summary(const json_t *findings)
{
    size_t e = chk_count(findings, "error"), w = chk_count(findings, "warning");
    fflush(stdout); /* after the findings, when both go to one terminal */
    if (e || w)
        fprintf(stderr, "%zu error%s, %zu warning%s\n", e, e == 1 ? "" : "s", w, w == 1 ? "" : "s");
}
