/* SPDX-License-Identifier: MIT */
/*
 * cli — the `content` client.  Each subcommand lives in its own cmd_*.c file
 * and is reached through the table in main.c; they share the helpers here.
 */
#ifndef CONTENTD_CLI_H
#define CONTENTD_CLI_H

enum cli_exit { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

/* Prints "content: <message>" on stderr as one line. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* `content render FILE [--pretty]`. */
int cmd_render(int argc, char **argv);

#endif
