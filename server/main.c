/* SPDX-License-Identifier: MIT */
/*
 * The `contentd` binary: global options, subcommands, and the serve loop.
 * Every subcommand that touches storage takes the storage flags; flags win
 * over the environment, which wins over the defaults.  Exit status: 0
 * success, 1 failure, 2 usage error, with one clear line on stderr.
 */
#include "srv_int.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "markdown.h"

/* The watch's view of the configuration (and, once it exists, of the
 * service's stores). */
static void sync_of(const srv_config *cfg, const srv *s, sync_config *out)
{
    *out = (sync_config){.dirs = cfg->watch,
                         .n_dirs = cfg->n_watch,
                         .data_dir = cfg->data_dir,
                         .quiet_ms = cfg->watch_quiet_ms,
                         .max_delay_ms = cfg->watch_max_delay_ms};
    if (s) {
        out->cat = s->cat;
        out->bs = s->bs;
        out->commit = s->commit;
        out->pool = s->render_pool;
        out->max_blob_size = s->cfg.max_blob_size;
    }
}

#define STOP_TIMEOUT_MS 10000

static const char usage_text[] =
    "usage: contentd COMMAND [OPTIONS]\n"
    "\n"
    "commands:\n"
    "  serve                  run the service\n"
    "  token create USER      create an API token for USER (printed once)\n"
    "  token list             list the tokens: id, user, created, last used\n"
    "  token revoke ID|USER   revoke one token, or every token of USER\n"
    "  rebuild-catalog        rebuild the catalog from the blob store's manifests\n"
    "  --version, --help\n"
    "\n"
    "storage options (every command):\n"
    "  --data DIR             embedded data folder      [CONTENTD_DATA, ./contentd-data]\n"
    "  --s3-endpoint URL      S3 endpoint               [AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL]\n"
    "  --s3-bucket NAME       S3 bucket                 [CONTENTD_S3_BUCKET]\n"
    "  --s3-region REGION     S3 region                 [AWS_REGION, us-east-1]\n"
    "  --s3-path-style        path-style S3 addressing  [CONTENTD_S3_PATH_STYLE=1]\n"
    "  --mongodb-uri URI      MongoDB catalog           [MONGODB_URI]\n"
    "  --mongodb-db NAME      MongoDB database          [CONTENTD_MONGODB_DB, contentd]\n"
    "\n"
    "serve options:\n"
    "  --listen HOST:PORT     listen address            [CONTENTD_LISTEN, 127.0.0.1:8080]\n"
    "  --max-blob-size SIZE   largest blob accepted     [CONTENTD_MAX_BLOB_SIZE, 64MiB]\n"
    "  --max-header-size SIZE request headers accepted  [CONTENTD_MAX_HEADER_SIZE, 16KiB]\n"
    "  --cors-origin ORIGIN   let pages of ORIGIN call the API (repeatable)\n"
    "                                                   [CONTENTD_CORS_ORIGINS, comma-separated]\n"
    "  --watch DIR            commit each item folder of DIR on every save (repeatable)\n"
    "  --watch-quiet-ms N     quiet window of the watch    [CONTENTD_WATCH_QUIET_MS, 50]\n"
    "  --watch-max-delay-ms N its maximum delay           [CONTENTD_WATCH_MAX_DELAY_MS, 500]\n"
    "  --threads N            HTTP worker threads       [CONTENTD_THREADS, 2 per CPU]\n"
    "  --max-connections-per-address N\n"
    "                         connections one client address may hold, 0: no limit\n"
    "                         [CONTENTD_MAX_CONNECTIONS_PER_ADDRESS, half of the maximum]\n"
    "\n"
    "S3 credentials come from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and\n"
    "AWS_SESSION_TOKEN.  On a non-loopback address, serve refuses to start until a\n"
    "token exists.  Documentation: docs/operations.md, docs/api.md.\n";

static void err_line(const char *fmt, ...) CD_PRINTF(1, 2);
static void err_line(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("contentd: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

enum {
    OPT_DATA = 256,
    OPT_S3_ENDPOINT,
    OPT_S3_BUCKET,
    OPT_S3_REGION,
    OPT_S3_PATH_STYLE,
    OPT_MONGODB_URI,
    OPT_MONGODB_DB,
    OPT_LISTEN,
    OPT_MAX_BLOB,
    OPT_MAX_HEADER,
    OPT_CORS_ORIGIN,
    OPT_WATCH,
    OPT_WATCH_QUIET,
    OPT_WATCH_MAX_DELAY,
    OPT_THREADS,
    OPT_PER_ADDRESS,
    OPT_HELP,
    OPT_VERSION,
};

static const struct option long_opts[] = {
    {"data", required_argument, NULL, OPT_DATA},
    {"s3-endpoint", required_argument, NULL, OPT_S3_ENDPOINT},
    {"s3-bucket", required_argument, NULL, OPT_S3_BUCKET},
    {"s3-region", required_argument, NULL, OPT_S3_REGION},
    {"s3-path-style", no_argument, NULL, OPT_S3_PATH_STYLE},
    {"mongodb-uri", required_argument, NULL, OPT_MONGODB_URI},
    {"mongodb-db", required_argument, NULL, OPT_MONGODB_DB},
    {"listen", required_argument, NULL, OPT_LISTEN},
    {"max-blob-size", required_argument, NULL, OPT_MAX_BLOB},
    {"max-header-size", required_argument, NULL, OPT_MAX_HEADER},
    {"cors-origin", required_argument, NULL, OPT_CORS_ORIGIN},
    {"watch", required_argument, NULL, OPT_WATCH},
    {"watch-quiet-ms", required_argument, NULL, OPT_WATCH_QUIET},
    {"watch-max-delay-ms", required_argument, NULL, OPT_WATCH_MAX_DELAY},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"max-connections-per-address", required_argument, NULL, OPT_PER_ADDRESS},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

static void set_str(char **dst, const char *v)
{
    free(*dst);
    *dst = cd_xstrdup(v);
}

typedef struct {
    srv_config cfg;
    char *positional[8];
    int npos;
    bool serve_only_flag;   /* a flag only `serve` takes was given */
    const char *serve_flag; /* its name, without the "--" */
    bool help, version;
    bool cors_flag; /* a --cors-origin was given: the flags replace the environment's list */
} cli;

/* The name of option opt as long_opts spells it (without the "--"). */
static const char *opt_name(int opt)
{
    for (const struct option *o = long_opts; o->name; o++)
        if (o->val == opt)
            return o->name;
    return "";
}

/* Applies one option; returns false (after a message) on a bad value. */
static bool apply_opt(cli *c, int opt, const char *arg)
{
    srv_config *cfg = &c->cfg;
    switch (opt) {
    case OPT_DATA:
        set_str(&cfg->data_dir, arg);
        return true;
    case OPT_S3_ENDPOINT:
        set_str(&cfg->s3_endpoint, arg);
        return true;
    case OPT_S3_BUCKET:
        set_str(&cfg->s3_bucket, arg);
        return true;
    case OPT_S3_REGION:
        set_str(&cfg->s3_region, arg);
        return true;
    case OPT_S3_PATH_STYLE:
        cfg->s3_path_style = true;
        return true;
    case OPT_MONGODB_URI:
        set_str(&cfg->mongodb_uri, arg);
        return true;
    case OPT_MONGODB_DB:
        set_str(&cfg->mongodb_db, arg);
        return true;
    case OPT_HELP:
        c->help = true;
        return true;
    case OPT_VERSION:
        c->version = true;
        return true;
    default:
        break;
    }
    c->serve_only_flag = true;
    c->serve_flag = opt_name(opt);
    switch (opt) {
    case OPT_LISTEN:
        set_str(&cfg->listen, arg);
        return true;
    case OPT_WATCH:
        cfg->watch = cd_xrealloc(cfg->watch, (cfg->n_watch + 1) * sizeof *cfg->watch);
        cfg->watch[cfg->n_watch++] = cd_xstrdup(arg);
        return true;
    case OPT_WATCH_QUIET:
    case OPT_WATCH_MAX_DELAY: {
        if (srv_parse_watch_ms(arg, opt == OPT_WATCH_QUIET ? &cfg->watch_quiet_ms
                                                           : &cfg->watch_max_delay_ms))
            return true;
        err_line("--%s: '%s' is not a number of milliseconds (1..60000)", c->serve_flag, arg);
        return false;
    }
    case OPT_MAX_BLOB:
        if (srv_parse_size(arg, &cfg->max_blob_size) && cfg->max_blob_size >= 1)
            return true;
        err_line("--max-blob-size: '%s' is not a size of at least 1 byte (e.g. 64MiB, 512k, "
                 "1048576)",
                 arg);
        return false;
    case OPT_CORS_ORIGIN:
        if (!c->cors_flag) {
            for (size_t i = 0; i < cfg->n_cors; i++)
                free(cfg->cors[i]);
            cfg->n_cors = 0;
            c->cors_flag = true;
        }
        if (srv_config_add_cors(cfg, arg))
            return true;
        err_line("--cors-origin: '%s' is not an origin: give SCHEME://HOST[:PORT], e.g. "
                 "http://localhost:3000",
                 arg);
        return false;
    case OPT_MAX_HEADER:
        if (srv_parse_header_size(arg, &cfg->max_header_size))
            return true;
        err_line("--max-header-size: '%s' is not a size from 1KiB to 1MiB", arg);
        return false;
    case OPT_THREADS: {
        int64_t n;
        if (cd_parse_i64(arg, &n) && n >= 1 && n <= 256) {
            cfg->threads = (int)n;
            return true;
        }
        err_line("--threads: '%s' is not a number from 1 to 256", arg);
        return false;
    }
    case OPT_PER_ADDRESS:
        if (srv_parse_per_address(arg, &cfg->max_per_address))
            return true;
        err_line("--max-connections-per-address: '%s' is not a number from 0 (no limit) to "
                 "1000000",
                 arg);
        return false;
    default:
        return false;
    }
}

/* Whether getopt took the next flag as the value of an option given
 * without one (`--listen --data X`): no value of ours starts with "--". */
static bool swallowed_flag(char **argv, int optind_now)
{
    return optarg && optind_now >= 2 && optarg == argv[optind_now - 1] && !strncmp(optarg, "--", 2);
}

/* Parses argv into c (environment first, flags over it).  Returns -1 to go
 * on, else the exit status. */
static int parse(cli *c, int argc, char **argv)
{
    cd_err err = {0};
    if (srv_config_from_env(&c->cfg, &err) != 0) {
        err_line("%s", err.msg);
        return SRV_EXIT_USAGE;
    }
    opterr = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, "+:hV", long_opts, NULL)) != -1 || optind < argc) {
        if (opt == -1) { /* a positional argument: collect it, go on after it */
            if (c->npos < 8)
                c->positional[c->npos++] = argv[optind];
            optind++;
            continue;
        }
        if (opt == 'h')
            opt = OPT_HELP;
        if (opt == 'V')
            opt = OPT_VERSION;
        if (opt == '?') {
            err_line("unknown option '%s' (run `contentd --help`)", argv[optind - 1]);
            return SRV_EXIT_USAGE;
        }
        if (opt == ':' || swallowed_flag(argv, optind)) {
            err_line("option '%s' needs a value", argv[optind - (opt == ':' ? 1 : 2)]);
            return SRV_EXIT_USAGE;
        }
        if (!apply_opt(c, opt, optarg))
            return SRV_EXIT_USAGE;
    }
    return -1;
}

/* Opens the stores c's options name, for a subcommand: false after one
 * line on stderr.  close_stores() closes both. */
static bool open_stores(const cli *c, catalog **cat, blobstore **bs)
{
    cd_err err = {0};
    if (srv_stores_open(&c->cfg, cat, bs, &err) == 0)
        return true;
    err_line("%s", err.msg);
    return false;
}

static void close_stores(catalog *cat, blobstore *bs)
{
    catalog_close(cat);
    blobstore_close(bs);
}

/* SIGINT and SIGTERM: the signals that stop the server. */
static void stop_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
}

/* `token list` and `token revoke ID|USER` (server/tokens.c). */
static int cmd_token_manage(cli *c, bool list)
{
    if (c->npos != (list ? 2 : 3)) {
        err_line(list ? "token list takes no arguments" : "usage: contentd token revoke ID|USER");
        return SRV_EXIT_USAGE;
    }
    catalog *cat = NULL;
    blobstore *bs = NULL;
    if (!open_stores(c, &cat, &bs))
        return SRV_EXIT_FAIL;
    cd_err err = {0};
    int rc = list ? srv_token_list(cat, stdout, &err)
                  : srv_token_revoke(cat, c->positional[2], stdout, &err);
    close_stores(cat, bs);
    fflush(stdout);
    if (rc != 0) {
        err_line("%s%s", list ? "cannot list the tokens: " : "", err.msg);
        return SRV_EXIT_FAIL;
    }
    return SRV_EXIT_OK;
}

static int cmd_token(cli *c)
{
    if (c->npos >= 2 && (!strcmp(c->positional[1], "list") || !strcmp(c->positional[1], "revoke")))
        return cmd_token_manage(c, !strcmp(c->positional[1], "list"));
    if (c->npos < 2 || strcmp(c->positional[1], "create")) {
        err_line("usage: contentd token create USER | token list | token revoke ID|USER "
                 "[storage options]");
        return SRV_EXIT_USAGE;
    }
    if (c->npos != 3) {
        err_line("token create takes exactly one USER");
        return SRV_EXIT_USAGE;
    }
    const char *user = c->positional[2];
    if (!http_user_valid(user)) {
        err_line("'%s' is not a valid user name: 1 to 64 letters, digits, '.', '_', '-' or '@', "
                 "starting with a letter or digit",
                 user);
        return SRV_EXIT_USAGE;
    }
    catalog *cat = NULL;
    blobstore *bs = NULL;
    if (!open_stores(c, &cat, &bs))
        return SRV_EXIT_FAIL;
    char *token = NULL;
    cd_err err = {0};
    int rc = http_token_create(cat, user, &token, &err);
    close_stores(cat, bs);
    if (rc != 0) {
        err_line("cannot create the token: %s", err.msg);
        return SRV_EXIT_FAIL;
    }
    printf("%s\n", token);
    fflush(stdout);
    fprintf(stderr, "contentd: created a token for user '%s'; it is shown only this once\n", user);
    free(token);
    return SRV_EXIT_OK;
}

static int cmd_rebuild(cli *c)
{
    if (c->npos != 1) {
        err_line("rebuild-catalog takes no arguments (got '%s')", c->positional[1]);
        return SRV_EXIT_USAGE;
    }
    catalog *cat = NULL;
    blobstore *bs = NULL;
    if (!open_stores(c, &cat, &bs))
        return SRV_EXIT_FAIL;
    cd_err err = {0};
    int rc = srv_rebuild_catalog(cat, bs, &err);
    close_stores(cat, bs);
    if (rc != 0) {
        err_line("rebuild-catalog: %s", err.msg);
        return SRV_EXIT_FAIL;
    }
    return SRV_EXIT_OK;
}

static int run_server(srv *s)
{
    sigset_t set;
    stop_signals(&set);
    cd_err err = {0};
    if (srv_start(s, &err) != 0) {
        err_line("%s", err.msg);
        return SRV_EXIT_FAIL;
    }
    printf("contentd %s listening on %s\n", CONTENTD_VERSION, srv_url(s));
    fflush(stdout);
    /* The watched folders are committed through the running service, so
     * that subscribers see the initial sync like any push. */
    sync_watch *w = NULL;
    sync_config sc;
    sync_of(&s->cfg, s, &sc);
    if (s->cfg.n_watch && sync_watch_start(&sc, &w, &err) != 0) {
        err_line("%s", err.msg);
        srv_stop(s, STOP_TIMEOUT_MS);
        return SRV_EXIT_FAIL;
    }
    int sig = 0;
    sigwait(&set, &sig);
    cd_log("info", "server", "msg=\"stopping\" signal=%s", sig == SIGINT ? "SIGINT" : "SIGTERM");
    sync_watch_free(w); /* no commit starts once the service stops */
    srv_stop(s, STOP_TIMEOUT_MS);
    return SRV_EXIT_OK;
}

static int cmd_serve(cli *c)
{
    cd_err err = {0};
    if (c->npos != 1) {
        err_line("serve takes no arguments (got '%s')", c->positional[1]);
        return SRV_EXIT_USAGE;
    }
    if (!srv_listen_valid(c->cfg.listen, &err)) {
        err_line("%s", err.msg);
        return SRV_EXIT_USAGE;
    }
    for (size_t i = 0; i < c->cfg.n_watch; i++) {
        struct stat st;
        if (stat(c->cfg.watch[i], &st) != 0 || !S_ISDIR(st.st_mode)) {
            err_line("--watch %s: no such folder", c->cfg.watch[i]);
            return SRV_EXIT_USAGE;
        }
    }
    /* Signals are taken by sigwait() in the main thread: block them before
     * any other thread exists so that every thread inherits the mask. */
    sigset_t set;
    stop_signals(&set);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    catalog *cat = NULL;
    blobstore *bs = NULL;
    if (!open_stores(c, &cat, &bs))
        return SRV_EXIT_FAIL;
    int status = SRV_EXIT_FAIL;
    srv *s = NULL;
    sync_config sc;
    sync_of(&c->cfg, NULL, &sc);
    if (sync_watch_check(&sc, &err) != 0)
        err_line("%s", err.msg);
    else if (!(s = srv_new(&c->cfg, cat, bs, &err)))
        err_line("%s", err.msg);
    else
        status = run_server(s);
    srv_free(s);
    close_stores(cat, bs);
    return status;
}

int main(int argc, char **argv)
{
    /* a markdown render worker of this server's pool (markdown.h) */
    if (argc == 2 && !strcmp(argv[1], MD_WORKER_ARG))
        return md_worker_main();
    cli c = {0};
    int status = parse(&c, argc, argv);
    if (status >= 0)
        goto out;
    if (c.help || (c.npos >= 1 && !strcmp(c.positional[0], "help"))) {
        fputs(usage_text, stdout);
        status = SRV_EXIT_OK;
    } else if (c.version) {
        printf("contentd %s (markdown %s, libmicrohttpd %s)\n", CONTENTD_VERSION, md_version(),
               MHD_get_version());
        status = SRV_EXIT_OK;
    } else if (c.npos == 0) {
        fputs(usage_text, stderr);
        status = SRV_EXIT_USAGE;
    } else if (strcmp(c.positional[0], "serve") && c.serve_only_flag) {
        err_line("--%s is an option of `contentd serve` only", c.serve_flag);
        status = SRV_EXIT_USAGE;
    } else if (!strcmp(c.positional[0], "serve")) {
        status = cmd_serve(&c);
    } else if (!strcmp(c.positional[0], "token")) {
        status = cmd_token(&c);
    } else if (!strcmp(c.positional[0], "rebuild-catalog")) {
        status = cmd_rebuild(&c);
    } else {
        err_line("unknown command '%s' (run `contentd --help`)", c.positional[0]);
        status = SRV_EXIT_USAGE;
    }
out:
    srv_config_clear(&c.cfg);
    return status;
}
