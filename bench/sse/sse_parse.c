/* SPDX-License-Identifier: MIT */
/*
 * sse_parse — the HTTP/1.1 response and event-stream parser of the bench/sse
 * load client.  Three layers, each a small state machine so that a read can
 * end anywhere: the head (buffered until the blank line, then parsed once),
 * the chunked transfer coding (or none: the body runs until close), and the
 * event stream as the HTML standard defines it.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <zlib.h>

#include "sse_parse.h"

#define HEAD_MAX 16384

enum http_state { HS_HEAD, HS_RAW, HS_CSIZE, HS_CEXT, HS_CDATA, HS_CDATA_END, HS_DONE };
enum line_state { LS_START, LS_NAME, LS_SPACE, LS_VALUE, LS_SKIP };
enum field { F_NONE, F_ID, F_EVENT, F_DATA, F_OTHER };

void sse_parser_init(struct sse_parser *p)
{
    memset(p, 0, sizeof *p);
}

void sse_parser_free(struct sse_parser *p)
{
    free(p->head);
    p->head = NULL;
}

void sse_parser_close(struct sse_parser *p)
{
    sse_parser_free(p);
    if (p->z) {
        inflateEnd(p->z);
        free(p->z);
        p->z = NULL;
    }
}

int sse_parser_headers_done(const struct sse_parser *p)
{
    return p->http_state != HS_HEAD;
}

const char *sse_parser_error(const struct sse_parser *p)
{
    return p->error ? p->error : "no error";
}

static enum sse_status fail(struct sse_parser *p, const char *why)
{
    p->error = why;
    return SSE_ERROR;
}

/* ---- the event stream ------------------------------------------------ */

static void dispatch(struct sse_parser *p, int64_t t, sse_event_fn fn, void *arg)
{
    if (p->have_data) {
        struct sse_event ev;
        p->id[p->id_len] = '\0';
        p->ev[p->ev_len] = '\0';
        p->dh[p->dh_len] = '\0';
        ev.id = p->id;
        ev.name = p->ev_len ? p->ev : "message";
        ev.data = p->dh;
        ev.data_len = p->data_len;
        fn(arg, &ev, t);
    }
    p->have_data = 0;
    p->ev_len = 0;
    p->dh_len = 0;
    p->data_len = 0;
}

static void field_begin(struct sse_parser *p)
{
    p->field = F_OTHER;
    if (p->name_len == 2 && memcmp(p->name, "id", 2) == 0) {
        p->field = F_ID;
        p->fid_len = 0;
    } else if (p->name_len == 5 && memcmp(p->name, "event", 5) == 0) {
        p->field = F_EVENT;
        p->ev_len = 0;
    } else if (p->name_len == 4 && memcmp(p->name, "data", 4) == 0) {
        p->field = F_DATA;
        if (p->have_data) { /* lines of one event's data join with '\n' */
            p->data_len++;
            if (p->dh_len < SSE_DATA_HEAD - 1)
                p->dh[p->dh_len++] = '\n';
        }
        p->have_data = 1;
    }
}

static void value_bytes(struct sse_parser *p, const char *s, size_t n)
{
    size_t room;
    switch (p->field) {
    case F_ID:
        room = SSE_ID_MAX - 1 - p->fid_len;
        n = n < room ? n : room;
        memcpy(p->fid + p->fid_len, s, n);
        p->fid_len += n;
        break;
    case F_EVENT:
        room = SSE_NAME_MAX - 1 - p->ev_len;
        n = n < room ? n : room;
        memcpy(p->ev + p->ev_len, s, n);
        p->ev_len += n;
        break;
    case F_DATA:
        p->data_len += n;
        room = SSE_DATA_HEAD - 1 - p->dh_len;
        n = n < room ? n : room;
        memcpy(p->dh + p->dh_len, s, n);
        p->dh_len += n;
        break;
    default:
        break;
    }
}

/* A line ended: finish its field, or dispatch on a blank line. */
static void end_of_line(struct sse_parser *p, int64_t t, sse_event_fn fn, void *arg)
{
    switch (p->line_state) {
    case LS_START:
        dispatch(p, t, fn, arg);
        break;
    case LS_NAME: /* a field name alone: its value is empty */
        field_begin(p);
        /* fall through */
    case LS_SPACE:
    case LS_VALUE:
        /* An id containing NUL is ignored by the standard; ours never do. */
        if (p->field == F_ID) {
            memcpy(p->id, p->fid, p->fid_len);
            p->id_len = p->fid_len;
        }
        break;
    default:
        break;
    }
    p->line_state = LS_START;
    p->field = F_NONE;
}

/* Bytes before the first CR or LF (two memchr passes beat one byte loop on
 * the ~2 KB data lines that dominate). */
static size_t eol_span(const char *s, size_t n)
{
    const char *lf = memchr(s, '\n', n);
    size_t k = lf ? (size_t)(lf - s) : n;
    const char *cr = memchr(s, '\r', k);
    return cr ? (size_t)(cr - s) : k;
}

static void feed_events(struct sse_parser *p, const char *s, size_t n, int64_t t, sse_event_fn fn,
                        void *arg)
{
    size_t i = 0;
    while (i < n) {
        char c = s[i];
        if (p->cr) { /* CRLF is one line end */
            p->cr = 0;
            if (c == '\n') {
                i++;
                continue;
            }
        }
        if (c == '\n' || c == '\r') {
            end_of_line(p, t, fn, arg);
            p->cr = c == '\r';
            i++;
            continue;
        }
        switch (p->line_state) {
        case LS_START:
            if (c == ':') {
                p->line_state = LS_SKIP; /* a comment */
            } else {
                p->name[0] = c;
                p->name_len = 1;
                p->line_state = LS_NAME;
            }
            i++;
            break;
        case LS_NAME:
            if (c == ':') {
                field_begin(p);
                p->line_state = LS_SPACE;
            } else if (p->name_len < sizeof p->name) {
                p->name[p->name_len++] = c;
            } else {
                p->name_len = 0xff; /* too long for any field we know */
            }
            i++;
            break;
        case LS_SPACE:
            p->line_state = LS_VALUE;
            if (c == ' ') {
                i++;
                break;
            }
            /* fall through */
        case LS_VALUE: {
            size_t k = eol_span(s + i, n - i);
            value_bytes(p, s + i, k);
            i += k;
            break;
        }
        default: /* LS_SKIP */
            i += eol_span(s + i, n - i);
            break;
        }
    }
}

/* ---- the HTTP head --------------------------------------------------- */

static int header_is(const char *line, size_t len, const char *name, const char **value)
{
    size_t nl = strlen(name);
    if (len <= nl || line[nl] != ':' || strncasecmp(line, name, nl) != 0)
        return 0;
    const char *v = line + nl + 1;
    while (v < line + len && (*v == ' ' || *v == '\t'))
        v++;
    *value = v;
    return 1;
}

static int contains_ci(const char *s, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++)
        if (strncasecmp(s + i, needle, k) == 0)
            return 1;
    return 0;
}

static enum sse_status parse_head(struct sse_parser *p)
{
    const char *s = p->head, *end = p->head + p->head_len;
    if (p->head_len < 12 || strncmp(s, "HTTP/1.", 7) != 0 || !isdigit((unsigned char)s[9]))
        return fail(p, "not an HTTP/1.x status line");
    p->status = (uint16_t)atoi(s + 9);
    s = memchr(s, '\n', (size_t)(end - s));
    while (s && ++s < end) {
        const char *e = memchr(s, '\n', (size_t)(end - s));
        size_t len = e ? (size_t)(e - s) : (size_t)(end - s);
        const char *v;
        if (len && s[len - 1] == '\r')
            len--;
        if (header_is(s, len, "transfer-encoding", &v) &&
            contains_ci(v, len - (size_t)(v - s), "chunked"))
            p->chunked = 1;
        if (header_is(s, len, "content-encoding", &v) &&
            contains_ci(v, len - (size_t)(v - s), "gzip"))
            p->gzip = 1;
        if (header_is(s, len, "content-type", &v) &&
            contains_ci(v, len - (size_t)(v - s), "text/event-stream"))
            p->event_stream = 1;
        s = e;
    }
    free(p->head);
    p->head = NULL;
    p->http_state = p->chunked ? HS_CSIZE : HS_RAW;
    if (p->gzip) {
        p->z = calloc(1, sizeof(z_stream));
        if (!p->z || inflateInit2(p->z, 16 + MAX_WBITS) != Z_OK)
            return fail(p, "cannot start inflating");
    }
    return SSE_MORE;
}

/* Body bytes: inflated first on a gzip stream. */
static enum sse_status body_bytes(struct sse_parser *p, const char *s, size_t n, int64_t t,
                                  sse_event_fn fn, void *arg)
{
    if (!p->gzip) {
        feed_events(p, s, n, t, fn, arg);
        return SSE_MORE;
    }
    static char out[64 * 1024];
    z_stream *z = p->z;
    z->next_in = (Bytef *)(uintptr_t)s;
    z->avail_in = (uInt)n;
    while (z->avail_in) {
        z->next_out = (Bytef *)out;
        z->avail_out = sizeof out;
        int rc = inflate(z, Z_NO_FLUSH);
        if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR)
            return fail(p, "bad gzip data");
        feed_events(p, out, sizeof out - z->avail_out, t, fn, arg);
        if (rc == Z_STREAM_END || (rc == Z_BUF_ERROR && z->avail_out))
            break;
    }
    return SSE_MORE;
}

/* Buffers head bytes; returns how many of buf it used, or -1. */
static long feed_head(struct sse_parser *p, const char *buf, size_t n)
{
    if (!p->head)
        p->head = malloc(HEAD_MAX);
    if (!p->head) {
        p->error = "out of memory";
        return -1;
    }
    size_t take = 0;
    while (take < n) {
        if (p->head_len >= HEAD_MAX) {
            p->error = "response head over 16 KiB";
            return -1;
        }
        char c = buf[take++];
        p->head[p->head_len++] = c;
        if (c == '\n' && p->head_len >= 2 &&
            (p->head[p->head_len - 2] == '\n' ||
             (p->head_len >= 3 && p->head[p->head_len - 2] == '\r' &&
              p->head[p->head_len - 3] == '\n'))) {
            if (parse_head(p) != SSE_MORE)
                return -1;
            break;
        }
    }
    return (long)take;
}

/* ---- the chunked body ------------------------------------------------ */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)(c | 0x20);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

enum sse_status sse_feed(struct sse_parser *p, const char *buf, size_t n, int64_t t,
                         sse_event_fn fn, void *arg)
{
    size_t i = 0;
    while (i < n) {
        switch (p->http_state) {
        case HS_HEAD: {
            long used = feed_head(p, buf + i, n - i);
            if (used < 0)
                return SSE_ERROR;
            i += (size_t)used;
            break;
        }
        case HS_RAW:
            if (body_bytes(p, buf + i, n - i, t, fn, arg) != SSE_MORE)
                return SSE_ERROR;
            i = n;
            break;
        case HS_CSIZE:
        case HS_CEXT: {
            char c = buf[i++];
            if (c == '\n') {
                p->http_state = p->chunk_left ? HS_CDATA : HS_DONE;
                if (p->http_state == HS_DONE)
                    return SSE_END;
            } else if (c == ';') {
                p->http_state = HS_CEXT;
            } else if (p->http_state == HS_CSIZE && c != '\r' && c != ' ') {
                int h = hexval(c);
                if (h < 0 || p->chunk_left > (UINT32_MAX >> 4))
                    return fail(p, "bad chunk size");
                p->chunk_left = (p->chunk_left << 4) | (uint32_t)h;
            }
            break;
        }
        case HS_CDATA: {
            size_t k = n - i < p->chunk_left ? n - i : p->chunk_left;
            if (body_bytes(p, buf + i, k, t, fn, arg) != SSE_MORE)
                return SSE_ERROR;
            i += k;
            p->chunk_left -= (uint32_t)k;
            if (p->chunk_left == 0)
                p->http_state = HS_CDATA_END;
            break;
        }
        case HS_CDATA_END: {
            char c = buf[i++];
            if (c == '\n')
                p->http_state = HS_CSIZE;
            else if (c != '\r')
                return fail(p, "chunk not followed by CRLF");
            break;
        }
        default: /* HS_DONE: ignore anything after the last chunk */
            return SSE_END;
        }
    }
    return SSE_MORE;
}
