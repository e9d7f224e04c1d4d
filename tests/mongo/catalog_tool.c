/* SPDX-License-Identifier: MIT */
/*
 * catalog_tool — drives a catalog (MongoDB, or SQLite for comparison) for
 * the pytest suite tests/integration/test_catalog_mongo.py.  Every answer
 * and every change notification is one JSON line on stdout.
 *
 *   catalog_tool (--uri URI [--db DB] | --sqlite DIR) COMMAND ARGS...
 *   catalog_tool (--uri URI [--db DB] | --sqlite DIR) shell
 *
 * `shell` reads one command per line from stdin and answers each with one
 * line ({"ok":...} or {"error":{...}}); once `watch-start` has run, every
 * on_change call is also printed, as {"event":"version","kind":...}.
 * Commands: ping, create KIND NAME OWNER [TITLE], get KIND NAME, list
 * [KIND], update KIND NAME TITLE|- public|private|-, delete KIND NAME,
 * commit KIND NAME BASE [title=T] [PATH=SHA256:SIZE[:TYPE] ...], files KIND NAME
 * [VERSION], versions KIND NAME, token-add SHA USER, token-user SHA,
 * token-count, watch-start, watch-stop, stats, commits KIND NAME BASE COUNT, race KIND
 * NAME ROUNDS SLOT_MS START_MS TAG, sleep MS.  `drop-database` (MongoDB
 * only, not in the shell) drops the database, to leave a real replica set
 * clean.
 *
 * Exit status: 0 success, 1 the catalog cannot be opened (one line on
 * stderr), 2 usage, 3 a command failed.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mongoc/mongoc.h>

#include "catalog.h"

static pthread_mutex_t out_mu = PTHREAD_MUTEX_INITIALIZER;

static void emit_line(cd_buf *b)
{
    pthread_mutex_lock(&out_mu);
    fwrite(b->data, 1, b->len, stdout);
    fputc('\n', stdout);
    fflush(stdout);
    pthread_mutex_unlock(&out_mu);
    cd_buf_free(b);
}

static void jstr(cd_buf *b, const char *s)
{
    cd_json_str(b, s ? s : "", s ? strlen(s) : 0);
}

static const char *status_name(int rc)
{
    switch (rc) {
    case CAT_NOT_FOUND:
        return "not_found";
    case CAT_EXISTS:
        return "exists";
    case CAT_CONFLICT:
        return "conflict";
    case CAT_UNAVAILABLE:
        return "unavailable";
    default:
        return "error";
    }
}

static int fail(int rc, const cd_err *err)
{
    cd_buf b = CD_BUF_INIT;
    cd_buf_printf(&b, "{\"error\":{\"status\":\"%s\",\"message\":", status_name(rc));
    jstr(&b, err->msg);
    cd_buf_puts(&b, "}}");
    emit_line(&b);
    return 3;
}

static int ok_line(const char *json)
{
    cd_buf b = CD_BUF_INIT;
    cd_buf_puts(&b, json);
    emit_line(&b);
    return 0;
}

static int64_t now_ms(void)
{
    return cd_now_ms();
}

static void on_change(void *arg, catalog_event ev, const char *kind, const char *name,
                      int64_t version)
{
    static const char *const names[] = {"created", "version", "updated", "deleted", "comment"};
    cd_buf b = CD_BUF_INIT;
    cd_buf_printf(&b, "{\"event\":\"%s\",\"kind\":", names[ev]);
    jstr(&b, kind);
    cd_buf_puts(&b, ",\"name\":");
    jstr(&b, name);
    cd_buf_printf(&b, ",\"version\":%lld,\"t\":%lld}", (long long)version, (long long)now_ms());
    emit_line(&b);
}

static void item_json(cd_buf *b, const catalog_item *it)
{
    cd_buf_puts(b, "{\"kind\":");
    jstr(b, it->kind);
    cd_buf_puts(b, ",\"name\":");
    jstr(b, it->name);
    cd_buf_puts(b, ",\"owner\":");
    jstr(b, it->owner);
    cd_buf_puts(b, ",\"title\":");
    jstr(b, it->title);
    cd_buf_printf(
        b, ",\"visibility\":\"%s\",\"version\":%lld,\"created_at\":%lld,\"updated_at\":%lld}",
        it->visibility == CAT_PUBLIC ? "public" : "private", (long long)it->version,
        (long long)it->created_at, (long long)it->updated_at);
}

/* Commands -------------------------------------------------------------------- */

typedef struct tool {
    catalog *c;
} tool;

static int cmd_get(tool *t, char **a, int n)
{
    catalog_item it;
    cd_err err = {0, ""};
    int rc = catalog_item_get(t->c, a[0], a[1], &it, &err);
    if (rc)
        return fail(rc, &err);
    cd_buf b = CD_BUF_INIT;
    cd_buf_puts(&b, "{\"item\":");
    item_json(&b, &it);
    cd_buf_putc(&b, '}');
    catalog_item_clear(&it);
    emit_line(&b);
    return 0;
}

static int cmd_list(tool *t, char **a, int n)
{
    catalog_item *items;
    size_t count;
    cd_err err = {0, ""};
    int rc = catalog_item_list(t->c, n > 0 ? a[0] : NULL, &items, &count, &err);
    if (rc)
        return fail(rc, &err);
    cd_buf b = CD_BUF_INIT;
    cd_buf_puts(&b, "{\"items\":[");
    for (size_t i = 0; i < count; i++) {
        if (i)
            cd_buf_putc(&b, ',');
        item_json(&b, &items[i]);
    }
    cd_buf_puts(&b, "]}");
    catalog_items_free(items, count);
    emit_line(&b);
    return 0;
}

static int cmd_create(tool *t, char **a, int n)
{
    catalog_item it = {.owner = a[2], .title = n > 3 ? a[3] : NULL};
    snprintf(it.kind, sizeof it.kind, "%s", a[0]);
    snprintf(it.name, sizeof it.name, "%s", a[1]);
    cd_err err = {0, ""};
    int rc = catalog_item_create(t->c, &it, &err);
    return rc ? fail(rc, &err) : ok_line("{\"ok\":true}");
}

static int cmd_update(tool *t, char **a, int n)
{
    const char *title = strcmp(a[2], "-") ? a[2] : NULL;
    int vis = !strcmp(a[3], "public") ? CAT_PUBLIC : !strcmp(a[3], "private") ? CAT_PRIVATE : -1;
    cd_err err = {0, ""};
    int rc = catalog_item_update(t->c, a[0], a[1], title, vis, -1, &err);
    return rc ? fail(rc, &err) : ok_line("{\"ok\":true}");
}

static int cmd_delete(tool *t, char **a, int n)
{
    cd_err err = {0, ""};
    int rc = catalog_item_delete(t->c, a[0], a[1], &err);
    return rc ? fail(rc, &err) : ok_line("{\"ok\":true}");
}

/* PATH=SHA256:SIZE[:CONTENT_TYPE] */
static bool parse_file(char *spec, catalog_file *f)
{
    char *eq = strrchr(spec, '=');
    char *colon = eq ? strchr(eq, ':') : NULL;
    if (!eq || !colon || colon - eq - 1 != 64)
        return false;
    memset(f, 0, sizeof *f);
    *eq = '\0';
    f->path = spec;
    memcpy(f->sha256, eq + 1, 64);
    f->sha256[64] = '\0';
    char *end;
    f->size = strtoll(colon + 1, &end, 10);
    if (*end == ':')
        f->content_type = end + 1;
    return true;
}

static int do_commit(tool *t, const char *kind, const char *name, int64_t base,
                     const catalog_file *files, size_t nf, const char *title)
{
    int64_t v;
    bool created;
    cd_err err = {0, ""};
    int rc = catalog_commit(t->c, kind, name, base, files, nf, title, NULL, &v, &created, &err);
    if (rc)
        return fail(rc, &err);
    cd_buf b = CD_BUF_INIT;
    cd_buf_printf(&b, "{\"version\":%lld,\"created\":%s}", (long long)v,
                  created ? "true" : "false");
    emit_line(&b);
    return 0;
}

static int cmd_commit(tool *t, char **a, int n)
{
    catalog_file *files = cd_xcalloc((size_t)n, sizeof *files);
    size_t nf = 0;
    const char *title = NULL;
    for (int i = 3; i < n; i++) {
        if (!strncmp(a[i], "title=", 6)) {
            title = a[i] + 6;
        } else if (!parse_file(a[i], &files[nf++])) {
            free(files);
            cd_err err = {0, "usage: commit KIND NAME BASE [title=T] [PATH=SHA256:SIZE ...]"};
            return fail(CAT_ERROR, &err);
        }
    }
    int rc = do_commit(t, a[0], a[1], strtoll(a[2], NULL, 10), files, nf, title);
    free(files);
    return rc;
}

static int cmd_files(tool *t, char **a, int n)
{
    catalog_file *files;
    size_t count;
    cd_err err = {0, ""};
    int64_t v = n > 2 ? strtoll(a[2], NULL, 10) : 0;
    int rc = catalog_files(t->c, a[0], a[1], v, &files, &count, &err);
    if (rc)
        return fail(rc, &err);
    cd_buf b = CD_BUF_INIT;
    cd_buf_puts(&b, "{\"files\":[");
    for (size_t i = 0; i < count; i++) {
        cd_buf_puts(&b, i ? ",{\"path\":" : "{\"path\":");
        jstr(&b, files[i].path);
        cd_buf_printf(&b, ",\"sha256\":\"%s\",\"size\":%lld,\"content_type\":", files[i].sha256,
                      (long long)files[i].size);
        jstr(&b, files[i].content_type);
        cd_buf_putc(&b, '}');
    }
    cd_buf_puts(&b, "]}");
    catalog_files_free(files, count);
    emit_line(&b);
    return 0;
}

static int cmd_versions(tool *t, char **a, int n)
{
    catalog_version *vs;
    size_t count;
    cd_err err = {0, ""};
    int rc = catalog_versions(t->c, a[0], a[1], &vs, &count, &err);
    if (rc)
        return fail(rc, &err);
    cd_buf b = CD_BUF_INIT;
    cd_buf_puts(&b, "{\"versions\":[");
    for (size_t i = 0; i < count; i++)
        cd_buf_printf(&b, "%s{\"version\":%lld,\"created_at\":%lld,\"files_changed\":%d}",
                      i ? "," : "", (long long)vs[i].version, (long long)vs[i].created_at,
                      vs[i].files_changed);
    cd_buf_puts(&b, "]}");
    free(vs);
    emit_line(&b);
    return 0;
}

static int cmd_token_add(tool *t, char **a, int n)
{
    cd_err err = {0, ""};
    int rc = catalog_token_add(t->c, a[0], a[1], &err);
    return rc ? fail(rc, &err) : ok_line("{\"ok\":true}");
}

static int cmd_token_user(tool *t, char **a, int n)
{
    char *user;
    cd_err err = {0, ""};
    int rc = catalog_token_user(t->c, a[0], &user, &err);
    if (rc)
        return fail(rc, &err);
    cd_buf b = CD_BUF_INIT;
    cd_buf_puts(&b, "{\"user\":");
    jstr(&b, user);
    cd_buf_putc(&b, '}');
    free(user);
    emit_line(&b);
    return 0;
}

static int cmd_token_count(tool *t, char **a, int n)
{
    int64_t count;
    cd_err err = {0, ""};
    int rc = catalog_token_count(t->c, &count, &err);
    if (rc)
        return fail(rc, &err);
    cd_buf b = CD_BUF_INIT;
    cd_buf_printf(&b, "{\"count\":%lld}", (long long)count);
    emit_line(&b);
    return 0;
}

static int cmd_ping(tool *t, char **a, int n)
{
    cd_err err = {0, ""};
    int rc = catalog_ping(t->c, &err);
    return rc ? fail(rc, &err) : ok_line("{\"ok\":true}");
}

static int cmd_watch_start(tool *t, char **a, int n)
{
    if (catalog_listen(t->c, on_change, t) != 0)
        abort();
    cd_err err = {0, ""};
    int rc = catalog_watch_start(t->c, &err);
    return rc ? fail(rc, &err) : ok_line("{\"ok\":true}");
}

static int cmd_watch_stop(tool *t, char **a, int n)
{
    catalog_watch_stop(t->c);
    return ok_line("{\"ok\":true}");
}

static int cmd_stats(tool *t, char **a, int n)
{
    catalog_watch_stats s;
    bool has = catalog_watch_stats_get(t->c, &s);
    cd_buf b = CD_BUF_INIT;
    cd_buf_printf(&b,
                  "{\"stats\":{\"watcher\":%s,\"running\":%s,\"connected\":%s,\"events\":%llu,"
                  "\"announced\":%llu,\"announced_local\":%llu,\"resumes\":%llu,\"resyncs\":%llu,"
                  "\"errors\":%llu,\"lag_count\":%llu,\"lag_ms_sum\":%llu,\"lag_ms_max\":%lld,"
                  "\"lag_buckets\":[",
                  has ? "true" : "false", s.running ? "true" : "false",
                  s.connected ? "true" : "false", (unsigned long long)s.events,
                  (unsigned long long)s.announced, (unsigned long long)s.announced_local,
                  (unsigned long long)s.resumes, (unsigned long long)s.resyncs,
                  (unsigned long long)s.errors, (unsigned long long)s.lag_count,
                  (unsigned long long)s.lag_ms_sum, (long long)s.lag_ms_max);
    for (int i = 0; i < CATALOG_LAG_BUCKETS; i++)
        cd_buf_printf(&b, "%s%llu", i ? "," : "", (unsigned long long)s.lag_buckets[i]);
    cd_buf_puts(&b, "]}}");
    emit_line(&b);
    return 0;
}

/* A file list that differs on every call: index.md with a digest made of i. */
static catalog_file numbered_file(uint64_t i)
{
    catalog_file f = {.path = (char *)"index.md", .size = (int64_t)(i % 1000)};
    snprintf(f.sha256, sizeof f.sha256, "%064llx", (unsigned long long)i);
    return f;
}

/* COUNT successive commits from BASE, stopping at the first failure. */
static int cmd_commits(tool *t, char **a, int n)
{
    int64_t base = strtoll(a[2], NULL, 10), count = strtoll(a[3], NULL, 10);
    for (int64_t i = 0; i < count; i++) {
        catalog_file f = numbered_file((uint64_t)(base + i + 1) * 7919u + (uint64_t)now_ms());
        int64_t v;
        bool created;
        cd_err err = {0, ""};
        int rc = catalog_commit(t->c, a[0], a[1], base + i, &f, 1, NULL, NULL, &v, &created, &err);
        if (rc)
            return fail(rc, &err);
    }
    cd_buf b = CD_BUF_INIT;
    cd_buf_printf(&b, "{\"version\":%lld}", (long long)(base + count));
    emit_line(&b);
    return 0;
}

static void sleep_until(int64_t t)
{
    int64_t left = t - now_ms();
    if (left > 0)
        usleep((useconds_t)left * 1000);
}

/* Rounds of commits at fixed wall-clock slots (another process runs the
 * same rounds): each round reads the version, then commits on it. */
static int cmd_race(tool *t, char **a, int n)
{
    int rounds = atoi(a[2]);
    int64_t slot = strtoll(a[3], NULL, 10), start = strtoll(a[4], NULL, 10);
    uint64_t tag = strtoull(a[5], NULL, 10);
    for (int r = 0; r < rounds; r++) {
        sleep_until(start + r * slot);
        catalog_item it;
        cd_err err = {0, ""};
        int rc = catalog_item_get(t->c, a[0], a[1], &it, &err);
        if (rc)
            return fail(rc, &err);
        int64_t base = it.version, v;
        catalog_item_clear(&it);
        sleep_until(start + r * slot + slot / 2);
        catalog_file f = numbered_file(tag * 1000003u + (uint64_t)r);
        bool created;
        rc = catalog_commit(t->c, a[0], a[1], base, &f, 1, NULL, NULL, &v, &created, &err);
        if (rc && rc != CAT_CONFLICT)
            return fail(rc, &err);
        cd_buf b = CD_BUF_INIT;
        cd_buf_printf(&b, "{\"round\":%d,\"base\":%lld,\"result\":\"%s\",\"version\":%lld}", r,
                      (long long)base, rc ? "conflict" : "ok", (long long)(rc ? base : v));
        emit_line(&b);
    }
    return 0;
}

static int cmd_sleep(tool *t, char **a, int n)
{
    usleep((useconds_t)atoi(a[0]) * 1000);
    return ok_line("{\"ok\":true}");
}

static const struct {
    const char *name;
    int min_args;
    int (*run)(tool *t, char **a, int n);
} commands[] = {
    {"ping", 0, cmd_ping},
    {"create", 3, cmd_create},
    {"get", 2, cmd_get},
    {"list", 0, cmd_list},
    {"update", 4, cmd_update},
    {"delete", 2, cmd_delete},
    {"commit", 3, cmd_commit},
    {"files", 2, cmd_files},
    {"versions", 2, cmd_versions},
    {"token-add", 2, cmd_token_add},
    {"token-user", 1, cmd_token_user},
    {"token-count", 0, cmd_token_count},
    {"watch-start", 0, cmd_watch_start},
    {"watch-stop", 0, cmd_watch_stop},
    {"stats", 0, cmd_stats},
    {"commits", 4, cmd_commits},
    {"race", 6, cmd_race},
    {"sleep", 1, cmd_sleep},
};

static int run(tool *t, char **a, int n)
{
    for (size_t i = 0; n > 0 && i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(a[0], commands[i].name)) {
            if (n - 1 < commands[i].min_args) {
                cd_err err = {0, ""};
                snprintf(err.msg, sizeof err.msg, "%s needs %d arguments", a[0],
                         commands[i].min_args);
                return fail(CAT_ERROR, &err);
            }
            return commands[i].run(t, a + 1, n - 1);
        }
    cd_err err = {0, "unknown command"};
    return fail(CAT_ERROR, &err);
}

/* Reads commands, one per line, words separated by spaces. */
static int shell(tool *t)
{
    char line[65536];
    int status = 0;
    while (fgets(line, sizeof line, stdin)) {
        char *words[4096];
        int n = 0;
        for (char *save = NULL, *w = strtok_r(line, " \t\r\n", &save); w && n < 4096;
             w = strtok_r(NULL, " \t\r\n", &save))
            words[n++] = w;
        if (n && !strcmp(words[0], "quit"))
            break;
        if (n && run(t, words, n) != 0)
            status = 3;
    }
    return status;
}

/* Drops the test database (a real replica set is left clean); libmongoc
 * directly, since the catalog interface has no such thing. */
static int drop_database(const char *uri, const char *db)
{
    mongoc_init(); /* idempotent; the catalog calls it too */
    mongoc_client_t *cl = mongoc_client_new(uri);
    if (!cl) {
        fprintf(stderr, "catalog_tool: invalid URI\n");
        return 1;
    }
    mongoc_database_t *d = mongoc_client_get_database(cl, db);
    bson_error_t e;
    int rc = mongoc_database_drop(d, &e) ? 0 : 3;
    if (rc)
        fprintf(stderr, "catalog_tool: drop-database: %s\n", e.message);
    mongoc_database_destroy(d);
    mongoc_client_destroy(cl);
    return rc;
}

int main(int argc, char **argv)
{
    const char *uri = NULL, *db = NULL, *sqlite = NULL;
    int i = 1;
    for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
        if (!strcmp(argv[i], "--uri"))
            uri = argv[i + 1];
        else if (!strcmp(argv[i], "--db"))
            db = argv[i + 1];
        else if (!strcmp(argv[i], "--sqlite"))
            sqlite = argv[i + 1];
        else
            break;
    }
    if (i >= argc || (!uri == !sqlite)) {
        fprintf(stderr, "usage: catalog_tool (--uri URI [--db DB] | --sqlite DIR) COMMAND ...\n");
        return 2;
    }
    if (uri && !strcmp(argv[i], "drop-database"))
        return drop_database(uri, db ? db : "contentd");
    cd_err err = {0, ""};
    tool t = {uri ? catalog_open_mongo(uri, db, &err) : catalog_open_sqlite(sqlite, &err)};
    if (!t.c) {
        fprintf(stderr, "catalog_tool: %s\n", err.msg);
        return 1;
    }
    int rc = !strcmp(argv[i], "shell") ? shell(&t) : run(&t, argv + i, argc - i);
    catalog_close(t.c);
    return rc;
}
