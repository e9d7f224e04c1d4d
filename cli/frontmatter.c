/* SPDX-License-Identifier: MIT */
/*
 * What the client takes from the one reader of a content folder
 * (folder/folder.h): the front matter of a folder's index.md — which item
 * the folder is (`kind`, `name`) and its `title` — read as the server reads
 * it, and the scan, with the warnings it prints.
 */
#include "cli_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A string member of data as a new string, or NULL. */
static char *member(json_t *data, const char *key)
{
    const char *s = json_string_value(json_object_get(data, key));
    return s && *s ? cd_xstrdup(s) : NULL;
}

int cli_front_matter(const char *path, char **kind, char **name, char **title, cd_err *err)
{
    *kind = *name = *title = NULL;
    json_t *data = NULL;
    md_error me = {0};
    int rc = folder_front_matter(path, NULL, &data, &me, err);
    if (rc == FOLDER_BAD_MARKDOWN && me.line > 0)
        return cd_err_set(err, -1, "%s:%d: %s", path, me.line, me.message);
    if (rc == FOLDER_BAD_MARKDOWN)
        return cd_err_set(err, -1, "%s: %s", path, me.message);
    if (rc != 0 || !data)
        return rc;
    *kind = member(data, "kind");
    *name = member(data, "name");
    *title = member(data, "title");
    json_decref(data);
    return 0;
}

/* folder_scan(), with a warning for each special file it left out. */
int cli_scan(const char *dir, const ignore_rules *ig, const folder_tree *prev, folder_tree *t,
             cd_err *err)
{
    int rc = folder_scan(dir, ig, prev, t, err);
    for (const char *p = t->skipped.data, *nl; p && *p; p = nl + 1) {
        nl = strchr(p, '\n');
        fprintf(stderr, "content: push: leaving out %.*s: not a regular file\n", (int)(nl - p), p);
    }
    return rc;
}
