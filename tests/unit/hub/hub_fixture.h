/* SPDX-License-Identifier: MIT */
/*
 * The fixture of the hub's unit tests (test_hub_order.c, test_hub_views.c):
 * an embedded catalog in a temporary folder whose commits reach a hub
 * through its listener, a fake transport that counts what the hub asks of
 * a connection, a clock the test sets (fake_now) and a fake render cache
 * (every document's AST names its blob; a blob whose digest starts with
 * 'f' has a big one).  Nothing is applied until the test calls
 * hub_process(), so every test decides when events are built.
 */
#ifndef CONTENTD_TEST_HUB_FIXTURE_H
#define CONTENTD_TEST_HUB_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "catalog.h"
#include "hub.h"

/* The padding of a big AST (see hub_fixture.c's document()); the queue
 * bound of the tests that need one is smaller. */
#define BIG_AST     3000
#define SMALL_BOUND 1024

/* The hub's clock, in milliseconds: set by the tests. */
extern int64_t fake_now;

/* What the hub asked of one connection. */
typedef struct transport {
    int suspends, resumes, cuts;
} transport;

typedef struct fixture {
    char dir[64];
    catalog *cat;
    hub *h;
} fixture;

/* A subscriber and everything read from it so far. */
typedef struct client {
    transport t;
    hub_sub *sub;
    cd_buf got;
} client;

/* A fixture whose queues are bounded to max_events events and max_bytes
 * bytes (0: the default); freed with teardown_fixture(). */
fixture *setup_bounded(uint32_t max_events, size_t max_bytes);
fixture *setup_with(uint32_t max_events);
/* Frees the hub and the catalog and removes the folder. */
void teardown_fixture(fixture *f);

/* Creates tutorial/name, owned by alice. */
void create(fixture *f, const char *name, bool public);
/* Commits version base+1 of tutorial/name: index.md with digest d and,
 * when l is not 0, lessons/a.md with digest l, with findings checks
 * (NULL: none stored). */
void commit_full(fixture *f, const char *name, int64_t base, char d, char l, const char *checks);
void commit(fixture *f, const char *name, int64_t base, char d);
void commit2(fixture *f, const char *name, int64_t base, char d, char l);
void commit_checks(fixture *f, const char *name, int64_t base, char d, const char *checks);

/* A subscriber of user (not yet subscribed to anything); closed with
 * client_close(). */
void client_open(fixture *f, client *c, const char *user);
/* Reads what is queued into c->got; returns the last hub_sub_read() code. */
ssize_t client_read(client *c);
void client_close(client *c);
/* What c has read so far, as a string. */
const char *got(client *c);

#endif
