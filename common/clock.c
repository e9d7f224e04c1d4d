/* SPDX-License-Identifier: MIT */
/*
 * The two clocks of contentd.  Intervals, deadlines and timed waits use the
 * monotonic clock (a wall-clock step must not fire or stall a timer); only
 * time stamps that leave the process use the wall clock.
 */
#include "common.h"

#include <errno.h>
#include <stdio.h>
#include <time.h>

int64_t cd_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t cd_mono_ms(void)
{
    return cd_mono_ns() / 1000000;
}

int64_t cd_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* "2024-05-01T12:00:00.123Z": UTC, millisecond precision. */
void cd_time_rfc3339(int64_t ms, char out[32])
{
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 32 - n, ".%03dZ", (int)(ms % 1000));
}

void cd_cond_init_mono(pthread_cond_t *cv)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(cv, &ca);
    pthread_condattr_destroy(&ca);
}

bool cd_cond_wait_until(pthread_cond_t *cv, pthread_mutex_t *mu, int64_t deadline_ms)
{
    if (deadline_ms < 0)
        deadline_ms = 0;
    struct timespec ts = {.tv_sec = (time_t)(deadline_ms / 1000),
                          .tv_nsec = (long)(deadline_ms % 1000) * 1000000};
    return pthread_cond_timedwait(cv, mu, &ts) != ETIMEDOUT;
}
