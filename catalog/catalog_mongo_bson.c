/* SPDX-License-Identifier: MIT */
/*
 * The MongoDB catalog's plumbing: mapping driver errors to catalog
 * statuses, the client pool, keys, and converting between documents and
 * the catalog's structs, so that the operations stay short.
 */
#include "catalog_mongo_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Server error codes that mean "not now" rather than "never": the node is
 * unreachable, stepping down, shutting down or not primary, or the write
 * concern timed out. */
static const int32_t transient_codes[] = {
    6,     /* HostUnreachable */
    7,     /* HostNotFound */
    64,    /* WriteConcernFailed (wtimeout) */
    89,    /* NetworkTimeout */
    91,    /* ShutdownInProgress */
    189,   /* PrimarySteppedDown */
    262,   /* ExceededTimeLimit */
    9001,  /* SocketException */
    10107, /* NotWritablePrimary */
    11600, /* InterruptedAtShutdown */
    11602, /* InterruptedDueToReplStateChange */
    13435, /* NotPrimaryNoSecondaryOk */
    13436, /* NotPrimaryOrSecondary */
};

bool mg_unavailable(const bson_error_t *e)
{
    if (e->domain == MONGOC_ERROR_STREAM || e->domain == MONGOC_ERROR_SERVER_SELECTION)
        return true;
    if (e->domain == MONGOC_ERROR_SERVER || e->domain == MONGOC_ERROR_WRITE_CONCERN)
        for (size_t i = 0; i < sizeof transient_codes / sizeof transient_codes[0]; i++)
            if ((int32_t)e->code == transient_codes[i])
                return true;
    return false;
}

bool mg_duplicate(const bson_error_t *e)
{
    return (e->domain == MONGOC_ERROR_SERVER || e->domain == MONGOC_ERROR_COLLECTION ||
            e->domain == MONGOC_ERROR_COMMAND) &&
           e->code == 11000;
}

int mg_fail(const bson_error_t *e, cd_err *err, const char *what)
{
    return cd_err_set(err, mg_unavailable(e) ? CAT_UNAVAILABLE : CAT_ERROR, "catalog: %s: %s", what,
                      e->message);
}

const char *mg_quote(const char *s, char *buf, size_t n)
{
    size_t j = 0;
    for (size_t i = 0; s && s[i] && j + 3 < n; i++) {
        char ch = s[i];
        if (ch == '"' || ch == '\\') {
            buf[j++] = '\\';
            buf[j++] = ch;
        } else {
            buf[j++] = (unsigned char)ch < 0x20 ? ' ' : ch;
        }
    }
    buf[j] = '\0';
    return buf;
}

void mg_log(const char *level, const char *fmt, ...)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    cd_buf b = CD_BUF_INIT;
    cd_buf_printf(&b, "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s mod=catalog ",
                  tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  ts.tv_nsec / 1000000, level);
    va_list ap;
    va_start(ap, fmt);
    cd_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    cd_buf_putc(&b, '\n');
    /* One write, so that lines of concurrent threads never interleave. */
    ssize_t w = write(STDERR_FILENO, b.data, b.len);
    (void)w;
    cd_buf_free(&b);
}

mongoc_client_t *mg_pop(mg_catalog *c)
{
    return mongoc_client_pool_pop(c->pool);
}

void mg_push(mg_catalog *c, mongoc_client_t *cl)
{
    mongoc_client_pool_push(c->pool, cl);
}

mongoc_collection_t *mg_coll(mg_catalog *c, mongoc_client_t *cl, const char *name)
{
    return mongoc_client_get_collection(cl, c->db, name);
}

void mg_item_key(char out[MG_KEY_MAX], const char *kind, const char *name)
{
    snprintf(out, MG_KEY_MAX, "%s/%s", kind, name);
}

void mg_version_key(char out[MG_KEY_MAX + 24], const char *kind, const char *name, int64_t v)
{
    snprintf(out, MG_KEY_MAX + 24, "%s/%s/%lld", kind, name, (long long)v);
}

bool mg_split_key(const char *key, char kind[CD_KIND_MAX], char name[CD_NAME_MAX])
{
    const char *slash = strchr(key, '/');
    if (!slash || (size_t)(slash - key) >= 16 || strlen(slash + 1) >= 64)
        return false;
    memcpy(kind, key, (size_t)(slash - key));
    kind[slash - key] = '\0';
    strcpy(name, slash + 1);
    return cd_kind_valid(kind) && cd_name_valid(name);
}

int mg_find_one(mg_catalog *c, mongoc_client_t *cl, const char *coll, const bson_t *filter,
                const bson_t *opts, bson_t *out, cd_err *err)
{
    mongoc_collection_t *col = mg_coll(c, cl, coll);
    bson_t limited = BSON_INITIALIZER;
    if (opts)
        bson_copy_to_excluding_noinit(opts, &limited, "limit", "singleBatch", NULL);
    BSON_APPEND_INT64(&limited, "limit", 1);
    BSON_APPEND_BOOL(&limited, "singleBatch", true);
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(col, filter, &limited, NULL);
    const bson_t *doc;
    bson_error_t e;
    int rc = CAT_NOT_FOUND;
    bson_init(out);
    if (mongoc_cursor_next(cur, &doc)) {
        bson_destroy(out);
        bson_copy_to(doc, out);
        rc = CAT_OK;
    } else if (mongoc_cursor_error(cur, &e)) {
        rc = mg_fail(&e, err, "cannot read");
    }
    mongoc_cursor_destroy(cur);
    bson_destroy(&limited);
    mongoc_collection_destroy(col);
    return rc;
}

/* Field access ------------------------------------------------------------ */

static bool find(const bson_t *doc, const char *path, bson_iter_t *it)
{
    bson_iter_t top;
    if (!bson_iter_init(&top, doc))
        return false;
    if (strchr(path, '.')) {
        if (!bson_iter_find_descendant(&top, path, it))
            return false;
    } else {
        if (!bson_iter_find(&top, path))
            return false;
        *it = top;
    }
    return bson_iter_type(it) != BSON_TYPE_NULL;
}

int64_t mg_int64(const bson_t *doc, const char *path, int64_t fallback)
{
    bson_iter_t it;
    if (!find(doc, path, &it))
        return fallback;
    switch (bson_iter_type(&it)) {
    case BSON_TYPE_INT32:
    case BSON_TYPE_INT64:
    case BSON_TYPE_DOUBLE:
    case BSON_TYPE_BOOL:
        return bson_iter_as_int64(&it);
    default:
        return fallback;
    }
}

int64_t mg_date(const bson_t *doc, const char *path, int64_t fallback)
{
    bson_iter_t it;
    if (!find(doc, path, &it))
        return fallback;
    if (BSON_ITER_HOLDS_DATE_TIME(&it))
        return bson_iter_date_time(&it);
    return mg_int64(doc, path, fallback);
}

bool mg_oid(const bson_t *doc, const char *path, bson_oid_t *out)
{
    bson_iter_t it;
    if (!find(doc, path, &it) || !BSON_ITER_HOLDS_OID(&it))
        return false;
    bson_oid_copy(bson_iter_oid(&it), out);
    return true;
}

char *mg_strdup(const bson_t *doc, const char *path)
{
    bson_iter_t it;
    if (!find(doc, path, &it) || !BSON_ITER_HOLDS_UTF8(&it))
        return cd_xstrdup("");
    return cd_xstrdup(bson_iter_utf8(&it, NULL));
}

static void copy_str(const bson_t *doc, const char *path, char *out, size_t n)
{
    char *s = mg_strdup(doc, path);
    snprintf(out, n, "%s", s);
    free(s);
}

void mg_doc_item(const bson_t *doc, catalog_item *out)
{
    memset(out, 0, sizeof *out);
    copy_str(doc, "kind", out->kind, sizeof out->kind);
    copy_str(doc, "name", out->name, sizeof out->name);
    out->owner = mg_strdup(doc, "owner");
    out->title = mg_strdup(doc, "title");
    char *vis = mg_strdup(doc, "visibility");
    out->visibility = strcmp(vis, "public") == 0 ? CAT_PUBLIC : CAT_PRIVATE;
    free(vis);
    out->version = mg_int64(doc, "version", 0);
    out->created_at = mg_date(doc, "created_at", 0);
    out->updated_at = mg_date(doc, "updated_at", out->created_at);
    out->deleted_version = mg_int64(doc, "deleted_version", 0);
    out->published_version = mg_int64(doc, "published_version", 0);
    mg_doc_members(doc, out);
    char *checks = mg_strdup(doc, "checks");
    out->checks = strcmp(checks, "strict") == 0 ? CAT_CHECKS_STRICT : CAT_CHECKS_WARN;
    free(checks);
}

/* File lists ------------------------------------------------------------------ */

void mg_append_files(bson_t *doc, const char *key, const catalog_file **files, size_t n)
{
    bson_t arr, el;
    bson_append_array_begin(doc, key, -1, &arr);
    for (size_t i = 0; i < n; i++) {
        char buf[16];
        const char *k;
        bson_uint32_to_string((uint32_t)i, &k, buf, sizeof buf);
        const catalog_file *f = files[i];
        bson_append_document_begin(&arr, k, -1, &el);
        BSON_APPEND_UTF8(&el, "path", f->path);
        BSON_APPEND_UTF8(&el, "sha256", f->sha256);
        BSON_APPEND_INT64(&el, "size", f->size);
        BSON_APPEND_UTF8(&el, "type",
                         f->content_type ? f->content_type : catalog_content_type(f->path));
        bson_append_document_end(&arr, &el);
    }
    bson_append_array_end(doc, &arr);
}

/* Reads one {path, sha256, size, type} element. */
static bool read_file(bson_iter_t *el, catalog_file *f)
{
    uint32_t len;
    const uint8_t *data;
    bson_t sub;
    if (!BSON_ITER_HOLDS_DOCUMENT(el))
        return false;
    bson_iter_document(el, &len, &data);
    if (!bson_init_static(&sub, data, len))
        return false;
    f->path = mg_strdup(&sub, "path");
    char *sha = mg_strdup(&sub, "sha256");
    snprintf(f->sha256, sizeof f->sha256, "%s", sha);
    free(sha);
    f->size = mg_int64(&sub, "size", -1);
    f->content_type = mg_strdup(&sub, "type");
    if (!*f->content_type) {
        free(f->content_type);
        f->content_type = cd_xstrdup(catalog_content_type(f->path));
    }
    return *f->path && cd_sha_valid(f->sha256) && f->size >= 0;
}

int mg_read_files(const bson_t *doc, const char *key, catalog_file **out, size_t *n, cd_err *err)
{
    *out = NULL;
    *n = 0;
    bson_iter_t it, el;
    if (!bson_iter_init_find(&it, doc, key))
        return CAT_OK;
    if (!BSON_ITER_HOLDS_ARRAY(&it) || !bson_iter_recurse(&it, &el))
        return cd_err_set(err, CAT_ERROR, "catalog: a stored file list is not an array");
    size_t cap = 0;
    while (bson_iter_next(&el)) {
        *out = cd_grow(*out, *n, &cap, 16, sizeof **out);
        catalog_file *f = &(*out)[(*n)++];
        memset(f, 0, sizeof *f);
        if (!read_file(&el, f)) {
            catalog_files_free(*out, *n);
            *out = NULL;
            *n = 0;
            return cd_err_set(err, CAT_ERROR, "catalog: a stored file entry is malformed");
        }
    }
    return CAT_OK;
}

int mg_count_changes(const bson_t *doc, const char *key, const catalog_file **want, size_t n)
{
    catalog_file *have = NULL;
    size_t nh = 0;
    if (mg_read_files(doc, key, &have, &nh, NULL) != CAT_OK)
        return (int)(n ? n : 1); /* unreadable: everything counts as changed */
    int changed = 0;
    size_t i = 0, j = 0;
    while (i < nh || j < n) {
        int cmp = i == nh ? 1 : j == n ? -1 : strcmp(have[i].path, want[j]->path);
        if (cmp == 0 && (strcmp(have[i].sha256, want[j]->sha256) || have[i].size != want[j]->size))
            changed++;
        else if (cmp != 0)
            changed++; /* removed (cmp < 0) or added (cmp > 0) */
        if (cmp <= 0)
            i++;
        if (cmp >= 0)
            j++;
    }
    catalog_files_free(have, nh);
    return changed;
}
