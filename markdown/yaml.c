/* SPDX-License-Identifier: MIT */
/*
 * Front matter and component props: YAML (libyaml) to JSON values.  Scalars
 * resolve with the YAML 1.2 core schema, as the `yaml` package MDC uses
 * does: dates stay strings.  Aliases are copied, within a budget, so a
 * "billion laughs" document is an error rather than an explosion.
 */
#include "md_int.h"
#include "markdown.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define YAML_MAX_DEPTH 512
#define YAML_MAX_NODES 200000

struct ybuild {
    md_arena *a;
    jv *stack[YAML_MAX_DEPTH + 1];
    jv *pending_key[YAML_MAX_DEPTH + 1]; /* key waiting for its value, per map */
    md_map *keys[YAML_MAX_DEPTH + 1];    /* key → member, per map (made lazily) */
    int top;
    jv *root;
    md_map *anchors; /* anchor name → value; a later anchor of a name wins */
    size_t nodes;
};

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* [-+]?[0-9]+ */
static bool is_int(const char *s)
{
    s += *s == '-' || *s == '+';
    if (!*s)
        return false;
    for (; *s; s++)
        if (!is_digit(*s))
            return false;
    return true;
}

/* prefix followed by one or more characters of `digits` */
static bool is_based(const char *s, const char *prefix, const char *digits)
{
    size_t pl = strlen(prefix);
    if (strncmp(s, prefix, pl) || !s[pl])
        return false;
    for (s += pl; *s; s++)
        if (!strchr(digits, *s))
            return false;
    return true;
}

/* [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static bool is_float(const char *s)
{
    s += *s == '-' || *s == '+';
    bool digits = false;
    while (is_digit(*s))
        s++, digits = true;
    if (*s == '.') {
        s++;
        bool frac = false;
        while (is_digit(*s))
            s++, frac = true;
        if (!digits && !frac)
            return false;
    } else if (!digits) {
        return false;
    }
    if (*s == 'e' || *s == 'E') {
        s++;
        s += *s == '-' || *s == '+';
        if (!is_digit(*s))
            return false;
        while (is_digit(*s))
            s++;
    }
    return *s == '\0';
}

static bool str_in(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (!strcmp(s, *list))
            return true;
    return false;
}

/* Core-schema resolution of a plain scalar. */
static jv *resolve_plain(md_arena *a, const char *s, size_t len)
{
    static const char *const nulls[] = {"", "~", "null", "Null", "NULL", NULL};
    static const char *const trues[] = {"true", "True", "TRUE", NULL};
    static const char *const falses[] = {"false", "False", "FALSE", NULL};
    jv *v;
    if (str_in(s, nulls))
        return jv_new(a, JV_NULL);
    if (str_in(s, trues) || str_in(s, falses)) {
        v = jv_new(a, JV_BOOL);
        v->b = str_in(s, trues);
        return v;
    }
    if (len < 64 && (s[0] == '-' || s[0] == '+' || s[0] == '.' || (s[0] >= '0' && s[0] <= '9'))) {
        v = jv_new(a, JV_NUM);
        if (is_int(s)) {
            v->num = strtod(s, NULL);
            return v;
        }
        if (is_based(s, "0o", "01234567")) {
            v->num = (double)strtoull(s + 2, NULL, 8);
            return v;
        }
        if (is_based(s, "0x", "0123456789abcdefABCDEF")) {
            v->num = (double)strtoull(s + 2, NULL, 16);
            return v;
        }
        if (is_float(s)) {
            v->num = strtod(s, NULL);
            return v;
        }
        const char *inf = s + (s[0] == '-' || s[0] == '+');
        if (!strcmp(inf, ".inf") || !strcmp(inf, ".Inf") || !strcmp(inf, ".INF")) {
            v->num = s[0] == '-' ? -INFINITY : INFINITY;
            return v;
        }
        if (!strcmp(s, ".nan") || !strcmp(s, ".NaN") || !strcmp(s, ".NAN")) {
            v->num = NAN;
            return v;
        }
    }
    v = jv_new(a, JV_STR);
    v->str = md_strndup(a, s, len);
    v->len = len;
    return v;
}

static jv *jv_copy(struct ybuild *y, const jv *src, int depth, bool *ok)
{
    if (++y->nodes > YAML_MAX_NODES || depth > YAML_MAX_DEPTH) {
        *ok = false;
        return jv_new(y->a, JV_NULL);
    }
    jv *v = jv_new(y->a, src->type);
    v->b = src->b;
    v->num = src->num;
    v->str = src->str;
    v->len = src->len;
    for (const jv *m = src->first; m && *ok; m = m->next) {
        jv *c = jv_copy(y, m, depth + 1, ok);
        c->key = m->key;
        c->key_len = m->key_len;
        jv_append(v, c);
    }
    return v;
}

/* Turns a key value into the string JavaScript would use as property name. */
static void key_string(md_arena *a, const jv *k, const char **s, size_t *len)
{
    if (k->type == JV_STR) {
        *s = k->str;
        *len = k->len;
        return;
    }
    cd_buf b = CD_BUF_INIT;
    if (k->type == JV_NULL)
        cd_buf_puts(&b, "");
    else if (k->type == JV_BOOL)
        cd_buf_puts(&b, k->b ? "true" : "false");
    else if (k->type == JV_NUM)
        md_write_number(&b, k->num);
    else
        jv_write(&b, k);
    *s = md_strndup(a, b.data ? b.data : "", b.len);
    *len = b.len;
    cd_buf_free(&b);
}

/* Adds a finished value to the container on top of the stack. */
static void attach(struct ybuild *y, jv *v)
{
    if (y->top == 0) {
        y->root = v;
        return;
    }
    jv *parent = y->stack[y->top - 1];
    if (parent->type == JV_ARR) {
        jv_append(parent, v);
        return;
    }
    jv *key = y->pending_key[y->top - 1];
    if (!key) {
        y->pending_key[y->top - 1] = v;
        return;
    }
    y->pending_key[y->top - 1] = NULL;
    key_string(y->a, key, &v->key, &v->key_len);
    /* a later duplicate takes the earlier one's place, as in JavaScript; the
     * map holds, per key, the link that points at the member */
    md_map **keys = &y->keys[y->top - 1];
    if (!*keys)
        *keys = md_map_new(y->a);
    void **slot = md_map_slot(*keys, v->key, v->key_len);
    jv **link = *slot;
    if (link) {
        jv *m = *link;
        v->next = m->next;
        *link = v;
        if (parent->last == m)
            parent->last = v;
        if (v->next)
            *md_map_slot(*keys, v->next->key, v->next->key_len) = &v->next;
        return;
    }
    *slot = parent->last ? &parent->last->next : &parent->first;
    jv_append(parent, v);
}

static void remember_anchor(struct ybuild *y, const yaml_char_t *anchor, jv *v)
{
    if (!anchor)
        return;
    if (!y->anchors)
        y->anchors = md_map_new(y->a);
    *md_map_slot(y->anchors, (const char *)anchor, strlen((const char *)anchor)) = v;
}

static jv *scalar_value(struct ybuild *y, const yaml_event_t *ev)
{
    const char *s = (const char *)ev->data.scalar.value;
    size_t len = ev->data.scalar.length;
    const char *tag = (const char *)ev->data.scalar.tag;
    bool plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    if (tag && !strcmp(tag, YAML_STR_TAG))
        plain = false;
    if (plain || (tag && strcmp(tag, YAML_STR_TAG) && strcmp(tag, "!")))
        return resolve_plain(y->a, s, len);
    jv *v = jv_new(y->a, JV_STR);
    v->str = md_strndup(y->a, s, len);
    v->len = len;
    return v;
}

static int fail(md_error *err, int line, const char *fmt, const char *what)
{
    if (err) {
        err->line = line;
        snprintf(err->message, sizeof err->message, fmt, what);
    }
    return -1;
}

/* Handles one event; returns 1 at the end of the document, 0 to go on,
 * -1 on error. */
static int on_event(struct ybuild *y, yaml_event_t *ev, int line_offset, md_error *err)
{
    int line = (int)ev->start_mark.line + 1 + line_offset;
    jv *v;
    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        v = scalar_value(y, ev);
        remember_anchor(y, ev->data.scalar.anchor, v);
        attach(y, v);
        break;
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT:
        if (y->top >= YAML_MAX_DEPTH)
            return fail(err, line, "invalid front matter: YAML nested deeper than %s levels",
                        "512");
        v = jv_new(y->a, ev->type == YAML_SEQUENCE_START_EVENT ? JV_ARR : JV_OBJ);
        remember_anchor(y,
                        ev->type == YAML_SEQUENCE_START_EVENT ? ev->data.sequence_start.anchor
                                                              : ev->data.mapping_start.anchor,
                        v);
        y->pending_key[y->top] = NULL;
        y->keys[y->top] = NULL;
        y->stack[y->top++] = v;
        break;
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        v = y->stack[--y->top];
        attach(y, v);
        break;
    case YAML_ALIAS_EVENT: {
        const char *name = (const char *)ev->data.alias.anchor;
        jv *target = y->anchors ? md_map_get(y->anchors, name, strlen(name)) : NULL;
        if (!target)
            return fail(err, line, "invalid front matter: unknown alias *%s",
                        (const char *)ev->data.alias.anchor);
        bool ok = true;
        v = jv_copy(y, target, y->top, &ok);
        if (!ok)
            return fail(err, line, "invalid front matter: %s", "aliases expand too far");
        attach(y, v);
        break;
    }
    case YAML_DOCUMENT_END_EVENT:
        return 1;
    default:
        break;
    }
    if (++y->nodes > YAML_MAX_NODES)
        return fail(err, line, "invalid front matter: %s", "too many YAML nodes");
    return 0;
}

jv *md_yaml_parse(md_arena *a, const char *src, size_t len, int line_offset, md_error *err)
{
    yaml_parser_t parser;
    struct ybuild *y = cd_xcalloc(1, sizeof *y);
    y->a = a;
    jv *result = NULL;
    if (!yaml_parser_initialize(&parser)) {
        fail(err, 0, "%s", "cannot initialise the YAML parser");
        goto out;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)src, len);
    for (;;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev)) {
            int line = (int)parser.problem_mark.line + 1 + line_offset;
            fail(err, line, "invalid front matter: %s",
                 parser.problem ? parser.problem : "malformed YAML");
            if (err && parser.context &&
                strlen(err->message) + strlen(parser.context) + 3 < sizeof err->message) {
                strcat(err->message, " ");
                strcat(err->message, parser.context);
            }
            goto out_parser;
        }
        bool stream_end = ev.type == YAML_STREAM_END_EVENT;
        int r = on_event(y, &ev, line_offset, err);
        yaml_event_delete(&ev);
        if (r < 0)
            goto out_parser;
        if (r > 0 || stream_end)
            break;
    }
    result = y->root ? y->root : jv_new(a, JV_NULL);
out_parser:
    yaml_parser_delete(&parser);
out:
    free(y);
    return result;
}
