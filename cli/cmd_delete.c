/* SPDX-License-Identifier: MIT */
/* `content delete KIND/NAME`: removes the item (owner only). */
#include "cli_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char delete_help[] =
    "usage: content delete KIND/NAME\n"
    "\n"
    "Deletes the item KIND/NAME and all its versions from the server (only its\n"
    "owner may).  Open editor tabs are told it is gone.  Local folders are not\n"
    "touched.\n"
    "\n"
    "  --server URL, --token TOKEN, --output text|json   (see content --help)\n";

static int parse(cli_config *cfg, int argc, char **argv, const char **id)
{
    for (int i = 1; i < argc; i++) {
        int g = cli_config_option(cfg, "delete", argc, argv, &i);
        if (g == CLI_USAGE)
            return CLI_USAGE;
        if (g == 1)
            continue;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(delete_help, stdout);
            return CLI_OK;
        }
        if (argv[i][0] == '-' && argv[i][1] != '\0') {
            cli_error("delete: unknown option '%s' (run `content delete --help`)", argv[i]);
            return CLI_USAGE;
        }
        if (*id) {
            cli_error("delete: only one KIND/NAME may be given");
            return CLI_USAGE;
        }
        *id = argv[i];
    }
    if (!*id) {
        cli_error("delete: missing KIND/NAME (usage: content delete KIND/NAME)");
        return CLI_USAGE;
    }
    return -1;
}

int cmd_delete(cli_config *cfg, int argc, char **argv)
{
    const char *id = NULL;
    int rc = parse(cfg, argc, argv, &id);
    if (rc >= 0)
        return rc;
    char kind[CD_KIND_MAX], name[CD_NAME_MAX];
    cd_err err;
    if (cli_parse_id(id, kind, name, &err) != 0) {
        cli_error("delete: %s", err.msg);
        return CLI_USAGE;
    }
    if ((rc = cli_config_check(cfg, "delete")) != 0)
        return rc;
    char path[128];
    snprintf(path, sizeof path, "/api/v1/content/%s/%s", kind, name);
    cli_http *h = cli_http_new(cfg);
    cli_reply r = {0};
    rc = cli_http_json(h, "DELETE", path, NULL, &r, &err);
    if (rc != 0)
        cli_error("delete: %s", err.msg);
    else if (cfg->output == CLI_OUT_JSON)
        printf("{\n  \"deleted\": \"%s/%s\"\n}\n", kind, name);
    else
        printf("deleted %s/%s\n", kind, name);
    cli_reply_clear(&r);
    cli_http_free(h);
    return rc == 0 ? CLI_OK : CLI_FAIL;
}
