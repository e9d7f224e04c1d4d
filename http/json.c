/* SPDX-License-Identifier: MIT */
/* JSON request bodies, through jansson (the JSON written out is
 * catalog_json.c's). */
#include "http.h"

#include <string.h>

json_t *http_json_body(http_req *r)
{
    json_error_t e;
    const char *p = r->body.data ? r->body.data : "";
    json_t *j = json_loadb(p, r->body.len, JSON_REJECT_DUPLICATES, &e);
    if (!j && json_error_code(&e) == json_error_null_character) {
        (void)http_reply_error(r, 400, "invalid_json",
                               "The body holds a \\u0000 (a NUL character) in a string, at %d:%d: "
                               "text cannot contain NUL characters.",
                               e.line, e.column);
        return NULL;
    }
    if (!j) {
        (void)http_reply_error(r, 400, "invalid_json", "The body is not valid JSON: %s (at %d:%d).",
                               e.text, e.line, e.column);
        return NULL;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        (void)http_reply_error(r, 400, "invalid_json", "The body must be a JSON object.");
        return NULL;
    }
    return j;
}
