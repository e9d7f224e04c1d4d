/* SPDX-License-Identifier: MIT */
/*
 * libmicrohttpd's own messages in the service's log: one quoted msg= each,
 * a client that went away as a debug line, and refusals at the connection
 * limit at most once per 10 s.
 */
#include "http.h"

#include <string.h>

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
    int64_t now = cd_mono_ms(), last = atomic_load(&last_ms);
    if (last && now - last < 10000)
        return false;
    if (!atomic_compare_exchange_strong(&last_ms, &last, now))
        return false;
    *n = count;
    atomic_fetch_sub(&since, count);
    return true;
}

/* libmicrohttpd's own messages, as one quoted msg= each. */
void http_log_mhd(void *cls, const char *fmt, va_list ap)
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
    cd_log_kv(&line, "msg", msg.data ? msg.data : "");
    cd_log(debug ? "debug" : "warn", "mhd", "%s", line.data + 1);
    cd_buf_free(&msg);
    cd_buf_free(&line);
}
