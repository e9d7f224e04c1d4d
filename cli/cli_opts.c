/* SPDX-License-Identifier: MIT */
/*
 * The command line of one `content` command (cli_int.h, "cli_opts.c"): the
 * global options, --help, the command's own options from its table, and
 * its words, with one wording for each usage error across the commands.
 */
#include "cli_int.h"

#include <stdio.h>
#include <string.h>

/* argv[*i] as one of a's options: 1 (taken, *i moved past its value), 0
 * (not one of them) or CLI_USAGE (after printing why). */
static int own_option(const cli_args *a, const cli_opt *opts, int argc, char **argv, int *i)
{
    const char *w = argv[*i];
    for (const cli_opt *o = opts; o && o->name; o++) {
        if (o->value) {
            int g = cli_flag(a->cmd, o->name, argc, argv, i, o->value);
            if (g != 0)
                return g;
        } else if (!strcmp(w, o->name) || (o->alias && !strcmp(w, o->alias))) {
            *o->flag = true;
            return 1;
        }
    }
    return a->more ? a->more(a->more_arg, a->cmd, argc, argv, i) : 0;
}

/* The word KIND/NAME that the command names its item by, into a. */
static int item_id(cli_args *a)
{
    if (!a->n_words) {
        cli_error("%s: missing KIND/NAME (usage: %s)", a->cmd, a->usage);
        return CLI_USAGE;
    }
    cd_err err;
    if (cli_parse_id(a->words[0], a->kind, a->name, &err) != 0) {
        cli_error("%s: %s", a->cmd, err.msg);
        return CLI_USAGE;
    }
    return -1;
}

int cli_args_parse(cli_config *cfg, int argc, char **argv, const cli_opt *opts, cli_args *a)
{
    a->n_words = 0;
    for (int i = 1; i < argc; i++) {
        const char *w = argv[i];
        int g = cfg ? cli_config_option(cfg, a->cmd, argc, argv, &i) : 0;
        if (g == 0)
            g = own_option(a, opts, argc, argv, &i);
        if (g == CLI_USAGE)
            return CLI_USAGE;
        if (g == 1)
            continue;
        if (!strcmp(w, "--help") || !strcmp(w, "-h")) {
            fputs(a->help, stdout);
            return CLI_OK;
        }
        if (w[0] == '-' && w[1] != '\0') {
            cli_error("%s: unknown option '%s' (run `content %s --help`)", a->cmd, w, a->cmd);
            return CLI_USAGE;
        }
        if (a->n_words >= a->max_words || a->n_words >= CLI_WORDS_MAX) {
            cli_error("%s: unexpected argument '%s' (usage: %s)", a->cmd, w, a->usage);
            return CLI_USAGE;
        }
        a->words[a->n_words++] = w;
    }
    return a->id ? item_id(a) : -1;
}
