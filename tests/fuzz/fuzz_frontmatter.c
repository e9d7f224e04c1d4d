/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the front matter reader (libyaml and our conversion to
 * JSON values, duplicate keys, anchors, dotted keys).  The input is the YAML
 * between the two "---" lines of a document; the render either refuses it
 * with a one-line "invalid front matter" message and a line number inside
 * the document, or gives a valid document.
 */
#include "fuzz.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "fuzz_json.h"
#include "markdown.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cd_buf doc = CD_BUF_INIT;
    cd_buf_puts(&doc, "---\n");
    cd_buf_append(&doc, data, size);
    cd_buf_puts(&doc, "\n---\n# Body\n");
    md_result res;
    md_error err;
    int rc = md_render_result(doc.data, doc.len, 0, &res, &err);
    if (rc == MD_OK) {
        fuzz_check_document(res.json, res.len, res.title);
        md_result_free(&res);
    } else if (rc != MD_ERR_YAML || !strstr(err.message, "front matter") ||
               strchr(err.message, '\n') || err.line < 0) {
        abort();
    }
    cd_buf_free(&doc);
    return 0;
}
