/* SPDX-License-Identifier: MIT */
/*
 * Refusals an author can act on.  S3's error codes are precise but terse
 * ("SignatureDoesNotMatch"), and a refused HEAD — the bucket check behind
 * /readyz, the "is this blob stored?" of every upload — carries no error
 * body at all, so it names no reason.  This file turns an error code into
 * the setting to look at, and asks a refused HEAD's question again as a GET
 * of at most one byte, whose refusal does say why.
 */
#include "s3_int.h"

#include <string.h>

typedef struct hint {
    const char *code;
    const char *text;
} hint;

/* The setting behind each refusal that configuration causes. */
static const hint hints[] = {
    {"NoSuchBucket", "the bucket does not exist at this endpoint: create it, or correct "
                     "--s3-bucket (CONTENTD_S3_BUCKET) or --s3-endpoint"},
    {"SignatureDoesNotMatch", "the secret key does not match the access key: check "
                              "AWS_SECRET_ACCESS_KEY"},
    {"InvalidAccessKeyId", "the server knows no such access key: check AWS_ACCESS_KEY_ID"},
    {"RequestTimeTooSkewed", "this machine's clock is too far from the server's: set the "
                             "clock right (NTP)"},
    {"AuthorizationHeaderMalformed", "the request was signed for another region: check "
                                     "--s3-region (AWS_REGION)"},
    {"PermanentRedirect", "the bucket is at another endpoint or in another region: check "
                          "--s3-endpoint and --s3-region (AWS_REGION)"},
    {"IllegalLocationConstraintException", "the bucket is in another region: check "
                                           "--s3-region (AWS_REGION)"},
    {"InvalidToken", "the session token is not valid: check AWS_SESSION_TOKEN"},
    {"ExpiredToken", "the session token has expired: renew AWS_SESSION_TOKEN"},
    {"AccessDenied", "these credentials may not do this: check the user's permissions and the "
                     "bucket's policy"},
};

const char *s3_error_hint(long http, const char *code)
{
    if (code && *code) {
        for (size_t i = 0; i < sizeof hints / sizeof hints[0]; i++)
            if (!strcmp(code, hints[i].code))
                return hints[i].text;
        return NULL;
    }
    if (http == 401 || http == 403)
        return "access denied with no reason given: check AWS_ACCESS_KEY_ID, "
               "AWS_SECRET_ACCESS_KEY, the clock, and the bucket's permissions";
    return NULL;
}

s3_status s3_explain_head(s3_client *c, const char *op, const char *key, s3_status rc, cd_err *err)
{
    if (rc != S3_DENIED)
        return rc;
    s3_req r;
    s3_req_init(&r, c, op, "GET", key);
    if (key) {
        r.range_off = 0;
        r.range_len = 1;
    } else {
        s3_req_query(&r, "list-type", "2");
        s3_req_query(&r, "max-keys", "1");
    }
    cd_err e = {0, ""};
    int grc = s3_exec1(c, &r, &e);
    /* Only a refusal that names its reason replaces the HEAD's own. */
    if (grc == S3_DENIED && r.s3code[0])
        rc = cd_err_set(err, grc, "%s", e.msg);
    s3_req_clear(&r);
    return rc;
}
