/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for common/fs.c: mkdir -p (new, existing and blocked paths,
 * and the prefix it names on failure) and writing a whole buffer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"
#include "support.h"

/* A fresh temporary folder; the caller removes it with ts_rmtree(). */
static char *tmp_dir(void)
{
    char *d = cd_xstrdup("/tmp/cd-test-fs-XXXXXX");
    assert_non_null(mkdtemp(d));
    return d;
}

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static void test_mkdir_p_nested_and_existing(void **state)
{
    (void)state;
    char *d = tmp_dir();
    cd_buf p = CD_BUF_INIT;
    cd_buf_printf(&p, "%s/a/b/c", d);
    assert_int_equal(cd_mkdir_p(p.data, 0755, NULL), 0);
    assert_true(is_dir(p.data));
    assert_int_equal(cd_mkdir_p(p.data, 0755, NULL), 0); /* exists: fine */
    cd_buf_reset(&p);
    cd_buf_printf(&p, "%s/a/b/c/", d); /* a trailing '/' */
    assert_int_equal(cd_mkdir_p(p.data, 0755, NULL), 0);
    cd_buf_free(&p);
    ts_rmtree(d);
    free(d);
}

static void test_mkdir_p_blocked(void **state)
{
    (void)state;
    char *d = tmp_dir();
    cd_buf p = CD_BUF_INIT;
    cd_buf_printf(&p, "%s/file", d);
    int fd = open(p.data, O_WRONLY | O_CREAT | O_EXCL, 0644);
    assert_true(fd >= 0);
    close(fd);
    size_t prefix = strlen(p.data);
    cd_buf_puts(&p, "/x/y");
    size_t len = 0;
    assert_int_equal(cd_mkdir_p(p.data, 0755, &len), -1);
    assert_int_equal(errno, ENOTDIR);
    assert_int_equal(len, prefix + 2); /* ".../file/x" */
    cd_buf_free(&p);
    ts_rmtree(d);
    free(d);
}

static void test_mkdir_p_empty(void **state)
{
    (void)state;
    size_t len = 99;
    assert_int_equal(cd_mkdir_p("", 0755, &len), -1);
    assert_int_equal(errno, ENOENT);
    assert_int_equal(len, 0);
}

static void test_write_all(void **state)
{
    (void)state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    static const char msg[] = "hello, world";
    assert_int_equal(cd_write_all(p[1], msg, sizeof msg), 0);
    char got[sizeof msg];
    assert_int_equal(read(p[0], got, sizeof got), (ssize_t)sizeof got);
    assert_memory_equal(got, msg, sizeof msg);
    close(p[0]);
    assert_int_equal(cd_write_all(-1, msg, 1), -1);
    assert_int_equal(errno, EBADF);
    close(p[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mkdir_p_nested_and_existing),
        cmocka_unit_test(test_mkdir_p_blocked),
        cmocka_unit_test(test_mkdir_p_empty),
        cmocka_unit_test(test_write_all),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
