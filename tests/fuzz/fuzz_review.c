/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the blocks of a document and the diff of two.  The
 * first byte picks the mode.  Even: the rest is handed to rv_blocks() as
 * it is, as if it were an AST (it must refuse what is not one, and never
 * crash).  Odd: the rest is two markdown texts split at the first NUL byte,
 * each rendered and cut into blocks, then diffed.  Either way the blocks
 * must have unique keys, increasing indexes and 64-digit hashes, and every
 * op must point at a block of its side: an added or changed one at a block
 * of the newer document, a removed one at a block of the older, its "at"
 * at most one past the newer document's last block.
 */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "markdown.h"
#include "review.h"

static void check_blocks(const rv_block *b, size_t n)
{
    json_t *seen = json_object();
    for (size_t i = 0; i < n; i++) {
        if (strlen(b[i].hash) != 64 || strspn(b[i].hash, "0123456789abcdef") != 64)
            abort();
        if (i && b[i].index <= b[i - 1].index)
            abort();
        if (!b[i].key[0] || json_object_get(seen, b[i].key))
            abort();
        json_object_set_new(seen, b[i].key, json_true());
    }
    json_decref(seen);
}

static bool has_index(const rv_block *b, size_t n, size_t index, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (b[i].index == index)
            return strcmp(b[i].key, key) == 0;
    return false;
}

static void blocks_of_markdown(const char *src, size_t len, rv_block **b, size_t *n)
{
    char *json = NULL;
    size_t jl = 0;
    *b = NULL;
    *n = 0;
    if (md_render(src, len, 0, &json, &jl, NULL) != MD_OK)
        return;
    /* a document nested past jansson's depth limit is refused, not crashed on */
    if (rv_blocks(json, jl, b, n) == RV_OK)
        check_blocks(*b, *n);
    free(json);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const char *s = (const char *)data + 1;
    size_t len = size - 1;
    rv_block *a = NULL, *b = NULL;
    size_t na = 0, nb = 0;
    if (!(data[0] & 1)) {
        if (rv_blocks(s, len, &a, &na) == RV_OK)
            check_blocks(a, na);
        else if (a || na)
            abort();
        rv_blocks_free(a, na);
        return 0;
    }
    const char *nul = memchr(s, '\0', len);
    size_t la = nul ? (size_t)(nul - s) : len;
    blocks_of_markdown(s, la, &a, &na);
    blocks_of_markdown(nul ? nul + 1 : "", nul ? len - la - 1 : 0, &b, &nb);
    rv_op *ops = NULL;
    size_t n = 0;
    rv_diff_blocks(a, na, b, nb, &ops, &n);
    size_t end = nb ? b[nb - 1].index + 1 : 0;
    for (size_t k = 0; k < n; k++) {
        bool ok = ops[k].op == RV_OP_REMOVED
                      ? has_index(a, na, ops[k].index, ops[k].key) && ops[k].at <= end
                      : has_index(b, nb, ops[k].index, ops[k].key) && ops[k].at == ops[k].index;
        if (!ok)
            abort();
    }
    free(ops);
    rv_blocks_free(a, na);
    rv_blocks_free(b, nb);
    return 0;
}
