/* SPDX-License-Identifier: MIT */
/*
 * Attributes to props.  MDC hands every element's attributes through hast,
 * whose property table (property-information) decides the prop's name and
 * type: class → className list, tabindex → tabIndex number, readonly →
 * readOnly boolean, aria-x / data-x camel-cased.  The table below holds the
 * HTML attributes whose prop differs from a plain string of the same name.
 * md_attrs_apply() parses MDC's {key="value" :bound='json' flag .class #id}.
 */
#include "md_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Booleanish attributes (draggable, spellcheck…) stay strings, as in hast. */
enum ptype { P_STR, P_BOOL, P_NUM, P_SPACE, P_COMMA, P_OVERBOOL, P_BOOLISH = P_STR };

struct pinfo {
    const char *attr;
    const char *prop;
    enum ptype type;
};

/* Sorted by attribute name. */
static const struct pinfo known[] = {
    {"accept", "accept", P_COMMA},
    {"accept-charset", "acceptCharset", P_SPACE},
    {"accesskey", "accessKey", P_SPACE},
    {"allowfullscreen", "allowFullScreen", P_BOOL},
    {"async", "async", P_BOOL},
    {"autocapitalize", "autoCapitalize", P_STR},
    {"autocomplete", "autoComplete", P_SPACE},
    {"autofocus", "autoFocus", P_BOOL},
    {"autoplay", "autoPlay", P_BOOL},
    {"border", "border", P_NUM},
    {"cellpadding", "cellPadding", P_STR},
    {"cellspacing", "cellSpacing", P_STR},
    {"checked", "checked", P_BOOL},
    {"class", "className", P_SPACE},
    {"cols", "cols", P_NUM},
    {"colspan", "colSpan", P_NUM},
    {"contenteditable", "contentEditable", P_BOOLISH},
    {"controls", "controls", P_BOOL},
    {"coords", "coords", P_COMMA},
    {"crossorigin", "crossOrigin", P_STR},
    {"datetime", "dateTime", P_STR},
    {"default", "default", P_BOOL},
    {"defer", "defer", P_BOOL},
    {"dirname", "dirName", P_STR},
    {"disabled", "disabled", P_BOOL},
    {"download", "download", P_OVERBOOL},
    {"draggable", "draggable", P_BOOLISH},
    {"enctype", "encType", P_STR},
    {"enterkeyhint", "enterKeyHint", P_STR},
    {"for", "htmlFor", P_SPACE},
    {"formnovalidate", "formNoValidate", P_BOOL},
    {"frameborder", "frameBorder", P_STR},
    {"headers", "headers", P_SPACE},
    {"height", "height", P_NUM},
    {"hidden", "hidden", P_BOOL},
    {"high", "high", P_NUM},
    {"hreflang", "hrefLang", P_STR},
    {"http-equiv", "httpEquiv", P_SPACE},
    {"inert", "inert", P_BOOL},
    {"inputmode", "inputMode", P_STR},
    {"ismap", "isMap", P_BOOL},
    {"itemid", "itemId", P_STR},
    {"itemprop", "itemProp", P_SPACE},
    {"itemref", "itemRef", P_SPACE},
    {"itemscope", "itemScope", P_BOOL},
    {"itemtype", "itemType", P_SPACE},
    {"loop", "loop", P_BOOL},
    {"low", "low", P_NUM},
    {"marginheight", "marginHeight", P_NUM},
    {"marginwidth", "marginWidth", P_NUM},
    {"maxlength", "maxLength", P_NUM},
    {"minlength", "minLength", P_NUM},
    {"multiple", "multiple", P_BOOL},
    {"muted", "muted", P_BOOL},
    {"nomodule", "noModule", P_BOOL},
    {"novalidate", "noValidate", P_BOOL},
    {"open", "open", P_BOOL},
    {"optimum", "optimum", P_NUM},
    {"ping", "ping", P_SPACE},
    {"playsinline", "playsInline", P_BOOL},
    {"readonly", "readOnly", P_BOOL},
    {"referrerpolicy", "referrerPolicy", P_STR},
    {"rel", "rel", P_SPACE},
    {"required", "required", P_BOOL},
    {"reversed", "reversed", P_BOOL},
    {"rows", "rows", P_NUM},
    {"rowspan", "rowSpan", P_NUM},
    {"sandbox", "sandbox", P_SPACE},
    {"scoped", "scoped", P_BOOL},
    {"selected", "selected", P_BOOL},
    {"size", "size", P_NUM},
    {"sizes", "sizes", P_STR},
    {"span", "span", P_NUM},
    {"spellcheck", "spellCheck", P_BOOLISH},
    {"srcdoc", "srcDoc", P_STR},
    {"srclang", "srcLang", P_STR},
    {"srcset", "srcSet", P_STR},
    {"start", "start", P_NUM},
    {"tabindex", "tabIndex", P_NUM},
    {"usemap", "useMap", P_STR},
    {"valign", "vAlign", P_STR},
    {"width", "width", P_NUM},
};

/* aria-* attributes whose prop is not a plain camel-casing, or that are lists. */
static const struct pinfo aria[] = {
    {"aria-activedescendant", "ariaActiveDescendant", P_STR},
    {"aria-autocomplete", "ariaAutoComplete", P_STR},
    {"aria-colcount", "ariaColCount", P_NUM},
    {"aria-colindex", "ariaColIndex", P_NUM},
    {"aria-colspan", "ariaColSpan", P_NUM},
    {"aria-controls", "ariaControls", P_SPACE},
    {"aria-describedby", "ariaDescribedBy", P_SPACE},
    {"aria-dropeffect", "ariaDropEffect", P_SPACE},
    {"aria-errormessage", "ariaErrorMessage", P_STR},
    {"aria-flowto", "ariaFlowTo", P_SPACE},
    {"aria-haspopup", "ariaHasPopup", P_STR},
    {"aria-keyshortcuts", "ariaKeyShortcuts", P_STR},
    {"aria-labelledby", "ariaLabelledBy", P_SPACE},
    {"aria-level", "ariaLevel", P_NUM},
    {"aria-multiline", "ariaMultiLine", P_BOOLISH},
    {"aria-multiselectable", "ariaMultiSelectable", P_BOOLISH},
    {"aria-owns", "ariaOwns", P_SPACE},
    {"aria-posinset", "ariaPosInSet", P_NUM},
    {"aria-readonly", "ariaReadOnly", P_BOOLISH},
    {"aria-roledescription", "ariaRoleDescription", P_STR},
    {"aria-rowcount", "ariaRowCount", P_NUM},
    {"aria-rowindex", "ariaRowIndex", P_NUM},
    {"aria-rowspan", "ariaRowSpan", P_NUM},
    {"aria-setsize", "ariaSetSize", P_NUM},
    {"aria-valuemax", "ariaValueMax", P_NUM},
    {"aria-valuemin", "ariaValueMin", P_NUM},
    {"aria-valuenow", "ariaValueNow", P_NUM},
    {"aria-valuetext", "ariaValueText", P_STR},
};

static int cmp_pinfo(const void *k, const void *e)
{
    return strcmp(k, ((const struct pinfo *)e)->attr);
}

static const struct pinfo *lookup(const char *name)
{
    const struct pinfo *p =
        bsearch(name, known, sizeof known / sizeof known[0], sizeof known[0], cmp_pinfo);
    if (!p)
        p = bsearch(name, aria, sizeof aria / sizeof aria[0], sizeof aria[0], cmp_pinfo);
    return p;
}

/* data-foo-bar → dataFooBar, aria-foo → ariaFoo */
static char *camel_prefixed(md_arena *a, const char *name)
{
    cd_buf b = CD_BUF_INIT;
    bool up = false;
    for (const char *p = name; *p; p++) {
        if (*p == '-') {
            up = true;
            continue;
        }
        char ch = *p;
        if (up && ch >= 'a' && ch <= 'z')
            ch = (char)(ch - 32);
        else if (up)
            cd_buf_putc(&b, '-');
        up = false;
        cd_buf_putc(&b, ch);
    }
    char *r = md_strndup(a, b.data, b.len);
    cd_buf_free(&b);
    return r;
}

static void list_json(cd_buf *out, const char *v, size_t n, char sep)
{
    size_t count = 0;
    cd_buf_putc(out, '[');
    for (size_t i = 0; i < n;) {
        while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == '\n' || v[i] == '\r' ||
                         v[i] == '\f' || (sep == ',' && v[i] == ',')))
            i++;
        size_t j = i;
        if (sep == ',') {
            while (j < n && v[j] != ',')
                j++;
        } else {
            while (j < n && v[j] != ' ' && v[j] != '\t' && v[j] != '\n' && v[j] != '\r' &&
                   v[j] != '\f')
                j++;
        }
        size_t e = j;
        while (e > i && (v[e - 1] == ' ' || v[e - 1] == '\t'))
            e--;
        if (e > i) {
            if (count++)
                cd_buf_putc(out, ',');
            cd_json_str(out, v + i, e - i);
        }
        i = j + (j < n);
    }
    cd_buf_putc(out, ']');
}

static bool numeric(const char *v, size_t n, double *d)
{
    char tmp[64];
    if (!n || n >= sizeof tmp)
        return false;
    memcpy(tmp, v, n);
    tmp[n] = '\0';
    char *end;
    *d = strtod(tmp, &end);
    while (*end == ' ' || *end == '\t' || *end == '\n')
        end++;
    return *end == '\0' && tmp[0] != ' ';
}

void md_prop_from_attr(md_arena *a, hnode *el, const char *name, size_t nlen, const char *val,
                       size_t vlen, bool has_value)
{
    char *attr = md_strndup(a, name, nlen);
    const struct pinfo *info = lookup(attr);
    const char *prop = info ? info->prop : attr;
    enum ptype type = info ? info->type : P_STR;
    if (!info && (!strncmp(attr, "data-", 5) || !strncmp(attr, "aria-", 5)) && nlen > 5)
        prop = camel_prefixed(a, attr);
    if (!has_value)
        val = "", vlen = 0;
    cd_buf j = CD_BUF_INIT;
    double d;
    /* hastscript: a boolean is true when empty or its own name
     * (hidden="hidden"); any other value stays the string written */
    bool self = vlen == 0 || (vlen == nlen && !strncasecmp(val, attr, nlen));
    switch (type) {
    case P_BOOL:
    case P_OVERBOOL:
        if (self)
            h_prop_json(a, el, prop, "true");
        else
            h_prop_str(a, el, prop, val, vlen);
        break;
    case P_NUM:
        if (numeric(val, vlen, &d)) {
            md_write_number(&j, d);
            h_prop_json(a, el, prop, j.data);
        } else {
            h_prop_str(a, el, prop, val, vlen);
        }
        break;
    case P_SPACE:
    case P_COMMA:
        list_json(&j, val, vlen, type == P_COMMA ? ',' : ' ');
        h_prop_json(a, el, prop, j.data);
        break;
    default:
        h_prop_str(a, el, prop, val, vlen);
    }
    cd_buf_free(&j);
}

/* ---- MDC attribute syntax -------------------------------------------------- */

static bool attr_name_char(char ch)
{
    return ch && ch != ' ' && ch != '\t' && ch != '\n' && ch != '\r' && ch != '=' && ch != '"' &&
           ch != '\'' && ch != '{' && ch != '}' && ch != '<' && ch != '>' && ch != '`';
}

/* Component props written in camelCase reach the tree kebab-cased. */
static char *prop_name(md_arena *a, const char *s, size_t n)
{
    cd_buf b = CD_BUF_INIT;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (ch >= 'A' && ch <= 'Z') {
            if (i > 0 && s[i - 1] != '-' && s[i - 1] != ':')
                cd_buf_putc(&b, '-');
            ch = (char)(ch + 32);
        }
        cd_buf_putc(&b, ch);
    }
    char *r = md_strndup(a, b.data ? b.data : "", b.len);
    cd_buf_free(&b);
    return r;
}

/* A flag (`{name}`, and for inline components also `{name=""}`): remark-mdc
 * gives it the value true, which becomes the bound twin ":name": "true" on
 * a component, and on an element or a block component (whose attributes
 * also reach hast) the attribute itself, empty. */
static void add_flag(md_arena *a, hnode *el, const char *name, size_t nl, enum md_attrs_mode mode)
{
    char *pn = prop_name(a, name, nl);
    if (mode != MD_ATTRS_INLINE)
        md_prop_from_attr(a, el, pn, strlen(pn), "", 0, true);
    if (mode != MD_ATTRS_ELEMENT && name[0] != ':') {
        char *bound = md_alloc(a, strlen(pn) + 2);
        bound[0] = ':';
        strcpy(bound + 1, pn);
        h_prop_str(a, el, bound, "true", 4);
    }
}

bool md_attrs_apply(md_arena *a, hnode *el, const char *s, size_t n, enum md_attrs_mode mode)
{
    cd_buf classes = CD_BUF_INIT;
    size_t i = 0;
    while (i < n) {
        while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n'))
            i++;
        if (i >= n)
            break;
        if (s[i] == '.' || s[i] == '#') {
            char kind = s[i++];
            size_t st = i;
            while (i < n && attr_name_char(s[i]) && s[i] != '.' && s[i] != '#')
                i++;
            if (i == st)
                goto bad;
            if (kind == '.') {
                if (classes.len)
                    cd_buf_putc(&classes, ' ');
                cd_buf_append(&classes, s + st, i - st);
            } else {
                h_prop_str(a, el, "id", s + st, i - st);
            }
            continue;
        }
        size_t st = i;
        while (i < n && attr_name_char(s[i]))
            i++;
        if (i == st)
            goto bad;
        const char *name = s + st;
        size_t nl = i - st;
        if (i < n && s[i] == '=') {
            i++;
            const char *v;
            size_t vl;
            bool quoted = i < n && (s[i] == '"' || s[i] == '\'');
            if (quoted) {
                char q = s[i++];
                size_t vs = i;
                while (i < n && s[i] != q)
                    i++;
                if (i >= n)
                    goto bad;
                v = s + vs;
                vl = i - vs;
                i++;
            } else {
                size_t vs = i;
                while (i < n && s[i] != ' ' && s[i] != '\t' && s[i] != '\n')
                    i++;
                v = s + vs;
                vl = i - vs;
            }
            if (mode == MD_ATTRS_INLINE && quoted && vl == 0) {
                add_flag(a, el, name, nl, mode);
            } else if (nl == 5 && !memcmp(name, "class", 5)) {
                if (classes.len)
                    cd_buf_putc(&classes, ' ');
                cd_buf_append(&classes, v, vl);
            } else if (name[0] == ':') {
                h_prop_str(a, el, prop_name(a, name, nl), v, vl);
            } else {
                char *pn = prop_name(a, name, nl);
                md_prop_from_attr(a, el, pn, strlen(pn), v, vl, true);
            }
        } else {
            add_flag(a, el, name, nl, mode);
        }
    }
    if (classes.len)
        md_prop_from_attr(a, el, "class", 5, classes.data, classes.len, true);
    cd_buf_free(&classes);
    return true;
bad:
    cd_buf_free(&classes);
    return false;
}

void md_yaml_props(md_arena *a, hnode *el, jv *obj)
{
    /* remark-mdc reads the block as front matter: dotted keys nest, and
     * names stay as written (no kebab-casing) */
    md_jv_unflatten(a, obj);
    for (const jv *m = obj->first; m; m = m->next) {
        if (m->type == JV_STR) {
            md_prop_from_attr(a, el, m->key, m->key_len, m->str, m->len, true);
            continue;
        }
        /* non-strings are bound: ":key" with the JSON text */
        cd_buf name = CD_BUF_INIT, val = CD_BUF_INIT;
        cd_buf_putc(&name, ':');
        cd_buf_append(&name, m->key, m->key_len);
        jv_write(&val, m);
        h_prop_str(a, el, md_strndup(a, name.data, name.len), val.data, val.len);
        cd_buf_free(&name);
        cd_buf_free(&val);
    }
}
