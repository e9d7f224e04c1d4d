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

int cmd_delete(cli_config *cfg, int argc, char **argv)
{
    cli_args a = {.cmd = "delete",
                  .usage = "content delete KIND/NAME",
                  .help = delete_help,
                  .max_words = 1,
                  .id = true};
    int rc = cli_args_parse(cfg, argc, argv, NULL, &a);
    if (rc >= 0)
        return rc;
    const char *kind = a.kind, *name = a.name;
    cd_err err;
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
