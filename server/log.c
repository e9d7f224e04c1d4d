/* SPDX-License-Identifier: MIT */
/*
 * The service's log: one line per event on stderr, logfmt style —
 * `ts=<RFC 3339 UTC> level=<debug|info|warn|error> mod=<module> key=value …`.
 * debug lines are written only with CONTENTD_LOG_LEVEL=debug.
 * A value holding a space, a quote, '=', a backslash, a control character or
 * invalid UTF-8 is written in double quotes with C-style escapes.  Each line
 * goes out in one write(2), so lines of concurrent threads never interleave.
 */
#include "srv_int.h"

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

void srv_log_kv(cd_buf *b, const char *key, const char *value)
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

static void emit(const char *level, const char *mod, const char *fmt, va_list ap)
{
    char ts[32];
    cd_buf b = CD_BUF_INIT;
    srv_time_rfc3339(srv_now_ms(), ts);
    cd_buf_printf(&b, "ts=%s level=%s mod=%s ", ts, level, mod);
    cd_buf_vprintf(&b, fmt, ap);
    while (b.len && (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == ' '))
        b.len--;
    cd_buf_putc(&b, '\n');
    size_t off = 0;
    while (off < b.len) {
        ssize_t w = write(STDERR_FILENO, b.data + off, b.len - off);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    cd_buf_free(&b);
}

static bool debug_enabled(void)
{
    static atomic_int on = -1;
    int v = atomic_load_explicit(&on, memory_order_relaxed);
    if (v < 0) {
        const char *e = getenv("CONTENTD_LOG_LEVEL");
        v = e && !strcmp(e, "debug");
        atomic_store_explicit(&on, v, memory_order_relaxed);
    }
    return v;
}

void srv_log(const char *level, const char *mod, const char *fmt, ...)
{
    if (!strcmp(level, "debug") && !debug_enabled())
        return;
    va_list ap;
    va_start(ap, fmt);
    emit(level, mod, fmt, ap);
    va_end(ap);
}

/* Whether a libmicrohttpd message only says that a client
 * went away: a send to a socket the client closed, a read that found it
 * closed, or a stream the closed-stream watcher ended.  That is ordinary
 * (every closed browser tab) and the request's own log line already says
 * end=closed or end=error, so these are debug lines, not warnings. */
static bool client_gone(const char *msg)
{
    static const char *const gone[] = {
        "Failed to send ", /* data, headers, body, chunks, footers */
        "Socket disconnected while reading", "Connection socket is closed when reading",
        "Closing connection (application error generating response)", /* sse.c */
    };
    for (size_t i = 0; i < sizeof gone / sizeof gone[0]; i++)
        if (!strncmp(msg, gone[i], strlen(gone[i])))
            return true;
    return false;
}

/* A connection refused at the connection limit (the whole table, or the
 * client address's share of it): one warning per 10 s at most, with the
 * number refused since the last one, so that a reconnect loop cannot fill
 * the log.  Returns whether to write this one (*n: refused until now). */
static bool refusal_due(const char *msg, uint64_t *n)
{
    static atomic_uint_fast64_t since;
    static atomic_int_fast64_t last_ms;
    if (strncmp(msg, "Server reached connection limit", 31) != 0)
        return true;
    uint64_t count = atomic_fetch_add(&since, 1) + 1;
    int64_t now = srv_mono_ns() / 1000000, last = atomic_load(&last_ms);
    if (last && now - last < 10000)
        return false;
    if (!atomic_compare_exchange_strong(&last_ms, &last, now))
        return false;
    *n = count;
    atomic_fetch_sub(&since, count);
    return true;
}

/* libmicrohttpd's own messages, as one quoted msg= each. */
void srv_log_mhd(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    cd_buf msg = CD_BUF_INIT, line = CD_BUF_INIT;
    cd_buf_vprintf(&msg, fmt, ap);
    while (msg.len && msg.data[msg.len - 1] == '\n')
        msg.data[--msg.len] = '\0';
    bool debug = client_gone(msg.data ? msg.data : "");
    uint64_t refused = 0;
    if (!refusal_due(msg.data ? msg.data : "", &refused)) {
        cd_buf_free(&msg);
        return;
    }
    if (refused)
        cd_buf_printf(&msg,
                      " (%llu refused, this one included, since the last such line; see "
                      "--max-connections-per-address)",
                      (unsigned long long)refused);
    srv_log_kv(&line, "msg", msg.data ? msg.data : "");
    srv_log(debug ? "debug" : "warn", "mhd", "%s", line.data + 1);
    cd_buf_free(&msg);
    cd_buf_free(&line);
}
