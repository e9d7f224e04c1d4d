/* SPDX-License-Identifier: MIT */
/*
 * Findings: the JSON objects every pass adds, their order (path, then
 * line), and the compiler-style text lines `content check` and `content
 * push` print, from our own findings or from a server's answer alike.
 */
#include "checks_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void chk_add(json_t *out, const char *path, size_t line, const char *severity, const char *code,
             const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* Messages quote the author's text: keep the JSON valid UTF-8. */
    cd_buf fixed = CD_BUF_INIT;
    cd_utf8_repair(&fixed, msg, strlen(msg));
    json_t *f =
        json_pack("{s:s, s:I, s:s, s:s, s:s}", "path", path, "line", (json_int_t)line, "severity",
                  severity, "code", code, "message", fixed.data ? fixed.data : "");
    cd_buf_free(&fixed);
    if (f)
        json_array_append_new(out, f);
}

void chk_add_copies(json_t *out, const json_t *from)
{
    size_t i;
    const json_t *v;
    json_array_foreach(from, i, v)
    {
        json_array_append_new(out, json_deep_copy(v));
    }
}

static const char *str(const json_t *f, const char *key)
{
    const char *s = json_string_value(json_object_get(f, key));
    return s ? s : "";
}

static int by_place(const void *a, const void *b)
{
    const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    int d = strcmp(str(x, "path"), str(y, "path"));
    if (d)
        return d;
    json_int_t lx = json_integer_value(json_object_get(x, "line"));
    json_int_t ly = json_integer_value(json_object_get(y, "line"));
    if (lx != ly)
        return lx < ly ? -1 : 1;
    if ((d = strcmp(str(x, "code"), str(y, "code"))) != 0)
        return d;
    return strcmp(str(x, "message"), str(y, "message"));
}

void chk_sort(json_t *findings)
{
    size_t n = json_array_size(findings);
    if (n < 2)
        return;
    json_t **v = cd_xmalloc(n * sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = json_incref(json_array_get(findings, i));
    qsort(v, n, sizeof *v, by_place);
    json_array_clear(findings);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(findings, v[i]);
    free(v);
}

size_t chk_count(const json_t *findings, const char *severity)
{
    size_t n = 0, i;
    const json_t *f;
    json_array_foreach(findings, i, f)
    {
        if (!strcmp(str(f, "severity"), severity))
            n++;
    }
    return n;
}

/* s with control characters shown as \xNN, so one finding is one line. */
static void put_printable(cd_buf *out, const char *s)
{
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch < 0x20 || ch == 0x7f)
            cd_buf_printf(out, "\\x%02x", ch);
        else
            cd_buf_putc(out, (char)ch);
    }
}

void chk_format_text(const json_t *findings, cd_buf *out)
{
    size_t i;
    const json_t *f;
    json_array_foreach(findings, i, f)
    {
        if (!json_is_object(f) || !json_is_string(json_object_get(f, "path")))
            continue;
        put_printable(out, str(f, "path"));
        json_int_t line = json_integer_value(json_object_get(f, "line"));
        if (line > 0)
            cd_buf_printf(out, ":%lld", (long long)line);
        cd_buf_puts(out, ": ");
        put_printable(out, *str(f, "severity") ? str(f, "severity") : "error");
        cd_buf_puts(out, ": ");
        put_printable(out, str(f, "message"));
        if (*str(f, "code")) {
            cd_buf_puts(out, " [");
            put_printable(out, str(f, "code"));
            cd_buf_putc(out, ']');
        }
        cd_buf_putc(out, '\n');
    }
}
