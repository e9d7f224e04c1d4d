/* SPDX-License-Identifier: MIT */
/*
 * sse_load's options (sse_args_parse) and its target (sse_target_resolve):
 * what one run of the load client is asked to do, and where.
 */
#ifndef CONTENTD_BENCH_SSE_ARGS_H
#define CONTENTD_BENCH_SSE_ARGS_H

#include <stddef.h>
#include <stdio.h>
#include <sys/socket.h>

/* The options of one run; --header values point into argv. */
struct sse_args {
    const char *url, *out, *ready_event, *marker_key;
    unsigned n, max_pending, messages;
    double rate, timeout;
    int control;
    char **headers; /* the array is cd_xrealloc'd, freed at exit */
    size_t nheaders;
};

/* The values of the options not given. */
#define SSE_ARGS_DEFAULTS                                                                          \
    {                                                                                              \
        .n = 100, .max_pending = 256, .timeout = 300.0                                             \
    }

/* Where to connect and what to send there. */
struct sse_target {
    struct sockaddr_storage addr;
    socklen_t addrlen;
    char *request; /* the whole GET request, malloc'd, freed at exit */
    size_t request_len;
};

/* Prints the usage line to f. */
void sse_args_usage(FILE *f);
/* Fills o (holding SSE_ARGS_DEFAULTS) from argv; exits 0 after --help.
 * Returns 0, or -1 on an unknown or incomplete option. */
int sse_args_parse(struct sse_args *o, int argc, char **argv);
/* Resolves a->url (http://HOST[:PORT]/PATH) and builds the request with
 * a's headers into t.  Returns 0, or -1 when the URL cannot be used. */
int sse_target_resolve(const struct sse_args *a, struct sse_target *t);

#endif
