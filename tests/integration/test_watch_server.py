# SPDX-License-Identifier: MIT
"""`contentd serve --watch DIR` as an author uses it: a real server watching
a temporary folder, an item followed through the API, its event stream and
the manifests of every version it ever committed (helpers/watch.py).

Each editor's save pattern is done the way the tool does it (vim's swap
file, probe and backup; atomic temp-and-rename saves; `sed -i`; `cp`; `mv`
in and out; `rm -r`; a `git checkout` rewriting 500 files), then the test
polls until the item equals the folder, checks that exactly one version per
save was made (a few at most for the checkout), and that no temporary file
was ever published.  No test sleeps blindly: every wait polls a condition
with a deadline.
"""
from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

import pytest

from helpers.api import Client, wait_until
from helpers.server import clean_env, contentd_binary
from helpers.watch import (DOC, Followed, atomic_save, cp_over, git, has_vim, index_md, mv,
                           real_vim_substitute, rm_r, sed_inplace, sha, two_branches,
                           vim_save, write_tree)

DEADLINE = 20.0
KIND = "tutorial"



class Watch:
    """A folder `w/` watched by a running server, with the item folder
    w/doc (tutorial/doc) committed and followed."""

    def __init__(self, start_server, tmp_path: Path, files=None, args=(), before_start=None,
                 env=None):
        self.tmp = tmp_path
        self.root = tmp_path / "w"
        self.doc = write_tree(self.root / "doc", files or DOC)
        if before_start:
            before_start(self)
        self.server = start_server(args=["--watch", str(self.root), *args], env=env)
        self.item = Followed(self.server, self.doc, KIND, "doc")
        wait_until(lambda: self.item.version() >= 1, DEADLINE, "the initial sync")
        self.item.converge()
        self.item.subscribe()

    def log(self) -> str:
        return self.server.log_path.read_text(errors="replace")

    def wait_log(self, text: str, count: int = 1) -> list:
        return wait_log(self.server, text, count)

    def step(self, change, versions: int = 1) -> int:
        """Runs change(), waits until the item equals the folder again, and
        checks that it took exactly `versions` new versions.  Returns the
        new version."""
        before = self.item.version()
        change()
        v = self.item.converge()
        assert v == before + versions, f"{v - before} versions for one change (want {versions})"
        return v


def wait_log(server, text: str, count: int = 1) -> list:
    """Waits until `count` lines of the server's log contain text; returns
    them."""
    def lines():
        log = server.log_path.read_text(errors="replace")
        found = [line for line in log.splitlines() if text in line]
        return found if len(found) >= count else None
    return wait_until(lines, DEADLINE, f"{count} log line(s) with {text!r}")


@pytest.fixture
def watch(start_server, tmp_path, content_bin):
    w = Watch(start_server, tmp_path)
    yield w
    w.item.close()


def item_of(server, kind, name):
    r = Client(server.port).item(kind, name)
    return r.json() if r.status == 200 else None


# --------------------------------------------------------------------------
# start-up


def test_initial_sync_commits_every_item_folder(start_server, tmp_path, content_bin):
    root = tmp_path / "w"
    write_tree(root, {
        "a/index.md": index_md("alpha"), "a/img/x.png": b"png",
        "b/index.md": b"# No front matter: tutorial/b\n",
        "c/notes.md": b"# no index.md: not an item\n",
        "d/index.md": index_md("delta", kind="challenge"),
        "e/index.md": index_md(None, kind="course"),  # name from the folder
        "README.md": b"# not in any item\n",
        ".git/HEAD": b"ref: refs/heads/main\n",
    })
    server = start_server(args=["--watch", str(root)])
    line = wait_log(server, "initial sync done")[0]
    assert "items=4" in line and "failed=0" in line, line
    items = Client(server.port).get("/api/v1/content").json()["items"]
    assert sorted((i["kind"], i["name"], i["owner"], i["version"]) for i in items) == [
        ("challenge", "delta", "local", 1), ("course", "e", "local", 1),
        ("tutorial", "alpha", "local", 1), ("tutorial", "b", "local", 1)]
    assert {f["path"] for f in item_of(server, "tutorial", "alpha")["files"]} == \
        {"index.md", "img/x.png"}
    assert item_of(server, "tutorial", "b")["title"] == "No front matter: tutorial/b"


def test_restart_commits_nothing_when_nothing_changed(start_server, tmp_path, content_bin):
    root = write_tree(tmp_path / "w", {"a/index.md": index_md("alpha")})
    first = start_server(args=["--watch", str(root)])
    wait_until(lambda: (item_of(first, KIND, "alpha") or {}).get("version") == 1, DEADLINE, "v1")
    first.stop()
    (root / "a" / "new.md").write_bytes(b"# written while contentd was stopped\n")
    again = start_server(data_dir=first.data_dir, args=["--watch", str(root)])
    f = Followed(again, root / "a", KIND, "alpha")
    assert f.converge() == 2  # the offline change, once


# --------------------------------------------------------------------------
# editors' saves


@pytest.mark.parametrize("keep_swap", [False, True], ids=["vim-quit", "vim-still-open"])
def test_vim_save(watch, keep_swap):
    index = watch.doc / "index.md"
    watch.step(lambda: vim_save(index, index_md("doc", body="Saved by vim."), keep_swap))
    assert (watch.doc / ".index.md.swp").exists() == keep_swap
    watch.step(lambda: vim_save(index, index_md("doc", body="Saved again."), keep_swap))
    if keep_swap:  # quitting vim removes the swap file: no version
        (watch.doc / ".index.md.swp").unlink()
    watch.step(lambda: vim_save(watch.doc / "lesson.md", b"# Lesson\n\nby vim\n"))


@pytest.mark.skipif(not has_vim(), reason="vim is not installed")
def test_real_vim_save(watch):
    watch.step(lambda: real_vim_substitute(watch.doc / "lesson.md", "old", "new"))
    assert b"new text" in (watch.doc / "lesson.md").read_bytes()


@pytest.mark.parametrize("style", ["hidden", "tmp", "random", "slow"])
def test_atomic_save(watch, style):
    watch.step(lambda: atomic_save(watch.doc / "lesson.md", b"# Lesson\n\natomic\n", style))
    watch.step(lambda: atomic_save(watch.doc / "images/a.png", b"\x89PNG new", style))
    watch.step(lambda: atomic_save(watch.doc / "new.md", b"# created by a save\n", style))


def test_sed_in_place(watch):
    watch.step(lambda: sed_inplace(watch.doc / "lesson.md", "s/old/sed-edited/"))
    assert b"sed-edited" in (watch.doc / "lesson.md").read_bytes()


def test_cp_over(watch, tmp_path):
    src = tmp_path / "elsewhere.md"
    src.write_bytes(b"# Copied over\n" * 200)
    watch.step(lambda: cp_over(src, watch.doc / "lesson.md"))


def test_mv_in_and_out(watch, tmp_path):
    outside = tmp_path / "outside"
    write_tree(outside, {"extra.md": b"# Extra\n", "pack/one.md": b"# One\n",
                         "pack/deep/two.bin": b"\x00\x01two"})
    watch.step(lambda: mv(outside / "extra.md", watch.doc / "extra.md"))
    watch.step(lambda: mv(outside / "pack", watch.doc / "pack"))
    assert {"pack/one.md", "pack/deep/two.bin"} <= set(watch.item.server_files())
    watch.step(lambda: mv(watch.doc / "lesson.md", outside / "lesson.md"))
    watch.step(lambda: mv(watch.doc / "pack", outside / "pack-back"))
    watch.step(lambda: mv(watch.doc / "extra.md", watch.doc / "renamed.md"))


def test_rm_r_of_a_subfolder(watch):
    watch.step(lambda: rm_r(watch.doc / "sub"))
    assert not any(p.startswith("sub/") for p in watch.item.server_files())


def test_burst_of_saves_is_one_version(watch):
    def burst():
        for i in range(20):
            (watch.doc / f"page-{i}.md").write_bytes(b"# page %d\n" % i)
        (watch.doc / "lesson.md").write_bytes(b"# Lesson\n\nrewritten in the burst\n")
    watch.step(burst)


def test_git_checkout_of_500_files_is_a_few_versions(start_server, tmp_path, content_bin):
    w = Watch(start_server, tmp_path, files={"index.md": index_md("doc")},
              before_start=lambda w: two_branches(w.doc, 500))
    try:
        assert len(w.item.server_files()) == 501
        for branch in ("b", "a", "b"):
            before = w.item.version()
            git(w.doc, "checkout", "-q", branch)
            v = w.item.converge()
            assert 1 <= v - before <= 3, f"checkout {branch}: {v - before} versions"
        assert all(b"branch b" in p.read_bytes() for p in (w.doc / "pages").iterdir())
    finally:
        w.item.close()


# --------------------------------------------------------------------------
# ignore rules


def test_contentignore_rules(watch):
    watch.item.exclude = lambda rel: (rel.startswith("drafts/") or
                                      (rel.endswith(".log") and rel != "keep.log"))

    def add():
        (watch.doc / ".contentignore").write_bytes(b"drafts/\n*.log\n!keep.log\n")
        write_tree(watch.doc, {"drafts/wip.md": b"# not yet\n", "x.log": b"log\n",
                               "keep.log": b"kept\n", "build~": b"backup\n",
                               "#lesson.md#": b"emacs\n", ".#lesson.md": b"lock\n"})
    watch.step(add)
    assert ".contentignore" in watch.item.server_files()
    assert "drafts/wip.md" not in watch.item.server_files()
    # a rule dropped: what it hid is published, and watched from now on
    watch.item.exclude = lambda rel: rel.endswith(".log") and rel != "keep.log"
    watch.step(lambda: (watch.doc / ".contentignore").write_bytes(b"*.log\n!keep.log\n"))
    assert "drafts/wip.md" in watch.item.server_files()
    watch.step(lambda: (watch.doc / "drafts/wip.md").write_bytes(b"# ready\n"))
    for paths in watch.item.manifests().values():
        assert "x.log" not in paths and "build~" not in paths


# --------------------------------------------------------------------------
# diagnosing a save: the per-save debug line (docs/watch.md)

FIELD = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|\S+)')


def fields(line: str) -> dict:
    return {k: v[1:-1] if v.startswith('"') else v for k, v in FIELD.findall(line)}


def logged(watch, text: str, version: int) -> dict:
    """The fields of the log line with text for version, once written."""
    def find():
        for line in watch.log().splitlines():
            f = fields(line)
            if text in line and f.get("version") == str(version):
                return f
        return None
    return wait_until(find, DEADLINE, f"a log line with {text!r} for version {version}")


def test_each_save_logs_what_it_committed_and_when(start_server, tmp_path, content_bin):
    w = Watch(start_server, tmp_path, env={"CONTENTD_LOG_LEVEL": "debug"})
    try:
        body = index_md("doc", body="saved once more")
        before = time.time() * 1000
        v = w.step(lambda: (w.doc / "index.md").write_bytes(body))
        after = time.time() * 1000
        f = logged(w, "msg=save", v)
        assert (f["level"], f["item"], f["status"], f["changed"]) == \
            ("debug", "tutorial/doc", "ok", "true"), f
        assert f["changes"] == f"index.md:{len(body)}:{sha(body)[:12]}", f
        first, last = (int(x) for x in f["batches"].split("-"))
        assert 1 <= first <= last, f
        # the first inotify event of the save, on the wall clock
        assert before - 5 <= float(f["event_at"]) <= after, (before, f, after)
        steps = [float(f[k]) for k in ("delivered_ms", "taken_ms", "item_ms", "scanned_ms",
                                       "stored_ms", "committed_ms")]
        assert steps == sorted(steps) and steps[0] >= 0, f
        assert float(f["event_at"]) + steps[-1] <= after + 5, (f, after)
        q = logged(w, 'msg="update queued"', v)
        assert (q["item"], q["updated"], q["closed"]) == ("tutorial/doc", "1", "0"), q
        assert float(f["event_at"]) + steps[-1] <= float(q["at"]) + 1, (f, q)
        # a removed file, and a save of the same bytes (no version)
        v = w.step(lambda: (w.doc / "lesson.md").unlink())
        assert logged(w, "msg=save", v)["changes"] == "-lesson.md"
        (w.doc / "index.md").write_bytes(body)
        same = wait_until(lambda: [fields(x) for x in w.log().splitlines()
                                   if "msg=save" in x and "changed=false" in x] or None,
                          DEADLINE, "the save of the same bytes")
        assert same[0]["version"] == str(v) and same[0]["changes"] == "", same
    finally:
        w.item.close()


def test_the_per_save_line_is_not_written_by_default(watch):
    v = watch.step(lambda: (watch.doc / "lesson.md").write_bytes(b"# Lesson\n\nnew\n"))
    watch.wait_log(f"version={v} changed=true")
    assert "msg=save" not in watch.log() and "update queued" not in watch.log()


# --------------------------------------------------------------------------
# failures are logged and retried; the watch goes on


def test_bad_front_matter_is_refused_then_fixed_by_the_next_save(watch):
    v = watch.item.version()
    (watch.doc / "index.md").write_bytes(b"---\nname: [unclosed\n---\n# Bad\n")
    line = watch.wait_log("commit refused")[0]
    assert "item=tutorial/doc" in line and "index.md: line" in line, line
    assert len([x for x in watch.log().splitlines() if "commit refused" in x]) == 1
    assert watch.item.version() == v
    watch.server.assert_alive()
    watch.step(lambda: (watch.doc / "index.md").write_bytes(index_md("doc", body="fixed")))


def test_strict_item_refuses_an_error_until_the_next_save_fixes_it(watch):
    api = Client(watch.server.port)
    assert api.patch("/api/v1/content/tutorial/doc", {"checks": "strict"}).status == 200
    v = watch.item.version()
    (watch.doc / "lesson.md").write_bytes(b"# Lesson\n\nOn to [the next](gone.md).\n")
    line = watch.wait_log("commit refused")[0]
    assert "item=tutorial/doc" in line and "strict" in line, line
    assert "commit failed; retrying" not in watch.log()  # only a save can fix it
    assert watch.item.version() == v
    watch.step(lambda: (watch.doc / "lesson.md").write_bytes(b"# Lesson\n\nAll here.\n"))


def test_bad_markdown_file_name_is_refused(watch):
    v = watch.item.version()
    (watch.doc / "bad\\name.md").write_bytes(b"# backslash\n")
    line = watch.wait_log("commit refused")[0]
    assert "backslash" in line, line
    (watch.doc / "bad\\name.md").unlink()
    watch.step(lambda: (watch.doc / "lesson.md").write_bytes(b"# fine again\n"))
    assert watch.item.version() == v + 1


def test_store_failure_is_retried_without_another_save(watch):
    blobs = watch.server.data_dir / "blobs"
    data = next(d for d in (b"# Lesson\n\nstored later, take %d\n" % i for i in range(1000))
                if not any((blobs / sha(d)[:2]).iterdir()))  # an empty blob folder
    blocker = blobs / sha(data)[:2]
    blocker.rmdir()
    blocker.write_bytes(b"a file where the blob store needs a folder")
    v = watch.item.version()
    (watch.doc / "lesson.md").write_bytes(data)
    line = watch.wait_log("commit failed; retrying")[0]
    assert "item=tutorial/doc" in line and "retry_in_ms=" in line, line
    assert watch.item.version() == v
    blocker.unlink()
    assert watch.item.converge() == v + 1  # no save since: the retry did it


def test_symlink_out_of_the_folder_is_refused(watch, tmp_path):
    (tmp_path / "secret.txt").write_bytes(b"secret\n")
    (watch.doc / "leak.txt").symlink_to(tmp_path / "secret.txt")
    line = watch.wait_log("commit refused")[0]
    assert "leak.txt" in line and "outside" in line, line
    (watch.doc / "leak.txt").unlink()
    (watch.doc / "inside.md").symlink_to(watch.doc / "lesson.md")  # followed
    watch.item.converge()
    assert watch.item.server_files()["inside.md"] == sha((watch.doc / "lesson.md").read_bytes())


# --------------------------------------------------------------------------
# item folders come and go


def test_new_item_folder_and_removed_item_folder(watch, tmp_path):
    new = Followed(watch.server, watch.root / "fresh", KIND, "fresh")
    write_tree(watch.root / "fresh", {"index.md": index_md("fresh"), "a.md": b"# A\n"})
    assert new.converge() == 1
    # a folder moved in from elsewhere is an item too
    write_tree(tmp_path / "elsewhere", {"index.md": index_md("moved"), "b.md": b"# B\n"})
    mv(tmp_path / "elsewhere", watch.root / "moved")
    assert Followed(watch.server, watch.root / "moved", KIND, "moved").converge() == 1
    # removed: the item stays as it was, and the log says so
    rm_r(watch.root / "fresh")
    watch.wait_log("the item is kept")
    assert item_of(watch.server, KIND, "fresh")["version"] == 1
    # a folder that gains its index.md later
    write_tree(watch.root / "later", {"notes.md": b"# not an item yet\n"})
    (watch.root / "later" / "index.md").write_bytes(index_md("later"))
    assert Followed(watch.server, watch.root / "later", KIND, "later").converge() == 1
    # the other item was never disturbed
    assert watch.item.version() == 1


def test_a_front_matter_naming_another_item_moves_the_folder_and_back(watch):
    # the item is read from index.md's front matter on every save that
    # changes it; saves that leave it as it was keep the item it names
    watch.doc.joinpath("index.md").write_bytes(index_md("renamed", body="moved"))
    renamed = Followed(watch.server, watch.doc, KIND, "renamed")
    assert renamed.converge() == 1
    watch.wait_log("folder names another item now")
    (watch.doc / "lesson.md").write_bytes(b"# Lesson\n\nnew text\n")
    assert renamed.converge() == 2
    watch.doc.joinpath("index.md").write_bytes(index_md("renamed", body="only the body"))
    assert renamed.converge() == 3
    watch.doc.joinpath("index.md").write_bytes(index_md("doc", kind="course", body="a course"))
    course = Followed(watch.server, watch.doc, "course", "doc")
    assert course.converge() == 1
    watch.doc.joinpath("index.md").write_bytes(index_md("doc", body="back"))
    assert watch.item.converge() == 2
    assert item_of(watch.server, KIND, "renamed")["version"] == 3
    assert item_of(watch.server, "course", "doc")["version"] == 1


def test_two_folders_naming_one_item(watch):
    write_tree(watch.root / "copy", {"index.md": index_md("doc", body="a copy")})
    line = watch.wait_log("commit refused")[0]
    assert "already watched" in line and "doc" in line, line
    assert watch.item.version() == 1


def test_watched_folder_deleted_and_recreated(watch):
    rm_r(watch.root)
    watch.wait_log("watched folder is gone")
    write_tree(watch.doc, {"index.md": index_md("doc", body="recreated"), "only.md": b"# new\n"})
    watch.wait_log("watched folder is back")
    watch.item.converge()
    assert set(watch.item.server_files()) == {"index.md", "only.md"}
    watch.step(lambda: (watch.doc / "only.md").write_bytes(b"# edited after\n"))
    watch.server.assert_alive()


def test_folder_with_its_own_index_md_is_one_item(start_server, tmp_path, content_bin):
    root = write_tree(tmp_path / "course", {
        "index.md": index_md("whole", kind="course"), "01.md": b"# One\n",
        "part/index.md": index_md("part"), ".git/config": b"[core]\n"})
    server = start_server(args=["--watch", str(root)])
    whole = Followed(server, root, "course", "whole")
    wait_until(lambda: whole.version() >= 1, DEADLINE, "the initial sync")
    whole.subscribe()
    whole.converge()
    assert set(whole.server_files()) == {"index.md", "01.md", "part/index.md"}
    assert item_of(server, KIND, "part") is None
    before = whole.version()
    vim_save(root / "part" / "index.md", b"# Part, edited\n")
    assert whole.converge() == before + 1
    whole.close()


def test_several_watched_folders(start_server, tmp_path, content_bin):
    one = write_tree(tmp_path / "one", {"a/index.md": index_md("a1")})
    two = write_tree(tmp_path / "two", {"b/index.md": index_md("b2")})
    server = start_server(args=["--watch", str(one), "--watch", str(two),
                                "--watch-quiet-ms", "20", "--watch-max-delay-ms", "200"])
    a = Followed(server, one / "a", KIND, "a1")
    b = Followed(server, two / "b", KIND, "b2")
    assert a.converge() == 1 and b.converge() == 1
    (two / "b" / "x.md").write_bytes(b"# x\n")
    assert b.converge() == 2 and a.version() == 1
    assert "quiet_ms=20 max_delay_ms=200" in server.log_path.read_text()


# --------------------------------------------------------------------------
# the command line


def serve(*args, env=None):
    return subprocess.run([str(contentd_binary()), "serve", "--listen", "127.0.0.1:0", *args],
                          capture_output=True, text=True, timeout=30, env=clean_env(env))


@pytest.mark.parametrize("args,env", [
    (["--watch", "/nonexistent/folder"], None),
    (["--watch-quiet-ms", "0"], None),
    (["--watch-max-delay-ms", "soon"], None),
    ([], {"CONTENTD_WATCH_QUIET_MS": "-5"}),
])
def test_bad_watch_arguments_are_usage_errors(contentd_bin, tmp_path, args, env):
    p = serve("--data", str(tmp_path / "d"), *args, env=env)
    assert p.returncode == 2, (p.returncode, p.stderr)
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("contentd: "), p.stderr


def test_data_folder_inside_a_watched_folder_is_refused(contentd_bin, tmp_path):
    (tmp_path / "w").mkdir()
    p = serve("--data", str(tmp_path / "w" / "data"), "--watch", str(tmp_path / "w"))
    assert p.returncode == 1, (p.returncode, p.stderr)
    assert "data folder" in p.stderr.strip().splitlines()[-1], p.stderr
