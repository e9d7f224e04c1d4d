/* SPDX-License-Identifier: MIT */
/* `content create KIND NAME [--dir DIR] [--title T]`: the item on the
 * server, then its local folder with an index.md that names it. */
#include "cli_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char create_help[] =
    "usage: content create KIND NAME [--dir DIR] [--title TITLE]\n"
    "\n"
    "Creates the item KIND/NAME on the server (you are its owner; it is\n"
    "private), then the folder DIR (default ./NAME) with an index.md whose\n"
    "front matter names its kind, name and title, ready for `content push`.\n"
    "KIND is one of " CD_KINDS_TEXT ";\n"
    "NAME is " CD_NAME_RULE ".\n"
    "\n"
    "  --dir DIR       the local folder (default ./NAME)\n"
    "  --title TITLE   the item's title (default NAME)\n"
    "  --server URL, --token TOKEN, --output text|json   (see content --help)\n";

typedef struct create_args {
    const char *kind, *name, *dir, *title;
} create_args;

static int parse(cli_config *cfg, int argc, char **argv, create_args *a)
{
    const cli_opt opts[] = {{"--dir", .value = &a->dir}, {"--title", .value = &a->title}, {NULL}};
    cli_args c = {.cmd = "create",
                  .usage = "content create KIND NAME [--dir DIR] [--title TITLE]",
                  .help = create_help,
                  .max_words = 2};
    int rc = cli_args_parse(cfg, argc, argv, opts, &c);
    a->kind = c.n_words > 0 ? c.words[0] : NULL;
    a->name = c.n_words > 1 ? c.words[1] : NULL;
    return rc;
}

static int check(create_args *a)
{
    if (!a->kind || !a->name) {
        cli_error("create: missing %s (usage: content create KIND NAME)",
                  a->kind ? "NAME" : "KIND and NAME");
        return CLI_USAGE;
    }
    if (!cd_kind_valid(a->kind)) {
        cli_error("create: unknown kind '%s' (%s)", a->kind, CD_KINDS_TEXT);
        return CLI_USAGE;
    }
    if (!cd_name_valid(a->name)) {
        cli_error("create: '%s' is not a valid name (%s)", a->name, CD_NAME_RULE);
        return CLI_USAGE;
    }
    if (!a->dir)
        a->dir = a->name;
    if (!a->title)
        a->title = a->name;
    return -1;
}

/* s as a double-quoted YAML scalar. */
static void yaml_quoted(cd_buf *b, const char *s)
{
    cd_buf_putc(b, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            cd_buf_printf(b, "\\%c", *p);
        else if (*p < 0x20 || *p == 0x7f)
            cd_buf_printf(b, "\\x%02x", *p);
        else
            cd_buf_putc(b, (char)*p);
    }
    cd_buf_putc(b, '"');
}

/* mkdir -p dir; err names the folder that could not be created. */
static int make_dirs(const char *dir, cd_err *err)
{
    size_t len = 0;
    if (cd_mkdir_p(dir, 0777, &len) == 0)
        return 0;
    return cd_err_set(err, -1, "cannot create folder %.*s: %s", (int)len, dir, strerror(errno));
}

/* Writes DIR/index.md (which must not exist yet). */
static int write_index(const create_args *a, const char *path, cd_err *err)
{
    if (make_dirs(a->dir, err) != 0)
        return -1;
    cd_buf b = CD_BUF_INIT;
    cd_buf_printf(&b, "---\nkind: %s\nname: %s\ntitle: ", a->kind, a->name);
    yaml_quoted(&b, a->title);
    cd_buf_printf(&b, "\n---\n\n# %s\n", a->title);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    int rc = 0;
    if (fd < 0 || write(fd, b.data, b.len) != (ssize_t)b.len)
        rc = cd_err_set(err, -1, "cannot write %s: %s", path, strerror(errno));
    if (fd >= 0 && close(fd) != 0 && rc == 0)
        rc = cd_err_set(err, -1, "cannot write %s: %s", path, strerror(errno));
    cd_buf_free(&b);
    return rc;
}

static void print_created(const cli_config *cfg, const create_args *a, json_t *item)
{
    if (cfg->output == CLI_OUT_JSON) {
        json_t *o = json_is_object(item) ? json_copy(item) : json_object();
        json_object_set_new(o, "dir", json_string(a->dir));
        char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        puts(s);
        free(s);
        json_decref(o);
        return;
    }
    const char *owner = json_string_value(json_object_get(item, "owner"));
    printf("created %s/%s (owner %s) in %s/\n", a->kind, a->name, owner ? owner : "you", a->dir);
}

static int run(cli_config *cfg, const create_args *a, const char *index)
{
    cli_http *h = cli_http_new(cfg);
    json_t *body =
        json_pack("{s:s, s:s, s:s}", "kind", a->kind, "name", a->name, "title", a->title);
    cli_reply r = {0};
    cd_err err;
    int rc = cli_http_json(h, "POST", "/api/v1/content", body, &r, &err);
    json_decref(body);
    if (rc != 0) {
        cli_error("create: %s", err.msg);
    } else if (write_index(a, index, &err) != 0) {
        cli_error("create: %s/%s was created on the server, but %s", a->kind, a->name, err.msg);
        rc = -1;
    } else {
        print_created(cfg, a, r.json);
    }
    cli_reply_clear(&r);
    cli_http_free(h);
    return rc == 0 ? CLI_OK : CLI_FAIL;
}

int cmd_create(cli_config *cfg, int argc, char **argv)
{
    create_args a = {0};
    int rc = parse(cfg, argc, argv, &a);
    if (rc >= 0)
        return rc;
    if ((rc = check(&a)) >= 0)
        return rc;
    if ((rc = cli_config_check(cfg, "create")) != 0)
        return rc;
    cd_buf index = CD_BUF_INIT;
    cd_buf_printf(&index, "%s/index.md", a.dir);
    if (access(index.data, F_OK) == 0) {
        cli_error("create: %s already exists; nothing was created (push that folder instead)",
                  index.data);
        cd_buf_free(&index);
        return CLI_FAIL;
    }
    rc = run(cfg, &a, index.data);
    cd_buf_free(&index);
    return rc;
}
