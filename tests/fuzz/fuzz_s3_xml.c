/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the S3 XML readers (libxml2 underneath): <Error>,
 * ListBucketResult pages and InitiateMultipartUploadResult, on any body an
 * S3 endpoint could send.  Copied fields must be NUL-terminated within
 * their buffers; a list page's entries must hold keys.
 */
#include "fuzz.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "s3_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    char code[64], msg[256];
    if (s3_xml_error(s, size, code, sizeof code, msg, sizeof msg) &&
        (!memchr(code, '\0', sizeof code) || !memchr(msg, '\0', sizeof msg)))
        abort();
    s3_list_page page = {0};
    if (s3_xml_list(s, size, &page))
        for (size_t i = 0; i < page.n; i++)
            if (!page.entries[i].key)
                abort();
    s3_list_page_clear(&page);
    free(s3_xml_upload_id(s, size));
    return 0;
}
