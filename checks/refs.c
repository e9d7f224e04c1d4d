/* SPDX-License-Identifier: MIT */
/*
 * References to files of the item, as an author writes them: relative to
 * the document (`img/a.png`, `../intro.md#setup`, `./02-lesson`),
 * percent-encoded or not.  URLs with a scheme, site-absolute paths and
 * paths that climb out of the item point at things this item cannot
 * vouch for, and are left alone.
 */
#include "checks_int.h"

#include <string.h>
#include <strings.h>

long chk_find_file(const chk_ctx *c, const char *path)
{
    size_t lo = 0, hi = c->item->nfiles;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int d = strcmp(c->item->files[c->order[mid]].path, path);
        if (d == 0)
            return (long)c->order[mid];
        if (d < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

bool chk_is_markdown(const char *path)
{
    size_t n = strlen(path);
    return n > 3 && !strcmp(path + n - 3, ".md");
}

/* "scheme:" (RFC 3986: a letter, then letters, digits, '+', '-', '.'). */
static bool has_scheme(const char *s)
{
    if (!((*s | 0x20) >= 'a' && (*s | 0x20) <= 'z'))
        return false;
    for (s++; *s; s++) {
        if (*s == ':')
            return true;
        if (!((*s | 0x20) >= 'a' && (*s | 0x20) <= 'z') && !(*s >= '0' && *s <= '9') && *s != '+' &&
            *s != '-' && *s != '.')
            return false;
    }
    return false;
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    ch = (char)(ch | 0x20);
    return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* Appends s[0..n) to out with %XX sequences decoded. */
static void percent_decode(cd_buf *out, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int hi, lo;
        if (s[i] == '%' && i + 2 < n && (hi = hexval(s[i + 1])) >= 0 &&
            (lo = hexval(s[i + 2])) >= 0) {
            cd_buf_putc(out, (char)(hi * 16 + lo));
            i += 2;
        } else {
            cd_buf_putc(out, s[i]);
        }
    }
    cd_buf_puts(out, "");
}

/* Applies segment seg[0..n) to the path in out; false when ".." climbs
 * above the root. */
static bool push_segment(cd_buf *out, const char *seg, size_t n)
{
    if (n == 0 || (n == 1 && seg[0] == '.'))
        return true;
    if (n == 2 && seg[0] == '.' && seg[1] == '.') {
        if (out->len == 0)
            return false;
        char *slash = memrchr(out->data, '/', out->len);
        out->len = slash ? (size_t)(slash - out->data) : 0;
        out->data[out->len] = '\0';
        return true;
    }
    if (out->len)
        cd_buf_putc(out, '/');
    cd_buf_append(out, seg, n);
    return true;
}

enum chk_ref chk_resolve(const char *doc_path, const char *ref, cd_buf *path, cd_buf *frag)
{
    cd_buf_reset(path);
    cd_buf_reset(frag);
    cd_buf_puts(path, "");
    cd_buf_puts(frag, "");
    if (!*ref || ref[0] == '/' || ref[0] == '\\' || has_scheme(ref))
        return CHK_REF_NONE;
    size_t plen = strcspn(ref, "?#");
    const char *hash = strchr(ref, '#');
    if (hash)
        percent_decode(frag, hash + 1, strlen(hash + 1));
    cd_buf dec = CD_BUF_INIT;
    percent_decode(&dec, ref, plen);
    /* the document's folder, then each segment of the reference */
    const char *slash = strrchr(doc_path, '/');
    if (plen > 0 && slash)
        cd_buf_append(path, doc_path, (size_t)(slash - doc_path));
    else if (plen == 0)
        cd_buf_puts(path, doc_path); /* "#id": this document */
    bool inside = true;
    for (const char *s = dec.data; inside && s && *s;) {
        size_t n = strcspn(s, "/");
        inside = push_segment(path, s, n);
        s += n + (s[n] == '/');
    }
    bool dir = plen > 0 && (dec.data[dec.len - 1] == '/' || !strcmp(dec.data, ".") ||
                            (dec.len >= 2 && !strcmp(dec.data + dec.len - 2, "/.")));
    if (inside && dir && path->len)
        cd_buf_putc(path, '/'); /* a folder: its index.md */
    cd_buf_free(&dec);
    return inside ? CHK_REF_LOCAL : CHK_REF_OUTSIDE;
}

/* The extension of the last segment of path ("" when none). */
static const char *extension(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    return dot && dot != base ? dot + 1 : "";
}

long chk_link_target(const chk_ctx *c, const char *path)
{
    size_t n = strlen(path);
    if (n == 0 || path[n - 1] == '/') {
        cd_buf b = CD_BUF_INIT;
        cd_buf_printf(&b, "%sindex.md", path);
        long i = chk_find_file(c, b.data);
        cd_buf_free(&b);
        return i;
    }
    long i = chk_find_file(c, path);
    if (i >= 0 || *extension(path))
        return i;
    cd_buf b = CD_BUF_INIT;
    cd_buf_printf(&b, "%s.md", path);
    i = chk_find_file(c, b.data);
    if (i < 0) {
        cd_buf_reset(&b);
        cd_buf_printf(&b, "%s/index.md", path);
        i = chk_find_file(c, b.data);
    }
    cd_buf_free(&b);
    return i;
}

/* The extensions of files a page shows or offers: documents, images,
 * media, PDFs.  Scripts and configuration files (`.sh`, `.yaml`) are left
 * out on purpose: a challenge's front matter names those on the
 * playground machine, not in the item. */
static const char *const file_exts[] = {"md",  "png", "jpg", "jpeg", "gif", "webp", "svg", "avif",
                                        "ico", "bmp", "tif", "tiff", "mp4", "webm", "mov", "ogv",
                                        "mp3", "ogg", "wav", "m4a",  "pdf", NULL};

bool chk_looks_like_file(const char *s)
{
    if (!*s || s[0] == '/' || s[0] == '#' || s[0] == '~' || has_scheme(s) || strlen(s) > 1024)
        return false;
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == '\\' || *p == '"' || *p == '<' || *p == '>')
            return false;
    const char *ext = extension(s);
    for (const char *const *e = file_exts; *e; e++)
        if (!strcasecmp(*e, ext))
            return true;
    return false;
}
