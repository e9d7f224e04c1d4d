/* SPDX-License-Identifier: MIT */
/*
 * A document's facts against this version of the item: each reference
 * against the file list (and, for an anchor, the target document's ids),
 * the front matter's kind and name against the item's, the components
 * against the known list.  Cheap: no file is read here, so a cached
 * document costs only this.
 */
#include "checks_int.h"

#include <string.h>

/* A link target without an extension, or one ending in '/' or ".md": it
 * means a document. */
static bool means_document(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    return chk_is_markdown(path) || !*base || !strchr(base, '.');
}

/* What a missing target was taken for: "lessons/two" may have been
 * either. */
static const char *what_missing(const char *path, bool document)
{
    size_t n = strlen(path);
    if (!document)
        return "file";
    return chk_is_markdown(path) || n == 0 || path[n - 1] == '/' ? "document" : "document or file";
}

/* Reports a reference to a document or file that is not in the item;
 * path is where it was looked for, when that differs from ref. */
static void missing(chk_ctx *c, const char *doc, const chk_fref *r, const char *path, bool document)
{
    cd_buf where = CD_BUF_INIT;
    size_t n = strlen(path);
    if (n == 0 || path[n - 1] == '/')
        cd_buf_printf(&where, " (looked for %sindex.md)", path);
    else if (strcmp(path, r->ref))
        cd_buf_printf(&where, " (looked for %s)", path);
    chk_add(c->findings, doc, r->line, CHK_ERROR, document ? "broken-link" : "missing-asset",
            "%s %s: there is no such %s in this item%s", r->what, r->ref,
            what_missing(path, document), where.data ? where.data : "");
    cd_buf_free(&where);
}

/* s lower-cased with only its letters and digits (ASCII; other bytes
 * kept): how two spellings of one heading's id are compared. */
static void squash(const char *s, cd_buf *out)
{
    cd_buf_reset(out);
    cd_buf_puts(out, "");
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch >= 0x80)
            cd_buf_putc(out, (char)ch);
        else if (ch >= 'A' && ch <= 'Z')
            cd_buf_putc(out, (char)(ch - 'A' + 'a'));
    }
}

/* The id of target that frag most likely meant (the same letters and
 * digits: GitHub's `#8-bit-themes` for the renderer's `_8-bit-themes`), or
 * NULL.  The squashed ids are made once per target and run. */
static const char *likely_id(chk_ctx *c, long target, const char *frag)
{
    if (!c->squashed[target]) {
        json_t *map = json_object();
        cd_buf b = CD_BUF_INIT;
        const char *key;
        json_t *v;
        json_object_foreach(c->facts[target]->ids, key, v)
        {
            squash(key, &b);
            if (b.len && !json_object_get(map, b.data))
                json_object_set_new(map, b.data, json_string(key));
        }
        cd_buf_free(&b);
        c->squashed[target] = map;
    }
    cd_buf want = CD_BUF_INIT;
    squash(frag, &want);
    const char *found = json_string_value(json_object_get(c->squashed[target], want.data));
    cd_buf_free(&want);
    return found;
}

static void check_anchor(chk_ctx *c, size_t from, const chk_fref *r, long target, const char *frag)
{
    const chk_facts *t = c->facts[target];
    if (!*frag || !strcmp(frag, "top") || !t || !t->walked || json_object_get(t->ids, frag))
        return;
    const char *doc = c->item->files[from].path;
    const char *meant = likely_id(c, target, frag);
    cd_buf hint = CD_BUF_INIT;
    cd_buf_puts(&hint, "");
    if (meant)
        cd_buf_printf(&hint, " (the renderer's id is '%s')", meant);
    if ((size_t)target == from)
        chk_add(c->findings, doc, r->line, CHK_ERROR, "broken-anchor",
                "link to #%s: this document has no heading with that id%s", frag, hint.data);
    else
        chk_add(c->findings, doc, r->line, CHK_ERROR, "broken-anchor",
                "link to %s: %s has no heading with the id '%s'%s", r->ref,
                c->item->files[target].path, frag, hint.data);
    cd_buf_free(&hint);
}

static void check_ref(chk_ctx *c, size_t index, const chk_fref *r)
{
    const char *doc = c->item->files[index].path;
    cd_buf path = CD_BUF_INIT, frag = CD_BUF_INIT;
    if (chk_resolve(doc, r->ref, &path, &frag) == CHK_REF_LOCAL) {
        long t;
        if (!r->link)
            t = chk_find_file(c, path.data);
        else if (r->ref[0] == '#' || r->ref[0] == '?')
            t = (long)index;
        else
            t = chk_link_target(c, path.data);
        if (t >= 0) {
            c->referenced[t] = true;
            if (r->link)
                check_anchor(c, index, r, t, frag.data);
        } else {
            missing(c, doc, r, path.data,
                    r->link ? means_document(path.data) : chk_is_markdown(path.data));
        }
    }
    cd_buf_free(&path);
    cd_buf_free(&frag);
}

void chk_resolve_doc(chk_ctx *c, size_t index)
{
    const chk_facts *f = c->facts[index];
    const char *doc = c->item->files[index].path;
    size_t i;
    chk_add_copies(c->findings, f->local);
    if (f->kind && c->item->kind && strcmp(f->kind, c->item->kind))
        chk_add(c->findings, doc, f->kind_line, CHK_ERROR, "kind-mismatch",
                "front matter says kind: %s, but this item is a %s", f->kind, c->item->kind);
    if (f->name && c->item->name && strcmp(f->name, c->item->name))
        chk_add(c->findings, doc, f->name_line, CHK_ERROR, "name-mismatch",
                "front matter says name: %s, but this item is named %s", f->name, c->item->name);
    for (i = 0; i < f->nrefs; i++)
        check_ref(c, index, &f->refs[i]);
    for (i = 0; c->o->components && i < f->ncomps; i++)
        if (!chk_components_has(c->o->components, f->comps[i].tag))
            chk_add(c->findings, doc, f->comps[i].line, CHK_ERROR, "unknown-component",
                    "unknown component '%s': it is not in the list of known components",
                    f->comps[i].tag);
}
