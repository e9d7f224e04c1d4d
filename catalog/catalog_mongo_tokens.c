/* SPDX-License-Identifier: MIT */
/*
 * The MongoDB catalog's token listing, deletion and last-use record
 * (`contentd token list|revoke`).  A token is a document of `tokens`:
 * {_id: SHA-256, user, created_at, last_used_at?}.
 */
#include "catalog_mongo_int.h"

#include <stdlib.h>
#include <string.h>

catalog_status mg_token_list(catalog *cat, catalog_token **out, size_t *n, cd_err *err)
{
    mg_catalog *c = (mg_catalog *)cat;
    *out = NULL;
    *n = 0;
    bson_t filter = BSON_INITIALIZER;
    bson_t *opts = BCON_NEW("sort", "{", "created_at", BCON_INT32(1), "_id", BCON_INT32(1), "}");
    mongoc_client_t *cl = mg_pop(c);
    mongoc_collection_t *col = mg_coll(c, cl, "tokens");
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(col, &filter, opts, NULL);
    const bson_t *doc;
    size_t cap = 0;
    while (mongoc_cursor_next(cur, &doc)) {
        char *sha = mg_strdup(doc, "_id");
        if (strlen(sha) == 64) {
            *out = cd_grow(*out, *n, &cap, 16, sizeof **out);
            catalog_token *t = &(*out)[(*n)++];
            memcpy(t->sha256, sha, 65);
            t->user = mg_strdup(doc, "user");
            t->created_at = mg_date(doc, "created_at", 0);
            t->last_used_at = mg_date(doc, "last_used_at", 0);
        }
        free(sha);
    }
    bson_error_t e;
    int rc = CAT_OK;
    if (mongoc_cursor_error(cur, &e)) {
        rc = mg_fail(&e, err, "cannot list the tokens");
        catalog_tokens_free(*out, *n);
        *out = NULL;
        *n = 0;
    }
    mongoc_cursor_destroy(cur);
    mongoc_collection_destroy(col);
    mg_push(c, cl);
    bson_destroy(opts);
    return rc;
}

catalog_status mg_token_delete(catalog *cat, const char *token_sha256, cd_err *err)
{
    mg_catalog *c = (mg_catalog *)cat;
    bson_t *filter = BCON_NEW("_id", BCON_UTF8(token_sha256));
    mongoc_client_t *cl = mg_pop(c);
    mongoc_collection_t *col = mg_coll(c, cl, "tokens");
    bson_t reply;
    bson_error_t e;
    int rc = CAT_OK;
    if (!mongoc_collection_delete_one(col, filter, NULL, &reply, &e))
        rc = mg_fail(&e, err, "cannot delete a token");
    else if (mg_int64(&reply, "deletedCount", 0) == 0)
        rc = cd_err_set(err, CAT_NOT_FOUND, "unknown token");
    bson_destroy(&reply);
    mongoc_collection_destroy(col);
    mg_push(c, cl);
    bson_destroy(filter);
    return rc;
}

catalog_status mg_token_touch(catalog *cat, const char *token_sha256, int64_t at_ms, cd_err *err)
{
    mg_catalog *c = (mg_catalog *)cat;
    bson_t *filter = BCON_NEW("_id", BCON_UTF8(token_sha256));
    bson_t *update = BCON_NEW("$max", "{", "last_used_at", BCON_DATE_TIME(at_ms), "}");
    mongoc_client_t *cl = mg_pop(c);
    mongoc_collection_t *col = mg_coll(c, cl, "tokens");
    bson_error_t e;
    int rc = CAT_OK;
    if (!mongoc_collection_update_one(col, filter, update, NULL, NULL, &e))
        rc = mg_fail(&e, err, "cannot record a token's use");
    mongoc_collection_destroy(col);
    mg_push(c, cl);
    bson_destroy(filter);
    bson_destroy(update);
    return rc;
}
