/* SPDX-License-Identifier: MIT */
/*
 * The SQLite catalog tests' fixture (catalog_fixture.h).
 */
#include "catalog_fixture.h"
#include "support.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

catalog *open_or_fail(const char *dir)
{
    cd_err err = {0, ""};
    catalog *c = catalog_open_sqlite(dir, &err);
    if (!c)
        fail_msg("open: %s", err.msg);
    return c;
}

int setup(void **state)
{
    fixture *f = cd_xcalloc(1, sizeof *f);
    ts_tmpdir(f->dir, sizeof f->dir, "catalog");
    f->c = open_or_fail(f->dir);
    *state = f;
    return 0;
}

int teardown(void **state)
{
    fixture *f = *state;
    if (f->c)
        catalog_close(f->c);
    ts_rmtree(f->dir);
    free(f);
    return 0;
}

void create(catalog *c, const char *kind, const char *name, const char *owner)
{
    catalog_item it = {.owner = (char *)owner, .title = (char *)"T"};
    snprintf(it.kind, sizeof it.kind, "%s", kind);
    snprintf(it.name, sizeof it.name, "%s", name);
    cd_err err = {0, ""};
    if (catalog_item_create(c, &it, &err) != CAT_OK)
        fail_msg("create %s/%s: %s", kind, name, err.msg);
}

catalog_file file(const char *path, char d, int64_t size)
{
    catalog_file f = {.path = (char *)path, .size = size};
    memset(f.sha256, d, 64);
    f.sha256[64] = '\0';
    return f;
}

int commit(catalog *c, const char *name, int64_t base, const catalog_file *files, size_t n,
           int64_t *v, bool *created)
{
    cd_err err = {0, ""};
    return catalog_commit(c, "tutorial", name, base, files, n, NULL, NULL, v, created, &err);
}
