/* SPDX-License-Identifier: MIT */
/*
 * cli — the `content` client.  Each subcommand lives in its own cmd_*.c file
 * and is reached through the table in main.c; they share the configuration
 * and error helpers here.  The modules under the commands (HTTP, folder
 * scanning, ignore rules, progress, the push engine) are declared in
 * cli_int.h.
 */
#ifndef CONTENTD_CLI_H
#define CONTENTD_CLI_H

#include <stdbool.h>

enum cli_exit { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

/* Prints "content: <message>" on stderr as one line. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

typedef enum cli_output { CLI_OUT_TEXT, CLI_OUT_JSON } cli_output;

/* The client's settings (CONTRACT "Configuration"): flags win over the
 * environment, which wins over the defaults.  The strings point into argv,
 * the environment or static storage: nothing here is freed. */
typedef struct cli_config {
    const char *server; /* base URL, no trailing '/' kept when used */
    const char *token;  /* NULL: no Authorization header */
    cli_output output;
    bool debug; /* CONTENT_LOG_LEVEL=debug: write the debug lines (push --watch) */
} cli_config;

/* The defaults, then CONTENT_SERVER, CONTENT_TOKEN and CONTENT_LOG_LEVEL. */
void cli_config_init(cli_config *cfg);

/* If argv[*i] is a global option (--server, --token, --output, as
 * "--opt VALUE" or "--opt=VALUE"), applies it, advances *i past its value
 * and returns 1; returns 0 when argv[*i] is something else, and CLI_USAGE
 * (after printing why) for a global option with a missing or bad value.
 * `cmd` names the command in that message. */
int cli_config_option(cli_config *cfg, const char *cmd, int argc, char **argv, int *i);

/* If argv[*i] is `name VALUE` or `name=VALUE`, sets *value, advances *i
 * past it and returns 1; returns 0 when argv[*i] is another argument, and
 * CLI_USAGE (after printing why) when the value is missing. */
int cli_flag(const char *cmd, const char *name, int argc, char **argv, int *i, const char **value);

/* Checks the final settings (the server URL's scheme); prints why and
 * returns CLI_USAGE when they are unusable, else 0. */
int cli_config_check(const cli_config *cfg, const char *cmd);

/* `content render FILE [--pretty]`. */
int cmd_render(int argc, char **argv);

/* The server commands: argv[0] is the command's name. */
int cmd_create(cli_config *cfg, int argc, char **argv);
int cmd_list(cli_config *cfg, int argc, char **argv);
int cmd_push(cli_config *cfg, int argc, char **argv);
int cmd_pull(cli_config *cfg, int argc, char **argv);
int cmd_delete(cli_config *cfg, int argc, char **argv);
int cmd_visibility(cli_config *cfg, int argc, char **argv);
/* Comments on an item's blocks (cmd_comments.c). */
int cmd_comments(cli_config *cfg, int argc, char **argv);
/* Review and sharing (cmd_review.c). */
int cmd_publish(cli_config *cfg, int argc, char **argv);
int cmd_members(cli_config *cfg, int argc, char **argv);
int cmd_share(cli_config *cfg, int argc, char **argv);
int cmd_rollback(cli_config *cfg, int argc, char **argv);
int cmd_diff(cli_config *cfg, int argc, char **argv);
/* `content check [DIR]`: offline, but it takes the global --output. */
int cmd_check(cli_config *cfg, int argc, char **argv);

#endif
