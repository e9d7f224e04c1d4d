/* SPDX-License-Identifier: MIT */
/* `content list [--kind K]`: the items the caller can see, as an aligned
 * table or (--output json) the server's JSON. */
#include "cli_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NCOLS     7
#define TITLE_MAX 40 /* columns; longer titles end in "…" */

static const char list_help[] =
    "usage: content list [--kind KIND]\n"
    "\n"
    "Lists the items you can see: yours, and everyone's public ones.  The table\n"
    "has the columns KIND, NAME, TITLE, VERSION, VISIBILITY, OWNER and UPDATED;\n"
    "--output json prints {\"items\": [...]} as the server sends it.\n"
    "\n"
    "  --kind KIND   only items of this kind (" CD_KINDS_TEXT ")\n"
    "  --server URL, --token TOKEN, --output text|json   (see content --help)\n";

static const char *const headers[NCOLS] = {"KIND",       "NAME",  "TITLE",  "VERSION",
                                           "VISIBILITY", "OWNER", "UPDATED"};

/* Display columns of UTF-8 s: one per code point (good enough for titles). */
static size_t columns(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* s with control characters as '?', cut to max columns; free with free(). */
static char *cell(const char *s, size_t max)
{
    cd_buf b = CD_BUF_INIT;
    cd_buf_puts(&b, "");
    size_t cols = 0, total = columns(s);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        bool starts = (*p & 0xC0) != 0x80;
        if (starts && total > max && cols == max - 1) {
            cd_buf_puts(&b, "\xE2\x80\xA6"); /* … */
            break;
        }
        cols += starts;
        cd_buf_putc(&b, *p < 0x20 || *p == 0x7f ? '?' : (char)*p);
    }
    return cd_buf_steal(&b, NULL);
}

/* updated_at as text: a string as sent, a number as UTC ISO 8601. */
static char *when(json_t *v)
{
    if (json_is_string(v))
        return cell(json_string_value(v), 64);
    if (!json_is_number(v))
        return cd_xstrdup("-");
    double t = json_number_value(v);
    if (t > 1e11)
        t /= 1000; /* milliseconds */
    time_t secs = (time_t)t;
    struct tm tm;
    char buf[32];
    gmtime_r(&secs, &tm);
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return cd_xstrdup(buf);
}

static char *text_of(json_t *item, const char *key)
{
    const char *s = json_string_value(json_object_get(item, key));
    return cell(s && *s ? s : "-", strcmp(key, "title") ? 64 : TITLE_MAX);
}

static void fill_row(json_t *item, char **row)
{
    row[0] = text_of(item, "kind");
    row[1] = text_of(item, "name");
    row[2] = text_of(item, "title");
    cd_buf v = CD_BUF_INIT;
    cd_buf_printf(&v, "%lld", (long long)json_integer_value(json_object_get(item, "version")));
    row[3] = cd_buf_steal(&v, NULL);
    row[4] = text_of(item, "visibility");
    row[5] = text_of(item, "owner");
    row[6] = when(json_object_get(item, "updated_at"));
}

static void print_row(char *const *row, const size_t *width)
{
    for (int c = 0; c < NCOLS; c++) {
        fputs(row[c], stdout);
        if (c + 1 < NCOLS)
            for (size_t k = columns(row[c]); k < width[c] + 2; k++)
                putchar(' ');
    }
    putchar('\n');
}

static void print_table(json_t *items)
{
    size_t n = json_array_size(items);
    char **cells = cd_xcalloc((n + 1) * NCOLS, sizeof *cells);
    size_t width[NCOLS] = {0};
    for (int c = 0; c < NCOLS; c++)
        cells[c] = cd_xstrdup(headers[c]);
    for (size_t i = 0; i < n; i++)
        fill_row(json_array_get(items, i), cells + (i + 1) * NCOLS);
    for (size_t i = 0; i < (n + 1) * NCOLS; i++)
        if (columns(cells[i]) > width[i % NCOLS])
            width[i % NCOLS] = columns(cells[i]);
    for (size_t i = 0; i <= n; i++)
        print_row(cells + i * NCOLS, width);
    for (size_t i = 0; i < (n + 1) * NCOLS; i++)
        free(cells[i]);
    free(cells);
}

static int parse(cli_config *cfg, int argc, char **argv, const char **kind)
{
    const cli_opt opts[] = {{"--kind", .value = kind}, {NULL}};
    cli_args a = {.cmd = "list", .usage = "content list [--kind KIND]", .help = list_help};
    int rc = cli_args_parse(cfg, argc, argv, opts, &a);
    if (rc >= 0)
        return rc;
    if (*kind && !cd_kind_valid(*kind)) {
        cli_error("list: unknown kind '%s' (%s)", *kind, CD_KINDS_TEXT);
        return CLI_USAGE;
    }
    return -1;
}

int cmd_list(cli_config *cfg, int argc, char **argv)
{
    const char *kind = NULL;
    int rc = parse(cfg, argc, argv, &kind);
    if (rc >= 0)
        return rc;
    if ((rc = cli_config_check(cfg, "list")) != 0)
        return rc;
    char path[64];
    snprintf(path, sizeof path, "/api/v1/content%s%s", kind ? "?kind=" : "", kind ? kind : "");
    cli_http *h = cli_http_new(cfg);
    cli_reply r = {0};
    cd_err err;
    rc = cli_http_json(h, "GET", path, NULL, &r, &err);
    json_t *items = json_object_get(r.json, "items");
    if (rc != 0) {
        cli_error("list: %s", err.msg);
    } else if (!json_is_array(items)) {
        cli_error("list: the server's answer has no item list");
        rc = -1;
    } else if (cfg->output == CLI_OUT_JSON) {
        char *s = json_dumps(r.json, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        puts(s);
        free(s);
    } else {
        print_table(items);
    }
    cli_reply_clear(&r);
    cli_http_free(h);
    return rc == 0 ? CLI_OK : CLI_FAIL;
}
