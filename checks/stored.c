/* SPDX-License-Identifier: MIT */
/*
 * The facts of a file in a form that can be stored and read back
 * (chk_cache_export(), chk_cache_import()): a server that keeps them with
 * a version makes the checks of the next version after a restart without
 * reading the unchanged files again.  Facts depend only on the file's
 * bytes and path (facts.c), so facts stored under a SHA-256 and a path are
 * right for that file in any version of any item, as long as the code
 * that made them is the code that reads them: CHK_FACTS_FORMAT, the
 * release and the renderer's version say which (chk_facts_stamp()).
 *
 *   {"local":[finding...], "walked":true, "ids":["id",...],
 *    "refs":[[link 0|1, "ref", "what", line],...], "comps":[["tag", line],...],
 *    "kind":["kind", line], "name":["name", line], "mentions":{"path":true|false}}
 */
#include "checks_int.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmark-gfm_version.h>

#ifndef CONTENTD_VERSION
#define CONTENTD_VERSION "unknown"
#endif

static char stamp_text[160];

static void make_stamp(void)
{
    snprintf(stamp_text, sizeof stamp_text, "checks facts %d, contentd %s, cmark-gfm %s",
             CHK_FACTS_FORMAT, CONTENTD_VERSION, CMARK_GFM_VERSION_STRING);
}

const char *chk_facts_stamp(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, make_stamp);
    return stamp_text;
}

static json_t *pair(const char *s, size_t line)
{
    return json_pack("[sI]", s, (json_int_t)line);
}

static json_t *to_json(const chk_facts *f)
{
    json_t *j = json_object(), *ids = json_array(), *refs = json_array(), *comps = json_array();
    json_object_set_new(j, "local", json_deep_copy(f->local));
    json_object_set_new(j, "walked", json_boolean(f->walked));
    const char *id;
    json_t *v;
    json_object_foreach(f->ids, id, v) /* in their order: likely_id() keeps the first */
        json_array_append_new(ids, json_string(id));
    json_object_set_new(j, "ids", ids);
    for (size_t i = 0; i < f->nrefs; i++)
        json_array_append_new(refs, json_pack("[issI]", f->refs[i].link ? 1 : 0, f->refs[i].ref,
                                              f->refs[i].what, (json_int_t)f->refs[i].line));
    json_object_set_new(j, "refs", refs);
    for (size_t i = 0; i < f->ncomps; i++)
        json_array_append_new(comps, pair(f->comps[i].tag, f->comps[i].line));
    json_object_set_new(j, "comps", comps);
    if (f->kind)
        json_object_set_new(j, "kind", pair(f->kind, f->kind_line));
    if (f->name)
        json_object_set_new(j, "name", pair(f->name, f->name_line));
    chk_mentions_lock();
    json_object_set_new(j, "mentions", json_deep_copy(f->mentions));
    chk_mentions_unlock();
    return j;
}

json_t *chk_cache_export(chk_cache *cache, const char *sha256, const char *path)
{
    cd_buf key = CD_BUF_INIT;
    chk_cache_key(&key, sha256, path);
    chk_facts *f = chk_cache_get(cache, key.data);
    cd_buf_free(&key);
    if (!f)
        return NULL;
    json_t *j = to_json(f);
    chk_cache_release(cache, f);
    return j;
}

bool chk_cache_has(chk_cache *cache, const char *sha256, const char *path)
{
    cd_buf key = CD_BUF_INIT;
    chk_cache_key(&key, sha256, path);
    chk_facts *f = chk_cache_get(cache, key.data);
    cd_buf_free(&key);
    chk_cache_release(cache, f);
    return f != NULL;
}

/* A line number as stored: a non-negative integer. */
static bool line_of(const json_t *v, size_t *line)
{
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return false;
    *line = (size_t)json_integer_value(v);
    return true;
}

/* ["text", line] into *s (a copy) and *line. */
static bool unpair(const json_t *p, char **s, size_t *line)
{
    const char *t = json_string_value(json_array_get(p, 0));
    if (!json_is_array(p) || json_array_size(p) != 2 || !t || !line_of(json_array_get(p, 1), line))
        return false;
    *s = cd_xstrdup(t);
    return true;
}

static bool local_ok(const json_t *local, const char *path)
{
    size_t i;
    json_t *x;
    if (!json_is_array(local))
        return false;
    json_array_foreach(local, i, x)
    {
        size_t line;
        if (!json_is_object(x) || !line_of(json_object_get(x, "line"), &line) ||
            !json_is_string(json_object_get(x, "severity")) ||
            !json_is_string(json_object_get(x, "code")) ||
            !json_is_string(json_object_get(x, "message")) ||
            !json_is_string(json_object_get(x, "path")) ||
            strcmp(json_string_value(json_object_get(x, "path")), path))
            return false;
    }
    return true;
}

static bool refs_from(chk_facts *f, const json_t *refs)
{
    size_t i;
    json_t *r;
    if (!json_is_array(refs))
        return false;
    json_array_foreach(refs, i, r)
    {
        const char *ref = json_string_value(json_array_get(r, 1));
        const char *what = json_string_value(json_array_get(r, 2));
        size_t line;
        if (json_array_size(r) != 4 || !json_is_integer(json_array_get(r, 0)) || !ref || !what ||
            !line_of(json_array_get(r, 3), &line))
            return false;
        f->refs = cd_grow(f->refs, f->nrefs, &f->cap_refs, 8, sizeof *f->refs);
        f->refs[f->nrefs++] = (chk_fref){.link = json_integer_value(json_array_get(r, 0)) != 0,
                                         .ref = cd_xstrdup(ref),
                                         .what = cd_xstrdup(what),
                                         .line = line};
    }
    return true;
}

static bool comps_from(chk_facts *f, const json_t *comps)
{
    size_t i;
    json_t *p;
    if (!json_is_array(comps))
        return false;
    json_array_foreach(comps, i, p)
    {
        chk_fcomp c = {0};
        if (!unpair(p, &c.tag, &c.line))
            return false;
        f->comps = cd_grow(f->comps, f->ncomps, &f->cap_comps, 8, sizeof *f->comps);
        f->comps[f->ncomps++] = c;
    }
    return true;
}

static bool mentions_from(chk_facts *f, const json_t *m)
{
    const char *p;
    json_t *v;
    if (!json_is_object(m) || json_object_size(m) > CHK_MENTIONS_MAX)
        return false;
    json_object_foreach((json_t *)m, p, v)
    {
        if (!json_is_boolean(v))
            return false;
        json_object_set_new(f->mentions, p, json_boolean(json_is_true(v)));
    }
    return true;
}

/* The facts j stores for a file at path; NULL when j is not facts in this
 * form. */
static chk_facts *from_json(const json_t *j, const char *path)
{
    chk_facts *f = chk_facts_new();
    const json_t *local = json_object_get(j, "local"), *ids = json_object_get(j, "ids");
    const json_t *kind = json_object_get(j, "kind"), *name = json_object_get(j, "name");
    bool ok = json_is_object(j) && local_ok(local, path) && json_is_array(ids) &&
              json_is_boolean(json_object_get(j, "walked")) &&
              refs_from(f, json_object_get(j, "refs")) &&
              comps_from(f, json_object_get(j, "comps")) &&
              mentions_from(f, json_object_get(j, "mentions")) &&
              (!kind || unpair(kind, &f->kind, &f->kind_line)) &&
              (!name || unpair(name, &f->name, &f->name_line));
    size_t i;
    json_t *id;
    json_array_foreach(ok ? ids : NULL, i, id)
    {
        if (!json_is_string(id)) {
            ok = false;
            break;
        }
        json_object_set_new(f->ids, json_string_value(id), json_true());
    }
    if (!ok) {
        chk_facts_free(f);
        return NULL;
    }
    f->walked = json_is_true(json_object_get(j, "walked"));
    json_t *copy = json_deep_copy(local); /* nothing shared with the caller's JSON */
    json_array_extend(f->local, copy);
    json_decref(copy);
    return f;
}

int chk_cache_import(chk_cache *cache, const char *sha256, const char *path, const json_t *j)
{
    chk_facts *f = from_json(j, path);
    if (!f)
        return -1;
    cd_buf key = CD_BUF_INIT;
    chk_cache_key(&key, sha256, path);
    chk_cache_release(cache, chk_cache_put(cache, key.data, f));
    cd_buf_free(&key);
    return 0;
}
