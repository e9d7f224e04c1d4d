/* SPDX-License-Identifier: MIT */
/*
 * What a push changes, and how it says so: the added, modified and removed
 * paths between the folder and the server's current file list, printed as
 * lines for people or as one JSON object with --output json.
 */
#include "cli_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct remote {
    const char *path, *sha256;
    json_int_t size;
} remote;

static int by_path(const void *a, const void *b)
{
    return strcmp(((const remote *)a)->path, ((const remote *)b)->path);
}

/* The server's files as a sorted array of borrowed strings. */
static remote *remote_files(json_t *files, size_t *n)
{
    remote *v = cd_xmalloc((json_array_size(files) + 1) * sizeof *v);
    size_t i, k = 0;
    json_t *f;
    json_array_foreach(files, i, f)
    {
        const char *path = json_string_value(json_object_get(f, "path"));
        const char *sha = json_string_value(json_object_get(f, "sha256"));
        if (!path || !sha)
            continue;
        v[k].path = path;
        v[k].sha256 = sha;
        v[k].size = json_integer_value(json_object_get(f, "size"));
        k++;
    }
    qsort(v, k, sizeof *v, by_path);
    *n = k;
    return v;
}

static void push_path(const char ***list, size_t *n, const char *path)
{
    *list = cd_xrealloc(*list, (*n + 1) * sizeof **list);
    (*list)[(*n)++] = path;
}

void cli_push_diff_compute(const folder_tree *t, json_t *server_files, cli_push_diff *d)
{
    memset(d, 0, sizeof *d);
    size_t nr;
    remote *r = remote_files(server_files, &nr);
    size_t i = 0, j = 0;
    while (i < t->n || j < nr) {
        int c = i == t->n ? 1 : j == nr ? -1 : strcmp(t->files[i].path, r[j].path);
        if (c < 0) {
            push_path(&d->added, &d->nadded, t->files[i++].path);
        } else if (c > 0) {
            push_path(&d->removed, &d->nremoved, r[j++].path);
        } else {
            const folder_file *f = &t->files[i++];
            if (strcmp(f->sha256, r[j].sha256) || f->size != r[j].size)
                push_path(&d->modified, &d->nmodified, f->path);
            j++;
        }
    }
    free(r);
}

void cli_push_diff_clear(cli_push_diff *d)
{
    free(d->added);
    free(d->modified);
    free(d->removed);
    memset(d, 0, sizeof *d);
}

bool cli_push_diff_empty(const cli_push_diff *d)
{
    return d->nadded == 0 && d->nmodified == 0 && d->nremoved == 0;
}

static void print_paths(const char *label, const char **paths, size_t n)
{
    for (size_t i = 0; i < n; i++)
        printf("  %-9s %s\n", label, paths[i]);
}

static void report_text(const cli_push_result *res)
{
    const cli_push_diff *d = res->diff;
    if (res->would_create) /* (a real creation was printed when it happened) */
        printf("%s/%s does not exist yet: the push would create it\n", res->kind, res->name);
    if (res->unchanged) {
        printf("no changes: %s/%s stays at version %lld\n", res->kind, res->name,
               (long long)res->version);
        return;
    }
    print_paths("added", d->added, d->nadded);
    print_paths("modified", d->modified, d->nmodified);
    print_paths("removed", d->removed, d->nremoved);
    char bytes[32];
    cli_human_bytes((double)res->upload_bytes, bytes);
    printf("%s %zu file%s (%s)\n", res->dry_run ? "would upload" : "uploaded", res->upload_files,
           res->upload_files == 1 ? "" : "s", bytes);
    if (res->dry_run)
        printf("dry run: nothing was sent; %s/%s stays at version %lld\n", res->kind, res->name,
               (long long)res->version);
    else
        printf("version %lld\n", (long long)res->version);
}

/* The findings after the summary, as `content check` prints them but on
 * stderr, like a compiler's diagnostics: what a script reads of a push's
 * standard output (the summary, "version N" last) stays the same. */
static void report_checks(const cli_push_result *res)
{
    if (!res->checks)
        return;
    fflush(stdout);
    cli_check_print(res->checks, stderr);
    cli_check_summary(res->checks);
}

static json_t *path_array(const char **paths, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_string(paths[i]));
    return a;
}

static void report_json(const cli_push_result *res)
{
    const cli_push_diff *d = res->diff;
    json_t *o = json_pack(
        "{s:s, s:s, s:b, s:b, s:b, s:b, s:I, s:I, s:o, s:o, s:o, s:{s:I, s:I}}", "kind", res->kind,
        "name", res->name, "created", res->created, "would_create", res->would_create, "dry_run",
        res->dry_run, "unchanged", res->unchanged, "base_version", (json_int_t)res->base_version,
        "version", (json_int_t)res->version, "added", path_array(d->added, d->nadded), "modified",
        path_array(d->modified, d->nmodified), "removed", path_array(d->removed, d->nremoved),
        "upload", "files", (json_int_t)res->upload_files, "bytes", (json_int_t)res->upload_bytes);
    if (res->checks)
        json_object_set(o, "checks", (json_t *)res->checks);
    char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    puts(s);
    free(s);
    json_decref(o);
}

void cli_push_report(const cli_config *cfg, const cli_push_result *res)
{
    if (cfg->output == CLI_OUT_JSON) {
        report_json(res);
    } else {
        report_text(res);
        report_checks(res);
    }
    fflush(stdout);
}
