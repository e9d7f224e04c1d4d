/* SPDX-License-Identifier: MIT */
/*
 * The facts of one file, from its bytes and path alone: for a document,
 * it is read, its lines indexed, rendered with md_render() and the AST
 * walked (links.c), its front matter read (front.c, tasks.c) and its
 * source scanned for open fences and components (source.c); for an image,
 * its first bytes are sniffed (assets.c).  Everything here may be cached
 * and shared by later runs, so nothing depends on the rest of the item.
 */
#include "checks_int.h"

#include <stdlib.h>
#include <string.h>

#include "markdown.h"

/* What the line searches of one document may examine, in bytes. */
#define SEARCH_BUDGET(len) (64 * (len) + ((size_t)1 << 22))

chk_facts *chk_facts_new(void)
{
    chk_facts *f = cd_xcalloc(1, sizeof *f);
    f->local = json_array();
    f->ids = json_object();
    f->mentions = json_object();
    f->refcount = 1;
    return f;
}

void chk_facts_free(chk_facts *f)
{
    if (!f)
        return;
    json_decref(f->local);
    json_decref(f->ids);
    json_decref(f->mentions);
    for (size_t i = 0; i < f->nrefs; i++) {
        free(f->refs[i].ref);
        free(f->refs[i].what);
    }
    free(f->refs);
    for (size_t i = 0; i < f->ncomps; i++)
        free(f->comps[i].tag);
    free(f->comps);
    free(f->kind);
    free(f->name);
    free(f->key);
    free(f);
}

/* Renders d (file sha, may be NULL) into d->ast, through the caller's
 * renderer when it gave one; a document that cannot be rendered is a
 * finding. */
static void render(const chk_ctx *c, chk_doc *d, const char *sha)
{
    char *out = NULL;
    size_t out_len = 0;
    md_error me = {0};
    md_status rc = c->o->render
                       ? c->o->render(c->o->render_arg, sha, d->src, d->len, &out, &out_len, &me)
                       : md_render(d->src, d->len, 0, &out, &out_len, &me);
    if (rc != MD_OK) {
        free(out);
        chk_add(d->f->local, d->path, me.line > 0 ? (size_t)me.line : 0, CHK_ERROR,
                "frontmatter-invalid", "this document cannot be rendered: %s", me.message);
        return;
    }
    json_error_t je;
    d->ast = json_loadb(out, out_len, 0, &je);
    free(out);
    if (!d->ast)
        chk_add(d->f->local, d->path, 0, CHK_WARNING, "check-skipped",
                "this document is nested too deeply for its links to be checked");
}

static int doc_facts(const chk_ctx *c, size_t index, chk_facts *f, cd_err *err)
{
    chk_doc d = {.path = c->item->files[index].path, .f = f};
    char *data = NULL;
    if (c->item->read(c->item->read_arg, index, SIZE_MAX, &data, &d.len, err) != 0)
        return -1;
    d.src = cd_xrealloc(data, d.len + 1);
    d.src[d.len] = '\0';
    d.budget = SEARCH_BUDGET(d.len);
    chk_source_index(&d);
    render(c, &d, c->item->files[index].sha256);
    chk_source_scan(&d);
    chk_front(&d);
    chk_walk(&d);
    json_decref(d.ast);
    free(d.src);
    free(d.line_start);
    return 0;
}

int chk_facts_make(const chk_ctx *c, size_t index, chk_facts **out, cd_err *err)
{
    chk_facts *f = chk_facts_new();
    bool image = false;
    int rc = chk_is_markdown(c->item->files[index].path)
                 ? doc_facts(c, index, f, err)
                 : chk_image_facts(c, index, f, &image, err);
    if (rc != 0 || (!image && !chk_is_markdown(c->item->files[index].path))) {
        chk_facts_free(f);
        f = NULL;
    }
    *out = f;
    return rc;
}
