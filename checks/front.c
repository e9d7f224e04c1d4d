/* SPDX-License-Identifier: MIT */
/*
 * Front matter facts: `kind` (reported here when it is no kind at all)
 * and, in index.md, `name`, with their lines, for resolve.c to compare
 * with the item's; a missing title (neither `title:` nor a heading to take
 * it from); the tasks (tasks.c); and the files it names.
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
static size_t key_line(chk_doc *d, const char *key)
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

/* kind (checked here when it is no kind at all) and, in index.md, name:
 * compared with the item's when the version is resolved. */
static void front_kind(chk_doc *d, json_t *data, bool root)
{
    json_t *kind = json_object_get(data, "kind");
    const char *k = json_string_value(kind);
    if (kind && (!k || !kind_valid(k))) {
        chk_add(d->f->local, d->path, key_line(d, "kind"), CHK_ERROR, "kind-invalid",
                "kind %s is not a kind of content (tutorial, challenge, course, skill-path or "
                "roadmap)",
                k ? k : "(not a string)");
    } else if (k) {
        d->f->kind = cd_xstrdup(k);
        d->f->kind_line = key_line(d, "kind");
    }
    const char *n = json_string_value(json_object_get(data, "name"));
    if (root && n) {
        d->f->name = cd_xstrdup(n);
        d->f->name_line = key_line(d, "name");
    }
}

static void front_title(chk_doc *d, json_t *data, bool root)
{
    const char *t = json_string_value(json_object_get(data, "title"));
    if (t && *t)
        return;
    chk_add(d->f->local, d->path, d->fm_first ? d->fm_first : 1, root ? CHK_ERROR : CHK_WARNING,
            "missing-title", "%s has no title: add `title:` to its front matter",
            root ? "the item" : "this document");
}

/* Every string under v that names a file, checked as a reference. */
static void file_values(chk_doc *d, const char *key, json_t *v, size_t line, int depth)
{
    if (depth > MAX_DEPTH)
        return;
    const char *s = json_string_value(v);
    if (s && chk_looks_like_file(s)) {
        cd_buf what = CD_BUF_INIT;
        cd_buf_printf(&what, "'%s' in the front matter names", key);
        chk_fact_ref(d, false, s, value_line(d, s, line), what.data);
        cd_buf_free(&what);
    } else if (json_is_array(v)) {
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e)
        {
            file_values(d, key, e, line, depth + 1);
        }
    } else if (json_is_object(v)) {
        const char *k;
        json_t *e;
        json_object_foreach(v, k, e)
        {
            /* the value's line is searched from the parent's when a value
             * names a file: a search per key would be quadratic in keys */
            file_values(d, k, e, line, depth + 1);
        }
    }
}

void chk_front(chk_doc *d)
{
    json_t *data = d->ast ? json_object_get(d->ast, "data") : NULL;
    if (!json_is_object(data))
        return;
    bool root = !strcmp(d->path, "index.md");
    front_kind(d, data, root);
    front_title(d, data, root);
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
            chk_tasks(d, v, line);
        file_values(d, key, v, line, 0);
    }
}
