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

/* Returns -1 to go on, else the exit status (help printed, usage error). */
static int parse(cli_config *cfg, int argc, char **argv, cli_args *a)
{
    *a = (cli_args){.cmd = "visibility",
                    .usage = "content visibility KIND/NAME public|private",
                    .help = visibility_help,
                    .max_words = 2,
                    .id = true};
    int rc = cli_args_parse(cfg, argc, argv, NULL, a);
    if (rc >= 0)
        return rc;
    if (a->n_words < 2) {
        cli_error("visibility: missing public or private (usage: %s)", a->usage);
        return CLI_USAGE;
    }
    if (strcmp(a->words[1], "public") != 0 && strcmp(a->words[1], "private") != 0) {
        cli_error("visibility: '%s' is neither public nor private", a->words[1]);
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
    cli_args a;
    int rc = parse(cfg, argc, argv, &a);
    if (rc >= 0)
        return rc;
    const char *kind = a.kind, *name = a.name;
    cd_err err;
    if ((rc = cli_config_check(cfg, "visibility")) != 0)
        return rc;
    char path[128];
    snprintf(path, sizeof path, "/api/v1/content/%s/%s", kind, name);
    json_t *body = json_pack("{ss}", "visibility", a.words[1]);
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
