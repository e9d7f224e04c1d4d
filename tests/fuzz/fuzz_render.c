/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: md_render_result() on any bytes.  It must not crash,
 * leak or trip a sanitizer, and every document it returns must be valid
 * JSON (jansson; documents nested deeper than jansson's parser allows are
 * checked for balanced structure instead), an object with data, body and
 * toc, whose data.title is the result's title.  The first byte picks the
 * flags (bit 0: MD_PRETTY); the rest is the markdown.
 */
#include "fuzz.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_json.h"
#include "markdown.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    unsigned flags = data[0] & 1 ? MD_PRETTY : 0;
    md_result res;
    md_error err;
    int rc = md_render_result((const char *)data + 1, size - 1, flags, &res, &err);
    if (rc != MD_OK) {
        /* a refusal says why, in one line */
        if (!err.message[0] || strchr(err.message, '\n'))
            abort();
        return 0;
    }
    fuzz_check_document(res.json, res.len, res.title);
    md_result_free(&res);
    return 0;
}
