/* SPDX-License-Identifier: MIT */
/*
 * The fixture of the SQLite catalog's unit tests (test_catalog_sqlite.c,
 * test_catalog_sqlite_access.c): a catalog opened in a fresh temporary
 * folder for each test (cmocka setup and teardown), and the calls most
 * tests make, failing the test when the catalog refuses them.
 */
#ifndef CONTENTD_TEST_CATALOG_FIXTURE_H
#define CONTENTD_TEST_CATALOG_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "catalog.h"

typedef struct fixture {
    char dir[64];
    catalog *c;
} fixture;

/* The catalog of dir, or the test fails. */
catalog *open_or_fail(const char *dir);
/* cmocka setup and teardown: *state is a fixture (freed by teardown,
 * which closes f->c unless it is NULL and removes the folder). */
int setup(void **state);
int teardown(void **state);

/* Creates kind/name owned by owner, or the test fails. */
void create(catalog *c, const char *kind, const char *name, const char *owner);
/* A file whose digest is the character d repeated. */
catalog_file file(const char *path, char d, int64_t size);
/* Commits version base+1 of tutorial/name with files[0..n); returns the
 * catalog's code. */
int commit(catalog *c, const char *name, int64_t base, const catalog_file *files, size_t n,
           int64_t *v, bool *created);

#endif
