/* SPDX-License-Identifier: MIT */
/*
 * The diff between two versions of an item: per document, which blocks
 * were added, removed or changed (blocks aligned by key, a block moved
 * under a renumbered key recognised by its hash), and which assets were
 * added, removed or changed.  The caller supplies the file lists and the
 * blocks of each document, so the same code serves the server (ASTs from
 * its render cache) and the unit tests (ASTs rendered in the test).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "review.h"

#define UNMATCHED SIZE_MAX

const char *rv_op_name(rv_op_kind op)
{
    switch (op) {
    case RV_OP_ADDED:
        return "added";
    case RV_OP_REMOVED:
        return "removed";
    case RV_OP_CHANGED:
        return "changed";
    }
    return "changed";
}

/* An op with the place it sorts at: ops of the newer document's block j at
 * 2j+1, a removed block just before the next older block that stayed (at
 * 2j, j that block's place in the newer document), or at the end (2nt). */
typedef struct placed {
    size_t pos, seq;
    rv_op op;
} placed;

static int cmp_placed(const void *a, const void *b)
{
    const placed *x = a, *y = b;
    if (x->pos != y->pos)
        return x->pos < y->pos ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The first block of from[] with that hash not matched yet, or UNMATCHED;
 * by_hash maps a hash to the array of from's indices that have it, and
 * cursor to how far that array is known to be matched. */
static size_t unmatched_with_hash(json_t *by_hash, json_t *cursor, const char *hash,
                                  const size_t *match_from)
{
    json_t *list = json_object_get(by_hash, hash);
    size_t k = (size_t)json_integer_value(json_object_get(cursor, hash));
    while (k < json_array_size(list) &&
           match_from[json_integer_value(json_array_get(list, k))] != UNMATCHED)
        k++;
    json_object_set_new(cursor, hash, json_integer((json_int_t)k));
    return k < json_array_size(list) ? (size_t)json_integer_value(json_array_get(list, k))
                                     : UNMATCHED;
}

/* Matches to[] against from[]: match_to[j] is from's index for to[j] (or
 * UNMATCHED), match_from[i] the reverse, changed[j] whether that pair's
 * hashes differ. */
static void align(const rv_block *from, size_t nf, const rv_block *to, size_t nt,
                  size_t *match_from, size_t *match_to, bool *changed)
{
    json_t *by_key = json_object(), *by_hash = json_object(), *cursor = json_object();
    for (size_t i = 0; i < nf; i++) {
        match_from[i] = UNMATCHED;
        json_object_set_new(by_key, from[i].key, json_integer((json_int_t)i));
        json_t *list = json_object_get(by_hash, from[i].hash);
        if (!list)
            json_object_set_new(by_hash, from[i].hash, list = json_array());
        json_array_append_new(list, json_integer((json_int_t)i));
    }
    for (size_t j = 0; j < nt; j++) { /* the same key, the same hash */
        json_t *v = json_object_get(by_key, to[j].key);
        size_t i = v ? (size_t)json_integer_value(v) : UNMATCHED;
        match_to[j] = UNMATCHED;
        changed[j] = false;
        if (i != UNMATCHED && strcmp(from[i].hash, to[j].hash) == 0) {
            match_to[j] = i;
            match_from[i] = j;
        }
    }
    for (size_t j = 0; j < nt; j++) { /* the same hash under another key: moved */
        size_t i = match_to[j] == UNMATCHED
                       ? unmatched_with_hash(by_hash, cursor, to[j].hash, match_from)
                       : UNMATCHED;
        if (i != UNMATCHED) {
            match_to[j] = i;
            match_from[i] = j;
        }
    }
    for (size_t j = 0; j < nt; j++) { /* the same key, another hash: changed */
        json_t *v = match_to[j] == UNMATCHED ? json_object_get(by_key, to[j].key) : NULL;
        size_t i = v ? (size_t)json_integer_value(v) : UNMATCHED;
        if (i != UNMATCHED && match_from[i] == UNMATCHED) {
            match_to[j] = i;
            match_from[i] = j;
            changed[j] = true;
        }
    }
    json_decref(by_key);
    json_decref(by_hash);
    json_decref(cursor);
}

void rv_diff_blocks(const rv_block *from, size_t nf, const rv_block *to, size_t nt, rv_op **ops,
                    size_t *n)
{
    size_t *match_from = cd_xcalloc(nf + 1, sizeof *match_from);
    size_t *match_to = cd_xcalloc(nt + 1, sizeof *match_to);
    bool *changed = cd_xcalloc(nt + 1, sizeof *changed);
    align(from, nf, to, nt, match_from, match_to, changed);
    placed *p = cd_xcalloc(nf + nt + 1, sizeof *p);
    size_t np = 0;
    for (size_t j = 0; j < nt; j++) {
        rv_op_kind k = match_to[j] == UNMATCHED ? RV_OP_ADDED : RV_OP_CHANGED;
        if (k == RV_OP_ADDED || changed[j])
            p[np++] = (placed){2 * j + 1, j, {k, to[j].key, to[j].index, to[j].index}};
    }
    /* a removed block goes before the next block of from that stayed */
    size_t next = nt, end = nt ? to[nt - 1].index + 1 : 0;
    for (size_t i = nf; i-- > 0;) {
        if (match_from[i] != UNMATCHED) {
            next = match_from[i];
            continue;
        }
        size_t at = next < nt ? to[next].index : end;
        p[np++] = (placed){2 * next, i, {RV_OP_REMOVED, from[i].key, from[i].index, at}};
    }
    qsort(p, np, sizeof *p, cmp_placed);
    *ops = np ? cd_xcalloc(np, sizeof **ops) : NULL;
    for (size_t k = 0; k < np; k++)
        (*ops)[k] = p[k].op;
    *n = np;
    free(p);
    free(match_from);
    free(match_to);
    free(changed);
}

/* ---- the JSON of a diff --------------------------------------------------- */

static void json_ops(cd_buf *out, const rv_op *ops, size_t n, bool with_at)
{
    cd_buf_putc(out, '[');
    for (size_t k = 0; k < n; k++) {
        cd_buf_printf(out, "%s{\"op\":\"%s\",\"key\":", k ? "," : "", rv_op_name(ops[k].op));
        cd_json_str(out, ops[k].key, strlen(ops[k].key));
        cd_buf_printf(out, ",\"index\":%zu", ops[k].index);
        if (ops[k].op == RV_OP_REMOVED && with_at)
            cd_buf_printf(out, ",\"at\":%zu", ops[k].at);
        cd_buf_putc(out, '}');
    }
    cd_buf_putc(out, ']');
}

/* One document's entry: a is its file in the older version (NULL: added),
 * b in the newer one (NULL: removed). */
static int json_document(cd_buf *out, const rv_file *a, const rv_file *b, rv_blocks_fn blocks,
                         void *arg, cd_err *err)
{
    const char *status = !a ? "added" : !b ? "removed" : "changed";
    rv_block *ba = NULL, *bb = NULL;
    size_t na = 0, nb = 0;
    int rc = 0;
    if (a && b && strcmp(a->sha256, b->sha256) == 0) {
        status = "unchanged";
    } else {
        if (a)
            rc = blocks(arg, a->path, a->sha256, &ba, &na, err);
        if (rc == 0 && b)
            rc = blocks(arg, b->path, b->sha256, &bb, &nb, err);
    }
    if (rc == 0) {
        rv_op *ops = NULL;
        size_t n = 0;
        rv_diff_blocks(ba, na, bb, nb, &ops, &n);
        const char *path = (b ? b : a)->path;
        cd_json_str(out, path, strlen(path));
        cd_buf_printf(out, ":{\"status\":\"%s\",\"blocks\":", status);
        json_ops(out, ops, n, b != NULL);
        cd_buf_putc(out, '}');
        free(ops);
    }
    rv_blocks_free(ba, na);
    rv_blocks_free(bb, nb);
    return rc;
}

/* The three lists of assets, built while walking the paths. */
typedef struct assets {
    cd_buf list[3]; /* added, removed, changed: JSON strings with a leading ',' */
} assets;

static void asset_note(assets *as, rv_op_kind op, const char *path)
{
    cd_buf_putc(&as->list[op], ',');
    cd_json_str(&as->list[op], path, strlen(path));
}

static void json_assets(cd_buf *out, assets *as)
{
    static const char *const names[3] = {"added", "removed", "changed"};
    cd_buf_puts(out, ",\"assets\":{");
    for (int k = 0; k < 3; k++) {
        cd_buf_printf(out, "%s\"%s\":[", k ? "," : "", names[k]);
        if (as->list[k].len)
            cd_buf_append(out, as->list[k].data + 1, as->list[k].len - 1);
        cd_buf_putc(out, ']');
        cd_buf_free(&as->list[k]);
    }
    cd_buf_puts(out, "}}");
}

int rv_diff_json(int64_t from_v, const rv_file *from, size_t nf, int64_t to_v, const rv_file *to,
                 size_t nt, rv_blocks_fn blocks, void *arg, cd_buf *out, cd_err *err)
{
    assets as = {{CD_BUF_INIT, CD_BUF_INIT, CD_BUF_INIT}};
    cd_buf_printf(out, "{\"from\":%lld,\"to\":%lld,\"documents\":{", (long long)from_v,
                  (long long)to_v);
    size_t i = 0, j = 0, docs = 0;
    int rc = 0;
    while (rc == 0 && (i < nf || j < nt)) {
        int c = i == nf ? 1 : j == nt ? -1 : strcmp(from[i].path, to[j].path);
        const rv_file *a = c <= 0 ? &from[i++] : NULL, *b = c >= 0 ? &to[j++] : NULL;
        const char *path = (b ? b : a)->path;
        if (!cd_path_is_markdown(path)) {
            if (!a || !b || strcmp(a->sha256, b->sha256) != 0)
                asset_note(&as, !a ? RV_OP_ADDED : !b ? RV_OP_REMOVED : RV_OP_CHANGED, path);
            continue;
        }
        if (docs++)
            cd_buf_putc(out, ',');
        rc = json_document(out, a, b, blocks, arg, err);
    }
    cd_buf_putc(out, '}');
    json_assets(out, &as);
    return rc;
}
