/* SPDX-License-Identifier: MIT */
/*
 * GFM footnotes in hast, as mdast-util-to-hast writes them: a reference is
 * sup > a with the ids and ARIA props GitHub uses, the definitions gather
 * in one section after the body (made on the first one), each li ending in
 * one back-reference per reference to it.  The labels, reference counts and
 * definitions come from cmark-gfm's private state (cmark_private.c).
 */
#include "convert_int.h"
#include "md_int.h"

#include <string.h>

static void footnote_id(cmark_node *def, cd_buf *out)
{
    size_t n = 0;
    const char *label = def ? md_cmark_footnote_label(def, &n) : "";
    cd_buf norm = CD_BUF_INIT;
    bool space = false;
    for (size_t i = 0; i < n; i++) {
        char ch = label[i];
        if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r') {
            space = norm.len > 0;
            continue;
        }
        if (space)
            cd_buf_putc(&norm, ' ');
        space = false;
        cd_buf_putc(&norm, (ch >= 'A' && ch <= 'Z') ? (char)(ch + 32) : ch);
    }
    md_conv_normalize_uri(norm.data ? norm.data : "", norm.len, out);
    cd_buf_free(&norm);
}

static int footnote_number(cmark_node *def)
{
    int k = 0;
    for (cmark_node *n = def; n; n = cmark_node_previous(n))
        k += cmark_node_get_type(n) == CMARK_NODE_FOOTNOTE_DEFINITION;
    return k;
}

hnode *md_conv_footnote_ref(struct conv *cv, cmark_node *node)
{
    md_arena *a = cv->a;
    cmark_node *def = md_cmark_footnote_def(node);
    cd_buf id = CD_BUF_INIT, tmp = CD_BUF_INIT;
    footnote_id(def, &id);
    hnode *sup = h_elem(a, "sup");
    hnode *link = h_elem(a, "a");
    cd_buf_printf(&tmp, "#user-content-fn-%s", id.data ? id.data : "");
    h_prop_str(a, link, "href", tmp.data, tmp.len);
    h_prop_json(a, link, "ariaDescribedBy", "[\"footnote-label\"]");
    h_prop_str(a, link, "dataFootnoteRef", "", 0);
    cd_buf_reset(&tmp);
    cd_buf_printf(&tmp, "user-content-fnref-%s", id.data ? id.data : "");
    int ref_ix = md_cmark_footnote_ref_ix(node);
    if (ref_ix > 1)
        cd_buf_printf(&tmp, "-%d", ref_ix);
    h_prop_str(a, link, "id", tmp.data, tmp.len);
    cd_buf_reset(&tmp);
    cd_buf_printf(&tmp, "%d", footnote_number(def));
    h_append(link, h_text(a, tmp.data, tmp.len));
    h_append(sup, link);
    cd_buf_free(&id);
    cd_buf_free(&tmp);
    return sup;
}

hnode *md_conv_footnote_list(struct conv *cv)
{
    if (cv->footnotes)
        return cv->footnotes;
    md_arena *a = cv->a;
    hnode *sec = h_elem(a, "section");
    h_prop_json(a, sec, "className", "[\"footnotes\"]");
    h_prop_str(a, sec, "dataFootnotes", "", 0);
    hnode *h2 = h_elem(a, "h2");
    h_prop_json(a, h2, "className", "[\"sr-only\"]");
    h_prop_str(a, h2, "id", "footnote-label", 14);
    h_append(h2, h_text(a, "Footnotes", 9));
    h_append(sec, h2);
    cv->footnotes = h_elem(a, "ol");
    h_append(sec, cv->footnotes);
    h_append(cv->root, sec);
    return cv->footnotes;
}

void md_conv_footnote_backrefs(struct conv *cv, cmark_node *def, hnode *li)
{
    md_arena *a = cv->a;
    cd_buf id = CD_BUF_INIT, tmp = CD_BUF_INIT;
    footnote_id(def, &id);
    int num = footnote_number(def);
    /* into the last paragraph (flattened into the li) after a space, else
     * after the other children */
    hnode *target = li;
    cmark_node *last = cmark_node_last_child(def);
    if (last && cmark_node_get_type(last) == CMARK_NODE_PARAGRAPH)
        h_append_text(a, target, " ", 1);
    for (int k = 1; k <= md_cmark_footnote_def_count(def); k++) {
        if (k > 1)
            h_append_text(a, target, " ", 1);
        hnode *link = h_elem(a, "a");
        cd_buf_reset(&tmp);
        cd_buf_printf(&tmp, "#user-content-fnref-%s", id.data ? id.data : "");
        if (k > 1)
            cd_buf_printf(&tmp, "-%d", k);
        h_prop_str(a, link, "href", tmp.data, tmp.len);
        cd_buf_reset(&tmp);
        cd_buf_printf(&tmp, "Back to reference %d", num);
        if (k > 1)
            cd_buf_printf(&tmp, "-%d", k);
        h_prop_str(a, link, "ariaLabel", tmp.data, tmp.len);
        h_prop_json(a, link, "className", "[\"data-footnote-backref\"]");
        h_prop_str(a, link, "dataFootnoteBackref", "", 0);
        h_append(link, h_text(a, "\xE2\x86\xA9", 3));
        if (k > 1) {
            hnode *sup = h_elem(a, "sup");
            cd_buf_reset(&tmp);
            cd_buf_printf(&tmp, "%d", k);
            h_append(sup, h_text(a, tmp.data, tmp.len));
            h_append(link, sup);
        }
        h_append(target, link);
    }
    cd_buf_free(&id);
    cd_buf_free(&tmp);
}

hnode *md_conv_footnote_item(struct conv *cv, cmark_node *def)
{
    hnode *li = h_elem(cv->a, "li");
    cd_buf id = CD_BUF_INIT;
    cd_buf_puts(&id, "user-content-fn-");
    footnote_id(def, &id);
    h_prop_str(cv->a, li, "id", id.data, id.len);
    cd_buf_free(&id);
    return li;
}
