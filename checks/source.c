/* SPDX-License-Identifier: MIT */
/*
 * The source text of a document: its lines (the AST carries no positions,
 * so a finding's line is found by searching the source for what the AST
 * names), its front matter block, and the two mistakes only the source
 * shows: an MDC block component (`::name`) that is never closed and a
 * code fence left open to the end of the file.  Both swallow the rest of
 * the document, in MDC and in our renderer alike.
 *
 * The scan follows the renderer's rules: a component opens on a line of
 * two or more colons and a name, and closes on a line of exactly as many
 * colons (the innermost open one with that count closes, with everything
 * open inside it); inside a fence, nothing opens or closes but the fence.
 */
#include "checks_int.h"

#include <string.h>

void chk_source_index(chk_doc *d)
{
    size_t cap = 64;
    d->line_start = cd_xmalloc(cap * sizeof *d->line_start);
    d->nlines = 0;
    d->line_start[d->nlines++] = 0;
    for (size_t i = 0; i < d->len; i++) {
        if (d->src[i] != '\n' || i + 1 == d->len)
            continue;
        if (d->nlines == cap) {
            cap *= 2;
            d->line_start = cd_xrealloc(d->line_start, cap * sizeof *d->line_start);
        }
        d->line_start[d->nlines++] = i + 1;
    }
    /* remark-mdc's rule (markdown/render.c): "---" at the very start, up to
     * the first "\n---" */
    d->fm_first = d->fm_last = 0;
    if (d->len >= 3 && !memcmp(d->src, "---", 3)) {
        const char *end = NULL;
        for (size_t i = 3; i + 4 <= d->len && !end; i++)
            if (d->src[i] == '\n' && !memcmp(d->src + i + 1, "---", 3))
                end = d->src + i + 1;
        if (end && end - d->src > 5) {
            d->fm_first = 1;
            d->fm_last = chk_line_of(d, (size_t)(end - d->src));
        }
    }
}

size_t chk_line_of(const chk_doc *d, size_t off)
{
    size_t lo = 0, hi = d->nlines;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (d->line_start[mid] <= off)
            lo = mid;
        else
            hi = mid;
    }
    return lo + 1;
}

bool chk_source_spend(chk_doc *d, size_t n)
{
    if (d->budget < n) {
        d->budget = 0;
        return false;
    }
    d->budget -= n;
    return true;
}

size_t chk_source_find(chk_doc *d, const char *needle)
{
    size_t n = strlen(needle);
    if (n == 0 || n > d->len || d->budget == 0)
        return 0;
    size_t from = d->cursor <= d->len ? d->cursor : 0;
    const char *hit = memmem(d->src + from, d->len - from, needle, n);
    size_t cost = hit ? (size_t)(hit - d->src) - from : d->len - from;
    if (!hit) { /* wrap around: what lies before the cursor */
        size_t before = from + n - 1 < d->len ? from + n - 1 : d->len;
        hit = memmem(d->src, before, needle, n);
        cost += hit ? (size_t)(hit - d->src) : before;
    }
    if (!chk_source_spend(d, cost + n) || !hit)
        return 0;
    d->cursor = (size_t)(hit - d->src) + 1;
    return chk_line_of(d, (size_t)(hit - d->src));
}

static bool word_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '-' || ch == '_';
}

size_t chk_source_word(chk_doc *d, size_t from, size_t to, const char *word)
{
    size_t n = strlen(word);
    if (from < 1 || n == 0)
        return 0;
    for (size_t line = from; line <= to && line <= d->nlines; line++) {
        size_t start = d->line_start[line - 1];
        size_t end = line < d->nlines ? d->line_start[line] : d->len;
        if (!chk_source_spend(d, end - start + 1))
            return 0;
        for (const char *p = d->src + start;
             (p = memmem(p, (size_t)(d->src + end - p), word, n)) != NULL; p++) {
            bool left = p == d->src + start || !word_char(p[-1]);
            bool right = p + n >= d->src + end || !word_char(p[n]);
            if (left && right)
                return line;
        }
    }
    return 0;
}

/* ---- open fences and components ------------------------------------------ */

#define MAX_OPEN 64 /* the renderer's component depth cap */

typedef struct open_comp {
    int colons;
    size_t line;
    char name[CD_NAME_MAX];
} open_comp;

typedef struct scan {
    char fence_ch;
    size_t fence_len, fence_line;
    open_comp open[MAX_OPEN];
    size_t nopen;
} scan;

static size_t run_of(const char *s, const char *end, char ch)
{
    size_t n = 0;
    while (s + n < end && s[n] == ch)
        n++;
    return n;
}

static bool blank(const char *s, const char *end)
{
    for (; s < end; s++)
        if (*s != ' ' && *s != '\t' && *s != '\r')
            return false;
    return true;
}

/* A fence line opens (or, inside one, closes) a fenced code block. */
static bool fence_line(scan *st, const char *s, const char *end, size_t line)
{
    char ch = *s;
    if (ch != '`' && ch != '~')
        return false;
    size_t n = run_of(s, end, ch);
    if (n < 3)
        return false;
    if (st->fence_ch) {
        if (ch == st->fence_ch && n >= st->fence_len && blank(s + n, end))
            st->fence_ch = 0;
        return true;
    }
    if (ch == '`' && memchr(s + n, '`', (size_t)(end - s - (long)n)))
        return false; /* a backtick fence's info string holds no backtick */
    st->fence_ch = ch;
    st->fence_len = n;
    st->fence_line = line;
    return true;
}

static bool name_char(char ch)
{
    return word_char(ch);
}

/* A line of colons: opens a component (`::name{...}`) or closes one. */
static void colon_line(scan *st, const char *s, const char *end, size_t line)
{
    size_t n = run_of(s, end, ':');
    if (n < 2)
        return;
    const char *p = s + n;
    if (blank(p, end)) {
        for (size_t i = st->nopen; i-- > 0;)
            if (st->open[i].colons == (int)n) {
                st->nopen = i; /* closes it and everything open inside it */
                return;
            }
        return;
    }
    if (!((*p | 0x20) >= 'a' && (*p | 0x20) <= 'z') || st->nopen == MAX_OPEN)
        return;
    const char *name = p;
    while (p < end && name_char(*p))
        p++;
    size_t len = (size_t)(p - name);
    if (p < end && *p == '{') {
        const char *close = memchr(p, '}', (size_t)(end - p));
        if (!close)
            return;
        p = close + 1;
    }
    if (!blank(p, end))
        return;
    open_comp *o = &st->open[st->nopen++];
    o->colons = (int)n;
    o->line = line;
    if (len >= sizeof o->name)
        len = sizeof o->name - 1;
    memcpy(o->name, name, len);
    o->name[len] = '\0';
}

void chk_source_scan(chk_doc *d)
{
    scan st = {0};
    for (size_t line = d->fm_last + 1; line <= d->nlines; line++) {
        const char *s = d->src + d->line_start[line - 1];
        const char *end = line < d->nlines ? d->src + d->line_start[line] : d->src + d->len;
        if (end > s && end[-1] == '\n')
            end--;
        while (s < end && (*s == ' ' || *s == '\t' || *s == '>'))
            s++; /* indented (lists) and quoted lines alike */
        if (s == end || fence_line(&st, s, end, line) || st.fence_ch)
            continue;
        if (*s == ':')
            colon_line(&st, s, end, line);
    }
    if (st.fence_ch)
        chk_add(d->f->local, d->path, st.fence_line, CHK_WARNING, "unclosed-fence",
                "this code fence is never closed: the rest of the file is shown as code "
                "(close it with a line of %zu '%c')",
                st.fence_len, st.fence_ch);
    for (size_t i = 0; i < st.nopen; i++)
        chk_add(d->f->local, d->path, st.open[i].line, CHK_WARNING, "unclosed-component",
                "component '%s' is never closed: it takes in the rest of the file (close it "
                "with a line of %d colons)",
                st.open[i].name, st.open[i].colons);
}
