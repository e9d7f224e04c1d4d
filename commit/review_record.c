/* SPDX-License-Identifier: MIT */
/*
 * The review record, `review/KIND/NAME.json` (blobstore_review_key()):
 * what the catalog alone would otherwise know of an item's review state —
 * its published version, its members and their roles, and its share links
 * (each by the SHA-256 of its token, never the token).  Every change of
 * them writes it first, then changes the catalog, so that
 * `contentd rebuild-catalog` (server/rebuild_review.c) restores the state
 * as it was last.  item_created_at is when the item the record is of was
 * created: review records older than it (comments, which stay in the
 * store when the item is deleted) are of an item deleted before, and the
 * rebuild leaves them out.
 */
#include "commit_int.h"

#include <stdlib.h>
#include <string.h>

static void links_json(cd_buf *b, const catalog_item *it)
{
    cd_buf_puts(b, ",\"links\":[");
    for (size_t i = 0; i < it->n_links; i++) {
        const catalog_link *l = &it->links[i];
        cd_buf_printf(b, "%s{\"id\":\"%s\",\"sha256\":\"%s\",\"version\":%lld,\"expires_at\":",
                      i ? "," : "", l->id, l->sha256, (long long)l->version);
        catalog_json_time(b, l->expires_at);
        cd_buf_puts(b, ",\"created_at\":");
        catalog_json_time(b, l->created_at);
        cd_buf_putc(b, '}');
    }
    cd_buf_putc(b, ']');
}

int commit_review_record(commit_path *cp, const catalog_item *it, cd_err *err)
{
    cd_buf b = CD_BUF_INIT;
    cd_buf_puts(&b, "{\"kind\":");
    cd_json_str(&b, it->kind, strlen(it->kind));
    cd_buf_puts(&b, ",\"name\":");
    cd_json_str(&b, it->name, strlen(it->name));
    cd_buf_printf(&b, ",\"published_version\":%lld", (long long)it->published_version);
    cd_buf_puts(&b, ",\"item_created_at\":");
    catalog_json_time(&b, it->created_at);
    cd_buf_puts(&b, ",\"members\":");
    catalog_json_members(&b, it);
    links_json(&b, it);
    cd_buf_puts(&b, ",\"updated_at\":");
    catalog_json_time(&b, cd_now_ms());
    cd_buf_puts(&b, "}\n");
    char *key = blobstore_review_key(it->kind, it->name);
    int rc = blobstore_put_object(cp->bs, key, b.data, b.len, err);
    free(key);
    cd_buf_free(&b);
    return rc;
}
