/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of s3/: SigV4 URI encoding, the XML readers, the retry policy,
 * configuration checks, and the request engine against a scripted loopback
 * server (retries, no retry on 4xx, resumed GETs, stalls, deadlines,
 * pagination, multipart with abort).  The real-peer tests (s3rver, botocore's
 * signer, the fault proxy, the AWS CLI) are in tests/integration/test_s3*.py.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fake_s3.h"
#include "s3_int.h"

/* Helpers ------------------------------------------------------------------------ */

static fake_s3 fake;
static char url[64];

static s3_client *client_for(const fake_resp *script, size_t n, int attempts)
{
    fake_start(&fake, script, n);
    fake_url(&fake, url, sizeof url);
    s3_config cfg = {0};
    cfg.endpoint = url;
    cfg.bucket = "b";
    cfg.path_style = true;
    cfg.access_key = "AK";
    cfg.secret_key = "SK";
    cfg.session_token = "TOK";
    cfg.max_attempts = attempts;
    cfg.backoff_base_ms = 1;
    cfg.backoff_max_ms = 5;
    cfg.parallel = 1;
    cfg.multipart_threshold = 100;
    cfg.part_size = 100;
    cd_err err;
    s3_client *c = s3_client_new(&cfg, &err);
    assert_non_null(c);
    return c;
}

static void done(s3_client *c)
{
    s3_client_free(c);
    fake_stop(&fake);
}

static int collect(void *arg, const void *p, size_t n)
{
    cd_buf_append(arg, p, n);
    return 0;
}

#define ERR_503                                                                                    \
    "<?xml version=\"1.0\"?><Error><Code>SlowDown</Code><Message>Reduce</Message></Error>"
#define ERR_403 "<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>"

/* Pure functions ------------------------------------------------------------------- */

static void test_uri_encode(void **state)
{
    cd_buf b = CD_BUF_INIT;
    s3_uri_encode(&b, "dir/a b+c=d%e\xc3\xbc~_.-Z9", true);
    assert_string_equal(b.data, "dir/a%20b%2Bc%3Dd%25e%C3%BC~_.-Z9");
    cd_buf_reset(&b);
    s3_uri_encode(&b, "a/b*", false);
    assert_string_equal(b.data, "a%2Fb%2A");
    cd_buf_free(&b);
}

static void test_xml_error(void **state)
{
    char code[16], msg[8];
    const char *body = "<?xml version=\"1.0\"?><Error><Code>NoSuchBucket</Code>"
                       "<Message>The bucket does not exist</Message></Error>";
    assert_true(s3_xml_error(body, strlen(body), code, sizeof code, msg, sizeof msg));
    assert_string_equal(code, "NoSuchBucket");
    assert_string_equal(msg, "The buc"); /* cut to fit */
    const char *other = "<ListBucketResult/>";
    assert_false(s3_xml_error(other, strlen(other), code, sizeof code, msg, sizeof msg));
    assert_false(s3_xml_error("not xml", 7, code, sizeof code, NULL, 0));
}

static void test_xml_list(void **state)
{
    const char *body = "<?xml version=\"1.0\"?><ListBucketResult "
                       "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                       "<Name>b</Name><IsTruncated>true</IsTruncated>"
                       "<Contents><Key>a &amp; b</Key><Size>12</Size><ETag>\"e1\"</ETag></Contents>"
                       "<Contents><Key> </Key><Size>0</Size></Contents>"
                       "<NextContinuationToken>t+/=</NextContinuationToken></ListBucketResult>";
    s3_list_page p;
    assert_true(s3_xml_list(body, strlen(body), &p));
    assert_int_equal(p.n, 2);
    assert_string_equal(p.entries[0].key, "a & b");
    assert_int_equal(p.entries[0].size, 12);
    assert_string_equal(p.entries[0].etag, "\"e1\"");
    assert_string_equal(p.entries[1].key, " ");
    assert_true(p.truncated);
    assert_string_equal(p.next_token, "t+/=");
    s3_list_page_clear(&p);
    assert_false(s3_xml_list("<Error/>", 8, &p));
}

static void test_xml_upload_id(void **state)
{
    const char *body = "<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key>"
                       "<UploadId>abc+/=</UploadId></InitiateMultipartUploadResult>";
    char *id = s3_xml_upload_id(body, strlen(body));
    assert_string_equal(id, "abc+/=");
    free(id);
    assert_null(s3_xml_upload_id("<Error/>", 8));
}

static void test_backoff(void **state)
{
    s3_config cfg = {.backoff_base_ms = 100, .backoff_max_ms = 5000};
    assert_int_equal(s3_backoff_ms(&cfg, 1, 0.0), 50);
    assert_int_equal(s3_backoff_ms(&cfg, 1, 0.999), 99);
    assert_int_equal(s3_backoff_ms(&cfg, 3, 0.0), 200);
    assert_true(s3_backoff_ms(&cfg, 3, 0.999) <= 400);
    assert_int_equal(s3_backoff_ms(&cfg, 60, 0.0), 2500);
    assert_true(s3_backoff_ms(&cfg, 60, 0.999) <= 5000);
}

static void test_retryable(void **state)
{
    assert_true(s3_http_retryable(500, "InternalError"));
    assert_true(s3_http_retryable(503, "SlowDown"));
    assert_true(s3_http_retryable(429, ""));
    assert_true(s3_http_retryable(400, "RequestTimeout"));
    assert_false(s3_http_retryable(400, "InvalidArgument"));
    assert_false(s3_http_retryable(403, "AccessDenied"));
    assert_true(s3_http_retryable(400, "XAmzContentSHA256Mismatch")); /* changed on the way */
    assert_false(s3_http_retryable(404, "NoSuchKey"));
    assert_true(s3_curl_retryable(CURLE_RECV_ERROR));
    assert_true(s3_curl_retryable(CURLE_OPERATION_TIMEDOUT));
    assert_true(s3_curl_retryable(CURLE_COULDNT_CONNECT));
    assert_false(s3_curl_retryable(CURLE_URL_MALFORMAT));
    assert_false(s3_curl_retryable(CURLE_PEER_FAILED_VERIFICATION));
}

static void test_config_checks(void **state)
{
    cd_err err;
    s3_config cfg = {
        .endpoint = "http://127.0.0.1:1", .bucket = "bucket", .access_key = "a", .secret_key = "s"};
    s3_client *c = s3_client_new(&cfg, &err);
    assert_non_null(c);
    s3_client_free(c);
    cfg.endpoint = "http://host/path";
    assert_null(s3_client_new(&cfg, &err));
    assert_non_null(strstr(err.msg, "no path"));
    cfg.endpoint = "ftp://host";
    assert_null(s3_client_new(&cfg, &err));
    cfg.endpoint = "host.example";
    cfg.bucket = "Bad_Bucket";
    assert_null(s3_client_new(&cfg, &err));
    cfg.path_style = true;
    c = s3_client_new(&cfg, &err);
    assert_non_null(c);
    s3_client_free(c);
    cfg.secret_key = NULL;
    assert_null(s3_client_new(&cfg, &err));
    assert_non_null(strstr(err.msg, "AWS_SECRET_ACCESS_KEY"));
}

static void test_config_env(void **state)
{
    cd_err err;
    s3_config cfg = {0};
    setenv("CONTENTD_S3_PART_SIZE", "5x", 1);
    assert_int_equal(s3_config_from_env(&cfg, &err), S3_ERROR);
    assert_non_null(strstr(err.msg, "CONTENTD_S3_PART_SIZE"));
    setenv("CONTENTD_S3_PART_SIZE", "5242880", 1);
    setenv("CONTENTD_S3_MAX_ATTEMPTS", "7", 1);
    assert_int_equal(s3_config_from_env(&cfg, &err), S3_OK);
    assert_int_equal(cfg.part_size, 5242880);
    assert_int_equal(cfg.max_attempts, 7);
    unsetenv("CONTENTD_S3_PART_SIZE");
    unsetenv("CONTENTD_S3_MAX_ATTEMPTS");
}

/* The engine against the scripted server ------------------------------------------------ */

static void test_retry_then_success(void **state)
{
    const fake_resp script[] = {{503, NULL, ERR_503, 0, 0},
                                {500, NULL, NULL, 0, 0},
                                {0, NULL, NULL, 0, 0},
                                {200, NULL, NULL, 0, 0}};
    s3_client *c = client_for(script, 4, 5);
    cd_err err;
    assert_int_equal(s3_put_buffer(c, "dir/a b+c", "hello", 5, NULL, &err), S3_OK);
    assert_int_equal(fake.n_got, 4);
    for (size_t i = 0; i < 4; i++) {
        fake_req *q = &fake.got[i];
        assert_string_equal(q->method, "PUT");
        assert_string_equal(q->target, "/b/dir/a%20b%2Bc");
        assert_int_equal(q->body_len, 5);
        assert_non_null(strstr(q->headers,
                               "x-amz-content-sha256: "
                               "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"));
        assert_non_null(strstr(q->headers, "x-amz-security-token: TOK"));
        assert_non_null(strstr(q->headers, "Credential=AK/"));
        assert_non_null(strstr(q->headers, "/us-east-1/s3/aws4_request"));
    }
    done(c);
}

static void test_no_retry_on_4xx(void **state)
{
    const fake_resp script[] = {{403, NULL, ERR_403, 0, 0}};
    s3_client *c = client_for(script, 1, 5);
    cd_err err;
    assert_int_equal(s3_put_buffer(c, "k1", "x", 1, NULL, &err), S3_DENIED);
    assert_int_equal(fake.n_got, 1);
    assert_non_null(strstr(err.msg, "put"));
    assert_non_null(strstr(err.msg, "\"k1\""));
    assert_non_null(strstr(err.msg, "HTTP 403 AccessDenied"));
    done(c);
}

static void test_persistent_5xx(void **state)
{
    const fake_resp script[] = {{503, NULL, ERR_503, 0, 0},
                                {503, NULL, ERR_503, 0, 0},
                                {503, NULL, ERR_503, 0, 0},
                                {503, NULL, ERR_503, 0, 0}};
    s3_client *c = client_for(script, 4, 3);
    cd_err err;
    assert_int_equal(s3_delete(c, "gone", &err), S3_UNAVAILABLE);
    assert_int_equal(fake.n_got, 3);
    assert_non_null(strstr(err.msg, "s3 delete \"gone\": HTTP 503 SlowDown"));
    assert_non_null(strstr(err.msg, "after 3 attempts"));
    done(c);
}

static void test_head_not_found(void **state)
{
    const fake_resp script[] = {{404, NULL, NULL, 0, 0}};
    s3_client *c = client_for(script, 1, 5);
    cd_err err;
    s3_object_info info;
    assert_int_equal(s3_head(c, "nope", &info, &err), S3_NOT_FOUND);
    assert_non_null(strstr(err.msg, "NoSuchKey"));
    assert_string_equal(fake.got[0].method, "HEAD");
    assert_non_null(strstr(fake.got[0].headers, S3_EMPTY_SHA256));
    done(c);
}

/* A refused HEAD has no body: the client asks again with a one-byte GET and
 * reports the reason that answer names, with the setting to check. */
static void test_head_refusal_explained(void **state)
{
    const fake_resp script[] = {
        {403, NULL, NULL, 0, 0},
        {403, NULL, "<Error><Code>SignatureDoesNotMatch</Code></Error>", 0, 0},
        {403, NULL, NULL, 0, 0},
        {403, NULL, "<Error><Code>RequestTimeTooSkewed</Code></Error>", 0, 0}};
    s3_client *c = client_for(script, 4, 5);
    cd_err err;
    assert_int_equal(s3_head(c, "k", NULL, &err), S3_DENIED);
    assert_string_equal(fake.got[1].method, "GET");
    assert_non_null(strstr(fake.got[1].headers, "Range: bytes=0-0"));
    assert_non_null(strstr(err.msg, "s3 head \"k\": HTTP 403 SignatureDoesNotMatch"));
    assert_non_null(strstr(err.msg, "check AWS_SECRET_ACCESS_KEY"));
    assert_int_equal(s3_head_bucket(c, &err), S3_DENIED);
    assert_string_equal(fake.got[3].method, "GET");
    assert_non_null(strstr(fake.got[3].target, "list-type=2&max-keys=1"));
    assert_non_null(strstr(err.msg, "head-bucket \"b\": HTTP 403 RequestTimeTooSkewed"));
    assert_non_null(strstr(err.msg, "set the clock right"));
    assert_int_equal(fake.n_got, 4);
    done(c);
}

/* When the GET names no reason either, the HEAD's refusal stays, with what
 * to check. */
static void test_head_refusal_unexplained(void **state)
{
    const fake_resp script[] = {{403, NULL, NULL, 0, 0}, {403, NULL, NULL, 0, 0}};
    s3_client *c = client_for(script, 2, 5);
    cd_err err;
    assert_int_equal(s3_head_bucket(c, &err), S3_DENIED);
    assert_string_equal(fake.got[0].method, "HEAD");
    assert_non_null(strstr(err.msg, "HTTP 403; access denied with no reason given"));
    done(c);
}

/* A missing bucket is its own status, never "no such key". */
static void test_no_such_bucket(void **state)
{
    const fake_resp script[] = {
        {404, NULL, "<Error><Code>NoSuchBucket</Code><Message>gone</Message></Error>", 0, 0},
        {404, NULL, NULL, 0, 0}};
    s3_client *c = client_for(script, 2, 5);
    cd_err err;
    assert_int_equal(s3_put_buffer(c, "k", "x", 1, NULL, &err), S3_NO_BUCKET);
    assert_non_null(strstr(err.msg, "HTTP 404 NoSuchBucket (gone); the bucket does not exist"));
    assert_int_equal(s3_head_bucket(c, &err), S3_NO_BUCKET);
    assert_int_equal(fake.n_got, 2);
    done(c);
}

/* AWS checks the region a request is signed for (s3rver and RGW do not):
 * its refusal names the setting. */
static void test_wrong_region(void **state)
{
    const fake_resp script[] = {
        {400, NULL,
         "<Error><Code>AuthorizationHeaderMalformed</Code><Message>The authorization header is "
         "malformed; the region 'us-east-1' is wrong; expecting 'eu-west-1'</Message></Error>",
         0, 0}};
    s3_client *c = client_for(script, 1, 5);
    cd_err err;
    assert_int_equal(s3_put_buffer(c, "k", "x", 1, NULL, &err), S3_ERROR);
    assert_int_equal(fake.n_got, 1);
    assert_non_null(strstr(err.msg, "HTTP 400 AuthorizationHeaderMalformed"));
    assert_non_null(strstr(err.msg, "expecting 'eu-west-1')")); /* S3's message, whole */
    assert_non_null(strstr(err.msg, "check --s3-region (AWS_REGION)"));
    done(c);
}

static void test_hints(void **state)
{
    assert_non_null(strstr(s3_error_hint(403, "InvalidAccessKeyId"), "AWS_ACCESS_KEY_ID"));
    assert_non_null(strstr(s3_error_hint(400, "AuthorizationHeaderMalformed"), "--s3-region"));
    assert_non_null(strstr(s3_error_hint(403, ""), "AWS_SECRET_ACCESS_KEY"));
    assert_null(s3_error_hint(503, "SlowDown"));
    assert_null(s3_error_hint(404, ""));
}

static void test_get_resumes(void **state)
{
    const fake_resp script[] = {
        {200, "ETag: \"v1\"\r\n", "0123456789", 4, 0},
        {206, "ETag: \"v1\"\r\nContent-Range: bytes 4-9/10\r\n", "456789", 0, 0}};
    s3_client *c = client_for(script, 2, 5);
    cd_err err;
    cd_buf b = CD_BUF_INIT;
    s3_object_info info;
    assert_int_equal(s3_get(c, "k", 0, 0, collect, &b, &info, &err), S3_OK);
    assert_int_equal(b.len, 10);
    assert_memory_equal(b.data, "0123456789", 10);
    assert_int_equal(info.size, 10);
    assert_int_equal(fake.n_got, 2);
    assert_non_null(strstr(fake.got[1].headers, "Range: bytes=4-"));
    assert_non_null(strstr(fake.got[1].headers, "If-Match: \"v1\""));
    cd_buf_free(&b);
    done(c);
}

static void test_range_ignored(void **state)
{
    const fake_resp script[] = {{200, NULL, "0123456789", 0, 0}};
    s3_client *c = client_for(script, 1, 5);
    cd_err err;
    cd_buf b = CD_BUF_INIT;
    assert_int_equal(s3_get(c, "k", 2, 4, collect, &b, NULL, &err), S3_OK);
    assert_int_equal(b.len, 4);
    assert_memory_equal(b.data, "2345", 4);
    assert_non_null(strstr(fake.got[0].headers, "Range: bytes=2-5"));
    cd_buf_free(&b);
    done(c);
}

static void test_empty_object_range(void **state)
{
    /* S3's answer to a range GET of an empty object; and s3rver's, which
     * announces a byte it never sends (the client must not wait for it). */
    const fake_resp script[] = {
        {416, "Content-Range: bytes */0\r\n", "<Error><Code>InvalidRange</Code></Error>", 0, 0},
        {206, "Content-Range: bytes 0--1/0\r\n", "x", 0, 0}};
    s3_client *c = client_for(script, 2, 5);
    cd_err err;
    cd_buf b = CD_BUF_INIT;
    s3_object_info info = {.size = 99};
    for (int i = 0; i < 2; i++) {
        assert_int_equal(s3_get(c, "empty", 0, 1000, collect, &b, &info, &err), S3_OK);
        assert_int_equal(b.len, 0);
        assert_int_equal(info.size, 0);
    }
    assert_int_equal(fake.n_got, 2);
    cd_buf_free(&b);
    done(c);
}

static void test_stall_is_retried(void **state)
{
    /* The server holds the first answer for 1 s; the client gives up on it
     * after 300 ms and retries once the server is free again (the fake
     * serves one connection at a time). */
    const fake_resp script[] = {{200, NULL, "0123456789", 2, 1000},
                                {200, NULL, "0123456789", 0, 0}};
    fake_start(&fake, script, 2);
    fake_url(&fake, url, sizeof url);
    s3_config cfg = {.endpoint = url,
                     .bucket = "b",
                     .path_style = true,
                     .access_key = "AK",
                     .secret_key = "SK",
                     .stall_timeout_ms = 300,
                     .backoff_base_ms = 3000,
                     .backoff_max_ms = 3000};
    cd_err err;
    s3_client *c = s3_client_new(&cfg, &err);
    cd_buf b = CD_BUF_INIT;
    int64_t t0 = cd_mono_ms();
    assert_int_equal(s3_get_buffer(c, "k", &b, &err), S3_OK);
    assert_string_equal(b.data, "0123456789");
    assert_int_equal(fake.n_got, 2);
    assert_non_null(strstr(fake.got[1].headers, "Range: bytes=2-"));
    assert_true(cd_mono_ms() - t0 < 10000);
    cd_buf_free(&b);
    done(c);
}

static void test_deadline(void **state)
{
    fake_resp script[FAKE_MAX];
    for (size_t i = 0; i < FAKE_MAX; i++)
        script[i] = (fake_resp){500, NULL, NULL, 0, 0};
    fake_start(&fake, script, FAKE_MAX);
    fake_url(&fake, url, sizeof url);
    s3_config cfg = {.endpoint = url,
                     .bucket = "b",
                     .path_style = true,
                     .access_key = "AK",
                     .secret_key = "SK",
                     .max_attempts = 100,
                     .deadline_ms = 400,
                     .backoff_base_ms = 50,
                     .backoff_max_ms = 100};
    cd_err err;
    s3_client *c = s3_client_new(&cfg, &err);
    int64_t t0 = cd_mono_ms();
    assert_int_equal(s3_head(c, "k", NULL, &err), S3_UNAVAILABLE);
    assert_true(cd_mono_ms() - t0 < 2000);
    assert_non_null(strstr(err.msg, "deadline"));
    assert_non_null(strstr(err.msg, "HTTP 500"));
    done(c);
}

static int list_keys(void *arg, const s3_list_entry *e)
{
    cd_buf_printf(arg, "%s|", e->key);
    return 0;
}

static void test_list_pages(void **state)
{
    const fake_resp script[] = {
        {200, NULL,
         "<ListBucketResult><IsTruncated>true</IsTruncated><Contents><Key>p/1</Key></Contents>"
         "<Contents><Key>p/2</Key></Contents><NextContinuationToken>a+b/c==</NextContinuationToken>"
         "</ListBucketResult>",
         0, 0},
        {200, NULL,
         "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>p/3</Key></Contents>"
         "</ListBucketResult>",
         0, 0}};
    s3_client *c = client_for(script, 2, 5);
    cd_err err;
    cd_buf keys = CD_BUF_INIT;
    assert_int_equal(s3_list(c, "p/", NULL, 2, list_keys, &keys, &err), S3_OK);
    assert_string_equal(keys.data, "p/1|p/2|p/3|");
    assert_string_equal(fake.got[0].target, "/b?list-type=2&max-keys=2&prefix=p%2F");
    assert_string_equal(fake.got[1].target,
                        "/b?continuation-token=a%2Bb%2Fc%3D%3D&list-type=2&max-keys=2&prefix=p%2F");
    cd_buf_free(&keys);
    done(c);
}

static int temp_file(size_t n)
{
    char path[] = "/tmp/test_s3_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    for (size_t i = 0; i < n; i++) {
        char ch = (char)('a' + i % 26);
        assert_int_equal(write(fd, &ch, 1), 1);
    }
    return fd;
}

#define INIT_OK                                                                                    \
    "<InitiateMultipartUploadResult><UploadId>id+1</UploadId></InitiateMultipartUploadResult>"

static void test_multipart(void **state)
{
    const fake_resp script[] = {{200, NULL, INIT_OK, 0, 0},
                                {200, "ETag: \"e1\"\r\n", NULL, 0, 0},
                                {200, "ETag: \"e2\"\r\n", NULL, 0, 0},
                                {200, "ETag: \"e3\"\r\n", NULL, 0, 0},
                                {200, NULL, "<Error><Code>InternalError</Code></Error>", 0, 0},
                                {200, NULL, "<CompleteMultipartUploadResult/>", 0, 0}};
    s3_client *c = client_for(script, 6, 5);
    int fd = temp_file(250);
    cd_err err;
    assert_int_equal(s3_put_fd(c, "big file", fd, 250, NULL, NULL, &err), S3_OK);
    assert_int_equal(fake.n_got, 6);
    assert_string_equal(fake.got[0].target, "/b/big%20file?uploads=");
    assert_string_equal(fake.got[0].method, "POST");
    assert_string_equal(fake.got[1].target, "/b/big%20file?partNumber=1&uploadId=id%2B1");
    assert_int_equal(fake.got[1].body_len, 100);
    assert_int_equal(fake.got[3].body_len, 50);
    assert_string_equal(fake.got[4].target, "/b/big%20file?uploadId=id%2B1");
    assert_string_equal(fake.got[5].method, "POST");
    close(fd);
    done(c);
}

static void test_multipart_abort(void **state)
{
    const fake_resp script[] = {{200, NULL, INIT_OK, 0, 0},
                                {200, "ETag: \"e1\"\r\n", NULL, 0, 0},
                                {403, NULL, ERR_403, 0, 0},
                                {204, NULL, NULL, 0, 0}};
    s3_client *c = client_for(script, 4, 5);
    int fd = temp_file(250);
    cd_err err;
    assert_int_equal(s3_put_fd(c, "k", fd, 250, NULL, NULL, &err), S3_DENIED);
    assert_non_null(strstr(err.msg, "upload-part \"k\": HTTP 403 AccessDenied"));
    assert_int_equal(fake.n_got, 4);
    assert_string_equal(fake.got[3].method, "DELETE");
    assert_string_equal(fake.got[3].target, "/b/k?uploadId=id%2B1");
    close(fd);
    done(c);
}

static void test_batch(void **state)
{
    const fake_resp script[] = {{200, NULL, NULL, 0, 0}, {404, NULL, NULL, 0, 0}};
    s3_client *c = client_for(script, 2, 5);
    s3_op ops[2] = {{.kind = S3_OP_PUT_BUFFER, .key = "a", .data = "x", .len = 1},
                    {.kind = S3_OP_HEAD, .key = "b"}};
    cd_err err;
    assert_int_equal(s3_run_batch(c, ops, 2, &err), S3_NOT_FOUND);
    assert_int_equal(ops[0].status, S3_OK);
    assert_int_equal(ops[1].status, S3_NOT_FOUND);
    assert_non_null(strstr(err.msg, "head \"b\""));
    done(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uri_encode),
        cmocka_unit_test(test_xml_error),
        cmocka_unit_test(test_xml_list),
        cmocka_unit_test(test_xml_upload_id),
        cmocka_unit_test(test_backoff),
        cmocka_unit_test(test_retryable),
        cmocka_unit_test(test_config_checks),
        cmocka_unit_test(test_config_env),
        cmocka_unit_test(test_retry_then_success),
        cmocka_unit_test(test_no_retry_on_4xx),
        cmocka_unit_test(test_persistent_5xx),
        cmocka_unit_test(test_head_not_found),
        cmocka_unit_test(test_get_resumes),
        cmocka_unit_test(test_range_ignored),
        cmocka_unit_test(test_empty_object_range),
        cmocka_unit_test(test_stall_is_retried),
        cmocka_unit_test(test_deadline),
        cmocka_unit_test(test_list_pages),
        cmocka_unit_test(test_multipart),
        cmocka_unit_test(test_multipart_abort),
        cmocka_unit_test(test_batch),
        cmocka_unit_test(test_head_refusal_explained),
        cmocka_unit_test(test_head_refusal_unexplained),
        cmocka_unit_test(test_no_such_bucket),
        cmocka_unit_test(test_wrong_region),
        cmocka_unit_test(test_hints),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
