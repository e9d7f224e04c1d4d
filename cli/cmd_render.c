/* SPDX-License-Identifier: MIT */
/* `content render FILE [--pretty]`: the AST document of a local file, no server. */
#include "cli_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "markdown.h"

static const char render_help[] =
    "usage: content render FILE [--pretty]\n"
    "\n"
    "Prints the AST document (the JSON a Nuxt MDC front end renders) of a local\n"
    "markdown file.  FILE '-' reads standard input.  No server is needed.\n"
    "\n"
    "  --pretty   indent the JSON\n";

int cmd_render(int argc, char **argv)
{
    bool pretty = false;
    const cli_opt opts[] = {{"--pretty", .flag = &pretty}, {NULL}};
    cli_args a = {.cmd = "render",
                  .usage = "content render FILE [--pretty]",
                  .help = render_help,
                  .max_words = 1};
    int parsed = cli_args_parse(NULL, argc, argv, opts, &a);
    if (parsed >= 0)
        return parsed;
    const char *path = a.n_words ? a.words[0] : NULL;
    unsigned flags = pretty ? MD_PRETTY : 0;
    if (!path) {
        cli_error("render: missing FILE (use - for standard input)");
        return CLI_USAGE;
    }

    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!f) {
        cli_error("render: cannot open %s: %s", path, strerror(errno));
        return CLI_FAIL;
    }
    cd_buf src = CD_BUF_INIT;
    int rc = cd_buf_read(&src, f, 0);
    int saved = errno;
    if (f != stdin)
        fclose(f);
    if (rc) {
        cli_error("render: cannot read %s: %s", path, strerror(saved));
        cd_buf_free(&src);
        return CLI_FAIL;
    }

    char *json = NULL;
    size_t len = 0;
    md_error err;
    rc = md_render(src.data ? src.data : "", src.len, flags, &json, &len, &err);
    cd_buf_free(&src);
    if (rc != MD_OK) {
        if (err.line > 0)
            cli_error("%s:%d: %s", path, err.line, err.message);
        else
            cli_error("%s: %s", path, err.message);
        return CLI_FAIL;
    }
    fwrite(json, 1, len, stdout);
    fputc('\n', stdout);
    free(json);
    if (fflush(stdout) != 0) {
        cli_error("render: cannot write output: %s", strerror(errno));
        return CLI_FAIL;
    }
    return CLI_OK;
}
