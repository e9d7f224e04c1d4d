/* SPDX-License-Identifier: MIT */
/* The render arena, the hast-like tree and JSON values built in it. */
#include "md_int.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct chunk {
    struct chunk *next;
    size_t used, cap;
    _Alignas(16) unsigned char data[];
};

struct md_arena {
    struct chunk *head;
};

md_arena *md_arena_new(void)
{
    return cd_xcalloc(1, sizeof(md_arena));
}

#define CHUNK_SIZE    65536
#define CACHED_CHUNKS 32

/* Standard chunks are kept per thread for the next render: a server renders
 * one document after another, and fresh memory costs page faults. */
static __thread struct chunk *spare;
static __thread int spare_count;

static void chunks_release(void *arg)
{
    (void)arg;
    for (struct chunk *c = spare, *n; c; c = n) {
        n = c->next;
        free(c);
    }
    spare = NULL;
    spare_count = 0;
}

static pthread_key_t spare_key;
static pthread_once_t spare_once = PTHREAD_ONCE_INIT;

static void spare_key_make(void)
{
    pthread_key_create(&spare_key, chunks_release);
}

void md_arena_free(md_arena *a)
{
    if (!a)
        return;
    /* the key's destructor frees the kept chunks when the thread ends */
    pthread_once(&spare_once, spare_key_make);
    if (!pthread_getspecific(spare_key))
        pthread_setspecific(spare_key, (void *)1);
    for (struct chunk *c = a->head, *n; c; c = n) {
        n = c->next;
        if (c->cap == CHUNK_SIZE && spare_count < CACHED_CHUNKS) {
            c->next = spare;
            spare = c;
            spare_count++;
        } else {
            free(c);
        }
    }
    free(a);
}

void *md_alloc(md_arena *a, size_t n)
{
    void *p = md_alloc_raw(a, n);
    memset(p, 0, n);
    return p;
}

void *md_alloc_raw(md_arena *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    struct chunk *c = a->head;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > CHUNK_SIZE ? n : CHUNK_SIZE;
        if (cap == CHUNK_SIZE && spare) {
            c = spare;
            spare = c->next;
            spare_count--;
        } else {
            c = cd_xmalloc(sizeof *c + cap);
        }
        c->used = 0;
        c->cap = cap;
        c->next = a->head;
        a->head = c;
    }
    void *p = c->data + c->used;
    c->used += n;
    return p;
}

char *md_strndup(md_arena *a, const char *s, size_t n)
{
    char *p = md_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *md_strdup(md_arena *a, const char *s)
{
    return md_strndup(a, s, strlen(s));
}

/* ---- tree ----------------------------------------------------------------- */

hnode *h_elem(md_arena *a, const char *tag)
{
    hnode *n = md_alloc(a, sizeof *n);
    n->type = H_ELEM;
    n->tag = tag;
    n->from_md = true;
    return n;
}

hnode *h_text(md_arena *a, const char *s, size_t len)
{
    hnode *n = md_alloc(a, sizeof *n);
    n->type = H_TEXT;
    n->text = md_strndup(a, s, len);
    n->len = len;
    return n;
}

void h_append(hnode *parent, hnode *child)
{
    child->parent = parent;
    child->prev = parent->last;
    child->next = NULL;
    if (parent->last)
        parent->last->next = child;
    else
        parent->first = child;
    parent->last = child;
}

void h_insert_before(hnode *parent, hnode *ref, hnode *child)
{
    if (!ref) {
        h_append(parent, child);
        return;
    }
    child->parent = parent;
    child->next = ref;
    child->prev = ref->prev;
    if (ref->prev)
        ref->prev->next = child;
    else
        parent->first = child;
    ref->prev = child;
}

void h_append_text(md_arena *a, hnode *parent, const char *s, size_t n)
{
    hnode *l = parent->last;
    if (l && l->type == H_TEXT) {
        /* grow geometrically: long paragraphs are built from many pieces */
        if (l->len + n + 1 > l->cap) {
            size_t cap = (l->len + n + 1) * 2;
            char *t = md_alloc(a, cap);
            memcpy(t, l->text, l->len);
            l->text = t;
            l->cap = cap;
        }
        memcpy((char *)l->text + l->len, s, n);
        l->len += n;
        ((char *)l->text)[l->len] = '\0';
        return;
    }
    h_append(parent, h_text(a, s, n));
}

void h_remove(hnode *n)
{
    hnode *p = n->parent;
    if (!p)
        return;
    if (n->prev)
        n->prev->next = n->next;
    else
        p->first = n->next;
    if (n->next)
        n->next->prev = n->prev;
    else
        p->last = n->prev;
    n->parent = n->prev = n->next = NULL;
}

/* Past this many props an element looks its props up in a map. */
#define PROP_SCAN_MAX 8

static void prop_unlink(hnode *n, hprop *p)
{
    if (p->prev)
        p->prev->next = p->next;
    else
        n->props = p->next;
    if (p->next)
        p->next->prev = p->prev;
    else
        n->props_last = p->prev;
    if (n->prop_map)
        *md_map_slot(n->prop_map, p->name, strlen(p->name)) = NULL;
}

static void prop_add(md_arena *a, hnode *n, const char *name, const char *v, size_t len,
                     pv_kind kind)
{
    size_t count = 0;
    hprop *old = NULL;
    if (n->prop_map) {
        old = md_map_get(n->prop_map, name, strlen(name));
    } else {
        for (hprop *p = n->props; p && !old; p = p->next, count++)
            if (!strcmp(p->name, name))
                old = p;
    }
    if (old)
        prop_unlink(n, old);
    hprop *p = md_alloc(a, sizeof *p);
    p->name = name;
    p->val = v;
    p->len = len;
    p->kind = kind;
    p->prev = n->props_last;
    if (n->props_last)
        n->props_last->next = p;
    else
        n->props = p;
    n->props_last = p;
    if (!n->prop_map && count >= PROP_SCAN_MAX) {
        n->prop_map = md_map_new(a);
        for (hprop *q = n->props; q; q = q->next)
            *md_map_slot(n->prop_map, q->name, strlen(q->name)) = q;
    } else if (n->prop_map) {
        *md_map_slot(n->prop_map, name, strlen(name)) = p;
    }
}

void h_prop_str(md_arena *a, hnode *n, const char *name, const char *v, size_t len)
{
    prop_add(a, n, name, md_strndup(a, v, len), len, PV_STR);
}

void h_prop_json(md_arena *a, hnode *n, const char *name, const char *json)
{
    prop_add(a, n, name, md_strdup(a, json), strlen(json), PV_JSON);
}

/* A merge sort of the prop list: a component may have thousands. */
static hprop *props_merge_sort(hprop *list, size_t n)
{
    if (n < 2)
        return list;
    hprop *mid = list;
    for (size_t i = 1; i < n / 2; i++)
        mid = mid->next;
    hprop *right = mid->next;
    mid->next = NULL;
    hprop *l = props_merge_sort(list, n / 2), *r = props_merge_sort(right, n - n / 2);
    hprop head = {0}, *tail = &head;
    while (l && r) {
        hprop **least = strcmp(r->name, l->name) < 0 ? &r : &l; /* stable */
        tail->next = *least;
        tail = *least;
        *least = (*least)->next;
    }
    tail->next = l ? l : r;
    return head.next;
}

void h_props_sort(hnode *n)
{
    size_t count = 0;
    for (hprop *p = n->props; p; p = p->next)
        count++;
    n->props = props_merge_sort(n->props, count);
    n->props_last = NULL;
    for (hprop *p = n->props; p; p = p->next) { /* the back links */
        p->prev = n->props_last;
        n->props_last = p;
    }
}

hprop *h_prop_get(const hnode *n, const char *name)
{
    if (n->prop_map)
        return md_map_get(n->prop_map, name, strlen(name));
    for (hprop *p = n->props; p; p = p->next)
        if (!strcmp(p->name, name))
            return p;
    return NULL;
}

void h_prop_del(hnode *n, const char *name)
{
    hprop *p = h_prop_get(n, name);
    if (p)
        prop_unlink(n, p);
}

hnode *h_walk_next(const hnode *root, const hnode *n, bool descend)
{
    if (descend && n->first)
        return n->first;
    while (n != root && !n->next)
        n = n->parent;
    return n == root ? NULL : n->next;
}

void h_text_content(const hnode *n, cd_buf *out)
{
    for (const hnode *cur = n; cur; cur = h_walk_next(n, cur, true))
        if (cur->type == H_TEXT)
            cd_buf_append(out, cur->text, cur->len);
}

/* ---- JSON values ------------------------------------------------------------ */

jv *jv_new(md_arena *a, jv_type t)
{
    jv *v = md_alloc(a, sizeof *v);
    v->type = t;
    return v;
}

void jv_append(jv *parent, jv *child)
{
    if (parent->last)
        parent->last->next = child;
    else
        parent->first = child;
    parent->last = child;
}

jv *jv_get(const jv *obj, const char *key)
{
    if (!obj || obj->type != JV_OBJ)
        return NULL;
    size_t kl = strlen(key);
    jv *found = NULL;
    for (jv *m = obj->first; m; m = m->next)
        if (m->key_len == kl && !memcmp(m->key, key, kl))
            found = m; /* the last duplicate wins, as in JavaScript */
    return found;
}

/* Numbers as JavaScript's Number#toString prints them. */
void md_write_number(cd_buf *b, double d)
{
    if (!isfinite(d)) {
        cd_buf_puts(b, "null");
        return;
    }
    /* Integers past 2^63 go in exponent form: the same number to
     * JavaScript, and still a number to parsers that read digits without a
     * point or exponent as a 64-bit integer (jansson refuses them). */
    bool int64 = fabs(d) < 9223372036854775808.0;
    if (d == floor(d) && int64) {
        cd_buf_printf(b, "%.0f", d == 0 ? 0.0 : d);
        return;
    }
    char tmp[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, d);
        if (strtod(tmp, NULL) == d)
            break;
    }
    char *e = strchr(tmp, 'e');
    if (!e) {
        cd_buf_puts(b, tmp);
        return;
    }
    int ex = atoi(e + 1);
    if (ex >= -7 && ex < 21 && int64) { /* JavaScript prints these in plain notation */
        char plain[64];
        snprintf(plain, sizeof plain, "%.*f", ex < 0 ? 17 - ex : 0, d);
        /* trim to the shortest round-tripping plain form */
        size_t l = strlen(plain);
        while (l > 1 && plain[l - 1] == '0' && strchr(plain, '.'))
            plain[--l] = '\0';
        if (plain[l - 1] == '.')
            plain[--l] = '\0';
        cd_buf_puts(b, plain);
        return;
    }
    cd_buf_append(b, tmp, (size_t)(e - tmp));
    cd_buf_printf(b, "e%c%d", ex < 0 ? '-' : '+', abs(ex));
}

/* Iterative writer: YAML may nest deeply too. */
void jv_write(cd_buf *b, const jv *root)
{
    const jv *v = root;
    /* parent links are implicit: keep an explicit stack */
    size_t cap = 16, top = 0;
    const jv **stack = cd_xmalloc(cap * sizeof *stack);
    for (;;) {
        switch (v->type) {
        case JV_NULL:
            cd_buf_puts(b, "null");
            break;
        case JV_BOOL:
            cd_buf_puts(b, v->b ? "true" : "false");
            break;
        case JV_NUM:
            md_write_number(b, v->num);
            break;
        case JV_STR:
            cd_json_str(b, v->str, v->len);
            break;
        case JV_ARR:
        case JV_OBJ:
            cd_buf_putc(b, v->type == JV_ARR ? '[' : '{');
            if (v->first) {
                if (top == cap)
                    stack = cd_xrealloc(stack, (cap *= 2) * sizeof *stack);
                stack[top++] = v;
                v = v->first;
                if (stack[top - 1]->type == JV_OBJ) {
                    cd_json_str(b, v->key, v->key_len);
                    cd_buf_putc(b, ':');
                }
                continue;
            }
            cd_buf_putc(b, v->type == JV_ARR ? ']' : '}');
            break;
        }
        /* move to the next sibling, closing finished containers */
        while (top > 0 && !v->next) {
            v = stack[--top];
            cd_buf_putc(b, v->type == JV_ARR ? ']' : '}');
        }
        if (top == 0)
            break;
        v = v->next;
        cd_buf_putc(b, ',');
        if (stack[top - 1]->type == JV_OBJ) {
            cd_json_str(b, v->key, v->key_len);
            cd_buf_putc(b, ':');
        }
    }
    free(stack);
}
