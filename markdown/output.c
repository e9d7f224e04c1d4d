/* SPDX-License-Identifier: MIT */
/*
 * Writing the AST document: body as MDC's compiler emits it (text nodes of
 * only newlines dropped, empty paragraphs dropped, no text at the root),
 * data (front matter over the title and description MDC derives from a
 * leading h1 and p) and toc (h2/h3 within two levels of the root, nested).
 * Every walk is iterative.
 */
#include "md_int.h"

#include <stdlib.h>
#include <string.h>

static bool newline_only(const hnode *n)
{
    if (n->len == 0)
        return false;
    for (size_t i = 0; i < n->len; i++)
        if (n->text[i] != '\n')
            return false;
    return true;
}

static bool blank_text(const hnode *n)
{
    for (size_t i = 0; i < n->len; i++) {
        char ch = n->text[i];
        if (ch != ' ' && ch != '\t' && ch != '\n' && ch != '\r' && ch != '\f' && ch != '\v')
            return false;
    }
    return true;
}

/* Whether the compiler keeps this node at all. */
static bool kept(const hnode *n)
{
    if (n->type == H_RAW)
        return false;
    if (n->type == H_TEXT)
        return !newline_only(n) && n->parent->type != H_ROOT;
    if (!strcmp(n->tag, "p")) {
        for (const hnode *c = n->first; c; c = c->next)
            if (c->type != H_TEXT || !blank_text(c))
                return true;
        return false;
    }
    return true;
}

/* Drops what the compiler drops, so later passes see the final tree. */
static void prune(hnode *root)
{
    for (hnode *cur = root->first; cur;) {
        bool keep = kept(cur);
        hnode *next = h_walk_next(root, cur, keep);
        if (!keep)
            h_remove(cur);
        cur = next;
    }
}

static void write_props(cd_buf *b, const hnode *n)
{
    cd_buf_putc(b, '{');
    for (const hprop *p = n->props; p; p = p->next) {
        if (p != n->props)
            cd_buf_putc(b, ',');
        cd_json_str(b, p->name, strlen(p->name));
        cd_buf_putc(b, ':');
        if (p->kind == PV_STR)
            cd_json_str(b, p->val, p->len);
        else
            cd_buf_append(b, p->val, p->len);
    }
    cd_buf_putc(b, '}');
}

static void write_body(cd_buf *b, hnode *root)
{
    cd_buf_puts(b, "{\"type\":\"root\",\"children\":[");
    hnode *cur = root->first;
    while (cur) {
        if (cur->prev)
            cd_buf_putc(b, ',');
        if (cur->type == H_TEXT) {
            cd_buf_puts(b, "{\"type\":\"text\",\"value\":");
            cd_json_str(b, cur->text, cur->len);
            cd_buf_putc(b, '}');
        } else {
            cd_buf_puts(b, "{\"type\":\"element\",\"tag\":");
            cd_json_str(b, cur->tag, strlen(cur->tag));
            cd_buf_puts(b, ",\"props\":");
            write_props(b, cur);
            cd_buf_puts(b, ",\"children\":[");
            if (cur->first) {
                cur = cur->first;
                continue;
            }
            cd_buf_puts(b, "]}");
        }
        while (cur != root && !cur->next) {
            cur = cur->parent;
            if (cur != root)
                cd_buf_puts(b, "]}");
        }
        cur = cur == root ? NULL : cur->next;
    }
    cd_buf_puts(b, "]}");
}

/* ---- data ------------------------------------------------------------------- */

static hnode *first_content(hnode *n)
{
    while (n && (n->type != H_ELEM || !strcmp(n->tag, "hr")))
        n = n->next;
    return n;
}

/* A key of `children`: the object's address, then the name. */
static void **child_slot(md_map *children, const jv *obj, const char *name, size_t n, cd_buf *key)
{
    cd_buf_reset(key);
    cd_buf_append(key, &obj, sizeof obj);
    cd_buf_append(key, name, n);
    return md_map_slot(children, key->data, key->len);
}

/* Nests the dotted keys of every object inside v (flat flattens the whole
 * value before it unflattens it). */
static void unflatten_inside(md_arena *a, jv *v)
{
    for (jv *m = v->first; m; m = m->next) {
        if (m->type == JV_OBJ)
            md_jv_unflatten(a, m);
        else if (m->type == JV_ARR)
            unflatten_inside(a, m);
    }
}

/* Each object's last member of a name is found in one map (many dotted
 * keys stay linear). */
void md_jv_unflatten(md_arena *a, jv *obj)
{
    unflatten_inside(a, obj);
    jv *out = jv_new(a, JV_OBJ);
    md_map *children = md_map_new(a);
    cd_buf key = CD_BUF_INIT;
    for (jv *m = obj->first, *next; m; m = next) {
        next = m->next;
        m->next = NULL;
        jv *target = out;
        const char *k = m->key;
        size_t kl = m->key_len;
        const char *dot;
        while ((dot = memchr(k, '.', kl)) != NULL) {
            size_t pl = (size_t)(dot - k);
            void **slot = child_slot(children, target, k, pl, &key);
            jv *child = *slot;
            if (!child || child->type != JV_OBJ) {
                child = jv_new(a, JV_OBJ);
                child->key = md_strndup(a, k, pl);
                child->key_len = pl;
                jv_append(target, child);
                *slot = child;
            }
            target = child;
            kl -= pl + 1;
            k = dot + 1;
        }
        m->key = k;
        m->key_len = kl;
        jv_append(target, m);
        *child_slot(children, target, k, kl, &key) = m;
    }
    cd_buf_free(&key);
    obj->first = out->first;
    obj->last = out->last;
}

static jv *write_data(md_ctx *c, cd_buf *b, hnode *root, jv *front)
{
    cd_buf title = CD_BUF_INIT, desc = CD_BUF_INIT;
    hnode *n = first_content(root->first);
    if (n && !strcmp(n->tag, "h1")) {
        h_text_content(n, &title);
        n = first_content(n->next);
    }
    if (n && !strcmp(n->tag, "p"))
        h_text_content(n, &desc);
    jv *data = jv_new(c->arena, JV_OBJ);
    jv *t = jv_new(c->arena, JV_STR), *d = jv_new(c->arena, JV_STR);
    t->key = "title", t->key_len = 5;
    t->str = md_strndup(c->arena, title.data ? title.data : "", title.len), t->len = title.len;
    d->key = "description", d->key_len = 11;
    d->str = md_strndup(c->arena, desc.data ? desc.data : "", desc.len), d->len = desc.len;
    jv_append(data, t);
    jv_append(data, d);
    if (front && front->type == JV_OBJ) {
        md_jv_unflatten(c->arena, front);
        for (jv *m = front->first, *next; m; m = next) {
            next = m->next;
            m->next = NULL;
            /* every "title" lands in t, so t stays data's title member */
            jv *old = m->key_len == 5 && !memcmp(m->key, "title", 5)           ? t
                      : m->key_len == 11 && !memcmp(m->key, "description", 11) ? d
                                                                               : NULL;
            if (old) {
                const char *k = old->key;
                size_t kl = old->key_len;
                jv *keep_next = old->next;
                *old = *m;
                old->key = k, old->key_len = kl, old->next = keep_next;
            } else {
                jv_append(data, m);
            }
        }
    }
    jv_write(b, data);
    cd_buf_free(&title);
    cd_buf_free(&desc);
    return data;
}

/* ---- toc --------------------------------------------------------------------- */

struct toc_link {
    const char *id;
    size_t id_len;
    int depth;
    char *text;
    size_t text_len;
};

static void collect_toc(hnode *root, int search_depth, int max_tag, struct toc_link **out,
                        size_t *n)
{
    size_t cap = 0;
    int level = 0;
    hnode *cur = root->first;
    level = 1;
    while (cur) {
        if (cur->type == H_ELEM && cur->tag[0] == 'h' && cur->tag[1] >= '2' &&
            cur->tag[1] <= '0' + max_tag && cur->tag[2] == '\0') {
            if (*n == cap)
                *out = cd_xrealloc(*out, (cap = cap ? cap * 2 : 16) * sizeof **out);
            struct toc_link *l = &(*out)[(*n)++];
            hprop *id = h_prop_get(cur, "id");
            l->id = id ? id->val : "";
            l->id_len = id ? id->len : 0;
            l->depth = cur->tag[1] - '0';
            cd_buf t = CD_BUF_INIT;
            h_text_content(cur, &t);
            l->text = cd_buf_steal(&t, &l->text_len);
        }
        if (cur->type == H_ELEM && cur->first && level < search_depth) {
            cur = cur->first;
            level++;
            continue;
        }
        while (cur != root && !cur->next) {
            cur = cur->parent;
            level--;
        }
        cur = cur == root ? NULL : cur->next;
    }
}

/* MDC's nestHeaders(): a link deeper than the current parent goes under it. */
static void write_links(cd_buf *b, struct toc_link *l, size_t n)
{
    cd_buf_putc(b, '[');
    size_t i = 0;
    bool first = true;
    while (i < n) {
        size_t j = i + 1;
        while (j < n && l[j].depth > l[i].depth)
            j++;
        if (!first)
            cd_buf_putc(b, ',');
        first = false;
        cd_buf_puts(b, "{\"id\":");
        cd_json_str(b, l[i].id, l[i].id_len);
        cd_buf_printf(b, ",\"depth\":%d,\"text\":", l[i].depth);
        cd_json_str(b, l[i].text, l[i].text_len);
        if (j > i + 1) {
            cd_buf_puts(b, ",\"children\":");
            /* a single child stays a list of one, as nestHeaders leaves it */
            write_links(b, l + i + 1, j - i - 1);
        }
        cd_buf_putc(b, '}');
        i = j;
    }
    cd_buf_putc(b, ']');
}

/* data.toc: false drops the toc; an object overrides depth, searchDepth
 * and title. */
static void write_toc(cd_buf *b, hnode *root, jv *data)
{
    int depth = 2, search = 2;
    cd_buf title = CD_BUF_INIT;
    jv *opt = jv_get(data, "toc");
    if (opt && opt->type == JV_BOOL && !opt->b)
        return;
    if (opt && opt->type == JV_OBJ) {
        jv *d = jv_get(opt, "depth"), *s = jv_get(opt, "searchDepth"), *t = jv_get(opt, "title");
        if (d && d->type == JV_NUM)
            depth = (int)d->num;
        if (s && s->type == JV_NUM && s->num >= 0 && s->num < 64)
            search = (int)s->num;
        if (t && t->type == JV_STR)
            cd_buf_append(&title, t->str, t->len);
    }
    int tags = depth < 1 || depth > 5 ? 1 : depth;
    struct toc_link *links = NULL;
    size_t n = 0;
    collect_toc(root, search, tags + 1, &links, &n);
    cd_buf_puts(b, ",\"toc\":{\"title\":");
    cd_json_str(b, title.data ? title.data : "", title.len);
    cd_buf_printf(b, ",\"searchDepth\":%d,\"depth\":%d,\"links\":", search, depth);
    /* nestHeaders returns a single header as it is, without children */
    write_links(b, links, n);
    cd_buf_putc(b, '}');
    for (size_t i = 0; i < n; i++)
        free(links[i].text);
    free(links);
    cd_buf_free(&title);
}

jv *md_write_document(md_ctx *c, hnode *root, jv *front, cd_buf *out, size_t *toc_at,
                      size_t *toc_len)
{
    static const char member[] = ",\"toc\":";
    prune(root);
    cd_buf_puts(out, "{\"data\":");
    jv *data = write_data(c, out, root, front);
    cd_buf_puts(out, ",\"body\":");
    write_body(out, root);
    size_t before = out->len;
    write_toc(out, root, data);
    *toc_at = *toc_len = 0;
    if (out->len > before) { /* ,"toc":{…} */
        *toc_at = before + sizeof member - 1;
        *toc_len = out->len - *toc_at;
    }
    cd_buf_putc(out, '}');
    return data;
}
