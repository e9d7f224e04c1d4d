/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for folder/: the one reader of a content folder, on trees
 * made in a temporary folder — the file list (sorted, hashed, ignore rules
 * applied, special files left out), the files that cannot be pushed
 * (reported by name, the first in err), symlinks in and out of the folder,
 * the hashes a later scan reuses, and index.md's front matter.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "folder.h"
#include "support.h"

static char root[64];

static void put(const char *rel, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    char *slash = strrchr(path, '/');
    *slash = '\0';
    assert_int_equal(cd_mkdir_p(path, 0777, NULL), 0);
    *slash = '/';
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int setup(void **state)
{
    ts_tmpdir(root, sizeof root, "folder");
    return 0;
}

static int teardown(void **state)
{
    ts_rmtree(root);
    return 0;
}

static void test_scan_lists_and_hashes(void **state)
{
    put("index.md", "---\nkind: course\nname: c1\n---\n# C\n");
    put("b/z.png", "png");
    put("a.md", "abc");
    put("notes.md~", "editor backup file");
    char fifo[512];
    snprintf(fifo, sizeof fifo, "%s/pipe", root);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    ignore_rules *ig = ignore_new(true);
    folder_tree t;
    cd_err err = {0};
    assert_int_equal(folder_scan(root, ig, NULL, &t, &err), 0);
    assert_int_equal(t.n, 3);
    assert_string_equal(t.files[0].path, "a.md");
    assert_string_equal(t.files[1].path, "b/z.png");
    assert_string_equal(t.files[2].path, "index.md");
    assert_string_equal(t.files[0].sha256,
                        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_int_equal(t.files[0].size, 3);
    assert_int_equal(t.nskipped, 1);
    assert_string_equal(t.skipped.data, "pipe\n");
    /* An unchanged file's hash is taken from the earlier scan: changing the
     * cached digest shows it was reused, not read again. */
    folder_tree again;
    t.scanned_ns += 10ll * 1000000000; /* the files are old for this scan */
    memset(t.files[1].sha256, 'f', 64);
    assert_int_equal(folder_scan(root, ig, &t, &again, &err), 0);
    assert_int_equal(again.files[1].sha256[0], 'f');
    assert_int_equal(again.files[0].sha256[0], 'b'); /* written within a second: read again */
    folder_tree_clear(&again);
    folder_tree_clear(&t);
    json_t *data = NULL;
    md_error me = {0};
    char index[512];
    snprintf(index, sizeof index, "%s/index.md", root);
    assert_int_equal(folder_front_matter(index, NULL, &data, &me, &err), 0);
    assert_string_equal(json_string_value(json_object_get(data, "kind")), "course");
    assert_string_equal(json_string_value(json_object_get(data, "name")), "c1");
    json_decref(data);
    snprintf(index, sizeof index, "%s/missing.md", root);
    assert_int_equal(folder_front_matter(index, NULL, &data, &me, &err), 0);
    assert_null(data);
    ignore_free(ig);
}

static void test_scan_refuses_by_name(void **state)
{
    put("index.md", "# x\n");
    put("ok.md", "fine");
    put("bad\\name.md", "backslash");
    char out[128], link[512];
    snprintf(out, sizeof out, "%s-secret", root);
    FILE *f = fopen(out, "w");
    fputs("secret", f);
    fclose(f);
    snprintf(link, sizeof link, "%s/leak.txt", root);
    assert_int_equal(symlink(out, link), 0);
    snprintf(link, sizeof link, "%s/inside.md", root);
    assert_int_equal(symlink("ok.md", link), 0);
    ignore_rules *ig = ignore_new(true);
    folder_tree t;
    cd_err err = {0};
    assert_int_equal(folder_scan(root, ig, NULL, &t, &err), -1);
    assert_int_equal(t.nproblems, 2);
    assert_non_null(strstr(t.problems.data, "bad\\name.md: the name holds a backslash"));
    assert_non_null(strstr(t.problems.data, "leak.txt -> "));
    assert_non_null(strstr(t.problems.data, "symlink points outside the folder"));
    assert_non_null(strstr(err.msg, "bad\\name.md")); /* the first, in walking order */
    folder_tree_clear(&t);
    remove(out);
    ignore_free(ig);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_scan_lists_and_hashes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scan_refuses_by_name, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
