/* SPDX-License-Identifier: MIT */
/*
 * The front matter of a folder's index.md: which item the folder is
 * (`kind`, `name`) and its `title`.  It is read with the same renderer the
 * server uses (md_render's `data`), so the client and the server never
 * disagree on what the YAML says.
 */
#include "cli_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "markdown.h"

#define MAX_INDEX_SIZE (16 << 20)

static int read_small_file(const char *path, cd_buf *b, bool *missing, cd_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        *missing = errno == ENOENT;
        return *missing ? 0 : cd_err_set(err, -1, "cannot read %s: %s", path, strerror(errno));
    }
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0 && b->len <= MAX_INDEX_SIZE)
        cd_buf_append(b, chunk, n);
    int bad = ferror(f);
    fclose(f);
    if (bad)
        return cd_err_set(err, -1, "cannot read %s", path);
    if (b->len > MAX_INDEX_SIZE)
        return cd_err_set(err, -1, "%s is larger than 16 MiB", path);
    return 0;
}

/* A string member of data as a new string, or NULL. */
static char *member(json_t *data, const char *key)
{
    const char *s = json_string_value(json_object_get(data, key));
    return s && *s ? cd_xstrdup(s) : NULL;
}

int cli_front_matter(const char *path, char **kind, char **name, char **title, cd_err *err)
{
    *kind = *name = *title = NULL;
    cd_buf src = CD_BUF_INIT;
    bool missing = false;
    int rc = read_small_file(path, &src, &missing, err);
    if (rc != 0 || missing) {
        cd_buf_free(&src);
        return rc;
    }
    char *out = NULL;
    size_t len = 0;
    md_error me;
    rc = md_render(src.data ? src.data : "", src.len, 0, &out, &len, &me);
    cd_buf_free(&src);
    if (rc != MD_OK) {
        if (me.line > 0)
            return cd_err_set(err, -1, "%s:%d: %s", path, me.line, me.message);
        return cd_err_set(err, -1, "%s: %s", path, me.message);
    }
    json_t *doc = json_loadb(out, len, 0, NULL);
    free(out);
    json_t *data = json_object_get(doc, "data");
    *kind = member(data, "kind");
    *name = member(data, "name");
    *title = member(data, "title");
    json_decref(doc);
    return 0;
}
