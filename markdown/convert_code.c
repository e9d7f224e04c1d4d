/* SPDX-License-Identifier: MIT */
/*
 * Code in the cmark tree → hast, as MDC's remark-rehype handlers make it:
 * a fence becomes pre (language, filename, highlights and meta parsed from
 * the info string as MDC's parseThematicBlock() does, the code as a prop
 * and as text) and inline code a code element, with {lang="ts"} giving it
 * a language and a class.  Apart from the walk in convert.c because the
 * info-string rules are a small parser of their own.
 */
#include "convert_int.h"
#include "md_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* JavaScript's Number(s) for the highlight ranges: NaN when not numeric. */
static double js_number(const char *s, size_t n)
{
    while (n && (*s == ' ' || *s == '\t'))
        s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (!n)
        return 0;
    char tmp[64];
    if (n >= sizeof tmp)
        return NAN;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    char *end;
    double d = strtod(tmp, &end);
    return *end ? NAN : d;
}

static void highlights_json(const char *s, size_t n, cd_buf *out)
{
    size_t count = 0;
    cd_buf_putc(out, '[');
    for (size_t i = 0; i <= n;) {
        size_t j = i;
        while (j < n && s[j] != ',')
            j++;
        if (j > i) {
            const char *dash = memchr(s + i, '-', j - i);
            double start = js_number(s + i, dash ? (size_t)(dash - s - i) : j - i);
            double end = dash ? js_number(dash + 1, (size_t)(s + j - dash - 1)) : NAN;
            double from = isnan(start) ? 0 : start;
            double to = !isnan(end) && end != 0 ? end : from;
            double len = to - from + 1;
            if (!isnan(start) && !(dash && isnan(end)) && len > 0 && len < 100000) {
                for (double k = 0; k < floor(len); k++) {
                    if (count++)
                        cd_buf_putc(out, ',');
                    md_write_number(out, from + k);
                }
            }
        }
        i = j + 1;
    }
    cd_buf_putc(out, ']');
    if (!count)
        cd_buf_reset(out);
}

/* detab: tabs to spaces at 4-column stops, as the `detab` package does. */
static void detab(const char *s, size_t n, cd_buf *out)
{
    size_t col = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\t') {
            size_t add = 4 - col % 4;
            for (size_t k = 0; k < add; k++)
                cd_buf_putc(out, ' ');
            col += add;
        } else {
            cd_buf_putc(out, s[i]);
            col = (s[i] == '\n' || s[i] == '\r') ? 0 : col + 1;
        }
    }
}

static void remove_first(cd_buf *b, const char *pat, size_t plen)
{
    if (!plen || !b->data)
        return;
    char *hit = memmem(b->data, b->len, pat, plen);
    if (!hit)
        return;
    memmove(hit, hit + plen, b->len - (size_t)(hit - b->data) - plen + 1);
    b->len -= plen;
}

static bool is_ws(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == '\v';
}

/* MDC's parseThematicBlock() on "lang meta": language, {highlights},
 * [filename] and what remains as meta. */
static const char *fence_props(struct conv *cv, hnode *pre, const char *info)
{
    md_arena *a = cv->a;
    cd_buf lang = CD_BUF_INIT;
    size_t w = strcspn(info, " \t");
    const char *rest = info + w;
    while (*rest == ' ' || *rest == '\t')
        rest++;
    cd_buf_append(&lang, info, w);
    cd_buf_putc(&lang, ' ');
    cd_buf_puts(&lang, rest);
    const char *L = lang.data;
    bool empty = true;
    for (size_t i = 0; i < lang.len; i++)
        empty = empty && is_ws(L[i]);
    if (empty) {
        cd_buf_free(&lang);
        return "text";
    }
    /* lang.replace(/[{|[](.+)/, "").match(/^[^ \t]+(?=[ \t]|$)/) */
    size_t cut = lang.len;
    for (size_t i = 0; i + 1 < lang.len; i++)
        if (L[i] == '{' || L[i] == '|' || L[i] == '[') {
            cut = i;
            break;
        }
    size_t lw = 0;
    while (lw < cut && L[lw] != ' ' && L[lw] != '\t')
        lw++;
    const char *language = lw ? md_strndup(a, L, lw) : NULL;
    /* lang.match(/\{([^}]*)\}/) */
    const char *lb = strchr(L, '{'), *rb = lb ? strchr(lb, '}') : NULL;
    /* lang.match(/\[(.*)\]/) */
    const char *fb = strchr(L, '['), *fe = fb ? strrchr(fb, ']') : NULL;
    char *hl = lb && rb ? md_strndup(a, lb, (size_t)(rb - lb + 1)) : NULL;
    char *fn = fb && fe ? md_strndup(a, fb, (size_t)(fe - fb + 1)) : NULL;

    cd_buf meta = CD_BUF_INIT;
    cd_buf_append(&meta, L, lang.len);
    if (language)
        remove_first(&meta, language, lw);
    if (hl)
        remove_first(&meta, hl, strlen(hl));
    if (fn)
        remove_first(&meta, fn, strlen(fn));
    const char *m = meta.data;
    size_t ml = meta.len;
    while (ml && is_ws(*m))
        m++, ml--;
    while (ml && is_ws(m[ml - 1]))
        ml--;
    h_prop_str(a, pre, "meta", m, ml);
    cd_buf_free(&meta);

    if (fn && strlen(fn) > 2) {
        cd_buf name = CD_BUF_INIT;
        for (const char *p = fn + 1; p < fn + strlen(fn) - 1; p++) {
            if (*p == '\\' && strchr("[]{}().*+?^$|", p[1]) && p[1])
                p++;
            cd_buf_putc(&name, *p);
        }
        h_prop_str(a, pre, "filename", name.data, name.len);
        cd_buf_free(&name);
    }
    if (hl) {
        cd_buf json = CD_BUF_INIT;
        highlights_json(hl + 1, strlen(hl) - 2, &json);
        if (json.len)
            h_prop_json(a, pre, "highlights", json.data);
        cd_buf_free(&json);
    }
    cd_buf_free(&lang);
    return language ? language : "text";
}

hnode *md_conv_code_block(struct conv *cv, cmark_node *node)
{
    md_arena *a = cv->a;
    const char *info = cmark_node_get_fence_info(node);
    const char *lit = cmark_node_get_literal(node);
    hnode *pre = h_elem(a, "pre");
    const char *language = fence_props(cv, pre, info ? info : "");

    cd_buf val = CD_BUF_INIT;
    size_t litlen = lit ? strlen(lit) : 0;
    if (litlen == 1 && lit[0] == '\n')
        litlen = 0; /* one blank line: mdast's value is "", and so is MDC's code */
    if (litlen) {
        detab(lit, litlen, &val);
        if (val.data[val.len - 1] != '\n')
            cd_buf_putc(&val, '\n');
    }
    const char *v = val.data ? val.data : "";
    cd_buf cls = CD_BUF_INIT, name = CD_BUF_INIT;
    cd_buf_puts(&name, "language-");
    cd_buf_puts(&name, language);
    cd_buf_putc(&cls, '[');
    cd_json_str(&cls, name.data, name.len);
    cd_buf_putc(&cls, ']');
    h_prop_json(a, pre, "className", cls.data);
    cd_buf_free(&cls);
    cd_buf_free(&name);
    h_prop_str(a, pre, "code", v, val.len);
    h_prop_str(a, pre, "language", language, strlen(language));
    hnode *code = h_elem(a, "code");
    h_prop_str(a, code, "__ignoreMap", "", 0);
    h_append(pre, code);
    /* the HTML parser MDC passes the tree through drops a newline right
     * after <pre>: a fence whose first line is blank loses it in the text
     * (the code prop keeps it) */
    size_t lead = val.len && v[0] == '\n';
    if (val.len > lead)
        h_append(code, h_text(a, v + lead, val.len - lead));
    cd_buf_free(&val);
    return pre;
}

/* MDC's inlineCode handler: {lang="ts"} adds language and a class. */
static void inline_code_attrs(struct conv *cv, cmark_node *node, hnode *code)
{
    if (!md_inline_get(node))
        return;
    md_conv_inline_attrs(cv, node, code);
    hprop *lang = h_prop_get(code, "language");
    if (!lang)
        lang = h_prop_get(code, "lang");
    cd_buf cls = CD_BUF_INIT;
    hprop *cp = h_prop_get(code, "className");
    if (cp && cp->kind == PV_JSON && strcmp(cp->val, "[]"))
        cd_buf_append(&cls, cp->val, cp->len - 1);
    else
        cd_buf_putc(&cls, '[');
    if (lang) {
        const char *v = md_strndup(cv->a, lang->val, lang->len);
        size_t vl = lang->len;
        h_prop_del(code, "lang");
        h_prop_str(cv->a, code, "language", v, vl);
        cd_buf tmp = CD_BUF_INIT;
        cd_buf_puts(&tmp, "language-");
        cd_buf_append(&tmp, v, vl);
        if (cls.len > 1)
            cd_buf_putc(&cls, ',');
        cd_json_str(&cls, tmp.data, tmp.len);
        cd_buf_free(&tmp);
    }
    cd_buf_putc(&cls, ']');
    h_prop_json(cv->a, code, "className", cls.data);
    cd_buf_free(&cls);
}

hnode *md_conv_inline_code(struct conv *cv, cmark_node *node)
{
    const char *lit = cmark_node_get_literal(node);
    hnode *code = h_elem(cv->a, "code");
    h_prop_json(cv->a, code, "className", "[]");
    inline_code_attrs(cv, node, code);
    h_append(code, h_text(cv->a, lit, strlen(lit)));
    return code;
}
