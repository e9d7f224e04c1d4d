# SPDX-License-Identifier: MIT
"""`content push --watch DIR` against a real `contentd`, with the editors'
save patterns of test_watch_server.py (helpers/watch.py): after each one the
item must equal the folder, with exactly one version per save (a few at most
for a `git checkout` of 500 files), and no temporary, swap or backup file
may ever have been published.  Also: the server killed while the author
keeps editing is reported, and the watch catches up when it returns.
"""
from __future__ import annotations

import hashlib
import re
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from helpers.api import Client, wait_until
from helpers.server import clean_env, content_binary
from helpers.watch import (DOC, Followed, atomic_save, cp_over, git, has_vim, index_md, mv,
                           real_vim_substitute, rm_r, sed_inplace, two_branches, vim_save,
                           write_tree)

DEADLINE = 20.0
KIND = "tutorial"



class Pusher:
    """`content push --watch DIR` as a child process; its stderr is read
    line by line as it comes (for the messages a test waits for)."""

    def __init__(self, server, folder: Path, env=None):
        self.proc = subprocess.Popen(
            [str(content_binary()), "push", "--watch", str(folder)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
            env=clean_env({"CONTENT_SERVER": server.base_url, **(env or {})}), text=True,
            errors="replace")
        self.err: list = []
        self.out: list = []
        self._readers = [threading.Thread(target=self._read, args=(s, d), daemon=True)
                         for s, d in ((self.proc.stderr, self.err), (self.proc.stdout, self.out))]
        for t in self._readers:
            t.start()

    @staticmethod
    def _read(stream, dest):
        for line in stream:
            dest.append(line.rstrip("\n"))

    def wait_err(self, text: str) -> str:
        def found():
            assert self.proc.poll() is None, f"push --watch exited: {self.err}"
            return next((line for line in self.err if text in line), None)
        return wait_until(found, DEADLINE, f"push --watch to say {text!r} (said {self.err})")

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        rc = self.proc.wait(timeout=DEADLINE)
        for t in self._readers:
            t.join(timeout=DEADLINE)
        return rc


class ClientWatch:
    """The folder doc/ watched by `content push --watch`, the item followed."""

    def __init__(self, start_server, tmp_path: Path, files=None, before_start=None, env=None):
        self.doc = write_tree(tmp_path / "doc", files or DOC)
        if before_start:
            before_start(self)
        self.server = start_server()
        self.pusher = Pusher(self.server, self.doc, env)
        self.item = Followed(self.server, self.doc, KIND, "doc")
        assert self.item.converge() == 1
        self.item.subscribe()

    def step(self, change, versions: int = 1) -> int:
        before = self.item.version()
        change()
        v = self.item.converge()
        assert v == before + versions, f"{v - before} versions for one change (want {versions})"
        return v

    def close(self) -> None:
        self.item.close()
        assert self.pusher.stop() == 0, self.pusher.err


@pytest.fixture
def cw(start_server, tmp_path, content_bin, contentd_bin):
    w = ClientWatch(start_server, tmp_path)
    yield w
    w.close()


@pytest.mark.parametrize("keep_swap", [False, True], ids=["vim-quit", "vim-still-open"])
def test_vim_save(cw, keep_swap):
    index = cw.doc / "index.md"
    cw.step(lambda: vim_save(index, index_md("doc", body="Saved by vim."), keep_swap))
    cw.step(lambda: vim_save(index, index_md("doc", body="Saved again."), keep_swap))
    if keep_swap:
        (cw.doc / ".index.md.swp").unlink()
    cw.step(lambda: vim_save(cw.doc / "lesson.md", b"# Lesson\n\nby vim\n"))


@pytest.mark.skipif(not has_vim(), reason="vim is not installed")
def test_real_vim_save(cw):
    cw.step(lambda: real_vim_substitute(cw.doc / "lesson.md", "old", "new"))


@pytest.mark.parametrize("style", ["hidden", "tmp", "random", "slow"])
def test_atomic_save(cw, style):
    cw.step(lambda: atomic_save(cw.doc / "lesson.md", b"# Lesson\n\natomic\n", style))
    cw.step(lambda: atomic_save(cw.doc / "images/a.png", b"\x89PNG new", style))
    cw.step(lambda: atomic_save(cw.doc / "new.md", b"# created by a save\n", style))


def test_sed_in_place(cw):
    cw.step(lambda: sed_inplace(cw.doc / "lesson.md", "s/old/sed-edited/"))


def test_cp_over(cw, tmp_path):
    src = tmp_path / "elsewhere.md"
    src.write_bytes(b"# Copied over\n" * 200)
    cw.step(lambda: cp_over(src, cw.doc / "lesson.md"))


def test_mv_in_and_out(cw, tmp_path):
    outside = tmp_path / "outside"
    write_tree(outside, {"extra.md": b"# Extra\n", "pack/one.md": b"# One\n",
                         "pack/deep/two.bin": b"\x00\x01two"})
    cw.step(lambda: mv(outside / "extra.md", cw.doc / "extra.md"))
    cw.step(lambda: mv(outside / "pack", cw.doc / "pack"))
    cw.step(lambda: mv(cw.doc / "lesson.md", outside / "lesson.md"))
    cw.step(lambda: mv(cw.doc / "pack", outside / "pack-back"))


def test_rm_r_of_a_subfolder(cw):
    cw.step(lambda: rm_r(cw.doc / "sub"))


def test_burst_of_saves_is_one_version(cw):
    def burst():
        for i in range(20):
            (cw.doc / f"page-{i}.md").write_bytes(b"# page %d\n" % i)
    cw.step(burst)


def test_git_checkout_of_500_files_is_a_few_versions(start_server, tmp_path, content_bin,
                                                     contentd_bin):
    w = ClientWatch(start_server, tmp_path, files={"index.md": index_md("doc")},
                    before_start=lambda w: two_branches(w.doc, 500))
    try:
        for branch in ("b", "a"):
            before = w.item.version()
            git(w.doc, "checkout", "-q", branch)
            v = w.item.converge()
            assert 1 <= v - before <= 3, f"checkout {branch}: {v - before} versions"
    finally:
        w.close()


def test_contentignore_rules(cw):
    cw.item.exclude = lambda rel: rel.startswith("drafts/") or (rel.endswith(".log") and
                                                                rel != "keep.log")

    def add():
        (cw.doc / ".contentignore").write_bytes(b"drafts/\n*.log\n!keep.log\n")
        write_tree(cw.doc, {"drafts/wip.md": b"# not yet\n", "x.log": b"log\n",
                            "keep.log": b"kept\n"})
    cw.step(add)
    cw.item.exclude = lambda rel: rel.endswith(".log") and rel != "keep.log"
    cw.step(lambda: (cw.doc / ".contentignore").write_bytes(b"*.log\n!keep.log\n"))
    assert "drafts/wip.md" in cw.item.server_files()


def requests_since(server, start: int) -> list:
    """The requests (method, path) the server logged after byte `start` of its log."""
    text = server.log_path.read_bytes()[start:].decode(errors="replace")
    return [(m.group(1), m.group(2)) for m in
            re.finditer(r"mod=http method=(\S+) path=(\S+)", text)]


def test_a_small_save_is_sent_with_the_commit_alone(cw):
    """After its first push, push --watch knows the version it committed and
    which blobs that version holds: a save of a small file is its upload and
    the commit, with no request to read the item back or to ask which blobs
    the server lacks."""
    def item_reads() -> int:
        return sum(1 for m, p in requests_since(cw.server, 0)
                   if m == "GET" and p == f"/api/v1/content/{KIND}/doc")

    before = item_reads()
    v = cw.item.version()
    # The server logs a request once its answer is sent: the test's own read
    # is in the log before the test's part of it is taken as ended.
    wait_until(lambda: item_reads() == before + 1, DEADLINE, "the test's own read in the log")
    start = cw.server.log_path.stat().st_size  # from here on the test itself sends nothing
    (cw.doc / "lesson.md").write_bytes(b"# Lesson\n\nsaved once\n")
    cw.item.stream_has(v + 1, DEADLINE)
    wait_until(lambda: any(m == "POST" and p.endswith("/versions")
                           for m, p in requests_since(cw.server, start)),
               DEADLINE, "the commit in the server's log")
    sent = [(m, p) for m, p in requests_since(cw.server, start) if not p.endswith("/events")]
    assert [m for m, _ in sent] == ["PUT", "POST"], sent
    assert sent[0][1].startswith("/api/v1/blobs/") and sent[1][1] == f"/api/v1/content/{KIND}/doc/versions"


SAVE_LINE = re.compile(r"level=debug mod=push msg=save item=(\S+) status=(\w+) version=(\d+) "
                       r"changed=(\w+) batches=(\S+) changes=(\S+) event_at=([\d.]+)(.*)$")


def test_debug_line_names_each_save(start_server, tmp_path, content_bin, contentd_bin):
    """With CONTENT_LOG_LEVEL=debug, each save's push writes one line: the
    version the server made, the watcher's batch, the saved file's size
    and SHA-256 as the bytes written, and its steps in order."""
    w = ClientWatch(start_server, tmp_path, env={"CONTENT_LOG_LEVEL": "debug"})
    try:
        body = b"# Lesson\n\n" + b"traced save " * 200 + b"\n"
        before = time.time() * 1e3
        v = w.step(lambda: (w.doc / "lesson.md").write_bytes(body))
        line = w.pusher.wait_err(f"msg=save item={KIND}/doc status=ok version={v} ")
        after = time.time() * 1e3
        m = SAVE_LINE.search(line)
        assert m, line
        item, status, version, changed, batches, changes, at, rest = m.groups()
        assert (item, status, int(version), changed) == (f"{KIND}/doc", "ok", v, "true")
        first, last = (int(n) for n in batches.split("-"))
        assert 1 <= first <= last, batches
        sha = hashlib.sha256(body).hexdigest()
        assert changes == f"lesson.md:{len(body)}:{sha[:12]}", changes
        steps = dict((k, float(ms)) for k, ms in re.findall(r"(\w+)_ms=([\d.]+)", rest))
        assert list(steps) == ["started", "hashed", "put", "posted"], rest
        assert 0 <= steps["started"] <= steps["hashed"] <= steps["put"] <= steps["posted"], steps
        # The first event was the test's write (both clocks are the wall
        # clock; 1 ms for the line's rounding).
        assert before - 1 <= float(at) <= after, (before, at, after)
        # The initial push answered no batch.
        assert any("version=1 changed=true batches=none " in e for e in w.pusher.err), w.pusher.err
    finally:
        w.close()


def test_no_debug_line_by_default(cw):
    cw.step(lambda: (cw.doc / "lesson.md").write_bytes(b"# Lesson\n\nquiet\n"))
    assert not any("msg=save" in e for e in cw.pusher.err), cw.pusher.err


class CountingRelay:
    """A TCP relay on a free loopback port in front of the server that
    counts the connections made through it."""

    def __init__(self, port: int):
        self.upstream = port
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            u = socket.create_connection(("127.0.0.1", self.upstream))
            for a, b in ((c, u), (u, c)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src, dst):
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self):
        self.sock.close()


def test_saves_travel_on_the_connections_already_open(start_server, tmp_path, content_bin,
                                                      contentd_bin):
    """A save's PUT and POST, and the next save's, reuse the connections the
    watch has open: after the first push, saves open no new connection."""
    doc = write_tree(tmp_path / "doc", DOC)
    server = start_server()
    relay = CountingRelay(server.port)
    pusher = Pusher(server, doc, {"CONTENT_SERVER": f"http://127.0.0.1:{relay.port}"})
    item = Followed(server, doc, KIND, "doc")
    try:
        assert item.converge() == 1
        opened = relay.accepted
        for i in range(3):
            before = item.version()
            (doc / "lesson.md").write_bytes(f"# Lesson\n\nsave {i}\n".encode() + b"x" * 2000)
            assert item.converge() == before + 1
        assert relay.accepted == opened, f"{relay.accepted - opened} connections opened by 3 saves"
    finally:
        item.close()
        assert pusher.stop() == 0, pusher.err
        relay.close()


def test_front_matter_read_again_when_it_changes(cw):
    """A save of index.md's body keeps the item; a save that changes the
    name in its front matter pushes the folder as the item it now names
    (the watch reads the front matter again only when its bytes changed)."""
    index = cw.doc / "index.md"
    cw.step(lambda: index.write_bytes(index_md("doc", body="Body edited.")))
    cw.step(lambda: index.write_bytes(index_md("doc", body="Edited again.")))
    index.write_bytes(index_md("doc-renamed", body="Renamed."))
    other = Followed(cw.server, cw.doc, KIND, "doc-renamed")
    try:
        assert other.converge() == 1
    finally:
        other.close()
    # Back to the first name, with a body-only edit after it: the old item.
    before = cw.item.version()
    index.write_bytes(index_md("doc", body="Back."))
    assert cw.item.converge() == before + 1
    cw.step(lambda: index.write_bytes(index_md("doc", body="Back, edited.")))


def test_a_push_by_someone_else_does_not_stop_the_watch(cw, tmp_path):
    """The version push --watch last committed is not current any more
    (another push came in): the next save reads the item again and commits
    the folder on the current version, as a push reading it first would."""
    other = write_tree(tmp_path / "other", {**DOC, "other.md": b"# from elsewhere\n"})
    v = cw.item.version()
    r = subprocess.run([str(content_binary()), "push", str(other)], capture_output=True, text=True,
                       env=clean_env({"CONTENT_SERVER": cw.server.base_url}), timeout=DEADLINE)
    assert r.returncode == 0, r.stderr
    wait_until(lambda: Client(cw.server.port).item_ok(KIND, "doc")["version"] == v + 1, DEADLINE,
               "the other push's version")
    cw.item.stream_has(v + 1, DEADLINE)
    start = cw.server.log_path.stat().st_size
    cw.step(lambda: (cw.doc / "lesson.md").write_bytes(b"# Lesson\n\nafter the other push\n"))
    assert cw.pusher.proc.poll() is None, cw.pusher.err
    log = cw.server.log_path.read_bytes()[start:].decode(errors="replace")
    assert re.search(r"method=POST path=/api/v1/content/tutorial/doc/versions status=409", log), \
        "the commit on the version it knew was refused first"


def test_server_killed_mid_watch_is_reported_and_caught_up(cw, start_server):
    cw.item.close()
    cw.item.stream = None
    port, data = cw.server.port, cw.server.data_dir
    cw.server.kill9()
    (cw.doc / "during.md").write_bytes(b"# written while the server was down\n")
    vim_save(cw.doc / "lesson.md", b"# Lesson\n\nsaved while the server was down\n")
    line = cw.pusher.wait_err("cannot reach")
    assert line.startswith("content: push: "), line
    again = start_server(data_dir=data, port=port)
    cw.item.server = again
    assert cw.item.converge() == 2  # both saves, in one push once it is back
    cw.step(lambda: (cw.doc / "after.md").write_bytes(b"# and the watch goes on\n"))


def test_refused_upload_waits_for_the_next_save(start_server, tmp_path, content_bin,
                                               contentd_bin):
    """A file over the server's limit: pushing the same folder again cannot
    help, so the watch says so once and waits for a save rather than
    retrying; the save that fixes the file is pushed."""
    server = start_server(args=["--max-blob-size", "1048576"])
    doc = write_tree(tmp_path / "doc", {"index.md": index_md("big"),
                                        "video.bin": b"v" * (1048576 + 1)})
    pusher = Pusher(server, doc)
    try:
        line = pusher.wait_err("video.bin")
        assert "stays at version 0" in line and "again" not in line, line
        pusher.wait_err("waiting for the next save to push again")
        (doc / "video.bin").write_bytes(b"a short video")
        wait_until(lambda: Client(server.port).item(KIND, "big").json().get("version") == 1,
                   DEADLINE, "the fixed folder to be pushed")
        refused = [e for e in pusher.err if "larger than" in e]
        assert len(refused) == 1, f"the refused upload was retried: {pusher.err}"
    finally:
        assert pusher.stop() == 0, pusher.err


def test_watched_folder_deleted_and_recreated(cw):
    rm_r(cw.doc)
    cw.pusher.wait_err("is gone")
    write_tree(cw.doc, {"index.md": index_md("doc", body="recreated"), "only.md": b"# new\n"})
    cw.pusher.wait_err("is back")
    cw.item.converge()
    assert set(cw.item.server_files()) == {"index.md", "only.md"}
