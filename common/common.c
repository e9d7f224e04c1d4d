/* SPDX-License-Identifier: MIT */
/* Allocation wrappers, the growable buffer, JSON escaping, UTF-8 repair and
 * hex encoding. */
#include "common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void oom(size_t n)
{
    fprintf(stderr, "contentd: out of memory allocating %zu bytes\n", n);
    abort();
}

void *cd_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom(n);
    return p;
}

void *cd_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        oom(n * size);
    return p;
}

void *cd_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom(n);
    return q;
}

char *cd_xstrdup(const char *s)
{
    return cd_xstrndup(s, strlen(s));
}

char *cd_xstrndup(const char *s, size_t n)
{
    char *p = cd_xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

void cd_buf_grow(cd_buf *b, size_t extra)
{
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    b->data = cd_xrealloc(b->data, cap);
    b->cap = cap;
}

void cd_buf_append(cd_buf *b, const void *p, size_t n)
{
    cd_buf_grow(b, n);
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void cd_buf_puts(cd_buf *b, const char *s)
{
    cd_buf_append(b, s, strlen(s));
}

void cd_buf_putc(cd_buf *b, char c)
{
    cd_buf_grow(b, 1);
    b->data[b->len++] = c;
    b->data[b->len] = '\0';
}

void cd_buf_vprintf(cd_buf *b, const char *fmt, va_list ap)
{
    va_list cp;
    va_copy(cp, ap);
    int n = vsnprintf(NULL, 0, fmt, cp);
    va_end(cp);
    if (n < 0)
        return;
    cd_buf_grow(b, (size_t)n);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
}

void cd_buf_printf(cd_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cd_buf_vprintf(b, fmt, ap);
    va_end(ap);
}

void cd_buf_reset(cd_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void cd_buf_free(cd_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

char *cd_buf_steal(cd_buf *b, size_t *len)
{
    if (!b->data)
        cd_buf_grow(b, 0), b->data[0] = '\0';
    char *p = b->data;
    if (len)
        *len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}

int cd_buf_read(cd_buf *b, FILE *f, size_t max)
{
    char chunk[65536];
    size_t n;
    while ((!max || b->len <= max) && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
        cd_buf_append(b, chunk, n);
    if (ferror(f))
        return -1;
    return max && b->len > max ? 1 : 0;
}

void cd_hex(const unsigned char *d, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[d[i] >> 4];
        out[2 * i + 1] = hex[d[i] & 15];
    }
    out[2 * n] = '\0';
}

void cd_json_str(cd_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    cd_buf_grow(b, n + 2);
    cd_buf_putc(b, '"');
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        cd_buf_append(b, s + run, i - run);
        run = i + 1;
        switch (c) {
        case '"':
            cd_buf_append(b, "\\\"", 2);
            break;
        case '\\':
            cd_buf_append(b, "\\\\", 2);
            break;
        case '\n':
            cd_buf_append(b, "\\n", 2);
            break;
        case '\r':
            cd_buf_append(b, "\\r", 2);
            break;
        case '\t':
            cd_buf_append(b, "\\t", 2);
            break;
        default: {
            char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            cd_buf_append(b, e, 6);
        }
        }
    }
    cd_buf_append(b, s + run, n - run);
    cd_buf_putc(b, '"');
}

size_t cd_utf8_valid_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t len;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2, cp = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF)
        len = 3, cp = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4)
        len = 4, cp = c & 0x07;
    else
        return 0;
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
        return 0;
    return len;
}

bool cd_utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        if (p[i] == 0)
            return false;
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        size_t l = cd_utf8_valid_len(p + i, n - i);
        if (!l)
            return false;
        i += l;
    }
    return true;
}

void cd_utf8_repair(cd_buf *b, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t run = 0, i = 0;
    cd_buf_grow(b, n);
    while (i < n) {
        if (p[i] >= 0x01 && p[i] < 0x80) {
            i++;
            continue;
        }
        size_t l = p[i] ? cd_utf8_valid_len(p + i, n - i) : 0;
        if (l) {
            i += l;
            continue;
        }
        cd_buf_append(b, s + run, i - run);
        cd_buf_append(b, "\xEF\xBF\xBD", 3);
        i++;
        run = i;
    }
    cd_buf_append(b, s + run, n - run);
}

int cd_err_set(cd_err *e, int code, const char *fmt, ...)
{
    if (e) {
        va_list ap;
        va_start(ap, fmt);
        e->code = code;
        vsnprintf(e->msg, sizeof e->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* A decimal int64 with nothing around it. */
bool cd_parse_i64(const char *s, int64_t *out)
{
    if (!s || !*s || (*s != '-' && (*s < '0' || *s > '9')))
        return false;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

void cd_run_workers(unsigned n, void *(*fn)(void *), void *arg)
{
    pthread_t th[CD_WORKERS_MAX];
    unsigned started = 0;
    if (n > CD_WORKERS_MAX)
        n = CD_WORKERS_MAX;
    for (unsigned i = 1; i < n; i++) /* this thread is the first worker */
        if (pthread_create(&th[started], NULL, fn, arg) == 0)
            started++;
    fn(arg);
    for (unsigned i = 0; i < started; i++)
        pthread_join(th[i], NULL);
}
