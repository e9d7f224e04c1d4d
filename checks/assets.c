/* SPDX-License-Identifier: MIT */
/*
 * The files themselves: over the size limit, images whose bytes are not
 * the format their extension says (the server sends Content-Type by
 * extension, and a browser shows an SVG or AVIF only when that is right),
 * and assets that no document refers to.
 *
 * An asset counts as used when a link, image, component prop or front
 * matter value refers to it, or when its full path appears anywhere in a
 * document's source (a script a task runs, a path in a code block).
 * Files whose name starts with '.' are not assets.
 */
#include "checks_int.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SNIFF_BYTES 4096

typedef enum img {
    IMG_NONE,
    IMG_PNG,
    IMG_JPEG,
    IMG_GIF,
    IMG_WEBP,
    IMG_SVG,
    IMG_AVIF,
    IMG_HEIF,
    IMG_ICO,
    IMG_BMP
} img;

static const char *const img_names[] = {"",    "PNG",  "JPEG", "GIF", "WebP",
                                        "SVG", "AVIF", "HEIF", "ICO", "BMP"};
static const char *const img_ext[] = {"",    "png",  "jpg",  "gif", "webp",
                                      "svg", "avif", "heic", "ico", "bmp"};

/* What the extension of path promises, IMG_NONE for a file that is not an image. */
static img expected(const char *path)
{
    const char *dot = strrchr(path, '.');
    if (!dot || strchr(dot, '/'))
        return IMG_NONE;
    static const struct {
        const char *ext;
        img type;
    } map[] = {{"png", IMG_PNG},   {"jpg", IMG_JPEG}, {"jpeg", IMG_JPEG}, {"gif", IMG_GIF},
               {"webp", IMG_WEBP}, {"svg", IMG_SVG},  {"avif", IMG_AVIF}, {"heic", IMG_HEIF},
               {"heif", IMG_HEIF}, {"ico", IMG_ICO},  {"bmp", IMG_BMP}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (!strcasecmp(dot + 1, map[i].ext))
            return map[i].type;
    return IMG_NONE;
}

/* An ISO-BMFF "ftyp" box: AVIF when its major or a compatible brand is. */
static img sniff_ftyp(const unsigned char *p, size_t n)
{
    size_t box = (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3];
    if (box > n)
        box = n;
    for (size_t off = 8; off + 4 <= box; off += 4)
        if (off != 12 && (!memcmp(p + off, "avif", 4) || !memcmp(p + off, "avis", 4)))
            return IMG_AVIF;
    static const char *const heif[] = {"heic", "heix", "heim", "heis", "mif1", "msf1"};
    for (size_t i = 0; i < sizeof heif / sizeof heif[0]; i++)
        if (!memcmp(p + 8, heif[i], 4))
            return IMG_HEIF;
    return IMG_NONE;
}

/* An SVG document: optional BOM and white space, markup, an <svg element. */
static img sniff_svg(const unsigned char *p, size_t n)
{
    size_t i = n >= 3 && !memcmp(p, "\xef\xbb\xbf", 3) ? 3 : 0;
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
        i++;
    if (i < n && p[i] == '<' && memmem(p + i, n - i, "<svg", 4))
        return IMG_SVG;
    return IMG_NONE;
}

static img sniff(const unsigned char *p, size_t n)
{
    if (n >= 8 && !memcmp(p, "\x89PNG\r\n\x1a\n", 8))
        return IMG_PNG;
    if (n >= 3 && !memcmp(p, "\xff\xd8\xff", 3))
        return IMG_JPEG;
    if (n >= 6 && (!memcmp(p, "GIF87a", 6) || !memcmp(p, "GIF89a", 6)))
        return IMG_GIF;
    if (n >= 12 && !memcmp(p, "RIFF", 4) && !memcmp(p + 8, "WEBP", 4))
        return IMG_WEBP;
    if (n >= 12 && !memcmp(p + 4, "ftyp", 4))
        return sniff_ftyp(p, n);
    if (n >= 4 && !memcmp(p, "\0\0\1\0", 4))
        return IMG_ICO;
    if (n >= 2 && !memcmp(p, "BM", 2))
        return IMG_BMP;
    return sniff_svg(p, n);
}

bool chk_file_has_facts(const char *path)
{
    return chk_is_markdown(path) || expected(path) != IMG_NONE;
}

int chk_image_facts(const chk_ctx *c, size_t index, chk_facts *f, bool *is_image, cd_err *err)
{
    const char *path = c->item->files[index].path;
    img want = expected(path);
    *is_image = want != IMG_NONE;
    if (!*is_image)
        return 0;
    char *data = NULL;
    size_t len = 0;
    if (c->item->read(c->item->read_arg, index, SNIFF_BYTES, &data, &len, err) != 0)
        return -1;
    img got = sniff((const unsigned char *)data, len);
    free(data);
    if (got == want)
        return 0;
    if (len == 0)
        chk_add(f->local, path, 0, CHK_ERROR, "image-invalid",
                "this image is empty: it shows as a broken image");
    else if (got == IMG_NONE)
        chk_add(f->local, path, 0, CHK_ERROR, "image-invalid",
                "this is not a %s image (nor any image format checked: PNG, JPEG, GIF, WebP, "
                "SVG, AVIF, ICO, BMP)",
                img_names[want]);
    else
        chk_add(f->local, path, 0, CHK_WARNING, "image-format-mismatch",
                "this file is named .%s but holds a %s image: rename it to .%s",
                strrchr(path, '.') + 1, img_names[got], img_ext[got]);
    return 0;
}

static const char *human(int64_t n, char buf[32])
{
    if (n >= (1 << 20))
        snprintf(buf, 32, "%.1f MiB", (double)n / (1 << 20));
    else if (n >= 1024)
        snprintf(buf, 32, "%.1f KiB", (double)n / 1024);
    else
        snprintf(buf, 32, "%lld bytes", (long long)n);
    return buf;
}

void chk_sizes(chk_ctx *c)
{
    for (size_t k = 0; c->o->max_file_size > 0 && k < c->item->nfiles; k++) {
        const chk_file *f = &c->item->files[c->order[k]];
        if (f->size > c->o->max_file_size) {
            char a[32], b[32];
            chk_add(c->findings, f->path, 0, CHK_WARNING, "file-too-large",
                    "this file is %s, over the limit of %s", human(f->size, a),
                    human(c->o->max_file_size, b));
        }
    }
}

/* A candidate for unused-asset: an asset (not a document, not a dot file)
 * that no reference reached. */
static bool candidate(const chk_ctx *c, size_t i)
{
    const char *path = c->item->files[i].path;
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    return !c->referenced[i] && !chk_is_markdown(path) && *base != '.';
}

/* How many bytes the search for paths named in the sources may examine:
 * an item of thousands of unused assets and large documents must not make
 * it quadratic.  Past it, the remaining candidates are not reported. */
#define MENTION_BUDGET ((size_t)1 << 28)

static pthread_mutex_t mentions_mu = PTHREAD_MUTEX_INITIALIZER;

void chk_mentions_lock(void)
{
    pthread_mutex_lock(&mentions_mu);
}

void chk_mentions_unlock(void)
{
    pthread_mutex_unlock(&mentions_mu);
}

/* Clears cand[] for the paths that f's mentions say its source holds;
 * true when some candidate is not among its mentions (the source must be
 * searched).  f may be NULL: nothing is known. */
static bool mentions_known(const chk_ctx *c, const chk_facts *f, bool *cand)
{
    bool unknown = false;
    chk_mentions_lock();
    for (size_t j = 0; j < c->item->nfiles; j++) {
        if (!cand[j])
            continue;
        json_t *v = f ? json_object_get(f->mentions, c->item->files[j].path) : NULL;
        if (!v)
            unknown = true;
        else if (json_is_true(v))
            cand[j] = false;
    }
    chk_mentions_unlock();
    return unknown;
}

/* Searches the source of document i for each candidate path, clearing
 * cand[] for those it holds, and remembers what it found in the
 * document's mentions (a search given up for the budget is not
 * remembered). */
static void search(chk_ctx *c, size_t i, const char *src, size_t len, bool *cand, size_t *budget)
{
    chk_facts *f = c->facts[i];
    chk_mentions_lock();
    for (size_t j = 0; j < c->item->nfiles; j++) {
        const char *p = c->item->files[j].path;
        if (!cand[j])
            continue;
        json_t *v = f ? json_object_get(f->mentions, p) : NULL;
        bool found;
        if (v) {
            found = json_is_true(v);
        } else if (*budget < len) {
            cand[j] = false; /* given up on: not reported */
            continue;
        } else {
            *budget -= len;
            found = memmem(src, len, p, strlen(p)) != NULL;
            if (f && json_object_size(f->mentions) < CHK_MENTIONS_MAX)
                json_object_set_new(f->mentions, p, json_boolean(found));
        }
        if (found)
            cand[j] = false;
    }
    chk_mentions_unlock();
}

/* Clears candidate[] for every path some document's source names; with
 * the budget spent, every one.  A document is read only when its facts do
 * not already say whether it names every remaining candidate. */
static int mentioned(chk_ctx *c, bool *cand, cd_err *err)
{
    size_t budget = MENTION_BUDGET;
    for (size_t i = 0; i < c->item->nfiles; i++) {
        if (!chk_is_markdown(c->item->files[i].path) || !mentions_known(c, c->facts[i], cand))
            continue;
        char *src = NULL;
        size_t len = 0;
        if (c->item->read(c->item->read_arg, i, SIZE_MAX, &src, &len, err) != 0)
            return -1;
        search(c, i, src, len, cand, &budget);
        free(src);
    }
    return 0;
}

int chk_unused(chk_ctx *c, cd_err *err)
{
    size_t n = c->item->nfiles, any = 0;
    bool *cand = cd_xcalloc(n ? n : 1, sizeof *cand);
    for (size_t i = 0; i < n; i++)
        any += cand[i] = candidate(c, i);
    int rc = any ? mentioned(c, cand, err) : 0; /* documents are read only for a candidate */
    for (size_t k = 0; rc == 0 && k < n; k++)
        if (cand[c->order[k]])
            chk_add(c->findings, c->item->files[c->order[k]].path, 0, CHK_WARNING, "unused-asset",
                    "no document refers to this file: link it, or leave it out of the item");
    free(cand);
    return rc;
}
