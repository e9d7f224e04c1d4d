/* SPDX-License-Identifier: MIT */
/*
 * A scripted HTTP/1.1 server on a loopback port, in a thread, for the unit
 * tests of s3/: it answers each request with the next scripted response and
 * records what it received, so a test can check what the client sent and how
 * it reacted to errors, resets and cut-short bodies.
 */
#ifndef CONTENTD_FAKE_S3_H
#define CONTENTD_FAKE_S3_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#define FAKE_MAX 64

typedef struct fake_resp {
    int status;          /* 0: reset the connection without answering */
    const char *headers; /* extra header lines, each ending in \r\n, or NULL */
    const char *body;    /* or NULL */
    size_t cut;   /* > 0: announce the body's length but send only this many bytes, then close */
    int stall_ms; /* with cut: wait this long before closing */
} fake_resp;

typedef struct fake_req {
    char method[8];
    char target[2048];
    char headers[4096]; /* the header lines as received */
    size_t body_len;
} fake_req;

typedef struct fake_s3 {
    int listen_fd;
    int port;
    pthread_t thread;
    fake_resp script[FAKE_MAX]; /* past the end: 200 with no body */
    size_t n_script;
    fake_req got[FAKE_MAX];
    size_t n_got;
    pthread_mutex_t lock;
    bool stop;
} fake_s3;

/* Starts the server on a free loopback port; script is copied. */
void fake_start(fake_s3 *f, const fake_resp *script, size_t n);
/* Stops the thread and closes the socket. */
void fake_stop(fake_s3 *f);
/* "http://127.0.0.1:PORT" in buf. */
void fake_url(const fake_s3 *f, char *buf, size_t n);

#endif
