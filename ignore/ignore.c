/* SPDX-License-Identifier: MIT */
/*
 * Ignore rules (ignore.h): what never leaves an author's content folder,
 * shared by `content push` and both watch modes.
 *
 * `.git` is always ignored.  Editors' swap, backup and atomic-save files
 * are ignored by built-in rules that come first, so a `.contentignore` line
 * can re-include them with `!`.  `.contentignore` has gitignore semantics:
 * a pattern without a slash matches a name at any depth; one with a slash
 * (leading or in the middle) is anchored at the folder; a trailing slash
 * matches directories only; `!` negates; the last matching rule wins;
 * `**` matches any number of whole segments (one or more when it ends the
 * pattern).  Within a segment, matching is fnmatch(3), which brings `*`,
 * `?`, `[...]` and backslash escapes.
 *
 * Parent directories are the walker's business: a directory that matches is
 * not entered, so nothing under it can be re-included (as in git).
 * ignore_path() does the same walk for a whole path.
 */
#include "ignore.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct rule {
    char **segs; /* anchored: the pattern's '/'-separated segments */
    size_t nsegs;
    bool negate, dir_only, anchored;
} rule;

struct ignore_rules {
    rule *rules;
    size_t n, cap;
    bool hard_git; /* ".git" ignored whatever the rules say */
};

static const char *const builtin_rules[] = {
    ".*.sw[a-p]", /* vim swap files: .x.swp, .x.swo, ... */
    "*~",         /* backups: vim, emacs, gedit */
    ".#*",        /* emacs lock files */
    "\\#*#",      /* emacs auto-save files */
    "4913",       /* vim's write test */
    "*.tmp",      /* atomic saves' temporary files */
};

ignore_rules *ignore_new(bool builtins)
{
    ignore_rules *ig = cd_xcalloc(1, sizeof *ig);
    ig->hard_git = builtins;
    for (size_t i = 0; builtins && i < sizeof builtin_rules / sizeof builtin_rules[0]; i++)
        ignore_add_line(ig, builtin_rules[i], strlen(builtin_rules[i]));
    return ig;
}

void ignore_free(ignore_rules *ig)
{
    if (!ig)
        return;
    for (size_t i = 0; i < ig->n; i++) {
        for (size_t j = 0; j < ig->rules[i].nsegs; j++)
            free(ig->rules[i].segs[j]);
        free(ig->rules[i].segs);
    }
    free(ig->rules);
    free(ig);
}

/* Length of line[0..n) without trailing spaces that no backslash escapes. */
static size_t trim_trailing_spaces(const char *line, size_t n)
{
    while (n > 0 && line[n - 1] == ' ') {
        size_t bs = 0;
        while (bs < n - 1 && line[n - 2 - bs] == '\\')
            bs++;
        if (bs % 2 == 1)
            break; /* "\ " keeps its space */
        n--;
    }
    return n;
}

/* Splits p[0..n) at '/' into r->segs; consecutive "**" segments collapse
 * into one (same meaning, and no blow-up when matching). */
static void split_segments(rule *r, const char *p, size_t n)
{
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && p[i] != '/')
            continue;
        char *seg = cd_xstrndup(p + start, i - start);
        start = i + 1;
        if (!strcmp(seg, "**") && r->nsegs > 0 && !strcmp(r->segs[r->nsegs - 1], "**")) {
            free(seg);
            continue;
        }
        r->segs = cd_xrealloc(r->segs, (r->nsegs + 1) * sizeof *r->segs);
        r->segs[r->nsegs++] = seg;
    }
}

void ignore_add_line(ignore_rules *ig, const char *line, size_t n)
{
    if (n > 0 && line[n - 1] == '\r')
        n--;
    n = trim_trailing_spaces(line, n);
    if (n == 0 || line[0] == '#')
        return;
    rule r = {0};
    if (line[0] == '!') {
        r.negate = true;
        line++, n--;
    }
    if (n > 0 && line[n - 1] == '/') {
        r.dir_only = true;
        n--;
    }
    r.anchored = memchr(line, '/', n) != NULL;
    if (n > 0 && line[0] == '/')
        line++, n--;
    if (n == 0)
        return;
    split_segments(&r, line, n);
    ig->rules = cd_grow(ig->rules, ig->n, &ig->cap, 16, sizeof *ig->rules);
    ig->rules[ig->n++] = r;
}

ignore_status ignore_load(ignore_rules *ig, const char *file, cd_err *err)
{
    FILE *f = fopen(file, "rb");
    if (!f) {
        if (errno == ENOENT)
            return IGNORE_OK;
        return cd_err_set(err, IGNORE_UNREADABLE, "cannot read %s: %s", file, strerror(errno));
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    bool first = true;
    while ((len = getline(&line, &cap, f)) >= 0) {
        const char *s = line;
        if (first && len >= 3 && !memcmp(s, "\xEF\xBB\xBF", 3))
            s += 3, len -= 3; /* a byte-order mark some editors write */
        first = false;
        if (len > 0 && s[len - 1] == '\n')
            len--;
        ignore_add_line(ig, s, (size_t)len);
    }
    int failed = ferror(f);
    free(line);
    fclose(f);
    if (failed)
        return cd_err_set(err, IGNORE_UNREADABLE, "cannot read %s", file);
    return IGNORE_OK;
}

ignore_status ignore_load_folder(const char *dir, ignore_rules **out, cd_err *err)
{
    *out = ignore_new(true);
    cd_buf file = CD_BUF_INIT;
    cd_buf_printf(&file, "%s/.contentignore", dir);
    ignore_status rc = ignore_load(*out, file.data, err);
    cd_buf_free(&file);
    if (rc == IGNORE_OK)
        return IGNORE_OK;
    ignore_free(*out); /* a half-read file: the built-in rules alone */
    *out = ignore_new(true);
    return rc;
}

/* Whether pattern segments p[i..np) match path segments s[j..ns) entirely.
 * "**" matches zero or more segments, or one or more when it ends the
 * pattern ("dir/" then "**" is what is inside dir, not dir itself).  memo
 * holds one answer per (i, j) — 0 unknown, 1 no, 2 yes — so patterns with
 * several "**" stay polynomial on deep paths. */
typedef struct seg_match {
    char *const *p, *const *s;
    size_t np, ns;
    unsigned char *memo;
} seg_match;

static bool match_from(seg_match *m, size_t i, size_t j)
{
    unsigned char *slot = &m->memo[i * (m->ns + 1) + j];
    if (*slot)
        return *slot == 2;
    bool out;
    if (i == m->np) {
        out = j == m->ns;
    } else if (!strcmp(m->p[i], "**")) {
        out = i + 1 == m->np ? j < m->ns : false;
        for (size_t k = j; !out && i + 1 < m->np && k <= m->ns; k++)
            out = match_from(m, i + 1, k);
    } else {
        out = j < m->ns && fnmatch(m->p[i], m->s[j], FNM_PATHNAME) == 0 &&
              match_from(m, i + 1, j + 1);
    }
    *slot = out ? 2 : 1;
    return out;
}

static bool match_segs(char *const *p, size_t np, char *const *s, size_t ns)
{
    seg_match m = {p, s, np, ns, cd_xcalloc((np + 1) * (ns + 1), 1)};
    bool out = match_from(&m, 0, 0);
    free(m.memo);
    return out;
}

static bool rule_matches(const rule *r, char *const *segs, size_t ns, bool is_dir)
{
    if (r->dir_only && !is_dir)
        return false;
    if (!r->anchored)
        return fnmatch(r->segs[0], segs[ns - 1], FNM_PATHNAME) == 0;
    return match_segs(r->segs, r->nsegs, segs, ns);
}

/* path split at '/' in place: *buf holds the copy, the result the segments.
 * The caller frees both with free(). */
static char **split_path(const char *path, char **buf, size_t *ns)
{
    *buf = cd_xstrdup(path);
    size_t cap = 1;
    for (const char *p = path; *p; p++)
        cap += *p == '/';
    char **segs = cd_xmalloc(cap * sizeof *segs);
    size_t n = 0;
    for (char *tok = *buf, *next; tok; tok = next) {
        next = strchr(tok, '/');
        if (next)
            *next++ = '\0';
        segs[n++] = tok;
    }
    *ns = n;
    return segs;
}

bool ignore_match(const ignore_rules *ig, const char *path, bool is_dir)
{
    char *buf;
    size_t ns;
    char **segs = split_path(path, &buf, &ns);
    bool out = false;
    if (ig->hard_git && !strcmp(segs[ns - 1], ".git")) {
        out = true;
        goto out;
    }
    for (size_t i = ig->n; i-- > 0;) {
        if (rule_matches(&ig->rules[i], segs, ns, is_dir)) {
            out = !ig->rules[i].negate;
            break;
        }
    }
out:
    free(segs);
    free(buf);
    return out;
}

bool ignore_path(const ignore_rules *ig, const char *path, bool is_dir)
{
    char *prefix = cd_xstrdup(path);
    bool out = false;
    for (char *slash = strchr(prefix, '/'); slash && !out; slash = strchr(slash + 1, '/')) {
        *slash = '\0';
        out = ignore_match(ig, prefix, true);
        *slash = '/';
    }
    free(prefix);
    return out || ignore_match(ig, path, is_dir);
}
