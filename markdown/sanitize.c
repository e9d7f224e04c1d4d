/* SPDX-License-Identifier: MIT */
/*
 * The allow-list every element of the tree passes, raw HTML or markdown,
 * after the gumbo pass (html.c): elements that run script or embed other
 * documents are dropped with their content; event handlers, srcdoc,
 * script URLs (javascript:, data: outside images) in any URL prop, plain
 * or bound, and style values that can run script are removed.  Apart from
 * html.c because this is the security policy of the renderer, read and
 * changed on its own.
 */
#include "md_int.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

/* Elements removed with everything inside them. */
static const char *const dropped_tags[] = {"script", "style", "iframe", "object", "embed", "applet",
                                           "frame", "frameset", "noframes", "noscript", "noembed",
                                           "base", "link", "meta", "title", "head", "math", "xmp",
                                           "plaintext", "portal", "fencedframe", "param",
                                           /* SVG elements that run script, animate attributes (href
                                            * → javascript:) or embed HTML */
                                           "foreignObject", "animate", "animateMotion",
                                           "animateTransform", "set", "handler", "listener", NULL};

/* Case-insensitive membership, first letters compared first: this runs
 * for every element and prop of every document. */
static bool in_list(const char *const *list, const char *s)
{
    char c = (char)(s[0] | 0x20);
    for (const char *const *t = list; *t; t++)
        if (((*t)[0] | 0x20) == c && !strcasecmp(*t, s))
            return true;
    return false;
}

static bool is_dropped(const char *tag)
{
    return in_list(dropped_tags, tag);
}

bool md_url_safe(const char *url, size_t len, bool is_img_src)
{
    /* browsers ignore surrounding whitespace/controls and embedded tab/newline */
    char scheme[32];
    size_t sl = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)url[i];
        if (ch <= 0x20 && sl == 0)
            continue;
        if (ch == '\t' || ch == '\n' || ch == '\r')
            continue;
        if (ch == ':')
            break;
        if (!((ch | 0x20) >= 'a' && (ch | 0x20) <= 'z') &&
            !(sl && ((ch >= '0' && ch <= '9') || ch == '+' || ch == '-' || ch == '.')))
            return true; /* no scheme: a relative URL */
        if (sl + 1 >= sizeof scheme)
            return true;
        scheme[sl++] = (char)(ch | 0x20);
    }
    scheme[sl] = '\0';
    if (!sl || memchr(url, ':', len) == NULL)
        return true;
    if (!strcmp(scheme, "javascript") || !strcmp(scheme, "vbscript") ||
        !strcmp(scheme, "livescript") || !strcmp(scheme, "mocha"))
        return false;
    if (!strcmp(scheme, "data")) {
        const char *rest = memchr(url, ':', len) + 1;
        size_t rl = len - (size_t)(rest - url);
        while (rl && (unsigned char)*rest <= 0x20)
            rest++, rl--;
        return is_img_src && rl > 6 && !strncasecmp(rest, "image/", 6);
    }
    return true;
}

/* The text of a style value as a browser's CSS parser reads it, for the
 * checks below: escapes decoded (CSS "\\6a " and JSON "\\u006a"), comments,
 * whitespace and controls dropped, letters lower-cased; non-ASCII code
 * points become '?'. */
static void style_text(const char *v, size_t n, cd_buf *out)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)v[i];
        if (ch == '/' && i + 1 < n && v[i + 1] == '*') {
            const char *end = memmem(v + i + 2, n - i - 2, "*/", 2);
            i = end ? (size_t)(end - v) + 1 : n;
            continue;
        }
        if (ch == '\\' && i + 1 < n) {
            size_t j = i + 1 + (v[i + 1] == 'u' && i + 5 < n), k = 0;
            unsigned long cp = 0;
            while (j < n && k < 6 && isxdigit((unsigned char)v[j])) {
                cp = cp * 16 + (unsigned long)(isdigit((unsigned char)v[j])
                                                   ? v[j] - '0'
                                                   : (v[j] | 0x20) - 'a' + 10);
                j++, k++;
            }
            if (k) {
                ch = cp < 128 ? (unsigned char)cp : '?';
                i = j - 1;
            } else {
                ch = (unsigned char)v[++i];
            }
        }
        if (ch <= 0x20 || ch == 0x7f)
            continue;
        cd_buf_putc(out, (char)tolower(ch));
    }
}

/* A style attribute that can run script: expression() (old IE), a script
 * URL in url() or anywhere else, behaviours and XBL bindings. */
static bool style_safe(const char *v, size_t n)
{
    static const char *const bad[] = {"expression(", "javascript:", "vbscript:",    "livescript:",
                                      "mocha:",      "behavior:",   "-moz-binding", "@import"};
    cd_buf t = CD_BUF_INIT;
    style_text(v, n, &t);
    bool safe = true;
    for (size_t i = 0; safe && i < sizeof bad / sizeof bad[0]; i++)
        safe = !t.len || !memmem(t.data, t.len, bad[i], strlen(bad[i]));
    cd_buf_free(&t);
    return safe;
}

static bool is_url_prop(const char *p)
{
    static const char *const names[] = {
        "href",       "src",  "action",   "formAction", "poster", "background", "cite",
        "longDesc",   "data", "codeBase", "dynsrc",     "lowsrc", "manifest",   "xlinkHref",
        "xlink:href", "ping", "srcSet",   "icon",       NULL};
    return in_list(names, p);
}

/* Decodes a bound prop's JSON string value ("\"javascript:…\"") for the check. */
static bool bound_url_safe(const char *v, size_t n, bool img)
{
    if (!md_url_safe(v, n, img))
        return false;
    if (n >= 2 && (v[0] == '"' || v[0] == '\''))
        return md_url_safe(v + 1, n - 2, img);
    return true;
}

static void sanitize_props(hnode *el)
{
    bool img = !strcmp(el->tag, "img") || !strcmp(el->tag, "source");
    hprop *p = el->props;
    while (p) {
        hprop *next = p->next;
        const char *name = p->name[0] == ':' ? p->name + 1 : p->name;
        bool bad = (name[0] | 0x20) == 'o' && (name[1] | 0x20) == 'n';
        bad = bad || !strcasecmp(name, "srcdoc") || !strcasecmp(name, "formaction") ||
              !strcasecmp(name, MD_REF_ATTR);
        if (!bad && !strcasecmp(name, "style"))
            bad = !style_safe(p->val, p->len);
        if (!bad && is_url_prop(name)) {
            if (p->kind == PV_STR)
                bad = p->name[0] == ':' ? !bound_url_safe(p->val, p->len, img)
                                        : !md_url_safe(p->val, p->len, img);
            else
                bad = !bound_url_safe(p->val, p->len, img);
        }
        if (bad)
            h_prop_del(el, p->name);
        p = next;
    }
}

void md_sanitize(md_ctx *c, hnode *root)
{
    hnode *cur = root->first;
    while (cur) {
        if (cur->type == H_ELEM && is_dropped(cur->tag)) {
            hnode *next = h_walk_next(root, cur, false);
            h_remove(cur);
            cur = next;
            continue;
        }
        if (cur->type == H_ELEM)
            sanitize_props(cur);
        cur = h_walk_next(root, cur, true);
    }
}
