/* SPDX-License-Identifier: MIT */
/* `content visibility KIND/NAME public|private`: makes an item public or
 * private (owner only) with PATCH /api/v1/content/KIND/NAME. */
#include "cli_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char visibility_help[] =
    "usage: content visibility KIND/NAME public|private\n"
    "\n"
    "Makes the item KIND/NAME public (everyone may read, list and subscribe\n"
    "to it) or private (only you, and its members, may).  Only its owner may\n"
    "change it.  Prints the item's visibility afterwards; --output json\n"
    "prints the item as the server answers it.\n"
    "\n"
    "  --server URL, --token TOKEN, --output text|json   (see content --help)\n";

typedef struct vis_args {
    const char *id;
    const char *visibility;
} vis_args;

/* Returns -1 to go on, else the exit status (help printed, usage error). */
static int parse(cli_config *cfg, int argc, char **argv, vis_args *a)
{
    for (int i = 1; i < argc; i++) {
        int g = cli_config_option(cfg, "visibility", argc, argv, &i);
        if (g == CLI_USAGE)
            return CLI_USAGE;
        if (g == 1)
            continue;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(visibility_help, stdout);
            return CLI_OK;
        }
        if (argv[i][0] == '-' && argv[i][1] != '\0') {
            cli_error("visibility: unknown option '%s' (run `content visibility --help`)", argv[i]);
            return CLI_USAGE;
        }
        if (!a->id) {
            a->id = argv[i];
        } else if (!a->visibility) {
            a->visibility = argv[i];
        } else {
            cli_error("visibility: too many arguments (usage: content visibility KIND/NAME "
                      "public|private)");
            return CLI_USAGE;
        }
    }
    if (!a->visibility) {
        cli_error("visibility: missing %s (usage: content visibility KIND/NAME public|private)",
                  a->id ? "public or private" : "KIND/NAME");
        return CLI_USAGE;
    }
    if (strcmp(a->visibility, "public") != 0 && strcmp(a->visibility, "private") != 0) {
        cli_error("visibility: '%s' is neither public nor private", a->visibility);
        return CLI_USAGE;
    }
    return -1;
}

static void print_item(const cli_config *cfg, const char *kind, const char *name, json_t *item)
{
    if (cfg->output == CLI_OUT_JSON) {
        char *s = json_dumps(item, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        puts(s);
        free(s);
        return;
    }
    const char *vis = json_string_value(json_object_get(item, "visibility"));
    printf("%s/%s is %s\n", kind, name, vis ? vis : "changed");
}

int cmd_visibility(cli_config *cfg, int argc, char **argv)
{
    vis_args a = {0};
    int rc = parse(cfg, argc, argv, &a);
    if (rc >= 0)
        return rc;
    char kind[CD_KIND_MAX], name[CD_NAME_MAX];
    cd_err err;
    if (cli_parse_id(a.id, kind, name, &err) != 0) {
        cli_error("visibility: %s", err.msg);
        return CLI_USAGE;
    }
    if ((rc = cli_config_check(cfg, "visibility")) != 0)
        return rc;
    char path[128];
    snprintf(path, sizeof path, "/api/v1/content/%s/%s", kind, name);
    json_t *body = json_pack("{ss}", "visibility", a.visibility);
    cli_http *h = cli_http_new(cfg);
    cli_reply r = {0};
    rc = cli_http_json(h, "PATCH", path, body, &r, &err);
    if (rc == 0 && !json_is_object(r.json))
        rc = cd_err_set(&err, -1, "the server's answer is not an item");
    if (rc != 0)
        cli_error("visibility: %s", err.msg);
    else
        print_item(cfg, kind, name, r.json);
    json_decref(body);
    cli_reply_clear(&r);
    cli_http_free(h);
    return rc == 0 ? CLI_OK : CLI_FAIL;
}
