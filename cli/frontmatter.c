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

/* The length of the front matter block at the start of s — "---" up to
 * the first "\n---" and those three dashes, as the renderer delimits it —
 * or 0 when s has none. */
static size_t head_len(const char *s, size_t len)
{
    if (len < 3 || memcmp(s, "---", 3))
        return 0;
    for (size_t i = 3; i + 4 <= len; i++)
        if (s[i] == '\n' && !memcmp(s + i + 1, "---", 3))
            return i > 4 ? i + 4 : 0;
    return 0;
}

static char *dup_or_null(const char *s)
{
    return s ? cd_xstrdup(s) : NULL;
}

int cli_front_matter_memo(const char *path, cli_front_memo *m, char **kind, char **name,
                          char **title, cd_err *err)
{
    cd_buf src = CD_BUF_INIT;
    bool missing = false;
    size_t n = 0;
    if (folder_read_index(path, &src, &missing, err) == 0 && !missing)
        n = head_len(src.data ? src.data : "", src.len);
    if (n && m->valid && m->head.len == n && !memcmp(m->head.data, src.data, n)) {
        cd_buf_free(&src);
        *kind = dup_or_null(m->kind);
        *name = dup_or_null(m->name);
        *title = NULL;
        return 0;
    }
    int rc = cli_front_matter(path, kind, name, title, err);
    cli_front_memo_clear(m);
    if (rc == 0 && n) {
        cd_buf_append(&m->head, src.data, n);
        m->kind = dup_or_null(*kind);
        m->name = dup_or_null(*name);
        m->valid = true;
    }
    cd_buf_free(&src);
    return rc;
}

void cli_front_memo_clear(cli_front_memo *m)
{
    cd_buf_free(&m->head);
    free(m->kind);
    free(m->name);
    m->kind = m->name = NULL;
    m->valid = false;
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
