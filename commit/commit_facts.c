/* SPDX-License-Identifier: MIT */
/*
 * The checks' facts kept with the versions (docs/checks.md, "Facts kept
 * with the version"): what the checks learnt of each document and image
 * goes into the version's manifest, so that the first commit after a
 * restart (or after the blob store's recent bytes expired) reads from the
 * blob store only the files it changes, not every document of the item.
 *
 * A manifest's "facts" holds the facts of the files that version added or
 * changed, and names in "from" the earlier versions whose manifests hold
 * the facts of the files it kept; every FACTS_CHAIN_MAX versions (and for
 * a version whose base has no stored facts) a manifest holds them all and
 * names none.  So a version's facts are read back with at most
 * FACTS_CHAIN_MAX + 1 manifests (the current one, then the others all at
 * once), once per item and process, into the
 * checks' cache (chk_cache_import()), where they stay like facts the
 * checks made themselves.
 *
 * Facts are keyed by SHA-256 and path and depend on nothing else, so any
 * manifest's facts are right for the files they name, whichever version or
 * replica wrote it; a file whose facts are not found (an old manifest, a
 * manifest over FACTS_BYTES_MAX, another release's stamp) is read and its
 * facts made, as without stored facts.
 */
#include "commit_int.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

/* How many earlier manifests a version's facts may be spread over. */
#define FACTS_CHAIN_MAX 8
/* The facts one manifest holds at most, in bytes of JSON; past it, the
 * remaining files are left out (and read after a restart). */
#define FACTS_BYTES_MAX ((size_t)8 << 20)
/* How many items' chains the process remembers (then it starts over). */
#define FACTS_ITEMS_MAX 4096

void commit_facts_init(commit_path *s)
{
    pthread_mutex_init(&s->facts_mu, NULL);
    s->facts_chains = json_object();
}

void commit_facts_free(commit_path *s)
{
    json_decref(s->facts_chains);
    pthread_mutex_destroy(&s->facts_mu);
}

static void item_key(cd_buf *b, const catalog_item *it)
{
    cd_buf_printf(b, "%s/%s", it->kind, it->name);
}

/* The remembered chain of version v of it: a new reference to its "from"
 * array, json_null() when the manifest has no stored facts, NULL when
 * not known. */
static json_t *chain_get(commit_path *s, const catalog_item *it, int64_t v)
{
    cd_buf k = CD_BUF_INIT;
    item_key(&k, it);
    pthread_mutex_lock(&s->facts_mu);
    json_t *e = json_object_get(s->facts_chains, k.data), *from = NULL;
    if (e && json_integer_value(json_array_get(e, 0)) == v)
        from = json_incref(json_array_get(e, 1));
    pthread_mutex_unlock(&s->facts_mu);
    cd_buf_free(&k);
    return from;
}

/* Remembers from (a reference of which it takes) as version v's chain. */
static void chain_set(commit_path *s, const catalog_item *it, int64_t v, json_t *from)
{
    cd_buf k = CD_BUF_INIT;
    item_key(&k, it);
    pthread_mutex_lock(&s->facts_mu);
    if (json_object_size(s->facts_chains) >= FACTS_ITEMS_MAX)
        json_object_clear(s->facts_chains);
    json_object_set_new(s->facts_chains, k.data, json_pack("[Io]", (json_int_t)v, from));
    pthread_mutex_unlock(&s->facts_mu);
    cd_buf_free(&k);
}

static bool changed(const catalog_file *f, const catalog_file *cur, size_t ncur)
{
    for (size_t i = 0; i < ncur; i++)
        if (!strcmp(cur[i].path, f->path))
            return strcmp(cur[i].sha256, f->sha256) != 0;
    return true;
}

/* True when some file of files that the version kept has no facts in the
 * cache. */
static bool kept_uncached(commit_path *s, const catalog_file *files, size_t n,
                          const catalog_file *cur, size_t ncur)
{
    for (size_t i = 0; i < n; i++)
        if (chk_file_has_facts(files[i].path) && !changed(&files[i], cur, ncur) &&
            !chk_cache_has(s->checks, files[i].sha256, files[i].path))
            return true;
    return false;
}

/* Imports, from version v's manifest, the facts of the files of wanted
 * ("sha path" → path), counting them in *got; returns its "from" (a new
 * reference), json_null() when it has no facts of this release, NULL
 * when it could not be read. */
static json_t *load_one(commit_path *s, const catalog_item *it, int64_t v, const json_t *wanted,
                        size_t *got)
{
    char *key = blobstore_manifest_key(it->kind, it->name, v);
    cd_buf b = CD_BUF_INIT;
    cd_err err = {0};
    blob_status rc = blobstore_get_object(s->bs, key, &b, &err);
    free(key);
    json_t *m = rc == BLOB_OK ? json_loadb(b.data ? b.data : "", b.len, 0, NULL) : NULL;
    cd_buf_free(&b);
    if (!m) {
        cd_log("warn", "commit", "msg=\"stored facts not read\" item=%s/%s version=%lld err=\"%s\"",
               it->kind, it->name, (long long)v, rc == BLOB_OK ? "not JSON" : err.msg);
        return NULL;
    }
    json_t *facts = json_object_get(m, "facts"), *from = json_object_get(facts, "from");
    const char *stamp = json_string_value(json_object_get(facts, "stamp"));
    json_t *docs = json_object_get(facts, "docs");
    if (!stamp || strcmp(stamp, chk_facts_stamp()) || !json_is_array(from) ||
        !json_is_object(docs)) {
        json_decref(m);
        return json_null();
    }
    const char *k;
    json_t *j;
    json_object_foreach(docs, k, j)
    {
        const char *path = json_string_value(json_object_get(wanted, k));
        if (path && strlen(k) > CD_SHA256_HEX - 1 && k[CD_SHA256_HEX - 1] == ' ') {
            char sha[CD_SHA256_HEX];
            memcpy(sha, k, CD_SHA256_HEX - 1);
            sha[CD_SHA256_HEX - 1] = '\0';
            *got += chk_cache_import(s->checks, sha, path, j) == 0;
        }
    }
    json_incref(from);
    json_decref(m);
    return from;
}

typedef struct {
    commit_path *s;
    const catalog_item *it;
    int64_t version;
    const json_t *wanted; /* read-only while the threads run */
    size_t got;
} older_load;

static void *load_older(void *arg)
{
    older_load *o = arg;
    json_decref(load_one(o->s, o->it, o->version, o->wanted, &o->got));
    return NULL;
}

/* Reads the manifests of the versions in from, all at once (each a GET
 * from S3); returns how many files' facts they gave. */
static size_t load_chain(commit_path *s, const catalog_item *it, const json_t *from,
                         const json_t *wanted)
{
    older_load o[FACTS_CHAIN_MAX];
    pthread_t th[FACTS_CHAIN_MAX];
    bool started[FACTS_CHAIN_MAX] = {false};
    size_t n = json_array_size(from) < FACTS_CHAIN_MAX ? json_array_size(from) : FACTS_CHAIN_MAX;
    size_t got = 0;
    for (size_t i = 0; i < n; i++) {
        o[i] = (older_load){s, it, json_integer_value(json_array_get(from, i)), wanted, 0};
        started[i] = i > 0 && pthread_create(&th[i], NULL, load_older, &o[i]) == 0;
    }
    for (size_t i = 0; i < n; i++) /* the first, and any a thread was refused for */
        if (!started[i])
            load_older(&o[i]);
    for (size_t i = 0; i < n; i++) {
        if (started[i])
            pthread_join(th[i], NULL);
        got += o[i].got;
    }
    return got;
}

void commit_facts_load(commit_path *s, const catalog_item *it, const catalog_file *files, size_t n,
                       const catalog_file *cur, size_t ncur)
{
    if (it->version <= 0)
        return;
    json_t *known = chain_get(s, it, it->version);
    bool need = kept_uncached(s, files, n, cur, ncur);
    json_decref(known);
    if (known && !need)
        return;
    int64_t t0 = cd_mono_ms();
    json_t *wanted = json_object(); /* "sha path" → path, of the new version's files */
    cd_buf k = CD_BUF_INIT;
    for (size_t i = 0; i < n; i++) {
        cd_buf_reset(&k);
        cd_buf_printf(&k, "%s %s", files[i].sha256, files[i].path);
        json_object_set_new(wanted, k.data, json_string(files[i].path));
    }
    cd_buf_free(&k);
    size_t got = 0, read = 1;
    json_t *from = load_one(s, it, it->version, wanted, &got);
    if (json_is_array(from) && kept_uncached(s, files, n, cur, ncur)) {
        got += load_chain(s, it, from, wanted);
        read += json_array_size(from);
    }
    json_decref(wanted);
    cd_log("info", "commit",
           "msg=\"stored facts read\" item=%s/%s version=%lld manifests=%zu files=%zu dur_ms=%lld",
           it->kind, it->name, (long long)it->version, read, got, (long long)(cd_mono_ms() - t0));
    if (from)
        chain_set(s, it, it->version, from);
}

json_t *commit_facts_section(commit_path *s, const catalog_item *it, const catalog_file *files,
                             size_t n, const catalog_file *cur, size_t ncur, cd_buf *b)
{
    json_t *known = it->version > 0 ? chain_get(s, it, it->version) : json_array();
    json_t *from = json_array();
    bool full = !json_is_array(known) || json_array_size(known) + 1 > FACTS_CHAIN_MAX;
    if (!full && it->version > 0) {
        json_array_append_new(from, json_integer(it->version));
        json_array_extend(from, known);
    }
    json_decref(known);
    if (full)
        json_array_clear(from);
    json_t *docs = json_object();
    size_t bytes = 0;
    cd_buf k = CD_BUF_INIT;
    for (size_t i = 0; i < n; i++) {
        if (!chk_file_has_facts(files[i].path) || (!full && !changed(&files[i], cur, ncur)))
            continue;
        json_t *j = chk_cache_export(s->checks, files[i].sha256, files[i].path);
        char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
        size_t len = text ? strlen(text) : 0;
        free(text);
        if (j && bytes + len <= FACTS_BYTES_MAX) {
            bytes += len;
            cd_buf_reset(&k);
            cd_buf_printf(&k, "%s %s", files[i].sha256, files[i].path);
            json_object_set(docs, k.data, j);
        }
        json_decref(j);
    }
    cd_buf_free(&k);
    json_t *facts = json_pack("{sssOso}", "stamp", chk_facts_stamp(), "from", from, "docs", docs);
    char *text = json_dumps(facts, JSON_COMPACT);
    json_decref(facts);
    cd_buf_puts(b, ",\"facts\":");
    cd_buf_puts(b, text);
    free(text);
    return from;
}

void commit_facts_committed(commit_path *s, const catalog_item *it, int64_t version, json_t *from)
{
    chain_set(s, it, version, from);
}
