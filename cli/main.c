/* SPDX-License-Identifier: MIT */
/* The `content` client's entry point: global flags and the command table. */
#include "cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "markdown.h"

struct command {
    const char *name;
    int (*run)(cli_config *cfg, int argc, char **argv);
    const char *summary;
};

/* render needs no server and takes no global options. */
static int run_render(cli_config *cfg, int argc, char **argv)
{
    (void)cfg;
    return cmd_render(argc, argv);
}

static const struct command commands[] = {
    {"create", cmd_create, "create an item on the server and its local folder"},
    {"list", cmd_list, "list the items you can see"},
    {"push", cmd_push, "upload a folder as the item's new version (only what changed)"},
    {"pull", cmd_pull, "download an item's current version into a folder"},
    {"delete", cmd_delete, "delete an item"},
    {"visibility", cmd_visibility, "make an item public or private"},
    {"comments", cmd_comments, "list, add, answer or resolve comments on an item's blocks"},
    {"publish", cmd_publish, "publish a version: what readers see"},
    {"members", cmd_members, "list, give or take away members' roles on an item"},
    {"share", cmd_share, "make, list or revoke share links of an item's preview"},
    {"rollback", cmd_rollback, "make a new version with the files of an older one"},
    {"diff", cmd_diff, "show the blocks and assets that changed between two versions"},
    {"check", cmd_check, "check a local folder for broken links, missing files and more"},
    {"render", run_render, "print the AST document of a local markdown file"},
};

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("content: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static void usage(FILE *f)
{
    fputs("usage: content COMMAND [ARGS...]\n\ncommands:\n", f);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].summary);
    fputs("\nglobal options (before or after COMMAND):\n"
          "  --server URL         the contentd server (CONTENT_SERVER; default\n"
          "                       http://127.0.0.1:8080)\n"
          "  --token TOKEN        API token (CONTENT_TOKEN)\n"
          "  --output text|json   how results are printed (default text)\n"
          "\nRun `content COMMAND --help` for a command's options.\n",
          f);
}

int main(int argc, char **argv)
{
    cli_config cfg;
    cli_config_init(&cfg);
    int i = 1;
    for (; i < argc; i++) { /* global options before the command */
        int rc = cli_config_option(&cfg, NULL, argc, argv, &i);
        if (rc == CLI_USAGE)
            return CLI_USAGE;
        if (rc == 0)
            break;
    }
    if (i >= argc) {
        usage(stderr);
        return CLI_USAGE;
    }
    const char *cmd = argv[i];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        usage(stdout);
        return CLI_OK;
    }
    if (!strcmp(cmd, "--version")) {
        printf("content %s, markdown %s\n", CONTENTD_VERSION, md_version());
        return CLI_OK;
    }
    for (size_t k = 0; k < sizeof commands / sizeof commands[0]; k++)
        if (!strcmp(cmd, commands[k].name))
            return commands[k].run(&cfg, argc - i, argv + i);
    cli_error("unknown command '%s' (run `content --help`)", cmd);
    return CLI_USAGE;
}
