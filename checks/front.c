/* SPDX-License-Identifier: MIT */
/*
 * Front matter: whether it fits the item (`kind` and, in index.md, `name`
 * agree with the item; every document has a title, index.md in its front
 * matter or first heading) and whether the files it names exist.
 *
 * A front matter value names a file when it is a string that looks like
 * one (chk_looks_like_file: no spaces, no scheme, not absolute, and the
 * extension of a document, image, media file or PDF), at any depth, under
 * any key but `title` and `description`: `cover: __static__/cover.png`,
 * `lessons: [01-setup.md]`.  It is resolved like a link, from the
 * document's folder.
 */
#include "checks_int.h"

#include <string.h>

#define MAX_DEPTH 32

static const char *const kinds[] = {"tutorial",   "challenge", "course",
                                    "skill-path", "roadmap",   NULL};

static bool kind_valid(const char *k)
{
    for (const char *const *p = kinds; *p; p++)
        if (!strcmp(*p, k))
            return true;
    return false;
}

/* The line of key's entry in the front matter (its first line if not found). */
static size_t key_line(const chk_doc *d, const char *key)
{
    size_t line = chk_source_word(d, d->fm_first, d->fm_last, key);
    return line ? line : d->fm_first;
}

/* The line of value s in the front matter, at or after line from. */
static size_t value_line(chk_doc *d, const char *s, size_t from)
{
    d->cursor = from >= 1 && from <= d->nlines ? d->line_start[from - 1] : 0;
    size_t line = chk_source_find(d, s);
    return line && line <= d->fm_last ? line : from;
}

static void check_kind(chk_ctx *c, chk_doc *d, json_t *data, bool root)
{
    json_t *kind = json_object_get(data, "kind");
    const char *k = json_string_value(kind);
    if (kind && (!k || !kind_valid(k)))
        chk_add(c, d->path, key_line(d, "kind"), CHK_ERROR, "kind-invalid",
                "kind %s is not a kind of content (tutorial, challenge, course, skill-path or "
                "roadmap)",
                k ? k : "(not a string)");
    else if (k && c->item->kind && strcmp(k, c->item->kind))
        chk_add(c, d->path, key_line(d, "kind"), CHK_ERROR, "kind-mismatch",
                "front matter says kind: %s, but this item is a %s", k, c->item->kind);
    const char *n = json_string_value(json_object_get(data, "name"));
    if (root && n && c->item->name && strcmp(n, c->item->name))
        chk_add(c, d->path, key_line(d, "name"), CHK_ERROR, "name-mismatch",
                "front matter says name: %s, but this item is named %s", n, c->item->name);
}

static void check_title(chk_ctx *c, chk_doc *d, json_t *data, bool root)
{
    const char *t = json_string_value(json_object_get(data, "title"));
    if (t && *t)
        return;
    chk_add(c, d->path, d->fm_first ? d->fm_first : 1, root ? CHK_ERROR : CHK_WARNING,
            "missing-title", "%s has no title: add `title:` to its front matter",
            root ? "the item" : "this document");
}

/* Every string under v that names a file, checked as a reference. */
static void file_values(chk_ctx *c, chk_doc *d, const char *key, json_t *v, size_t line, int depth)
{
    if (depth > MAX_DEPTH)
        return;
    const char *s = json_string_value(v);
    if (s && chk_looks_like_file(s)) {
        cd_buf what = CD_BUF_INIT;
        cd_buf_printf(&what, "'%s' in the front matter names", key);
        chk_file_ref(c, d, s, value_line(d, s, line), what.data);
        cd_buf_free(&what);
    } else if (json_is_array(v)) {
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e)
        {
            file_values(c, d, key, e, line, depth + 1);
        }
    } else if (json_is_object(v)) {
        const char *k;
        json_t *e;
        json_object_foreach(v, k, e)
        {
            size_t at = chk_source_word(d, line, d->fm_last, k);
            file_values(c, d, k, e, at ? at : line, depth + 1);
        }
    }
}

void chk_front(chk_ctx *c, chk_doc *d)
{
    json_t *data = d->ast ? json_object_get(d->ast, "data") : NULL;
    if (!json_is_object(data))
        return;
    bool root = !strcmp(d->path, "index.md");
    check_kind(c, d, data, root);
    check_title(c, d, data, root);
    if (!d->fm_first)
        return; /* title and description came from the body */
    const char *key;
    json_t *v;
    json_object_foreach(data, key, v)
    {
        if (!strcmp(key, "title") || !strcmp(key, "description"))
            continue;
        size_t line = key_line(d, key);
        if (!strcmp(key, "tasks"))
            chk_tasks(c, d, v, line);
        file_values(c, d, key, v, line, 0);
    }
}
