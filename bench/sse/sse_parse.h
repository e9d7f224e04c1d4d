/* SPDX-License-Identifier: MIT */
/*
 * sse_parse — an incremental parser of one HTTP/1.1 response that carries a
 * server-sent event stream, for the bench/sse load client.
 *
 * Bytes are fed as they come off the socket, in pieces of any size: the
 * status line and headers, then the body (chunked or read-until-close), then
 * the event stream inside it, inflated first when the response says
 * `Content-Encoding: gzip` (`id:`, `event:`, `data:` fields, comment
 * lines, LF, CRLF or CR line ends).  Nothing is kept but a few fixed-size
 * fields, so one parser costs about 200 bytes plus the header buffer, which
 * lives only until the headers are complete.  For each dispatched event the
 * callback gets the last event ID, the event name, the first bytes of the
 * data (enough to find a sequence number) and the data's full length.
 */
#ifndef CONTENTD_BENCH_SSE_PARSE_H
#define CONTENTD_BENCH_SSE_PARSE_H

#include <stddef.h>
#include <stdint.h>

#define SSE_ID_MAX    40
#define SSE_NAME_MAX  24
#define SSE_DATA_HEAD 112

/* One dispatched event.  The strings are NUL-terminated and point into the
 * parser: valid only during the callback. */
struct sse_event {
    const char *id;   /* last event ID ("" when none was ever sent) */
    const char *name; /* event type, "message" when the event named none */
    const char *data; /* the first SSE_DATA_HEAD - 1 bytes of the data */
    size_t data_len;  /* the full data length (lines joined with '\n') */
};

/* Called once per dispatched event, with the t given to sse_feed(). */
typedef void (*sse_event_fn)(void *arg, const struct sse_event *ev, int64_t t);

enum sse_status {
    SSE_MORE = 0,  /* fine: feed more */
    SSE_END = 1,   /* the body ended (last chunk) */
    SSE_ERROR = -1 /* malformed response; see sse_parser_error() */
};

struct sse_parser {
    char *head; /* header bytes until the blank line; NULL afterwards */
    uint32_t head_len;
    uint32_t chunk_left;
    uint16_t status; /* HTTP status, 0 until the status line is parsed */
    uint8_t http_state;
    uint8_t chunked;
    uint8_t event_stream; /* Content-Type was text/event-stream */
    uint8_t gzip;         /* Content-Encoding was gzip: z inflates the body */
    void *z;              /* a z_stream, while the body is gzip */
    uint8_t line_state;
    uint8_t field;
    uint8_t cr;
    uint8_t have_data;
    uint8_t name_len, id_len, ev_len, dh_len, fid_len;
    char name[8]; /* field name being read */
    char id[SSE_ID_MAX];
    char fid[SSE_ID_MAX]; /* the id field of the current line */
    char ev[SSE_NAME_MAX];
    char dh[SSE_DATA_HEAD];
    uint32_t data_len;
    const char *error;
};

/* Resets p for a new response. */
void sse_parser_init(struct sse_parser *p);
/* Releases the header buffer, if any (the parser itself is the caller's). */
void sse_parser_free(struct sse_parser *p);
/* Releases everything: the header buffer and the inflater, if any. */
void sse_parser_close(struct sse_parser *p);
/* True once the headers are complete (p->status is then set). */
int sse_parser_headers_done(const struct sse_parser *p);
/* Feeds n bytes received at time t; calls fn for every event they complete. */
enum sse_status sse_feed(struct sse_parser *p, const char *buf, size_t n, int64_t t,
                         sse_event_fn fn, void *arg);
/* After SSE_ERROR: one phrase saying what was wrong (static storage). */
const char *sse_parser_error(const struct sse_parser *p);

#endif
