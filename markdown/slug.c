/* SPDX-License-Identifier: MIT */
/*
 * Heading ids as MDC makes them: github-slugger (lower-case, drop what is
 * not a letter, a mark, a decimal or letter number, connector punctuation,
 * '-' or space, spaces to '-', "-1", "-2" for repeats), then MDC's own
 * clean-up (runs of '-' collapsed, '-' trimmed at both ends, a leading
 * digit prefixed with '_').  Unicode categories come from utf8proc: an
 * emoji (a symbol) goes, the variation selector U+FE0F after it (a mark)
 * stays, as in "️-contribute" for "❤️ Contribute".
 */
#include "md_int.h"

#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

static uint32_t decode(const unsigned char *s, size_t *len)
{
    if (s[0] < 0x80) {
        *len = 1;
        return s[0];
    }
    if ((s[0] & 0xE0) == 0xC0) {
        *len = 2;
        return ((uint32_t)(s[0] & 0x1F) << 6) | (s[1] & 0x3F);
    }
    if ((s[0] & 0xF0) == 0xE0) {
        *len = 3;
        return ((uint32_t)(s[0] & 0x0F) << 12) | ((uint32_t)(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
    }
    *len = 4;
    return ((uint32_t)(s[0] & 0x07) << 18) | ((uint32_t)(s[1] & 0x3F) << 12) |
           ((uint32_t)(s[2] & 0x3F) << 6) | (s[3] & 0x3F);
}

static void encode(cd_buf *b, uint32_t cp)
{
    char t[4];
    if (cp < 0x80) {
        cd_buf_putc(b, (char)cp);
    } else if (cp < 0x800) {
        t[0] = (char)(0xC0 | (cp >> 6));
        t[1] = (char)(0x80 | (cp & 0x3F));
        cd_buf_append(b, t, 2);
    } else if (cp < 0x10000) {
        t[0] = (char)(0xE0 | (cp >> 12));
        t[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        t[2] = (char)(0x80 | (cp & 0x3F));
        cd_buf_append(b, t, 3);
    } else {
        t[0] = (char)(0xF0 | (cp >> 18));
        t[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        t[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        t[3] = (char)(0x80 | (cp & 0x3F));
        cd_buf_append(b, t, 4);
    }
}

/* What github-slugger keeps (beyond ASCII): L*, M*, Nd, Nl and Pc. */
static bool slug_keeps(uint32_t cp)
{
    switch (utf8proc_category((utf8proc_int32_t)cp)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_PC:
        return true;
    default:
        return false;
    }
}

void md_slug(const char *s, size_t n, cd_buf *out)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        size_t l;
        uint32_t cp = decode(p + i, &l);
        i += l;
        if (cp == ' ') {
            cd_buf_putc(out, '-');
        } else if (cp == '-' || cp == '_') {
            cd_buf_putc(out, (char)cp);
        } else if (cp < 0x80) {
            if ((cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z'))
                cd_buf_putc(out, (char)cp);
            else if (cp >= 'A' && cp <= 'Z')
                cd_buf_putc(out, (char)(cp + 32));
        } else if (slug_keeps(cp)) {
            encode(out, (uint32_t)utf8proc_tolower((utf8proc_int32_t)cp));
        }
    }
}

/* ---- a small string set for the repeat counter ---------------------------- */

struct slot {
    char *key;
    unsigned count;
};

struct slugset {
    struct slot *v;
    size_t cap, n;
};

static uint64_t hash(const char *s)
{
    return cd_hash_str(s);
}

static struct slot *find(struct slugset *set, const char *key)
{
    size_t i = hash(key) & (set->cap - 1);
    while (set->v[i].key && strcmp(set->v[i].key, key))
        i = (i + 1) & (set->cap - 1);
    return &set->v[i];
}

static struct slot *insert(struct slugset *set, const char *key)
{
    if ((set->n + 1) * 2 > set->cap) {
        struct slugset big = {cd_xcalloc(set->cap ? set->cap * 2 : 64, sizeof(struct slot)),
                              set->cap ? set->cap * 2 : 64, 0};
        for (size_t i = 0; i < set->cap; i++)
            if (set->v[i].key) {
                *find(&big, set->v[i].key) = set->v[i];
                big.n++;
            }
        free(set->v);
        *set = big;
    }
    struct slot *s = find(set, key);
    if (!s->key) {
        s->key = cd_xstrdup(key);
        s->count = 0;
        set->n++;
    }
    return s;
}

static void slugset_free(struct slugset *set)
{
    for (size_t i = 0; i < set->cap; i++)
        free(set->v[i].key);
    free(set->v);
}

static void unique_slug(struct slugset *set, cd_buf *slug)
{
    struct slot *s = find(set, slug->data);
    if (!s->key) {
        insert(set, slug->data);
        return;
    }
    char *orig = cd_xstrdup(slug->data);
    cd_buf cand = CD_BUF_INIT;
    do {
        struct slot *o = insert(set, orig);
        o->count++;
        cd_buf_reset(&cand);
        cd_buf_printf(&cand, "%s-%u", orig, o->count);
    } while (find(set, cand.data)->key);
    insert(set, cand.data);
    cd_buf_reset(slug);
    cd_buf_append(slug, cand.data, cand.len);
    cd_buf_free(&cand);
    free(orig);
}

/* MDC: .replace(/-+/g, "-").replace(/^-|-$/g, "").replace(/^(\d)/, "_$1") */
static void tidy_id(const char *s, size_t n, cd_buf *out)
{
    size_t start = out->len;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '-' && out->len > start && out->data[out->len - 1] == '-')
            continue;
        cd_buf_putc(out, s[i]);
    }
    if (out->len > start && out->data[start] == '-') {
        memmove(out->data + start, out->data + start + 1, out->len - start);
        out->len--;
    }
    if (out->len > start && out->data[out->len - 1] == '-')
        out->data[--out->len] = '\0';
    if (out->len > start && out->data[start] >= '0' && out->data[start] <= '9') {
        cd_buf_putc(out, '\0');
        memmove(out->data + start + 1, out->data + start, out->len - start - 1);
        out->data[start] = '_';
    }
}

void md_heading_ids(md_ctx *c, hnode *root)
{
    struct slugset set = {cd_xcalloc(64, sizeof(struct slot)), 64, 0};
    cd_buf text = CD_BUF_INIT, slug = CD_BUF_INIT, id = CD_BUF_INIT;
    for (hnode *cur = root->first; cur;) {
        if (cur->type == H_ELEM && cur->tag[0] == 'h' && cur->tag[1] >= '1' && cur->tag[1] <= '6' &&
            cur->tag[2] == '\0') {
            hprop *p = h_prop_get(cur, "id");
            cd_buf_reset(&slug);
            if (p && p->len) {
                cd_buf_append(&slug, p->val, p->len);
            } else {
                cd_buf_reset(&text);
                h_text_content(cur, &text);
                md_slug(text.data ? text.data : "", text.len, &slug);
                if (!slug.data)
                    cd_buf_puts(&slug, "");
                unique_slug(&set, &slug);
            }
            cd_buf_reset(&id);
            tidy_id(slug.data ? slug.data : "", slug.len, &id);
            h_prop_str(c->arena, cur, "id", id.data ? id.data : "", id.len);
        }
        cur = h_walk_next(root, cur, true);
    }
    slugset_free(&set);
    cd_buf_free(&text);
    cd_buf_free(&slug);
    cd_buf_free(&id);
}
