/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the ignore rules (gitignore syntax of .contentignore).
 * The input is pattern lines, then a line "@@", then paths to match; each
 * path is matched as a file and as a directory, with and without the
 * built-in rules.  Matching must not crash, and must be deterministic.
 */
#include "fuzz.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ignore.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data, *end = s + size;
    const char *sep = memmem(s, size, "\n@@\n", 4);
    const char *rules_end = sep ? sep : end;
    ignore_rules *ig[2] = {ignore_new(false), ignore_new(true)};
    for (const char *p = s; p < rules_end;) {
        const char *nl = memchr(p, '\n', (size_t)(rules_end - p));
        const char *e = nl ? nl : rules_end;
        for (int k = 0; k < 2; k++)
            ignore_add_line(ig[k], p, (size_t)(e - p));
        p = e + 1;
    }
    for (const char *p = sep ? sep + 4 : end; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl ? nl : end;
        char *path = cd_xstrndup(p, (size_t)(e - p));
        for (int k = 0; k < 2; k++)
            for (int dir = 0; dir < 2; dir++)
                if (ignore_path(ig[k], path, dir) != ignore_path(ig[k], path, dir) ||
                    ignore_match(ig[k], path, dir) != ignore_match(ig[k], path, dir))
                    abort();
        free(path);
        p = e + 1;
    }
    ignore_free(ig[0]);
    ignore_free(ig[1]);
    return 0;
}
