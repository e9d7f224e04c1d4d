/* SPDX-License-Identifier: MIT */
/*
 * Review and sharing from the command line (docs/client.md):
 *   content publish KIND/NAME [N]
 *   content members KIND/NAME [USER ROLE | --remove USER]
 *   content share KIND/NAME [--version N] [--expires 7d] | --list | --revoke ID
 *   content rollback KIND/NAME N
 *   content diff KIND/NAME N [M]
 * Each is one request to the API (CONTRACT "Review and sharing"); with
 * --output json each prints the server's answer as it is.
 */
#include "cli_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The words and options of one of these commands. */
typedef struct review_args {
    cli_args c; /* words: KIND/NAME and what the command takes after it */
    const char *version, *expires, *revoke, *remove;
    bool list;
} review_args;

/* Returns -1 to go on, else the exit status (help printed, usage error). */
static int parse(cli_config *cfg, int argc, char **argv, review_args *a, const char *help,
                 const cli_opt *opts)
{
    a->c.help = help;
    a->c.id = true;
    return cli_args_parse(cfg, argc, argv, opts, &a->c);
}

/* A version number argument: false (after a usage error) when it is not
 * an integer >= 1. */
static bool version_arg(const review_args *a, const char *s, int64_t *v)
{
    if (cd_parse_i64(s, v) && *v >= 1)
        return true;
    cli_error("%s: '%s' is not a version number (usage: %s)", a->c.cmd, s, a->c.usage);
    return false;
}

/* One request on the item's sub-resource `sub` (may be ""); body is taken
 * over.  Prints the JSON answer with --output json, else hands it to text
 * (NULL: nothing to print).  Returns the exit status. */
static int call(cli_config *cfg, const review_args *a, const char *method, const char *sub,
                json_t *body, void (*text)(const review_args *, json_t *))
{
    int rc = cli_config_check(cfg, a->c.cmd);
    if (rc != 0) {
        json_decref(body);
        return rc;
    }
    char path[256];
    snprintf(path, sizeof path, "/api/v1/content/%s/%s%s", a->c.kind, a->c.name, sub);
    cli_http *h = cli_http_new(cfg);
    cli_reply r = {0};
    cd_err err;
    rc = cli_http_json(h, method, path, body, &r, &err);
    if (rc != 0) {
        cli_error("%s: %s", a->c.cmd, err.msg);
    } else if (cfg->output == CLI_OUT_JSON) {
        char *s = r.json ? json_dumps(r.json, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
        puts(s ? s : "{}");
        free(s);
    } else if (text) {
        text(a, r.json);
    }
    json_decref(body);
    cli_reply_clear(&r);
    cli_http_free(h);
    return rc == 0 ? CLI_OK : CLI_FAIL;
}

static long long num(json_t *o, const char *key)
{
    return (long long)json_integer_value(json_object_get(o, key));
}

static const char *str(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

/* ---- publish ------------------------------------------------------------ */

static const char publish_help[] =
    "usage: content publish KIND/NAME [N]\n"
    "\n"
    "Publishes version N of the item (the latest when N is omitted): readers\n"
    "who are neither its owner nor its members see that version only, until\n"
    "the next publish.  Only the owner may publish.\n"
    "\n"
    "  --server URL, --token TOKEN, --output text|json   (see content --help)\n";

static void publish_text(const review_args *a, json_t *item)
{
    printf("%s/%s: published version %lld (latest %lld)\n", a->c.kind, a->c.name,
           num(item, "published_version"), num(item, "version"));
}

int cmd_publish(cli_config *cfg, int argc, char **argv)
{
    review_args a = {
        .c = {.cmd = "publish", .usage = "content publish KIND/NAME [N]", .max_words = 2}};
    int rc = parse(cfg, argc, argv, &a, publish_help, NULL);
    if (rc >= 0)
        return rc;
    int64_t v = 0;
    if (a.c.n_words == 2 && !version_arg(&a, a.c.words[1], &v))
        return CLI_USAGE;
    json_t *body = v ? json_pack("{sI}", "version", (json_int_t)v) : json_object();
    return call(cfg, &a, "POST", "/publish", body, publish_text);
}

/* ---- members ------------------------------------------------------------ */

static const char members_help[] =
    "usage: content members KIND/NAME [USER ROLE | --remove USER]\n"
    "\n"
    "Lists the item's members, gives USER the ROLE (viewer: reads every\n"
    "version; reviewer: also comments; editor: also pushes), or takes USER's\n"
    "role away (their open streams of the item close at once).  Only the\n"
    "owner may.\n"
    "\n"
    "  --server URL, --token TOKEN, --output text|json   (see content --help)\n";

static void members_text(const review_args *a, json_t *body)
{
    json_t *m = json_object_get(body, "members");
    if (!json_array_size(m))
        printf("%s/%s has no members\n", a->c.kind, a->c.name);
    size_t i;
    json_t *e;
    json_array_foreach(m, i, e) printf("%-32s %s\n", str(e, "user"), str(e, "role"));
}

static void removed_text(const review_args *a, json_t *body)
{
    printf("%s is no longer a member of %s/%s\n", a->remove, a->c.kind, a->c.name);
}

int cmd_members(cli_config *cfg, int argc, char **argv)
{
    review_args a = {.c = {.cmd = "members",
                           .usage = "content members KIND/NAME [USER ROLE | --remove USER]",
                           .max_words = 3}};
    const cli_opt opts[] = {{"--remove", .value = &a.remove}, {NULL}};
    int rc = parse(cfg, argc, argv, &a, members_help, opts);
    if (rc >= 0)
        return rc;
    char sub[160];
    if (a.remove) {
        if (a.c.n_words != 1) {
            cli_error("members: --remove USER takes no other USER (usage: %s)", a.c.usage);
            return CLI_USAGE;
        }
        snprintf(sub, sizeof sub, "/members/%s", a.remove);
        return call(cfg, &a, "DELETE", sub, NULL, removed_text);
    }
    if (a.c.n_words == 1)
        return call(cfg, &a, "GET", "/members", NULL, members_text);
    if (a.c.n_words != 3) {
        cli_error("members: USER needs a ROLE (usage: %s)", a.c.usage);
        return CLI_USAGE;
    }
    if (strlen(a.c.words[1]) > 64 || strchr(a.c.words[1], '/')) {
        cli_error("members: '%s' is not a user name", a.c.words[1]);
        return CLI_USAGE;
    }
    snprintf(sub, sizeof sub, "/members/%s", a.c.words[1]);
    return call(cfg, &a, "PUT", sub, json_pack("{ss}", "role", a.c.words[2]), members_text);
}

/* ---- share -------------------------------------------------------------- */

static const char share_help[] =
    "usage: content share KIND/NAME [--version N] [--expires 7d] | --list | --revoke ID\n"
    "\n"
    "Makes a share link: an address of the item's preview that works without\n"
    "an account, for version N or (without --version) for the latest,\n"
    "following edits, until it expires (--expires: seconds, or a number\n"
    "with s, m, h or d; 7d when omitted).  The address is shown once.\n"
    "--list lists the item's links (never their secrets); --revoke ID ends\n"
    "one at once, closing the streams opened with it.  Only the owner may.\n"
    "\n"
    "  --server URL, --token TOKEN, --output text|json   (see content --help)\n";

/* "7d", "12h", "30m", "90s", "90" → seconds; -1 when malformed. */
static int64_t duration_s(const char *s)
{
    size_t n = strlen(s);
    int64_t mult = 1;
    char buf[32];
    if (!n || n >= sizeof buf)
        return -1;
    memcpy(buf, s, n + 1);
    const char *units = "smhd";
    const int64_t per[] = {1, 60, 3600, 86400};
    const char *u = strchr(units, buf[n - 1]);
    if (u && *u) {
        mult = per[u - units];
        buf[n - 1] = '\0';
    }
    int64_t v;
    if (!cd_parse_i64(buf, &v) || v < 1 || v > INT64_MAX / 1000 / mult)
        return -1;
    return v * mult;
}

static void link_text(const review_args *a, json_t *l)
{
    json_t *v = json_object_get(l, "version");
    char ver[32];
    if (json_is_integer(v))
        snprintf(ver, sizeof ver, "version %lld", (long long)json_integer_value(v));
    else
        snprintf(ver, sizeof ver, "the latest version");
    printf("link %s to %s of %s/%s, until %s:\n%s\n", str(l, "id"), ver, a->c.kind, a->c.name,
           str(l, "expires_at"), str(l, "url"));
}

static void links_text(const review_args *a, json_t *body)
{
    json_t *links = json_object_get(body, "links");
    if (!json_array_size(links)) {
        printf("%s/%s has no share links\n", a->c.kind, a->c.name);
        return;
    }
    printf("%-16s  %-8s  %-24s  %s\n", "ID", "VERSION", "EXPIRES", "CREATED");
    size_t i;
    json_t *l;
    json_array_foreach(links, i, l)
    {
        json_t *v = json_object_get(l, "version");
        char ver[24];
        snprintf(ver, sizeof ver, json_is_integer(v) ? "%lld" : "latest",
                 (long long)json_integer_value(v));
        printf("%-16s  %-8s  %-24s  %s\n", str(l, "id"), ver, str(l, "expires_at"),
               str(l, "created_at"));
    }
}

static void revoked_text(const review_args *a, json_t *body)
{
    printf("revoked link %s of %s/%s\n", a->revoke, a->c.kind, a->c.name);
}

int cmd_share(cli_config *cfg, int argc, char **argv)
{
    review_args a = {.c = {.cmd = "share",
                           .usage = "content share KIND/NAME [--version N] [--expires 7d] | "
                                    "--list | --revoke ID",
                           .max_words = 1}};
    const cli_opt opts[] = {{"--version", .value = &a.version},
                            {"--expires", .value = &a.expires},
                            {"--list", .flag = &a.list},
                            {"--revoke", .value = &a.revoke},
                            {NULL}};
    int rc = parse(cfg, argc, argv, &a, share_help, opts);
    if (rc >= 0)
        return rc;
    int modes = a.list + (a.revoke != NULL) + (a.version || a.expires);
    if (modes > 1) {
        cli_error("share: make, --list or --revoke, one at a time (usage: %s)", a.c.usage);
        return CLI_USAGE;
    }
    if (a.list)
        return call(cfg, &a, "GET", "/links", NULL, links_text);
    if (a.revoke) {
        char sub[96];
        snprintf(sub, sizeof sub, "/links/%.40s", a.revoke);
        return call(cfg, &a, "DELETE", sub, NULL, revoked_text);
    }
    int64_t v = 0, secs = a.expires ? duration_s(a.expires) : 7 * 86400;
    if (a.version && !version_arg(&a, a.version, &v))
        return CLI_USAGE;
    if (secs < 0) {
        cli_error("share: --expires '%s' is not a duration such as 3600, 90m, 12h or 7d",
                  a.expires);
        return CLI_USAGE;
    }
    json_t *body = json_pack("{sosI}", "version", v ? json_integer(v) : json_null(), "expires_in",
                             (json_int_t)secs);
    return call(cfg, &a, "POST", "/links", body, link_text);
}

/* ---- rollback ----------------------------------------------------------- */

static const char rollback_help[] =
    "usage: content rollback KIND/NAME N\n"
    "\n"
    "Makes a new version of the item whose files are version N's; the\n"
    "history is kept.  The owner and the item's editors may.\n"
    "\n"
    "  --server URL, --token TOKEN, --output text|json   (see content --help)\n";

static void rollback_text(const review_args *a, json_t *body)
{
    if (json_is_true(json_object_get(body, "created")))
        printf("%s/%s: version %lld has the files of version %s\n", a->c.kind, a->c.name,
               num(body, "version"), a->c.words[1]);
    else
        printf("%s/%s: version %lld already has the files of version %s\n", a->c.kind, a->c.name,
               num(body, "version"), a->c.words[1]);
}

int cmd_rollback(cli_config *cfg, int argc, char **argv)
{
    review_args a = {
        .c = {.cmd = "rollback", .usage = "content rollback KIND/NAME N", .max_words = 2}};
    int rc = parse(cfg, argc, argv, &a, rollback_help, NULL);
    if (rc >= 0)
        return rc;
    int64_t v = 0;
    if (a.c.n_words != 2) {
        cli_error("rollback: missing the version N (usage: %s)", a.c.usage);
        return CLI_USAGE;
    }
    if (!version_arg(&a, a.c.words[1], &v))
        return CLI_USAGE;
    return call(cfg, &a, "POST", "/rollback", json_pack("{sI}", "to", (json_int_t)v),
                rollback_text);
}

/* ---- diff --------------------------------------------------------------- */

static const char diff_help[] =
    "usage: content diff KIND/NAME N [M]\n"
    "\n"
    "Shows what changed from version N to version M (the latest you read\n"
    "when M is omitted): per document, the blocks added (+), removed (-) or\n"
    "changed (~), named by their keys (a heading's id, or SECTION/TAG-N);\n"
    "then the assets added, removed or changed.  Colour on a terminal only\n"
    "(not with NO_COLOR set).\n"
    "\n"
    "  --server URL, --token TOKEN, --output text|json   (see content --help)\n";

/* The mark of an op or status, and its colour on a terminal. */
static void diff_mark(bool colour, const char *what)
{
    char mark = !strcmp(what, "added") ? '+' : !strcmp(what, "removed") ? '-' : '~';
    const char *sgr = mark == '+' ? "32" : mark == '-' ? "31" : "33";
    if (colour)
        printf("\033[%sm%c\033[0m", sgr, mark);
    else
        putchar(mark);
}

static void diff_document(bool colour, const char *path, json_t *d)
{
    const char *status = str(d, "status");
    json_t *blocks = json_object_get(d, "blocks");
    diff_mark(colour, status);
    printf(" %s (%s", path, status);
    if (strcmp(status, "changed") != 0) {
        size_t nb = json_array_size(blocks);
        printf(", %zu block%s)\n", nb, nb == 1 ? "" : "s");
        return;
    }
    fputs(")\n", stdout);
    size_t i;
    json_t *b;
    json_array_foreach(blocks, i, b)
    {
        fputs("    ", stdout);
        diff_mark(colour, str(b, "op"));
        printf(" %s\n", str(b, "key"));
    }
}

static void diff_text(const review_args *a, json_t *body)
{
    bool colour = isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
    printf("%s/%s: from version %lld to version %lld\n", a->c.kind, a->c.name, num(body, "from"),
           num(body, "to"));
    size_t shown = 0;
    const char *path;
    json_t *d;
    json_object_foreach(json_object_get(body, "documents"), path, d)
    {
        if (strcmp(str(d, "status"), "unchanged") != 0) {
            diff_document(colour, path, d);
            shown++;
        }
    }
    static const char *const lists[] = {"added", "removed", "changed"};
    json_t *assets = json_object_get(body, "assets");
    for (size_t k = 0; k < 3; k++) {
        size_t i;
        json_t *p;
        json_array_foreach(json_object_get(assets, lists[k]), i, p)
        {
            diff_mark(colour, lists[k]);
            printf(" %s (asset %s)\n", json_string_value(p), lists[k]);
            shown++;
        }
    }
    if (!shown)
        puts("no changes");
}

int cmd_diff(cli_config *cfg, int argc, char **argv)
{
    review_args a = {.c = {.cmd = "diff", .usage = "content diff KIND/NAME N [M]", .max_words = 3}};
    int rc = parse(cfg, argc, argv, &a, diff_help, NULL);
    if (rc >= 0)
        return rc;
    int64_t from = 0, to = 0;
    if (a.c.n_words < 2) {
        cli_error("diff: missing the version N (usage: %s)", a.c.usage);
        return CLI_USAGE;
    }
    if (!version_arg(&a, a.c.words[1], &from) ||
        (a.c.n_words == 3 && !version_arg(&a, a.c.words[2], &to)))
        return CLI_USAGE;
    char sub[96];
    if (to)
        snprintf(sub, sizeof sub, "/versions/%lld/diff?to=%lld", (long long)from, (long long)to);
    else
        snprintf(sub, sizeof sub, "/versions/%lld/diff", (long long)from);
    return call(cfg, &a, "GET", sub, NULL, diff_text);
}
