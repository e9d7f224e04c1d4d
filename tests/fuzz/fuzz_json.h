/* SPDX-License-Identifier: MIT */
/*
 * The check every markdown fuzz target applies to a rendered document:
 * valid JSON with data, body and toc, and data.title equal to the result's
 * title.  Where jansson cannot represent a valid document (nested deeper
 * than its 2048 levels, or an object key holding U+0000, which MDC keeps
 * from front matter), the structure is checked by hand instead.
 * Any violation aborts, which libFuzzer reports as a crash.
 */
#ifndef CONTENTD_FUZZ_JSON_H
#define CONTENTD_FUZZ_JSON_H

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

/* Brackets balance outside strings, strings end without raw control
 * characters, and the nesting goes deeper than limit. */
static bool fuzz_well_formed(const char *s, size_t n, int limit)
{
    int depth = 0, max = 0;
    bool in_str = false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = false;
            else if ((unsigned char)c < 0x20)
                return false;
        } else if (c == '"') {
            in_str = true;
        } else if (c == '{' || c == '[') {
            if (++depth > max)
                max = depth;
        } else if (c == '}' || c == ']') {
            if (--depth < 0)
                return false;
        }
    }
    return !in_str && depth == 0 && max > limit;
}

static void fuzz_check_document(const char *json, size_t len, const char *title)
{
    if (strlen(json) != len)
        abort();
    json_error_t e;
    json_t *doc = json_loadb(json, len, JSON_ALLOW_NUL, &e);
    if (!doc) {
        if (strstr(e.text, "depth") && fuzz_well_formed(json, len, 2000))
            return;
        if (strstr(e.text, "NUL byte in object key") && fuzz_well_formed(json, len, 0))
            return;
        abort();
    }
    json_t *data = json_object_get(doc, "data");
    json_t *body = json_object_get(doc, "body");
    if (!json_is_object(data) || !json_is_object(body) ||
        strcmp(json_string_value(json_object_get(body, "type")) ?: "", "root"))
        abort();
    /* the result's title is data.title (a string) with NULs made U+FFFD */
    json_t *t = json_object_get(data, "title");
    if (json_is_string(t)) {
        const char *v = json_string_value(t);
        size_t n = json_string_length(t), k = 0;
        char *want = malloc(3 * n + 1);
        for (size_t i = 0; i < n; i++) {
            if (v[i]) {
                want[k++] = v[i];
            } else {
                memcpy(want + k, "\xEF\xBF\xBD", 3);
                k += 3;
            }
        }
        want[k] = '\0';
        if (strcmp(want, title))
            abort();
        free(want);
    }
    json_decref(doc);
}

#endif
