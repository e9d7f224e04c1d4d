/* SPDX-License-Identifier: MIT */
/*
 * sse_load's command line and its target: the options as bench/sse/run
 * passes them, and the URL resolved into a socket address and the one
 * request every subscriber sends.  Apart from the event loop (sse_load.c)
 * so that the loop reads settled values only.
 */
#include "sse_args.h"

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

void sse_args_usage(FILE *f)
{
    fprintf(f, "usage: sse_load --url http://HOST:PORT/PATH [--subscribers N]\n"
               "  [--connect-rate PER_S] [--max-pending K] [--timeout S]\n"
               "  [--ready headers|event:NAME] [--marker id|data:KEY]\n"
               "  [--messages M] [--control] [--header 'K: V']... [--out FILE]\n");
}

int sse_args_parse(struct sse_args *o, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--control") == 0) {
            o->control = 1;
            continue;
        }
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            sse_args_usage(stdout);
            exit(0);
        }
        if (!v)
            return -1;
        i++;
        if (strcmp(a, "--url") == 0)
            o->url = v;
        else if (strcmp(a, "--subscribers") == 0)
            o->n = (unsigned)strtoul(v, NULL, 10);
        else if (strcmp(a, "--connect-rate") == 0)
            o->rate = strtod(v, NULL);
        else if (strcmp(a, "--max-pending") == 0)
            o->max_pending = (unsigned)strtoul(v, NULL, 10);
        else if (strcmp(a, "--timeout") == 0)
            o->timeout = strtod(v, NULL);
        else if (strcmp(a, "--messages") == 0)
            o->messages = (unsigned)strtoul(v, NULL, 10);
        else if (strcmp(a, "--out") == 0)
            o->out = v;
        else if (strcmp(a, "--ready") == 0 && strcmp(v, "headers") == 0)
            o->ready_event = NULL;
        else if (strcmp(a, "--ready") == 0 && strncmp(v, "event:", 6) == 0)
            o->ready_event = v + 6;
        else if (strcmp(a, "--marker") == 0 && strcmp(v, "id") == 0)
            o->marker_key = NULL;
        else if (strcmp(a, "--marker") == 0 && strncmp(v, "data:", 5) == 0 && strlen(v) < 60)
            o->marker_key = v + 5;
        else if (strcmp(a, "--header") == 0) {
            o->headers = cd_xrealloc(o->headers, (o->nheaders + 1) * sizeof *o->headers);
            o->headers[o->nheaders++] = argv[i];
        } else
            return -1;
    }
    return o->url && o->n > 0 && o->max_pending > 0 && o->timeout > 0 ? 0 : -1;
}

int sse_target_resolve(const struct sse_args *a, struct sse_target *t)
{
    char host[256], port[16] = "80";
    const char *s = a->url, *path;
    if (strncmp(s, "http://", 7) != 0)
        return -1;
    s += 7;
    path = strchr(s, '/');
    size_t hl = path ? (size_t)(path - s) : strlen(s);
    if (!path)
        path = "/";
    if (hl == 0 || hl >= sizeof host)
        return -1;
    memcpy(host, s, hl);
    host[hl] = '\0';
    char *colon = strrchr(host, ':');
    if (colon) {
        snprintf(port, sizeof port, "%s", colon + 1);
        *colon = '\0';
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *ai;
    if (getaddrinfo(host, port, &hints, &ai) != 0)
        return -1;
    memcpy(&t->addr, ai->ai_addr, ai->ai_addrlen);
    t->addrlen = ai->ai_addrlen;
    freeaddrinfo(ai);

    cd_buf b = CD_BUF_INIT;
    cd_buf_printf(&b,
                  "GET %s HTTP/1.1\r\nHost: %s:%s\r\nAccept: text/event-stream\r\n"
                  "Cache-Control: no-cache\r\nUser-Agent: contentd-bench-sse\r\n",
                  path, host, port);
    for (size_t i = 0; i < a->nheaders; i++)
        cd_buf_printf(&b, "%s\r\n", a->headers[i]);
    cd_buf_puts(&b, "\r\n");
    t->request = cd_buf_steal(&b, &t->request_len);
    return 0;
}
