/* SPDX-License-Identifier: MIT */
/*
 * content comments (docs/client.md): the comments on an item's blocks.
 *   content comments KIND/NAME [--path P]                 lists them, in threads
 *   content comments KIND/NAME PATH BLOCK TEXT [--version N]   comments on a block
 *   content comments KIND/NAME --reply ID TEXT             answers comment ID
 *   content comments KIND/NAME --resolve ID | --reopen ID
 * Each is one request to …/comments (CONTRACT "Review and sharing"); with
 * --output json it prints the server's answer as it is.
 */
#include "cli_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] = "content comments KIND/NAME [--path P] | PATH BLOCK TEXT "
                            "[--version N] | --reply ID TEXT | --resolve ID | --reopen ID";

static const char help[] =
    "usage: content comments KIND/NAME [--path P]\n"
    "       content comments KIND/NAME PATH BLOCK TEXT [--version N]\n"
    "       content comments KIND/NAME --reply ID TEXT\n"
    "       content comments KIND/NAME --resolve ID | --reopen ID\n"
    "\n"
    "Lists the comments on the item's documents (of one, with --path), each\n"
    "thread under its first comment, marked [resolved] and [outdated] (its\n"
    "block changed or went away in the latest version); or comments TEXT on\n"
    "block BLOCK (a key such as introduction/p-2, see docs/review.md) of\n"
    "document PATH, in the latest version or in version N; or answers comment\n"
    "ID; or marks comment ID resolved or open again.  The owner, editors and\n"
    "reviewers comment; members read; the author, the owner and editors\n"
    "resolve.\n"
    "\n"
    "  --server URL, --token TOKEN, --output text|json   (see content --help)\n";

typedef struct comments_args {
    cli_args c; /* words: KIND/NAME [PATH BLOCK TEXT | TEXT] */
    const char *path, *version, *reply, *resolve, *reopen;
} comments_args;

/* Returns -1 to go on, else the exit status. */
static int parse(cli_config *cfg, int argc, char **argv, comments_args *a)
{
    const cli_opt opts[] = {{"--path", .value = &a->path},     {"--version", .value = &a->version},
                            {"--reply", .value = &a->reply},   {"--resolve", .value = &a->resolve},
                            {"--reopen", .value = &a->reopen}, {NULL}};
    a->c = (cli_args){.cmd = "comments", .usage = usage, .help = help, .max_words = 4, .id = true};
    return cli_args_parse(cfg, argc, argv, opts, &a->c);
}

/* ---- the list, in threads -------------------------------------------------- */

static long long num(json_t *o, const char *key)
{
    return (long long)json_integer_value(json_object_get(o, key));
}

static const char *str(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

/* Prints comment c, its body indented, then its replies beneath it. */
static void print_thread(json_t *all, json_t *c, int depth)
{
    int ind = 2 + 4 * depth;
    printf("%*s#%lld %s", ind, "", num(c, "id"), str(c, "user"));
    if (depth == 0)
        printf(" on %s (version %lld)", str(c, "block"), num(c, "version"));
    if (json_is_true(json_object_get(c, "resolved")))
        fputs(" [resolved]", stdout);
    if (depth == 0 && json_is_true(json_object_get(c, "outdated")))
        fputs(" [outdated]", stdout);
    putchar('\n');
    const char *body = str(c, "body");
    while (*body) { /* each line of the body, indented */
        size_t n = strcspn(body, "\n");
        printf("%*s%.*s\n", ind + 4, "", (int)n, body);
        body += n + (body[n] == '\n');
    }
    size_t i;
    json_t *r;
    json_array_foreach(all, i, r) if (num(r, "reply_to") == num(c, "id") && depth < 16)
        print_thread(all, r, depth + 1);
}

static void list_text(const comments_args *a, json_t *body)
{
    json_t *all = json_object_get(body, "comments");
    if (!json_array_size(all)) {
        printf("%s/%s has no comments%s%s\n", a->c.kind, a->c.name, a->path ? " on " : "",
               a->path ? a->path : "");
        return;
    }
    const char *doc = NULL;
    size_t i;
    json_t *c;
    json_array_foreach(all, i, c)
    {
        if (!json_is_null(json_object_get(c, "reply_to")))
            continue;
        if (!doc || strcmp(doc, str(c, "path")))
            printf("%s%s:\n", doc ? "\n" : "", str(c, "path"));
        doc = str(c, "path");
        print_thread(all, c, 0);
    }
}

static void added_text(const comments_args *a, json_t *c)
{
    printf("comment #%lld on %s %s of %s/%s (version %lld)\n", num(c, "id"), str(c, "path"),
           str(c, "block"), a->c.kind, a->c.name, num(c, "version"));
}

static void resolved_text(const comments_args *a, json_t *c)
{
    printf("comment #%lld of %s/%s is %s\n", num(c, "id"), a->c.kind, a->c.name,
           json_is_true(json_object_get(c, "resolved")) ? "resolved" : "open");
}

/* One request; body is taken over.  Returns the exit status. */
static int request(cli_config *cfg, const comments_args *a, const char *method, const char *sub,
                   json_t *body, void (*text)(const comments_args *, json_t *))
{
    int rc = cli_config_check(cfg, "comments");
    if (rc != 0) {
        json_decref(body);
        return rc;
    }
    cd_buf path = CD_BUF_INIT;
    cd_buf_printf(&path, "/api/v1/content/%s/%s/comments%s", a->c.kind, a->c.name, sub);
    cli_http *h = cli_http_new(cfg);
    cli_reply r = {0};
    cd_err err;
    rc = cli_http_json(h, method, path.data, body, &r, &err);
    if (rc != 0) {
        cli_error("comments: %s", err.msg);
    } else if (cfg->output == CLI_OUT_JSON) {
        char *s = r.json ? json_dumps(r.json, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
        puts(s ? s : "{}");
        free(s);
    } else {
        text(a, r.json);
    }
    json_decref(body);
    cd_buf_free(&path);
    cli_reply_clear(&r);
    cli_http_free(h);
    return rc == 0 ? CLI_OK : CLI_FAIL;
}

/* An id or version argument: false after a usage error. */
static bool number_arg(const char *what, const char *s, int64_t *v)
{
    if (cd_parse_i64(s, v) && *v >= 1)
        return true;
    cli_error("comments: '%s' is not %s (usage: %s)", s, what, usage);
    return false;
}

static int resolve(cli_config *cfg, const comments_args *a)
{
    int64_t id;
    const char *s = a->resolve ? a->resolve : a->reopen;
    if ((a->resolve && a->reopen) || a->c.n_words != 1) {
        cli_error("comments: --resolve and --reopen take only the comment's ID (usage: %s)", usage);
        return CLI_USAGE;
    }
    if (!number_arg("a comment ID", s, &id))
        return CLI_USAGE;
    char sub[32];
    snprintf(sub, sizeof sub, "/%lld", (long long)id);
    return request(cfg, a, "PATCH", sub, json_pack("{sb}", "resolved", a->resolve != NULL),
                   resolved_text);
}

int cmd_comments(cli_config *cfg, int argc, char **argv)
{
    comments_args a = {0};
    int rc = parse(cfg, argc, argv, &a);
    if (rc >= 0)
        return rc;
    if (a.resolve || a.reopen)
        return resolve(cfg, &a);
    int64_t id = 0, v = 0;
    if (a.reply) {
        if (a.c.n_words != 2) {
            cli_error("comments: --reply ID takes the TEXT only (usage: %s)", usage);
            return CLI_USAGE;
        }
        if (!number_arg("a comment ID", a.reply, &id))
            return CLI_USAGE;
        json_t *body = json_pack("{sIss}", "reply_to", (json_int_t)id, "body", a.c.words[1]);
        return request(cfg, &a, "POST", "", body, added_text);
    }
    if (a.c.n_words == 1) {
        if (!a.path)
            return request(cfg, &a, "GET", "", NULL, list_text);
        char *esc = cli_http_escape_path(a.path);
        cd_buf q = CD_BUF_INIT;
        cd_buf_printf(&q, "?path=%s", esc);
        free(esc);
        rc = request(cfg, &a, "GET", q.data, NULL, list_text);
        cd_buf_free(&q);
        return rc;
    }
    if (a.c.n_words != 4) {
        cli_error("comments: a comment needs PATH, BLOCK and TEXT (usage: %s)", usage);
        return CLI_USAGE;
    }
    if (a.version && !number_arg("a version number", a.version, &v))
        return CLI_USAGE;
    json_t *body =
        json_pack("{ssssss}", "path", a.c.words[1], "block", a.c.words[2], "body", a.c.words[3]);
    if (v)
        json_object_set_new(body, "version", json_integer(v));
    return request(cfg, &a, "POST", "", body, added_text);
}
