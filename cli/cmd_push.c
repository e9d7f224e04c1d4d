/* SPDX-License-Identifier: MIT */
/* `content push [DIR] [--dry-run] [--force] [--watch]`: the command line
 * around the push engine (push.c). */
#include "cli_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char push_help[] =
    "usage: content push [DIR] [--dry-run] [--force] [--watch] [--kind K] [--name N]\n"
    "                    [--watch-quiet-ms N] [--watch-max-delay-ms N]\n"
    "                    [--components FILE] [--max-file-size N] [--parallel N]\n"
    "\n"
    "Uploads the folder DIR (default: the current folder) as the new version of\n"
    "its item.  Kind and name come from index.md's front matter (`kind:`,\n"
    "`name:`), else from --kind and --name.  Files are hashed (SHA-256); only\n"
    "the blobs the server lacks are uploaded, in parallel; then the whole file\n"
    "list is committed against the version the push started from, and the\n"
    "added, modified and removed paths are printed.  An item that does not exist\n"
    "yet is created, owned by you.  An interrupted push changes nothing on the\n"
    "server, and the next one resumes where it stopped.\n"
    "\n"
    "After the summary come the findings of the checks (`content check`), one\n"
    "line each: `PATH:LINE: severity: message [code]`.  A finding never stops\n"
    "a push.\n"
    "\n"
    "Ignored: .git, editor swap and backup files (.*.swp, *~, .#*, 4913, *.tmp)\n"
    "and the patterns of DIR/.contentignore (gitignore syntax).  A symlink that\n"
    "points outside DIR is refused.\n"
    "\n"
    "  --dry-run      print what would change; send nothing that changes state\n"
    "  --force        if someone else pushed meanwhile, commit over their version\n"
    "  --watch        keep running: push each burst of saves as one version\n"
    "  --watch-quiet-ms N      a burst ends after N ms without a save\n"
    "                          [CONTENT_WATCH_QUIET_MS, 50]\n"
    "  --watch-max-delay-ms N  and is pushed N ms after its first save at the latest\n"
    "                          [CONTENT_WATCH_MAX_DELAY_MS, 500]\n"
    "  --components FILE  known MDC components for the checks (content check --help)\n"
    "  --max-file-size N  the checks' file size limit (default 10M; 0: none)\n"
    "  --parallel N   blob uploads in flight at once, 1..64 [CONTENT_PUSH_PARALLEL, 16]\n"
    "  --kind KIND    the item's kind, when index.md does not say\n"
    "  --name NAME    the item's name, when index.md does not say\n"
    "  --server URL, --token TOKEN, --output text|json   (see content --help)\n";

/* A debounce window, 1..60000 ms, from a flag or variable `what`. */
static int parse_ms(const char *what, const char *v, unsigned *out)
{
    char *end;
    long n = v ? strtol(v, &end, 10) : 0;
    if (v && *v && !*end && n >= 1 && n <= 60000) {
        *out = (unsigned)n;
        return -1;
    }
    cli_error("push: %s: '%s' is not a number of milliseconds (1..60000)", what, v ? v : "");
    return CLI_USAGE;
}

/* Uploads in flight, 1..CLI_UPLOAD_PARALLEL_MAX, from a flag or variable
 * `what`; -1 when good, like parse_ms(). */
static int parse_parallel(const char *what, const char *v, unsigned *out)
{
    char *end;
    long n = v ? strtol(v, &end, 10) : 0;
    if (v && *v && !*end && n >= 1 && n <= CLI_UPLOAD_PARALLEL_MAX) {
        *out = (unsigned)n;
        return -1;
    }
    cli_error("push: %s: '%s' is not a number of uploads (1..%d)", what, v ? v : "",
              CLI_UPLOAD_PARALLEL_MAX);
    return CLI_USAGE;
}

/* The watch's debounce windows and the uploads in flight from the
 * environment (flags come later). */
static int watch_env(cli_push_opts *o)
{
    const char *q = getenv("CONTENT_WATCH_QUIET_MS"), *m = getenv("CONTENT_WATCH_MAX_DELAY_MS");
    const char *par = getenv("CONTENT_PUSH_PARALLEL");
    int rc = -1;
    if (q && *q)
        rc = parse_ms("CONTENT_WATCH_QUIET_MS", q, &o->quiet_ms);
    if (rc < 0 && m && *m)
        rc = parse_ms("CONTENT_WATCH_MAX_DELAY_MS", m, &o->max_delay_ms);
    if (rc < 0 && par && *par)
        rc = parse_parallel("CONTENT_PUSH_PARALLEL", par, &o->parallel);
    return rc;
}

/* Parses argv into o; returns -1 when it is all good, else an exit status. */
static int parse(cli_config *cfg, int argc, char **argv, cli_push_opts *o, bool *watch)
{
    const char *quiet = NULL, *max_delay = NULL, *parallel = NULL;
    const cli_opt opts[] = {{"--kind", .value = &o->kind},
                            {"--name", .value = &o->name},
                            {"--watch-quiet-ms", .value = &quiet},
                            {"--watch-max-delay-ms", .value = &max_delay},
                            {"--parallel", .value = &parallel},
                            {"--dry-run", "-n", .flag = &o->dry_run},
                            {"--force", "-f", .flag = &o->force},
                            {"--watch", "-w", .flag = watch},
                            {NULL}};
    cli_args a = {.cmd = "push",
                  .usage = "content push [DIR] [--dry-run] [--force] [--watch] [--kind K] "
                           "[--name N]",
                  .help = push_help,
                  .max_words = 1,
                  .more = cli_check_flag,
                  .more_arg = &o->checks};
    int rc = cli_args_parse(cfg, argc, argv, opts, &a);
    if (rc < 0 && quiet)
        rc = parse_ms("--watch-quiet-ms", quiet, &o->quiet_ms);
    if (rc < 0 && max_delay)
        rc = parse_ms("--watch-max-delay-ms", max_delay, &o->max_delay_ms);
    if (rc < 0 && parallel)
        rc = parse_parallel("--parallel", parallel, &o->parallel);
    if (rc < 0 && a.n_words)
        o->dir = a.words[0];
    return rc;
}

/* The folder must exist before its front matter or files mean anything:
 * 0, or CLI_FAIL after saying what is wrong with it. */
static int check_folder(const char *dir)
{
    struct stat st;
    if (stat(dir, &st) != 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            cli_error("push: the folder %s does not exist", dir);
        else
            cli_error("push: cannot open the folder %s: %s", dir, strerror(errno));
        return CLI_FAIL;
    }
    if (!S_ISDIR(st.st_mode)) {
        cli_error("push: %s is not a folder (push the folder that holds index.md)", dir);
        return CLI_FAIL;
    }
    return 0;
}

int cmd_push(cli_config *cfg, int argc, char **argv)
{
    cli_push_opts o = {0};
    cli_check_opts_init(&o.checks);
    bool watch = false;
    int rc = watch_env(&o);
    if (rc < 0)
        rc = parse(cfg, argc, argv, &o, &watch);
    if (rc >= 0)
        return rc;
    if (!o.dir)
        o.dir = ".";
    if (watch && o.dry_run) {
        cli_error("push: --watch and --dry-run do not go together");
        return CLI_USAGE;
    }
    if ((rc = cli_config_check(cfg, "push")) != 0 || (rc = check_folder(o.dir)) != 0)
        return rc;
    cli_interrupt_install();
    cli_http *h = cli_http_new(cfg);
#ifdef CLI_HAVE_WATCH
    rc = watch ? cli_push_watch(h, cfg, &o) : cli_push(h, cfg, &o, NULL);
#else
    if (watch) {
        cli_error("push: --watch is not available in this build (no folder watcher)");
        rc = CLI_FAIL;
    } else {
        rc = cli_push(h, cfg, &o, NULL);
    }
#endif
    cli_http_free(h);
    return rc;
}
