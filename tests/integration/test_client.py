# SPDX-License-Identifier: MIT
"""The `content` client against a real `contentd`: create, list, push, pull,
delete, as an author runs them.

Each test starts its own server (`contentd serve --listen 127.0.0.1:PORT
--data TMP`, ready once /healthz answers, polled with a deadline; skipped
with the reason when build/server/contentd is missing) and runs the client
as a child process with CONTENT_SERVER pointing at it.  What the server
holds is checked through its API, and what travelled through its
`contentd_push_bytes_total` counter (blob bytes received), never through
the client's own account of it.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from helpers import metrics
from helpers.api import Client, request, wait_until
from helpers.server import clean_env, content_binary, create_token

KIND = "tutorial"
USAGE, FAIL = 2, 1


@pytest.fixture(scope="module")
def content(content_bin) -> Path:
    return content_binary()


def run(server, *args, cwd=None, token=None, timeout=120, env=None) -> subprocess.CompletedProcess:
    """`content ARGS...` against server; stdout and stderr as text."""
    e = {"CONTENT_SERVER": server.base_url}
    if token:
        e["CONTENT_TOKEN"] = token
    e.update(env or {})
    return subprocess.run([str(content_binary()), *map(str, args)], capture_output=True,
                          cwd=cwd, env=clean_env(e), timeout=timeout,
                          encoding="utf-8", errors="surrogateescape")


def spawn(server, *args, cwd=None) -> subprocess.Popen:
    return subprocess.Popen([str(content_binary()), *map(str, args)], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=clean_env({"CONTENT_SERVER": server.base_url}),
                            encoding="utf-8", errors="surrogateescape")


def ok(p: subprocess.CompletedProcess) -> str:
    assert p.returncode == 0, f"exit {p.returncode}\nstdout: {p.stdout}\nstderr: {p.stderr}"
    return p.stdout


PROGRESS = re.compile(r"^content: (uploading|pulling): \d+/\d+ files, ")


def error_lines(stderr: str) -> list:
    """stderr without the plain progress lines a long transfer prints when
    stderr is not a terminal."""
    return [line for line in stderr.splitlines() if not PROGRESS.match(line)]


def one_line_error(p: subprocess.CompletedProcess, status: int = FAIL) -> str:
    """The run failed with `status` and said why in exactly one line of
    stderr, "content: ...", with no JSON or curl code in it."""
    assert p.returncode == status, (
        f"expected exit {status}, got {p.returncode}\nstdout: {p.stdout}\nstderr: {p.stderr}")
    lines = error_lines(p.stderr)
    assert len(lines) == 1, f"expected one line on stderr, got: {p.stderr!r}"
    line = lines[0]
    assert line.startswith("content: "), line
    assert "{" not in line and "curl" not in line.lower(), f"raw detail in error: {line}"
    return line


def index_md(name: str, title: str = "Sample", body: str = "") -> bytes:
    return f"---\nkind: {KIND}\nname: {name}\ntitle: {title}\n---\n\n# {title}\n\n{body}\n".encode()


def write_tree(root: Path, files: dict) -> Path:
    """Writes {relative path (str or bytes): bytes} under root."""
    for rel, data in files.items():
        p = Path(os.fsdecode(rel)) if isinstance(rel, bytes) else Path(rel)
        dest = root / p
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(data)
    return root


def read_tree(root: Path) -> dict:
    """{relative path: bytes} of every regular file under root."""
    out = {}
    for dirpath, _, names in os.walk(root):
        for n in names:
            p = Path(dirpath) / n
            out[p.relative_to(root).as_posix()] = p.read_bytes()
    return out


def push_bytes(server) -> float:
    """The server's count of blob bytes received by PUT /api/v1/blobs."""
    r = request(server.port, "GET", "/metrics")
    assert r.status == 200, r
    samples, _ = metrics.parse(r.body.decode())
    assert "contentd_push_bytes_total" in metrics.names(samples), \
        "the server exposes no contentd_push_bytes_total"
    return metrics.total(samples, "contentd_push_bytes_total")


def item(server, name):
    """The item as the server has it, or None when it does not exist."""
    r = Client(server.port).item(KIND, name)
    if r.status == 404:
        return None
    assert r.status == 200, r
    return r.json()


def server_files(server, name) -> dict:
    return {f["path"]: f["sha256"] for f in item(server, name)["files"]}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------------
# push and pull


def test_push_pull_round_trip_is_byte_identical(content, start_server, tmp_path):
    server = start_server()
    files = {
        "index.md": index_md("round"),
        "bin/all-bytes.bin": bytes(range(256)) * 64,
        "bin/random.bin": os.urandom(300_000),
        "a/b/c/d/deep.txt": b"deep\n",
        "ünïcødé/日本語.md": "# 日本語\n".encode(),
        "emoji 😀 and spaces.txt": b"smile",
        "empty.txt": b"",
        "crlf.txt": b"one\r\ntwo\r\n",
        ".hidden/config": b"dot",
    }
    src = write_tree(tmp_path / "src", files)
    out = ok(run(server, "push", src))
    assert "created tutorial/round (owner local)" in out
    for path in files:
        assert f"added     {path}" in out, out
    assert out.splitlines()[-1] == "version 1", out

    assert server_files(server, "round") == {p: sha(b) for p, b in files.items()}
    pulled = tmp_path / "pulled"
    out = ok(run(server, "pull", f"{KIND}/round", pulled))
    assert "version 1" in out
    assert read_tree(pulled) == files

    # A second pull finds everything up to date and downloads nothing.
    out = ok(run(server, "pull", f"{KIND}/round", pulled, "--output", "json"))
    doc = json.loads(out)
    assert doc["downloaded"] == 0 and doc["files"] == len(files), doc


def test_unchanged_push_uploads_nothing_and_a_change_only_itself(content, start_server,
                                                                   tmp_path):
    server = start_server()
    big = os.urandom(2_000_000)
    src = write_tree(tmp_path / "src", {"index.md": index_md("same"), "big.bin": big,
                                        "copy.bin": big, "small.txt": b"small\n"})
    before = push_bytes(server)
    ok(run(server, "push", src))
    first = push_bytes(server) - before
    # Two files with the same bytes are one blob: sent once.
    assert first == len(big) + len(index_md("same")) + len(b"small\n"), first

    before = push_bytes(server)
    out = ok(run(server, "push", src))
    assert push_bytes(server) == before, "an unchanged push uploaded blob bytes"
    assert "no changes" in out and "version 1" in out, out
    assert item(server, "same")["version"] == 1

    (src / "small.txt").write_bytes(b"changed\n")
    before = push_bytes(server)
    out = ok(run(server, "push", src))
    assert push_bytes(server) - before == len(b"changed\n"), "more than the changed file travelled"
    assert "  modified  small.txt" in out and out.splitlines()[-1] == "version 2", out


def test_push_reports_added_modified_removed(content, start_server, tmp_path):
    server = start_server()
    src = write_tree(tmp_path / "src", {"index.md": index_md("diff"), "keep.md": b"k",
                                        "edit.md": b"1", "gone.md": b"g"})
    ok(run(server, "push", src))
    (src / "gone.md").unlink()
    (src / "edit.md").write_bytes(b"2")
    (src / "new" / "file.md").parent.mkdir()
    (src / "new" / "file.md").write_bytes(b"n")
    doc = json.loads(ok(run(server, "push", src, "--output", "json")))
    assert doc["added"] == ["new/file.md"]
    assert doc["modified"] == ["edit.md"]
    assert doc["removed"] == ["gone.md"]
    assert (doc["base_version"], doc["version"], doc["created"]) == (1, 2, False)
    assert set(server_files(server, "diff")) == {"index.md", "keep.md", "edit.md", "new/file.md"}


def test_kind_and_name_from_flags_when_index_md_lacks_them(content, start_server, tmp_path):
    server = start_server()
    src = write_tree(tmp_path / "src", {"index.md": b"# No front matter\n"})
    one_line_error(run(server, "push", src), USAGE)
    ok(run(server, "push", src, "--kind", KIND, "--name", "flagged"))
    assert item(server, "flagged")["version"] == 1
    # Flags that contradict index.md are a usage error.
    src2 = write_tree(tmp_path / "src2", {"index.md": index_md("fm")})
    line = one_line_error(run(server, "push", src2, "--name", "other"), USAGE)
    assert "disagrees" in line
    assert item(server, "other") is None and item(server, "fm") is None


# --------------------------------------------------------------------------
# concurrent pushers


# A folder large enough that its upload over loopback lasts long enough to
# be disturbed (a few hundred milliseconds), small enough for any CI disk.
BIG_N, BIG_SIZE = 40, 2_000_000


def big_folder(root: Path, name: str, n: int = BIG_N, size: int = BIG_SIZE,
               index: bytes | None = None) -> Path:
    files = {"index.md": index or index_md(name)}
    for i in range(n):
        files[f"data/{i:03}.bin"] = os.urandom(size)
    return write_tree(root, files)


def wait_uploading(server, before: float, at_least: int, proc) -> None:
    """Waits until the server has received at_least blob bytes since
    `before` — so the push is past reading its base version."""
    wait_until(lambda: push_bytes(server) - before >= at_least or proc.poll() is not None,
               60, "the push to start uploading", interval=0.005)
    assert proc.poll() is None, "the push finished before it could be disturbed; " \
                                "make the test folder larger"


def test_concurrent_pushers_one_gets_409_then_force_succeeds(content, start_server, tmp_path):
    server = start_server()
    ok(run(server, "push", write_tree(tmp_path / "v1", {"index.md": index_md("race")})))
    slow = big_folder(tmp_path / "slow", "race")
    fast = write_tree(tmp_path / "fast", {"index.md": index_md("race", body="fast"),
                                          "fast.md": b"first!"})
    before = push_bytes(server)
    a = spawn(server, "push", slow)
    wait_uploading(server, before, 1, a)
    ok(run(server, "push", fast))  # the other pusher commits version 2 meanwhile
    out, err = a.communicate(timeout=120)
    p = subprocess.CompletedProcess(a.args, a.returncode, out, err)
    line = one_line_error(p)
    assert "someone else pushed tutorial/race (now at version 2)" in line, line
    assert "version 1" in line and "--force" in line, line
    assert server_files(server, "race") == {p: sha(b) for p, b in read_tree(fast).items()}

    before = push_bytes(server)
    out = ok(run(server, "push", slow, "--force"))
    assert out.splitlines()[-1] == "version 3", out
    assert push_bytes(server) == before, \
        "--force uploaded again the blobs the refused push had already sent"
    assert server_files(server, "race") == {p: sha(b) for p, b in read_tree(slow).items()}


def test_force_rebases_on_a_conflict(content, start_server, tmp_path):
    """--force while someone else pushes: the push commits over the version it
    finds current when its own commit is refused."""
    server = start_server()
    ok(run(server, "push", write_tree(tmp_path / "v1", {"index.md": index_md("forced")})))
    slow = big_folder(tmp_path / "slow", "forced")
    other = write_tree(tmp_path / "other", {"index.md": index_md("forced", body="other")})
    before = push_bytes(server)
    a = spawn(server, "push", slow, "--force")
    wait_uploading(server, before, 1, a)
    ok(run(server, "push", other))
    out, err = a.communicate(timeout=120)
    assert a.returncode == 0, err
    assert out.splitlines()[-1] == "version 3", out
    assert server_files(server, "forced") == {p: sha(b) for p, b in read_tree(slow).items()}


# --------------------------------------------------------------------------
# interrupted pushes


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["sigint", "sigkill"])
def test_interrupted_push_keeps_old_version_and_resumes(content, start_server, tmp_path, sig):
    server = start_server()
    old = index_md("resume", body="old")
    ok(run(server, "push", write_tree(tmp_path / "v1", {"index.md": old})))
    src = big_folder(tmp_path / "big", "resume", index=index_md("resume", body="new"))
    total = BIG_N * BIG_SIZE

    before = push_bytes(server)
    p = spawn(server, "push", src)
    wait_uploading(server, before, total // 5, p)
    p.send_signal(sig)
    out, err = p.communicate(timeout=60)
    if sig == signal.SIGINT:
        assert p.returncode == FAIL, (p.returncode, out, err)
        lines = error_lines(err)
        assert len(lines) == 1 and "interrupted" in lines[0], err
        assert "stays at version 1 (push again to resume)" in lines[0], err
    else:
        assert p.returncode == -signal.SIGKILL
    sent_first = push_bytes(server) - before
    assert 0 < sent_first < total + len(old)

    # The server still serves the old version, entirely.
    it = item(server, "resume")
    assert it["version"] == 1 and [f["path"] for f in it["files"]] == ["index.md"]
    r = Client(server.port).file(KIND, "resume", "index.md")
    assert r.status == 200 and r.body == old

    # Some blobs arrived whole; the second push sends exactly the others.
    # (An upload the server had wholly received when the client died may
    # still be landing: wait until the answer stops changing.)
    blobs = {sha(b): len(b) for b in read_tree(src).values()}

    def missing_now():
        r = Client(server.port).missing(list(blobs))
        assert r.status == 200, r
        return sorted(r.json()["missing"])

    missing = missing_now()
    for _ in range(50):
        time.sleep(0.3)
        again = missing_now()
        if again == missing:
            break
        missing = again
    assert len(missing) < len(blobs), "no blob of the interrupted push was kept"
    before = push_bytes(server)
    out = ok(run(server, "push", src))
    sent_second = push_bytes(server) - before
    assert out.splitlines()[-1] == "version 2", out
    assert sent_second == sum(blobs[s] for s in missing), \
        "the second push did not send exactly the blobs the server lacked"
    assert sent_second < total
    pulled = tmp_path / "pulled"
    ok(run(server, "pull", f"{KIND}/resume", pulled))
    assert read_tree(pulled) == read_tree(src)


def test_server_down_during_push_leaves_old_version(content, start_server, tmp_path):
    """Network loss mid-push: the client says so in one line, exit 1, and the
    server (back on the same data) is at the old version."""
    server = start_server()
    ok(run(server, "push", write_tree(tmp_path / "v1", {"index.md": index_md("netloss")})))
    src = big_folder(tmp_path / "big", "netloss")
    before = push_bytes(server)
    p = spawn(server, "push", src)
    wait_uploading(server, before, BIG_N * BIG_SIZE // 8, p)
    server.kill9()
    out, err = p.communicate(timeout=120)
    res = subprocess.CompletedProcess(p.args, p.returncode, out, err)
    line = one_line_error(res)
    assert "tutorial/netloss stays at version 1 (push again to resume)" in line, line
    assert not re.search(r"[.;:,][.;:,]", line), f"doubled punctuation: {line}"
    again = start_server(data_dir=server.data_dir, port=server.port)
    assert item(again, "netloss")["version"] == 1
    ok(run(again, "push", src))
    assert item(again, "netloss")["version"] == 2


def test_a_refused_upload_is_one_sentence_with_no_resume_advice(content, start_server, tmp_path):
    """A blob over the server's limit: the server's sentence and the push's
    own clause read as one (no ".;"), and pushing again is not suggested,
    since it would be refused the same way."""
    server = start_server(args=["--max-blob-size", "1048576"])
    src = write_tree(tmp_path / "src", {"index.md": index_md("toolarge"),
                                        "video.bin": os.urandom(1048576 + 4096)})
    line = one_line_error(run(server, "push", src))
    assert "video.bin" in line and "1 MiB" in line, line
    assert not re.search(r"[.;:,][.;:,]", line), f"doubled punctuation: {line}"
    assert "tutorial/toolarge stays at version 0" in line, line
    assert "again" not in line and "resume" not in line, line


# --------------------------------------------------------------------------
# what is pushed: ignore rules, symlinks, names


def test_push_of_a_missing_folder_says_so(content, tmp_path):
    """Not the front matter's fault: the folder is not there, and that is
    said before any server is asked (this one does not listen)."""
    class Nowhere:
        base_url = "http://127.0.0.1:1"
    for args in (["push", tmp_path / "nonexistent"], ["push", "--watch", tmp_path / "gone"]):
        line = one_line_error(run(Nowhere, *args))
        assert line == f"content: push: the folder {args[-1]} does not exist", line
    (tmp_path / "file.md").write_text("# a file\n")
    line = one_line_error(run(Nowhere, "push", tmp_path / "file.md"))
    assert f"{tmp_path / 'file.md'} is not a folder" in line, line


def test_contentignore_rules_are_honoured(content, start_server, tmp_path):
    server = start_server()
    kept = {
        "index.md": index_md("ignore"),
        "docs/guide.md": b"g",
        "docs/keep.log": b"re-included",
        "img/a.png": b"png",
        "drafts-not/x.md": b"not the drafts folder",
        "deep/a/b/page.md": b"p",
        "notes.txt": b"n",
        ".contentignore": b"",  # replaced below
    }
    ignored = {
        "debug.log": b"log",
        "docs/other.log": b"log",
        "drafts/secret.md": b"s",
        "drafts/keep.md": b"cannot be re-included: its folder is ignored",
        "sub/drafts/also.md": b"dir-only rule at any depth",
        "build/out.bin": b"anchored",
        "deep/a/b/cache/x": b"**/cache/",
        "raw/one/two/photo.psd": b"raw/**/*.psd",
        ".git/HEAD": b"ref: refs/heads/main",
        ".index.md.swp": b"vim swap",
        "notes.txt~": b"backup",
        ".#index.md": b"emacs lock",
        "4913": b"vim probe",
        "save.tmp": b"atomic save",
    }
    rules = (b"# logs, except one\n*.log\n!docs/keep.log\n\ndrafts/\n!drafts/keep.md\n"
             b"/build\n**/cache/\nraw/**/*.psd\n")
    kept[".contentignore"] = rules
    (tmp_path / "src" / "build").mkdir(parents=True)
    write_tree(tmp_path / "src", {**kept, **ignored})
    out = ok(run(server, "push", tmp_path / "src"))
    assert "drafts/" not in out and ".git" not in out, out
    pulled = tmp_path / "pulled"
    ok(run(server, "pull", f"{KIND}/ignore", pulled))
    assert sorted(read_tree(pulled)) == sorted(kept)


def test_symlink_outside_the_folder_is_refused(content, start_server, tmp_path):
    server = start_server()
    src = write_tree(tmp_path / "src", {"index.md": index_md("evil"), "docs/ok.md": b"ok"})
    (src / "docs" / "evil").symlink_to("/etc")
    before = push_bytes(server)
    line = one_line_error(run(server, "push", src))
    assert line == "content: push: docs/evil -> /etc: symlink points outside the folder", line
    assert item(server, "evil") is None, "the refused push created the item"
    assert push_bytes(server) == before

    # A file link out of the folder is refused too, relative or not.
    (src / "docs" / "evil").unlink()
    (tmp_path / "outside.txt").write_bytes(b"secret")
    (src / "docs" / "evil").symlink_to("../../outside.txt")
    line = one_line_error(run(server, "push", src))
    assert "docs/evil -> ../../outside.txt: symlink points outside the folder" in line


def test_symlink_inside_the_folder_is_followed(content, start_server, tmp_path):
    server = start_server()
    src = write_tree(tmp_path / "src", {"index.md": index_md("links"), "real/a.md": b"a"})
    (src / "alias.md").symlink_to("real/a.md")
    (src / "linked-dir").symlink_to("real")
    ok(run(server, "push", src))
    files = server_files(server, "links")
    assert files["alias.md"] == files["real/a.md"] == files["linked-dir/a.md"] == sha(b"a")


def test_bad_file_names_are_reported_before_anything_is_sent(content, start_server, tmp_path):
    server = start_server()
    src = write_tree(tmp_path / "src", {"index.md": index_md("names")})
    bad = os.fsencode(src) + b"/bad\xffname.md"
    with open(bad, "wb") as f:
        f.write(b"x")
    before = push_bytes(server)
    line = one_line_error(run(server, "push", src))
    assert "bad\\xffname.md: the name is not valid UTF-8" in line, line
    assert item(server, "names") is None and push_bytes(server) == before

    # Several: one line each, then a summary line; still nothing sent.
    (src / "tab\there.md").write_bytes(b"t")
    p = run(server, "push", src)
    assert p.returncode == FAIL
    lines = p.stderr.splitlines()
    assert len(lines) == 3 and "control character" in p.stderr, p.stderr
    assert "2 files cannot be pushed; nothing was sent" in lines[-1]
    assert item(server, "names") is None


def test_refused_names_are_shown_readably(content, start_server, tmp_path):
    """Only what cannot be shown is escaped: a control character, a byte
    that is not UTF-8.  A backslash and accented letters are shown as they are."""
    server = start_server()
    src = write_tree(tmp_path / "src", {"index.md": index_md("shown"),
                                        "leçons\\ünï.md": b"x"})
    line = one_line_error(run(server, "push", src))
    assert line == "content: push: leçons\\ünï.md: the name holds a backslash", line


# --------------------------------------------------------------------------
# dry run


def test_dry_run_changes_nothing_on_the_server(content, start_server, tmp_path):
    server = start_server()
    src = write_tree(tmp_path / "src", {"index.md": index_md("dry"), "a.md": b"a"})
    out = ok(run(server, "push", src, "--dry-run"))
    assert "would create" in out and "  added     a.md" in out, out
    assert item(server, "dry") is None, "--dry-run created the item"
    doc = json.loads(ok(run(server, "push", src, "--dry-run", "--output", "json")))
    assert (doc["dry_run"], doc["created"], doc["would_create"]) == (True, False, True), doc
    assert doc["added"] == ["a.md", "index.md"] and item(server, "dry") is None

    ok(run(server, "push", src))
    (src / "a.md").write_bytes(b"changed " * 1000)
    (src / "b.md").write_bytes(b"new")
    before = push_bytes(server)
    out = ok(run(server, "push", src, "--dry-run"))
    assert "  modified  a.md" in out and "  added     b.md" in out, out
    assert "would upload 2 files" in out, out
    assert push_bytes(server) == before, "--dry-run uploaded blob bytes"
    it = item(server, "dry")
    assert it["version"] == 1 and {f["path"] for f in it["files"]} == {"index.md", "a.md"}
    doc = json.loads(ok(run(server, "push", src, "--dry-run", "--output", "json")))
    assert (doc["created"], doc["would_create"], doc["version"]) == (False, False, 1), doc


# --------------------------------------------------------------------------
# create, list, delete


def test_create_makes_the_item_and_a_pushable_folder(content, start_server, tmp_path):
    server = start_server()
    out = ok(run(server, "create", KIND, "fresh", "--title", 'Quotes " and: colons',
                 cwd=tmp_path))
    assert "created tutorial/fresh (owner local)" in out
    index = (tmp_path / "fresh" / "index.md").read_text()
    assert "kind: tutorial\n" in index and "name: fresh\n" in index
    it = item(server, "fresh")
    assert it["version"] == 0 and it["title"] == 'Quotes " and: colons'
    out = ok(run(server, "push", tmp_path / "fresh"))
    assert out.splitlines()[-1] == "version 1"
    assert item(server, "fresh")["title"] == 'Quotes " and: colons'

    line = one_line_error(run(server, "create", KIND, "fresh", "--dir", tmp_path / "again"))
    assert "exists" in line
    # An existing index.md is never overwritten, and nothing is created then.
    line = one_line_error(run(server, "create", KIND, "other", "--dir", tmp_path / "fresh"))
    assert "already exists" in line and item(server, "other") is None


def test_list_table_and_json(content, start_server, tmp_path):
    server = start_server()
    ok(run(server, "create", "course", "c-one", "--title", "Course ünï", cwd=tmp_path))
    ok(run(server, "create", KIND, "t-longer-name", "--title", "T", cwd=tmp_path))
    lines = ok(run(server, "list")).splitlines()
    assert lines[0].split() == ["KIND", "NAME", "TITLE", "VERSION", "VISIBILITY", "OWNER",
                                "UPDATED"]
    assert len(lines) == 3
    # Aligned: every column starts at the header's offset on every line.
    for col in ["NAME", "TITLE", "VERSION", "VISIBILITY", "OWNER", "UPDATED"]:
        at = lines[0].index(col)
        for line in lines[1:]:
            assert line[at - 2:at] == "  " and line[at] != " ", (col, lines)
    assert lines[1].split()[:2] == ["course", "c-one"]
    doc = json.loads(ok(run(server, "list", "--output", "json")))
    names = {(i["kind"], i["name"]) for i in doc["items"]}
    assert names == {("course", "c-one"), (KIND, "t-longer-name")}
    assert all({"owner", "title", "visibility", "version", "updated_at"} <= set(i)
               for i in doc["items"])
    doc = json.loads(ok(run(server, "--output", "json", "list", "--kind", "course")))
    assert [i["name"] for i in doc["items"]] == ["c-one"]


def test_delete(content, start_server, tmp_path):
    server = start_server()
    ok(run(server, "create", KIND, "doomed", cwd=tmp_path))
    assert ok(run(server, "delete", f"{KIND}/doomed")).strip() == "deleted tutorial/doomed"
    assert item(server, "doomed") is None
    line = one_line_error(run(server, "delete", f"{KIND}/doomed"))
    assert "doomed" in line


def test_visibility_makes_an_item_public_then_private(content, start_server, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    alice, bob = create_token(data, "alice"), create_token(data, "bob")
    server = start_server(data_dir=data)
    ok(run(server, "create", KIND, "shown", cwd=tmp_path, token=alice))

    def bob_sees() -> bool:
        r = Client(server.port, token=bob).item(KIND, "shown")
        assert r.status in (200, 404), r
        return r.status == 200

    assert not bob_sees()
    out = ok(run(server, "visibility", f"{KIND}/shown", "public", token=alice))
    assert out == "tutorial/shown is public\n"
    assert bob_sees()
    doc = json.loads(ok(run(server, "visibility", f"{KIND}/shown", "private", "--output", "json",
                            token=alice)))
    assert (doc["kind"], doc["name"], doc["visibility"]) == (KIND, "shown", "private")
    assert not bob_sees()
    # Only the owner may: to anyone else the private item does not exist.
    line = one_line_error(run(server, "visibility", f"{KIND}/shown", "public", token=bob))
    assert "shown" in line and not bob_sees()
    line = one_line_error(run(server, "visibility", f"{KIND}/nope", "public", token=alice))
    assert "nope" in line


# --------------------------------------------------------------------------
# errors and exit statuses


def test_unreachable_server_is_one_sentence(content, tmp_path):
    class Gone:
        base_url = "http://127.0.0.1:1"
    for args in (["list"], ["pull", f"{KIND}/x", tmp_path / "x"], ["delete", f"{KIND}/x"],
                 ["create", KIND, "x", "--dir", tmp_path / "c"]):
        line = one_line_error(run(Gone, *args))
        assert line.endswith("cannot reach http://127.0.0.1:1: connection refused"), line
    src = write_tree(tmp_path / "src", {"index.md": index_md("x")})
    line = one_line_error(run(Gone, "push", src))
    assert "cannot reach http://127.0.0.1:1: connection refused" in line


@pytest.mark.parametrize("args", [
    [], ["frobnicate"], ["list", "--bogus"], ["list", "extra"], ["list", "--kind", "blog"],
    ["create"], ["create", KIND], ["create", "blog", "x"], ["create", KIND, "Bad_Name"],
    ["create", KIND, "x", "y", "z"], ["pull"], ["pull", "nokind"], ["pull", "tutorial/A"],
    ["pull", "a/b", "c", "d"], ["delete"], ["delete", "x/y"], ["push", "--bogus"],
    ["push", "a", "b"], ["push", "--watch", "--dry-run"], ["push", "--kind"],
    ["visibility"], ["visibility", "tutorial/x"], ["visibility", "tutorial/x", "hidden"],
    ["visibility", "x/y", "public"], ["visibility", "tutorial/x", "public", "extra"],
    ["--output", "yaml", "list"], ["list", "--output"], ["--server", "ftp://x", "list"],
])
def test_usage_errors_exit_2_with_one_line(content, tmp_path, args):
    class Nowhere:
        base_url = "http://127.0.0.1:1"
    p = run(Nowhere, *args, cwd=tmp_path)
    assert p.returncode == USAGE, (args, p.returncode, p.stderr)
    if args:
        one_line_error(p, USAGE)


@pytest.mark.parametrize("cmd", ["create", "list", "push", "pull", "delete", "visibility",
                                 "render"])
def test_help_for_each_command(content, cmd):
    class Nowhere:
        base_url = "http://127.0.0.1:1"
    p = run(Nowhere, cmd, "--help")
    assert p.returncode == 0 and p.stdout.startswith(f"usage: content {cmd}"), p


def test_server_refusals_are_its_message_in_one_line(content, start_server, tmp_path):
    server = start_server()
    line = one_line_error(run(server, "pull", f"{KIND}/nothing", tmp_path / "n"))
    assert "nothing" in line
    assert not (tmp_path / "n").exists(), "a failed pull created its folder"


def test_token_required_is_explained(content, start_server, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    token = create_token(data, "alice")
    server = start_server(data_dir=data)
    line = one_line_error(run(server, "list"))
    assert "--token" in line and "CONTENT_TOKEN" in line, line
    assert not re.search(r"[.;:,] ?[.;:,(]", line), f"doubled punctuation: {line}"
    ok(run(server, "list", token=token))
    src = write_tree(tmp_path / "src", {"index.md": index_md("mine")})
    out = ok(run(server, "push", src, "--token", token))
    assert "created tutorial/mine (owner alice)" in out
    line = one_line_error(run(server, "push", src, "--token", "wrong"))
    assert "--token" in line


def test_pull_never_writes_outside_the_folder(content, start_server, tmp_path):
    server = start_server()
    ok(run(server, "push", write_tree(tmp_path / "src", {"index.md": index_md("escape"),
                                                          "img/a.png": b"png"})))
    outside = tmp_path / "outside"
    outside.mkdir()
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "img").symlink_to(outside)
    line = one_line_error(run(server, "pull", f"{KIND}/escape", dest))
    assert "img" in line and "symlink" in line, line
    assert list(outside.iterdir()) == []


# --------------------------------------------------------------------------
# push --watch


def wait_version(server, name, version, deadline=20.0):
    return wait_until(lambda: (item(server, name) or {}).get("version", 0) >= version,
                      deadline, f"{name} to reach version {version}")


def stop_watch(p: subprocess.Popen) -> tuple:
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=20)
    assert p.returncode == 0, (p.returncode, err)
    return out, err


def test_watch_pushes_each_save(content, start_server, tmp_path):
    server = start_server()
    src = write_tree(tmp_path / "src", {"index.md": index_md("watched")})
    p = spawn(server, "push", "--watch", src)
    try:
        wait_version(server, "watched", 1)
        (src / "lesson.md").write_bytes(b"# Lesson\n")
        wait_version(server, "watched", 2)
        (src / ".lesson.md.swp").write_bytes(b"swap")  # ignored: no version
        (src / "lesson.md").write_bytes(b"# Lesson, edited\n")
        wait_version(server, "watched", 3)
        time.sleep(0.3)  # a quiet moment: nothing else may be pushed
        assert item(server, "watched")["version"] == 3
        assert server_files(server, "watched") == {
            "index.md": sha(index_md("watched")), "lesson.md": sha(b"# Lesson, edited\n")}
    finally:
        out, _ = stop_watch(p)
    assert out.splitlines()[-1] == "version 3", out


def test_watch_catches_up_when_the_server_returns(content, start_server, tmp_path):
    server = start_server()
    src = write_tree(tmp_path / "src", {"index.md": index_md("outage")})
    p = spawn(server, "push", "--watch", src)
    try:
        wait_version(server, "outage", 1)
        server.stop()
        (src / "during.md").write_bytes(b"written while the server was down")
        time.sleep(1.0)
        again = start_server(data_dir=server.data_dir, port=server.port)
        wait_version(again, "outage", 2)
        assert "during.md" in server_files(again, "outage")
    finally:
        _, err = stop_watch(p)
    assert "cannot reach" in err, err
