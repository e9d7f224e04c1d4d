/* SPDX-License-Identifier: MIT */
/* `content check [DIR]`: the checks a push runs, offline, printed like a
 * compiler's diagnostics.  No server is needed. */
#include "cli_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char check_help[] =
    "usage: content check [DIR] [--components FILE] [--max-file-size N]\n"
    "                     [--kind K] [--name N] [--output text|json]\n"
    "\n"
    "Checks the folder DIR (default: the current folder) the way the server\n"
    "checks a pushed version, without a server: links to documents, headings\n"
    "and files that do not exist, assets nobody uses, oversized files, images\n"
    "whose bytes are not what their extension says, front matter that does not\n"
    "fit the item (kind, name, title, task needs and their cycles), unknown\n"
    "components and components or code fences left open.  Each finding is a\n"
    "line `PATH:LINE: severity: message [code]`; docs/checks.md lists the codes.\n"
    "The folder is read as `content push` reads it (.contentignore applies).\n"
    "\n"
    "  --components FILE  known MDC components, one name per line; any other\n"
    "                     component is an error (default: not checked)\n"
    "  --max-file-size N  warn about files over N bytes (K, M, G suffixes;\n"
    "                     default 10M; 0: no limit)\n"
    "  --kind KIND        the item's kind (default: index.md's `kind:`)\n"
    "  --name NAME        the item's name (default: index.md's `name:`)\n"
    "  --output json      print {\"checks\":[...],\"errors\":N,\"warnings\":N}\n"
    "\n"
    "Exit status: 0 when there is no error (warnings allowed), 1 when there is\n"
    "an error or the folder cannot be read, 2 for a usage error.\n";

typedef struct check_args {
    const char *dir, *kind, *name;
    cli_check_opts checks;
} check_args;

/* Parses argv into a; returns -1 when it is all good, else an exit status. */
static int parse(cli_config *cfg, int argc, char **argv, check_args *a)
{
    const cli_opt opts[] = {{"--kind", .value = &a->kind}, {"--name", .value = &a->name}, {NULL}};
    cli_args c = {.cmd = "check",
                  .usage = "content check [DIR] [--components FILE] [--max-file-size N] "
                           "[--kind K] [--name N]",
                  .help = check_help,
                  .max_words = 1,
                  .more = cli_check_flag,
                  .more_arg = &a->checks};
    int rc = cli_args_parse(cfg, argc, argv, opts, &c);
    if (rc < 0 && c.n_words)
        a->dir = c.words[0];
    return rc;
}

/* The folder's files, as `content push` would send them. */
static int scan(const char *dir, folder_tree *t)
{
    ignore_rules *ig = NULL;
    cd_err err;
    int rc = ignore_load_folder(dir, &ig, &err);
    if (rc == 0)
        rc = cli_scan(dir, ig, NULL, t, &err);
    ignore_free(ig);
    if (rc == 0)
        return 0;
    if (t->nproblems <= 1) {
        cli_error("check: %s", err.msg);
        return CLI_FAIL;
    }
    for (char *line = t->problems.data; line && *line;) {
        char *nl = strchr(line, '\n');
        cli_error("check: %.*s", (int)(nl - line), line);
        line = nl + 1;
    }
    cli_error("check: %zu files cannot be pushed", t->nproblems);
    return CLI_FAIL;
}

static void print(const cli_config *cfg, json_t *findings)
{
    if (cfg->output == CLI_OUT_JSON) {
        json_t *o = json_pack("{s:O, s:I, s:I}", "checks", findings, "errors",
                              (json_int_t)chk_count(findings, "error"), "warnings",
                              (json_int_t)chk_count(findings, "warning"));
        char *s = json_dumps(o, JSON_INDENT(2));
        puts(s);
        free(s);
        json_decref(o);
    } else {
        cli_check_print(findings, stdout);
        cli_check_summary(findings);
    }
}

int cmd_check(cli_config *cfg, int argc, char **argv)
{
    check_args a = {0};
    cli_check_opts_init(&a.checks);
    int rc = parse(cfg, argc, argv, &a);
    if (rc >= 0)
        return rc;
    if (!a.dir)
        a.dir = ".";
    /* The item is what the flags say, else what index.md says it is. */
    char *kind = NULL, *name = NULL, *title = NULL;
    cd_buf index = CD_BUF_INIT;
    cd_buf_printf(&index, "%s/index.md", a.dir);
    cd_err err;
    if (cli_front_matter(index.data, &kind, &name, &title, &err) != 0)
        kind = name = title = NULL; /* the checks report what is wrong with it */
    cd_buf_free(&index);
    folder_tree t;
    rc = scan(a.dir, &t);
    json_t *findings = NULL;
    if (rc == 0 && cli_check_tree(&t, a.kind ? a.kind : kind, a.name ? a.name : name, &a.checks,
                                  &findings, &err) != 0) {
        cli_error("check: %s", err.msg);
        rc = CLI_FAIL;
    }
    if (rc == 0) {
        print(cfg, findings);
        rc = chk_count(findings, "error") ? CLI_FAIL : CLI_OK;
    }
    json_decref(findings);
    folder_tree_clear(&t);
    free(kind);
    free(name);
    free(title);
    return rc;
}
