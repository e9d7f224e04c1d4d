/* SPDX-License-Identifier: MIT */
/*
 * The log of every contentd process: one line per event on stderr, logfmt
 * style — `ts=<RFC 3339 UTC> level=<debug|info|warn|error> mod=<module>
 * key=value …`.  debug lines are written only once cd_log_set_debug() asked
 * for them (contentd: CONTENTD_LOG_LEVEL=debug, read in server/config.c).
 * A value holding a space, a quote, '=', a backslash, a control character or
 * invalid UTF-8 is written in double quotes with C-style escapes.  Each line
 * goes out in one write(2), so lines of concurrent threads never interleave.
 */
#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static bool needs_quotes(const unsigned char *v, size_t n)
{
    if (n == 0)
        return true;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = v[i];
        if (c <= 0x20 || c == 0x7f || c == '"' || c == '=' || c == '\\')
            return true;
        if (c >= 0x80) {
            size_t k = cd_utf8_valid_len(v + i, n - i);
            if (k == 0)
                return true;
            i += k - 1;
        }
    }
    return false;
}

void cd_log_kv(cd_buf *b, const char *key, const char *value)
{
    const unsigned char *v = (const unsigned char *)(value ? value : "");
    size_t n = strlen((const char *)v);
    cd_buf_printf(b, " %s=", key);
    if (!needs_quotes(v, n)) {
        cd_buf_append(b, v, n);
        return;
    }
    cd_buf_putc(b, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = v[i];
        size_t k = c >= 0x80 ? cd_utf8_valid_len(v + i, n - i) : 1;
        if (c == '"' || c == '\\') {
            cd_buf_putc(b, '\\');
            cd_buf_putc(b, (char)c);
        } else if (c == '\n') {
            cd_buf_puts(b, "\\n");
        } else if (c == '\t') {
            cd_buf_puts(b, "\\t");
        } else if (c < 0x20 || c == 0x7f || k == 0) {
            cd_buf_printf(b, "\\x%02x", c);
        } else {
            cd_buf_append(b, v + i, k);
            i += k - 1;
        }
    }
    cd_buf_putc(b, '"');
}

void cd_log_v(const char *level, const char *mod, const char *fmt, va_list ap)
{
    char ts[32];
    cd_buf b = CD_BUF_INIT;
    cd_time_rfc3339(cd_now_ms(), ts);
    cd_buf_printf(&b, "ts=%s level=%s mod=%s ", ts, level, mod);
    cd_buf_vprintf(&b, fmt, ap);
    while (b.len && (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == ' '))
        b.len--;
    cd_buf_putc(&b, '\n');
    (void)!cd_write_all(STDERR_FILENO, b.data, b.len);
    cd_buf_free(&b);
}

static atomic_bool debug_on;

void cd_log_set_debug(bool on)
{
    atomic_store_explicit(&debug_on, on, memory_order_relaxed);
}

void cd_log(const char *level, const char *mod, const char *fmt, ...)
{
    if (!strcmp(level, "debug") && !atomic_load_explicit(&debug_on, memory_order_relaxed))
        return;
    va_list ap;
    va_start(ap, fmt);
    cd_log_v(level, mod, fmt, ap);
    va_end(ap);
}
