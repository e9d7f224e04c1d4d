/* SPDX-License-Identifier: MIT */
/*
 * The change notifications of a catalog, written down as text for the
 * catalog tests to compare ("created tutorial/a 0;version tutorial/a 1;"),
 * for both backends' tests (test_catalog_sqlite.c, test_catalog_mongo.c).
 */
#ifndef CONTENTD_TEST_CHANGE_LOG_H
#define CONTENTD_TEST_CHANGE_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "catalog.h"

/* Appends "EVENT kind/name version;" to the string log of size bytes
 * (cut at its end when full). */
void change_log_add(char *log, size_t size, catalog_event ev, const char *kind, const char *name,
                    int64_t version);

#endif
