/* SPDX-License-Identifier: MIT */
/*
 * The client's settings: --server / CONTENT_SERVER (default
 * http://127.0.0.1:8080), --token / CONTENT_TOKEN, --output text|json.
 * Flags win over the environment, which wins over the defaults; the global
 * flags may come before the command or among its own options.
 */
#include "cli.h"

#include "common.h"

#include <stdlib.h>
#include <string.h>

#define DEFAULT_SERVER "http://127.0.0.1:8080"

void cli_config_init(cli_config *cfg)
{
    const char *server = getenv("CONTENT_SERVER");
    const char *token = getenv("CONTENT_TOKEN");
    cfg->server = server && *server ? server : DEFAULT_SERVER;
    cfg->token = token && *token ? token : NULL;
    cfg->output = CLI_OUT_TEXT;
    const char *level = getenv("CONTENT_LOG_LEVEL");
    cfg->debug = level && !strcmp(level, "debug");
    cd_log_set_debug(cfg->debug);
}

/* If argv[*i] is --name or --name=VALUE, sets *value and returns 1 (-1 when
 * the value is missing); else 0. */
static int flag_value(const char *name, int argc, char **argv, int *i, const char **value)
{
    size_t n = strlen(name);
    const char *a = argv[*i];
    if (strncmp(a, name, n) != 0)
        return 0;
    if (a[n] == '=') {
        *value = a + n + 1;
        return 1;
    }
    if (a[n] != '\0')
        return 0;
    if (*i + 1 >= argc)
        return -1;
    *value = argv[++*i];
    return 1;
}

static int apply(cli_config *cfg, const char *cmd, const char *flag, const char *v)
{
    if (!strcmp(flag, "--server")) {
        cfg->server = v;
    } else if (!strcmp(flag, "--token")) {
        cfg->token = *v ? v : NULL;
    } else if (!strcmp(v, "text")) {
        cfg->output = CLI_OUT_TEXT;
    } else if (!strcmp(v, "json")) {
        cfg->output = CLI_OUT_JSON;
    } else {
        cli_error("%s%s--output must be text or json, not '%s'", cmd ? cmd : "", cmd ? ": " : "",
                  v);
        return CLI_USAGE;
    }
    return 1;
}

int cli_config_option(cli_config *cfg, const char *cmd, int argc, char **argv, int *i)
{
    static const char *const flags[] = {"--server", "--token", "--output"};
    for (size_t k = 0; k < sizeof flags / sizeof flags[0]; k++) {
        const char *v = NULL;
        int rc = flag_value(flags[k], argc, argv, i, &v);
        if (rc == 0)
            continue;
        if (rc < 0) {
            cli_error("%s%s%s needs a value", cmd ? cmd : "", cmd ? ": " : "", flags[k]);
            return CLI_USAGE;
        }
        return apply(cfg, cmd, flags[k], v);
    }
    return 0;
}

int cli_flag(const char *cmd, const char *name, int argc, char **argv, int *i, const char **value)
{
    int rc = flag_value(name, argc, argv, i, value);
    if (rc >= 0)
        return rc;
    cli_error("%s: %s needs a value", cmd, name);
    return CLI_USAGE;
}

int cli_config_check(const cli_config *cfg, const char *cmd)
{
    const char *s = cfg->server;
    bool http = !strncmp(s, "http://", 7) && s[7];
    bool https = !strncmp(s, "https://", 8) && s[8];
    if (!http && !https) {
        cli_error("%s: the server '%s' is not an http:// or https:// URL (--server or "
                  "CONTENT_SERVER)",
                  cmd, s);
        return CLI_USAGE;
    }
    return 0;
}
