/* SPDX-License-Identifier: MIT */
/*
 * Helpers every unit test folder may link (test_support_dep): a fresh
 * temporary folder and its removal, and a reference gzip reader (zlib's
 * own inflate, not common/gz.c) for the tests of what the project
 * compresses.  Each fails the calling cmocka test instead of returning an
 * error.  Written once here so that no test folder carries its own copy.
 */
#ifndef CONTENTD_TEST_SUPPORT_H
#define CONTENTD_TEST_SUPPORT_H

#include <stddef.h>

#include "common.h"

/* Makes a new folder /tmp/contentd-<what>-XXXXXX and writes its path into
 * dir (size bytes); fails the test when it cannot.  Remove it with
 * ts_rmtree(). */
void ts_tmpdir(char *dir, size_t size, const char *what);
/* Removes dir and everything below it (links removed, not followed). */
void ts_rmtree(const char *dir);
/* Inflates the whole gzip stream in into out (appended, NUL-terminated);
 * fails the test unless the stream is complete and valid (zlib checks the
 * CRC-32 and the length of the trailer) with nothing after it. */
void ts_gunzip(const cd_buf *in, cd_buf *out);

#endif
