/* SPDX-License-Identifier: MIT */
/* The catalog tests' change notifications as text (change_log.h). */
#include "change_log.h"

#include <stdio.h>
#include <string.h>

void change_log_add(char *log, size_t size, catalog_event ev, const char *kind, const char *name,
                    int64_t version)
{
    static const char *const evs[] = {"created", "version", "updated", "deleted", "comment"};
    size_t len = strlen(log);
    snprintf(log + len, size - len, "%s %s/%s %lld;", evs[ev], kind, name, (long long)version);
}
