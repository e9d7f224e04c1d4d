/* SPDX-License-Identifier: MIT */
/*
 * Comments anchored to a block (CONTRACT "Review and sharing"): what every
 * backend shares — releasing a comment, its JSON form (the API's answer,
 * the event's data and the blob-store record alike), and the checks of a
 * new comment made at the catalog's door.
 */
#include "catalog_int.h"

#include <stdlib.h>
#include <string.h>

void catalog_comment_clear(catalog_comment *cm)
{
    if (!cm)
        return;
    free(cm->user);
    free(cm->path);
    free(cm->block);
    free(cm->body);
    cm->user = cm->path = cm->block = cm->body = NULL;
}

void catalog_comments_free(catalog_comment *comments, size_t n)
{
    if (!comments)
        return;
    for (size_t i = 0; i < n; i++)
        catalog_comment_clear(&comments[i]);
    free(comments);
}

static void json_str_field(cd_buf *b, const char *key, const char *s)
{
    cd_buf_printf(b, ",\"%s\":", key);
    cd_json_str(b, s ? s : "", s ? strlen(s) : 0);
}

void catalog_json_comment(cd_buf *b, const catalog_comment *cm)
{
    cd_buf_printf(b, "{\"id\":%lld", (long long)cm->id);
    json_str_field(b, "user", cm->user);
    cd_buf_printf(b, ",\"version\":%lld", (long long)cm->version);
    json_str_field(b, "path", cm->path);
    json_str_field(b, "block", cm->block);
    json_str_field(b, "body", cm->body);
    if (cm->reply_to > 0)
        cd_buf_printf(b, ",\"reply_to\":%lld", (long long)cm->reply_to);
    else
        cd_buf_puts(b, ",\"reply_to\":null");
    cd_buf_printf(b, ",\"resolved\":%s,\"created_at\":", cm->resolved ? "true" : "false");
    catalog_json_time(b, cm->created_at);
}

int catalog_check_comment(const catalog_comment *cm, cd_err *err)
{
    if (cm->id < 0 || cm->version < 1 || cm->reply_to < 0 || !cm->user || !*cm->user || !cm->path ||
        !*cm->path || !cm->block || !*cm->block || !cm->body || !cd_sha_valid(cm->block_hash))
        return cd_err_set(err, CAT_ERROR,
                          "catalog: a comment needs a user, a version, a path, a block, its "
                          "digest and a body");
    return CAT_OK;
}
