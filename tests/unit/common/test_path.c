/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for common/path.c: the CONTRACT's content path rules, one
 * case per problem, in the order they are checked, and the bounds; and
 * the inside-the-folder test of a resolved symlink.
 * (tests/unit/cli/test_paths.c checks the client's wording of them.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common.h"

static void test_path_cases(void **state)
{
    (void)state;
    static const struct {
        const char *path;
        cd_path_problem want;
    } cases[] = {
        {"index.md", CD_PATH_OK},        {"a/b/c.png", CD_PATH_OK},
        {".hidden/x", CD_PATH_OK},       {"a/...", CD_PATH_OK},
        {"caf\xC3\xA9.md", CD_PATH_OK},  {"", CD_PATH_EMPTY},
        {"\xFF", CD_PATH_NOT_UTF8},      {"/etc/passwd", CD_PATH_ABSOLUTE},
        {"a\\b", CD_PATH_BACKSLASH},     {"a\x01", CD_PATH_CONTROL},
        {"a\x7f", CD_PATH_CONTROL},      {"a\xC2\x85", CD_PATH_CONTROL},
        {"a//b", CD_PATH_EMPTY_SEGMENT}, {"a/", CD_PATH_EMPTY_SEGMENT},
        {"./a", CD_PATH_DOT_SEGMENT},    {"a/../b", CD_PATH_DOT_SEGMENT},
        {"/\\", CD_PATH_ABSOLUTE}, /* the first problem wins */
        {"a\\\x01", CD_PATH_BACKSLASH},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(cd_path_check(cases[i].path, strlen(cases[i].path)), cases[i].want);
    assert_int_equal(cd_path_check("a\0b", 3), CD_PATH_NOT_UTF8);
}

static void test_path_length(void **state)
{
    (void)state;
    char buf[CD_PATH_MAX + 1];
    memset(buf, 'a', sizeof buf);
    assert_int_equal(cd_path_check(buf, CD_PATH_MAX), CD_PATH_OK);
    assert_int_equal(cd_path_check(buf, CD_PATH_MAX + 1), CD_PATH_TOO_LONG);
}

static void test_path_inside(void **state)
{
    (void)state;
    static const char root[] = "/home/ann/site";
    size_t n = strlen(root);
    assert_true(cd_path_inside("/home/ann/site", root, n));
    assert_true(cd_path_inside("/home/ann/site/a/b.md", root, n));
    assert_false(cd_path_inside("/home/ann/site2/a.md", root, n));
    assert_false(cd_path_inside("/home/ann", root, n));
    assert_false(cd_path_inside("/etc/passwd", root, n));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_path_cases),
        cmocka_unit_test(test_path_length),
        cmocka_unit_test(test_path_inside),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
