/* SPDX-License-Identifier: MIT */
/*
 * s3_tool — a test driver that exposes the s3/ client and the S3 blob store
 * to the integration tests (tests/integration/test_s3*.py), one operation
 * per run:
 *
 *   s3_tool [OPTIONS] COMMAND ARGS...
 *
 *   ping | head KEY | put KEY FILE | put-data KEY TEXT | get KEY FILE|-
 *   get-range KEY OFFSET LENGTH | delete KEY
 *   list [PREFIX] [--page N] [--start-after KEY]   (one JSON object a line)
 *   batch-put KEY FILE [KEY FILE...] | batch-get KEY FILE [KEY FILE...]
 *   blob-put SHA FILE | blob-get SHA FILE|- | blob-has SHA
 *   object-put KEY FILE | object-get KEY | manifests
 *
 * OPTIONS: --endpoint URL --bucket B --region R --path-style --part-size N
 * --threshold N --parallel N --max-attempts N --deadline-ms N --stall-ms N
 * --backoff-ms N --backoff-max-ms N.  Credentials come from the AWS_*
 * variables.  Exit status: 0 success, 1 failure (one line on stderr),
 * 3 not found, 4 no such bucket (s3 commands), 2 usage.
 */
#include "s3_tool.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct tool {
    s3_config cfg;
    s3_client *c;
    int argc;
    char **argv;
} tool;

static int usage(const char *why)
{
    fprintf(stderr, "s3_tool: %s (see the comment at the top of tests/s3/s3_tool.c)\n", why);
    return 2;
}

static int report(int rc, const cd_err *e)
{
    if (rc == 0)
        return 0;
    fprintf(stderr, "s3_tool: %s\n", e->msg);
    return rc == S3_NOT_FOUND || rc == BLOB_NOT_FOUND ? 3 : 1;
}

static uint64_t num(const char *s)
{
    return strtoull(s, NULL, 10);
}

/* Options: every "--name value" before the command; also exported as the
 * CONTENTD_S3_* variables so that the blob store (which reads them) agrees. */
static int parse_options(tool *t, int argc, char **argv, int *i)
{
    for (*i = 1; *i < argc && !strncmp(argv[*i], "--", 2); (*i)++) {
        const char *o = argv[*i] + 2;
        if (!strcmp(o, "path-style")) {
            t->cfg.path_style = true;
            continue;
        }
        if (*i + 1 >= argc)
            return usage("an option lacks its value");
        const char *v = argv[++*i];
        if (!strcmp(o, "endpoint"))
            t->cfg.endpoint = v;
        else if (!strcmp(o, "bucket"))
            t->cfg.bucket = v;
        else if (!strcmp(o, "region"))
            t->cfg.region = v;
        else if (!strcmp(o, "part-size"))
            setenv("CONTENTD_S3_PART_SIZE", v, 1);
        else if (!strcmp(o, "threshold"))
            setenv("CONTENTD_S3_MULTIPART_THRESHOLD", v, 1);
        else if (!strcmp(o, "parallel"))
            setenv("CONTENTD_S3_PARALLEL", v, 1);
        else if (!strcmp(o, "max-attempts"))
            setenv("CONTENTD_S3_MAX_ATTEMPTS", v, 1);
        else if (!strcmp(o, "deadline-ms"))
            setenv("CONTENTD_S3_DEADLINE_MS", v, 1);
        else if (!strcmp(o, "stall-ms"))
            setenv("CONTENTD_S3_STALL_TIMEOUT_MS", v, 1);
        else if (!strcmp(o, "backoff-ms"))
            t->cfg.backoff_base_ms = (long)num(v);
        else if (!strcmp(o, "backoff-max-ms"))
            t->cfg.backoff_max_ms = (long)num(v);
        else
            return usage("unknown option");
    }
    return 0;
}

static void print_json_key(const char *key, uint64_t size)
{
    cd_buf b = CD_BUF_INIT;
    cd_buf_puts(&b, "{\"key\":");
    cd_json_str(&b, key, strlen(key));
    cd_buf_printf(&b, ",\"size\":%" PRIu64 "}\n", size);
    fwrite(b.data, 1, b.len, stdout);
    cd_buf_free(&b);
}

static int list_cb(void *arg, const s3_list_entry *e)
{
    print_json_key(e->key, e->size);
    return 0;
}

static int to_stdout(void *arg, const void *p, size_t n)
{
    return fwrite(p, 1, n, stdout) == n ? 0 : -1;
}

static int open_out(const char *path)
{
    return strcmp(path, "-") ? open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)
                             : dup(STDOUT_FILENO);
}

static int cmd_list(tool *t, int argc, char **argv, cd_err *e)
{
    const char *prefix = NULL, *after = NULL;
    int page = 0;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--page") && i + 1 < argc)
            page = (int)num(argv[++i]);
        else if (!strcmp(argv[i], "--start-after") && i + 1 < argc)
            after = argv[++i];
        else
            prefix = argv[i];
    }
    return s3_list(t->c, prefix, after, page, list_cb, NULL, e);
}

static int cmd_put(tool *t, const char *key, const char *path, cd_err *e)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0)
        return cd_err_set(e, S3_ERROR, "cannot open %s", path);
    int rc = s3_put_fd(t->c, key, fd, (uint64_t)st.st_size, NULL, NULL, e);
    close(fd);
    return rc;
}

static int cmd_get(tool *t, const char *key, const char *path, cd_err *e)
{
    int fd = open_out(path);
    if (fd < 0)
        return cd_err_set(e, S3_ERROR, "cannot create %s", path);
    s3_object_info info;
    int rc = s3_get_fd(t->c, key, fd, &info, e);
    close(fd);
    return rc;
}

static int cmd_batch(tool *t, bool put, int argc, char **argv, cd_err *e)
{
    if (argc % 2)
        return cd_err_set(e, S3_ERROR, "batch commands take KEY FILE pairs");
    size_t n = (size_t)argc / 2;
    s3_op *ops = calloc(n ? n : 1, sizeof *ops);
    for (size_t i = 0; i < n; i++) {
        ops[i].kind = put ? S3_OP_PUT_FILE : S3_OP_GET_FILE;
        ops[i].key = argv[2 * i];
        ops[i].path = argv[2 * i + 1];
    }
    int rc = s3_run_batch(t->c, ops, n, e);
    free(ops);
    return rc;
}

static int run_s3(tool *t, const char *cmd, int argc, char **argv, cd_err *e)
{
    s3_object_info info;
    int rc;
    if (!strcmp(cmd, "ping"))
        return s3_head_bucket(t->c, e);
    if (!strcmp(cmd, "list"))
        return cmd_list(t, argc, argv, e);
    if (!strcmp(cmd, "batch-put") || !strcmp(cmd, "batch-get"))
        return cmd_batch(t, !strcmp(cmd, "batch-put"), argc, argv, e);
    if (argc < 1)
        return cd_err_set(e, S3_ERROR, "%s needs a key", cmd);
    if (!strcmp(cmd, "head")) {
        if ((rc = s3_head(t->c, argv[0], &info, e)) == 0)
            printf("%" PRIu64 " %s\n", info.size, info.etag);
        return rc;
    }
    if (!strcmp(cmd, "delete"))
        return s3_delete(t->c, argv[0], e);
    if (argc < 2)
        return cd_err_set(e, S3_ERROR, "%s needs two arguments", cmd);
    if (!strcmp(cmd, "put"))
        return cmd_put(t, argv[0], argv[1], e);
    if (!strcmp(cmd, "put-data"))
        return s3_put_buffer(t->c, argv[0], argv[1], strlen(argv[1]), "text/plain", e);
    if (!strcmp(cmd, "get"))
        return cmd_get(t, argv[0], argv[1], e);
    if (!strcmp(cmd, "get-range") && argc >= 3)
        return s3_get(t->c, argv[0], num(argv[1]), num(argv[2]), to_stdout, NULL, NULL, e);
    return cd_err_set(e, S3_ERROR, "unknown command %s", cmd);
}

int main(int argc, char **argv)
{
    tool t = {0};
    int i;
    int rc = parse_options(&t, argc, argv, &i);
    if (rc)
        return rc;
    if (i >= argc)
        return usage("no command");
    cd_err e = {0, ""};
    const char *cmd = argv[i];
    if (!strncmp(cmd, "blob-", 5) || !strncmp(cmd, "object-", 7) || !strcmp(cmd, "manifests"))
        return report(blob_command(&t.cfg, cmd, argc - i - 1, argv + i + 1, &e), &e);
    if (s3_config_from_env(&t.cfg, &e) != 0)
        return report(S3_ERROR, &e);
    t.c = s3_client_new(&t.cfg, &e);
    if (!t.c)
        return report(S3_ERROR, &e);
    rc = run_s3(&t, cmd, argc - i - 1, argv + i + 1, &e);
    s3_client_free(t.c);
    fflush(stdout);
    if (rc == S3_NO_BUCKET) {
        report(rc, &e);
        return 4;
    }
    return report(rc, &e);
}
