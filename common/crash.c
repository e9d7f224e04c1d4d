/* SPDX-License-Identifier: MIT */
/*
 * Crash points: named places in a multi-step write (the commit of a
 * version) where the crash tests make the process die as kill -9 would,
 * to check that what a restart finds is the old state or the new one
 * (docs/operations.md, "What is synced when").  The environment variable
 * CONTENTD_TEST_CRASH_AT names the one point that kills; unset, a crash
 * point costs one comparison of a pointer read once.
 */
#include "common.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

static const char *crash_at;
static pthread_once_t crash_once = PTHREAD_ONCE_INIT;

static void read_crash_at(void)
{
    const char *v = getenv("CONTENTD_TEST_CRASH_AT");
    crash_at = v && *v ? v : NULL;
}

void cd_crash_point(const char *name)
{
    pthread_once(&crash_once, read_crash_at);
    if (!crash_at || strcmp(crash_at, name))
        return;
    cd_log("warn", "crash", "msg=\"dying at a crash point\" point=%s", name);
    raise(SIGKILL);
}
