/* SPDX-License-Identifier: MIT */
/*
 * The MongoDB catalog's review and sharing records: the published version,
 * the members and the share links of an item, fields of its content
 * document.  Each
 * change bumps the document's `meta` like a title change, so the change
 * stream announces it (CAT_EV_UPDATED) on every replica.
 *
 * The member list is rewritten whole under a compare-and-set on `meta`
 * (read, change, write if nobody changed the document meanwhile): the
 * list is short, and positional array updates would buy nothing.
 */
#include "catalog_mongo_int.h"

#include <stdlib.h>
#include <string.h>

#define MEMBER_CAS_ATTEMPTS 8

/* Each document of doc's array `key`, in turn, to fn. */
static void each_doc(const bson_t *doc, const char *key, void (*fn)(const bson_t *, catalog_item *),
                     catalog_item *out)
{
    bson_iter_t it, arr;
    if (!bson_iter_init_find(&it, doc, key) || !BSON_ITER_HOLDS_ARRAY(&it) ||
        !bson_iter_recurse(&it, &arr))
        return;
    while (bson_iter_next(&arr)) {
        bson_t el;
        uint32_t len;
        const uint8_t *data;
        if (!BSON_ITER_HOLDS_DOCUMENT(&arr))
            continue;
        bson_iter_document(&arr, &len, &data);
        if (bson_init_static(&el, data, len))
            fn(&el, out);
    }
}

static void read_link(const bson_t *el, catalog_item *out)
{
    char *id = mg_strdup(el, "id"), *sha = mg_strdup(el, "sha256");
    if (strlen(id) == CATALOG_LINK_ID - 1 && cd_sha_valid(sha)) {
        out->links = cd_xrealloc(out->links, (out->n_links + 1) * sizeof *out->links);
        catalog_link *l = &out->links[out->n_links++];
        memcpy(l->id, id, CATALOG_LINK_ID);
        memcpy(l->sha256, sha, CD_SHA256_HEX);
        l->version = mg_int64(el, "version", 0);
        l->expires_at = mg_date(el, "expires_at", 0);
        l->created_at = mg_date(el, "created_at", 0);
    }
    free(id);
    free(sha);
}

static void read_member(const bson_t *el, catalog_item *out);

void mg_doc_members(const bson_t *doc, catalog_item *out)
{
    each_doc(doc, "members", read_member, out);
    each_doc(doc, "links", read_link, out);
}

static void read_member(const bson_t *el, catalog_item *out)
{
    char *user = mg_strdup(el, "user");
    char *role = mg_strdup(el, "role");
    catalog_role r = catalog_role_parse(role);
    free(role);
    if (!*user || r == CAT_ROLE_NONE) {
        free(user);
        return;
    }
    out->members = cd_xrealloc(out->members, (out->n_members + 1) * sizeof *out->members);
    out->members[out->n_members].user = user;
    out->members[out->n_members++].role = r;
}

catalog_status mg_publish(catalog *cat, const char *kind, const char *name, int64_t version,
                          int64_t *at_version, cd_err *err)
{
    char key[MG_KEY_MAX];
    mg_item_key(key, kind, name);
    /* Every version up to the latest is kept (catalog_mongo_versions.c). */
    bson_t *query =
        BCON_NEW("_id", BCON_UTF8(key), "version", "{", "$gte", BCON_INT64(version), "}");
    bson_t *update =
        BCON_NEW("$set", "{", "published_version", BCON_INT64(version), "updated_at",
                 BCON_DATE_TIME(cd_now_ms()), "}", "$inc", "{", "meta", BCON_INT64(1), "}");
    int rc = mg_meta_modify((mg_catalog *)cat, kind, name, query, update, at_version, err);
    if (rc == CAT_NOT_FOUND)
        cd_err_set(err, CAT_NOT_FOUND, "%s/%s has no version %lld", kind, name, (long long)version);
    bson_destroy(query);
    bson_destroy(update);
    return rc;
}

/* The update that makes it's member list the one of `it` with user's role
 * set to role (CAT_ROLE_NONE: removed); *found says whether user had one. */
static bson_t *members_update(const catalog_item *it, const char *user, catalog_role role,
                              bool *found)
{
    bson_t *u = bson_new(), set, arr, el;
    BSON_APPEND_DOCUMENT_BEGIN(u, "$set", &set);
    BSON_APPEND_ARRAY_BEGIN(&set, "members", &arr);
    uint32_t k = 0;
    bool placed = false;
    *found = false;
    for (size_t i = 0; i <= it->n_members; i++) {
        const catalog_member *m = i < it->n_members ? &it->members[i] : NULL;
        int cmp = m ? strcmp(m->user, user) : 1;
        const char *u_name = NULL;
        catalog_role r = CAT_ROLE_NONE;
        if (cmp == 0)
            *found = true;
        if (cmp >= 0 && !placed) { /* user's place in the sorted list */
            placed = true;
            if (role != CAT_ROLE_NONE)
                u_name = user, r = role;
        }
        for (int pass = 0; pass < 2; pass++) {
            if (pass == 1) {
                if (!m || cmp == 0)
                    break;
                u_name = m->user, r = m->role;
            }
            if (!u_name)
                continue;
            char buf[16];
            const char *idx;
            bson_uint32_to_string(k++, &idx, buf, sizeof buf);
            bson_append_document_begin(&arr, idx, -1, &el);
            BSON_APPEND_UTF8(&el, "user", u_name);
            BSON_APPEND_UTF8(&el, "role", catalog_role_name(r));
            bson_append_document_end(&arr, &el);
            u_name = NULL;
        }
    }
    bson_append_array_end(&set, &arr);
    bson_append_document_end(u, &set);
    BCON_APPEND(u, "$inc", "{", "meta", BCON_INT64(1), "}");
    return u;
}

catalog_status mg_member_set(catalog *cat, const char *kind, const char *name, const char *user,
                             catalog_role role, int64_t *version, cd_err *err)
{
    mg_catalog *c = (mg_catalog *)cat;
    char key[MG_KEY_MAX];
    mg_item_key(key, kind, name);
    bson_t *filter = BCON_NEW("_id", BCON_UTF8(key));
    bson_t *opts =
        BCON_NEW("projection", "{", "members", BCON_INT32(1), "meta", BCON_INT32(1), "}");
    int rc = CAT_ERROR;
    for (int attempt = 0; attempt < MEMBER_CAS_ATTEMPTS; attempt++) {
        bson_t doc;
        mongoc_client_t *cl = mg_pop(c);
        rc = mg_find_one(c, cl, "content", filter, opts, &doc, err);
        mg_push(c, cl);
        if (rc == CAT_NOT_FOUND)
            cd_err_set(err, CAT_NOT_FOUND, "no item %s/%s", kind, name);
        if (rc != CAT_OK) {
            bson_destroy(&doc);
            break;
        }
        catalog_item it = {0};
        mg_doc_members(&doc, &it);
        bool had_meta = bson_has_field(&doc, "meta");
        int64_t meta = mg_int64(&doc, "meta", 0);
        bson_destroy(&doc);
        bool found = false;
        bson_t *update = members_update(&it, user, role, &found);
        catalog_item_clear(&it);
        if (role == CAT_ROLE_NONE && !found) {
            bson_destroy(update);
            rc = cd_err_set(err, CAT_NOT_FOUND, "%s is no member of %s/%s", user, kind, name);
            break;
        }
        bson_t *query = had_meta ? BCON_NEW("_id", BCON_UTF8(key), "meta", BCON_INT64(meta))
                                 : BCON_NEW("_id", BCON_UTF8(key), "meta", "{", "$exists",
                                            BCON_BOOL(false), "}");
        rc = mg_meta_modify(c, kind, name, query, update, version, err);
        bson_destroy(query);
        bson_destroy(update);
        if (rc != CAT_NOT_FOUND)
            break; /* done, or failed; not found: changed meanwhile, again */
    }
    bson_destroy(filter);
    bson_destroy(opts);
    return rc;
}

catalog_status mg_link_add(catalog *cat, const char *kind, const char *name, const catalog_link *l,
                           int64_t *version, cd_err *err)
{
    char key[MG_KEY_MAX];
    mg_item_key(key, kind, name);
    bson_t *query = BCON_NEW("_id", BCON_UTF8(key));
    bson_t *update =
        BCON_NEW("$push", "{", "links", "{", "id", BCON_UTF8(l->id), "sha256", BCON_UTF8(l->sha256),
                 "version", BCON_INT64(l->version), "expires_at", BCON_DATE_TIME(l->expires_at),
                 "created_at", BCON_DATE_TIME(l->created_at ? l->created_at : cd_now_ms()), "}",
                 "}", "$inc", "{", "meta", BCON_INT64(1), "}");
    int rc = mg_meta_modify((mg_catalog *)cat, kind, name, query, update, version, err);
    bson_destroy(query);
    bson_destroy(update);
    return rc;
}

catalog_status mg_link_delete(catalog *cat, const char *kind, const char *name, const char *id,
                              int64_t *version, cd_err *err)
{
    char key[MG_KEY_MAX];
    mg_item_key(key, kind, name);
    bson_t *query = BCON_NEW("_id", BCON_UTF8(key), "links.id", BCON_UTF8(id));
    bson_t *update = BCON_NEW("$pull", "{", "links", "{", "id", BCON_UTF8(id), "}", "}", "$inc",
                              "{", "meta", BCON_INT64(1), "}");
    int rc = mg_meta_modify((mg_catalog *)cat, kind, name, query, update, version, err);
    if (rc == CAT_NOT_FOUND)
        cd_err_set(err, CAT_NOT_FOUND, "%s/%s has no link %s", kind, name, id);
    bson_destroy(query);
    bson_destroy(update);
    return rc;
}

catalog_status mg_link_find(catalog *cat, const char *token_sha256, char *kind, char *name,
                            cd_err *err)
{
    mg_catalog *c = (mg_catalog *)cat;
    bson_t *filter = BCON_NEW("links.sha256", BCON_UTF8(token_sha256));
    bson_t *opts = BCON_NEW("projection", "{", "kind", BCON_INT32(1), "name", BCON_INT32(1), "}");
    bson_t doc;
    mongoc_client_t *cl = mg_pop(c);
    int rc = mg_find_one(c, cl, "content", filter, opts, &doc, err);
    mg_push(c, cl);
    if (rc == CAT_OK) {
        char *k = mg_strdup(&doc, "kind"), *n = mg_strdup(&doc, "name");
        snprintf(kind, CD_KIND_MAX, "%s", k);
        snprintf(name, CD_NAME_MAX, "%s", n);
        free(k);
        free(n);
    } else if (rc == CAT_NOT_FOUND) {
        cd_err_set(err, CAT_NOT_FOUND, "no such link");
    }
    bson_destroy(&doc);
    bson_destroy(filter);
    bson_destroy(opts);
    return rc;
}
