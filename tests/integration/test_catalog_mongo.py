# SPDX-License-Identifier: MIT
"""The MongoDB catalog (catalog/catalog_mongo*.c) through tests/mongo/
catalog_tool: the semantics of the SQLite catalog's unit tests (items,
commits, conflicts, unchanged lists, history, tokens, notifications), two
processes committing on one base, and the change-stream watcher — a commit
by one process seen by another's, resumable faults during 500 commits,
history lost, invalidation, MongoDB down at start-up and mid-run.

Every test runs against the wire-protocol test server (tests/mongo/
server.py, started here).  The tests that need no fault injection also run
against a real replica set when CONTENTD_TEST_MONGODB_URI is set, each in a
database of its own that is dropped afterwards; without it that variant is
skipped, saying so.
"""
from __future__ import annotations

import json
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from mongosupport import (MongoPeer, Tool, bson_missing, catalog_tool_missing,
                          catalog_tool_path, run_tool, fresh_db_name, real_replica_uri)
from helpers.server import clean_env


def sha(c: str) -> str:
    return c * 64


def f(path: str, c: str, size: int, ctype: str | None = None) -> str:
    return f"{path}={sha(c)}:{size}" + (f":{ctype}" if ctype else "")


def status(reply: dict) -> str:
    return reply.get("error", {}).get("status", "ok")


@dataclass
class Env:
    uri: str
    db: str
    peer: MongoPeer | None
    logs: Path
    tools: list = field(default_factory=list)

    def tool(self, name: str = "tool", uri: str | None = None, env: dict | None = None) -> Tool:
        t = Tool.mongo(uri or self.uri, self.db, self.logs, name, env)
        self.tools.append(t)
        return t

    def close(self):
        for t in self.tools:
            t.close()


@pytest.fixture(params=["wire-protocol-server", "real-replica-set"])
def mongo(request, tmp_path):
    """An empty database on the wire-protocol server, or on the replica set
    of CONTENTD_TEST_MONGODB_URI."""
    if request.param == "wire-protocol-server":
        why = catalog_tool_missing()
        if why:
            pytest.skip(why)
        peer = request.getfixturevalue("wire_peer")
        peer.up()
        peer.clear()
        env = Env(peer.uri, fresh_db_name(), peer, tmp_path)
        yield env
        env.close()
        peer.up()
        peer.clear()
        return
    uri = real_replica_uri()
    why = catalog_tool_missing()
    if why:
        pytest.skip(why)
    env = Env(uri, fresh_db_name(), None, tmp_path)
    yield env
    env.close()
    run_tool(uri, env.db, "drop-database")


def versions_seen(tool: Tool, kind: str, name: str) -> list[int]:
    return [e["version"] for e in tool.item_events(kind, name) if e["event"] == "version"]


def wait_version(tool: Tool, kind: str, name: str, v: int, timeout: float = 30):
    tool.wait_for(lambda evs: any(e["event"] == "version" and e["kind"] == kind and
                                  e["name"] == name and e["version"] >= v for e in evs),
                  timeout=timeout, what=f"{kind}/{name} version {v}")


# Items, commits, history, tokens ------------------------------------------------


def test_items(mongo):
    t = mongo.tool()
    t.ok("ping")
    t.ok("create", "tutorial", "zeta", "ann", "T")
    t.ok("create", "course", "alpha", "bob", "T")
    t.ok("create", "tutorial", "beta", "ann", "T")
    assert status(t.cmd("create", "tutorial", "beta", "x")) == "exists"
    assert status(t.cmd("create", "blog", "beta", "x")) == "error"
    assert status(t.cmd("create", "course", "Bad", "x")) == "error"
    items = t.ok("list")["items"]
    assert [(i["kind"], i["name"]) for i in items] == [
        ("course", "alpha"), ("tutorial", "beta"), ("tutorial", "zeta")]
    z = items[2]
    assert (z["owner"], z["version"], z["visibility"]) == ("ann", 0, "private")
    assert z["created_at"] > 1_600_000_000_000
    assert len(t.ok("list", "tutorial")["items"]) == 2
    t.ok("update", "tutorial", "beta", "New", "-")
    t.ok("update", "tutorial", "beta", "-", "public")
    assert status(t.cmd("update", "tutorial", "nope", "x", "-")) == "not_found"
    got = t.ok("get", "tutorial", "beta")["item"]
    assert (got["title"], got["visibility"]) == ("New", "public")
    t.ok("delete", "tutorial", "beta")
    r = t.cmd("get", "tutorial", "beta")
    assert status(r) == "not_found" and "tutorial/beta" in r["error"]["message"]
    assert status(t.cmd("delete", "tutorial", "beta")) == "not_found"


def test_commits(mongo):
    t = mongo.tool()
    t.ok("create", "tutorial", "hello", "ann")
    v1 = [f("index.md", "a", 10), f("img/a.png", "b", 20)]
    assert t.ok("commit", "tutorial", "hello", 0, *v1) == {"version": 1, "created": True}
    r = t.cmd("commit", "tutorial", "hello", 0, v1[0])
    assert status(r) == "conflict" and "is at version 1, not 0" in r["error"]["message"]
    # The same list in another order: no new version.
    assert t.ok("commit", "tutorial", "hello", 1, v1[1], v1[0]) == {"version": 1, "created": False}
    # One changed, one removed, two added.
    v2 = [f("index.md", "c", 11), f("lesson.md", "d", 1), f("z/x.bin", "e", 0)]
    assert t.ok("commit", "tutorial", "hello", 1, "title=Hello", *v2)["version"] == 2
    # A changed size alone is a change; everything removed is a version too.
    v3 = [f("index.md", "c", 12), f("lesson.md", "d", 1), f("z/x.bin", "e", 0)]
    assert t.ok("commit", "tutorial", "hello", 2, *v3)["version"] == 3
    assert t.ok("commit", "tutorial", "hello", 3)["version"] == 4

    vs = t.ok("versions", "tutorial", "hello")["versions"]
    assert [v["version"] for v in vs] == [1, 2, 3, 4]
    assert [v["files_changed"] for v in vs] == [2, 4, 1, 3]
    assert all(v["created_at"] > 0 for v in vs)
    files = t.ok("files", "tutorial", "hello", 1)["files"]
    assert [(x["path"], x["size"], x["content_type"]) for x in files] == [
        ("img/a.png", 20, "image/png"), ("index.md", 10, "text/markdown; charset=utf-8")]
    assert files[0]["sha256"] == sha("b")
    files = t.ok("files", "tutorial", "hello", 3)["files"]
    assert files[2] == {"path": "z/x.bin", "sha256": sha("e"), "size": 0,
                        "content_type": "application/octet-stream"}
    assert t.ok("files", "tutorial", "hello")["files"] == []
    assert status(t.cmd("files", "tutorial", "hello", 5)) == "not_found"
    assert status(t.cmd("files", "tutorial", "nope")) == "not_found"
    it = t.ok("get", "tutorial", "hello")["item"]
    assert (it["version"], it["title"]) == (4, "Hello")
    assert it["updated_at"] >= it["created_at"]


def test_commit_refusals(mongo):
    t = mongo.tool()
    t.ok("create", "tutorial", "hello", "ann")
    assert status(t.cmd("commit", "tutorial", "hello", 0, f("a.md", "a", 1), f("a.md", "b", 1))) == "error"
    assert status(t.cmd("commit", "tutorial", "hello", 0, f("a.md", "A", 1))) == "error"
    assert status(t.cmd("commit", "tutorial", "hello", 0, f("a.md", "a", -1))) == "error"
    assert status(t.cmd("commit", "tutorial", "nope", 0, f("a.md", "a", 1))) == "not_found"
    # An empty first push equals the empty version 0.
    assert t.ok("commit", "tutorial", "hello", 0) == {"version": 0, "created": False}
    # An explicit content type is kept.
    t.ok("commit", "tutorial", "hello", 0, f("a.md", "a", 1, "text/x-custom"))
    assert t.ok("files", "tutorial", "hello")["files"][0]["content_type"] == "text/x-custom"


def test_delete_history(mongo):
    t = mongo.tool()
    t.ok("create", "tutorial", "hello", "ann")
    t.ok("commit", "tutorial", "hello", 0, f("index.md", "a", 1))
    t.ok("delete", "tutorial", "hello")
    t.ok("create", "tutorial", "hello", "bob")
    assert t.ok("versions", "tutorial", "hello")["versions"] == []
    assert status(t.cmd("files", "tutorial", "hello", 1)) == "not_found"
    assert status(t.cmd("versions", "tutorial", "gone")) == "not_found"
    # The new incarnation goes on counting: version 1 keeps meaning the
    # deleted item's content.
    assert t.ok("commit", "tutorial", "hello", 0, f("index.md", "b", 2))["version"] == 2
    assert t.ok("files", "tutorial", "hello", 2)["files"][0]["sha256"] == sha("b")
    assert status(t.cmd("files", "tutorial", "hello", 1)) == "not_found"
    # Deleted before any push: the number it reached stays.
    t.ok("delete", "tutorial", "hello")
    t.ok("create", "tutorial", "hello", "bob")
    t.ok("delete", "tutorial", "hello")
    t.ok("create", "tutorial", "hello", "bob")
    assert t.ok("commit", "tutorial", "hello", 0, f("index.md", "c", 3))["version"] == 3


def test_persistence_and_tokens(mongo):
    t = mongo.tool("first")
    t.ok("create", "course", "c1", "ann")
    t.ok("commit", "course", "c1", 0, "title=Title", f("index.md", "a", 1))
    assert t.ok("token-count") == {"count": 0}
    t.ok("token-add", sha("7"), "ann")
    assert status(t.cmd("token-add", sha("7"), "bob")) == "exists"
    assert status(t.cmd("token-add", "abc", "bob")) == "error"
    assert status(t.cmd("token-add", sha("7"), "")) == "error"
    t.close()
    t = mongo.tool("second")  # a new process, a new connection pool
    it = t.ok("get", "course", "c1")["item"]
    assert (it["version"], it["title"]) == (1, "Title")
    assert t.ok("token-user", sha("7")) == {"user": "ann"}
    assert status(t.cmd("token-user", sha("8"))) == "not_found"
    assert t.ok("token-count") == {"count": 1}


# The same answers as the SQLite catalog -------------------------------------------

SCRIPT = [
    "watch-start",
    "create tutorial hello ann T", "create tutorial hello bob", "create course c1 bob",
    f"commit tutorial hello 0 {f('index.md', 'a', 1)} {f('img/x.png', 'b', 2)}",
    f"commit tutorial hello 0 {f('index.md', 'a', 1)}",
    f"commit tutorial hello 1 {f('img/x.png', 'b', 2)} {f('index.md', 'a', 1)}",
    f"commit tutorial hello 1 title=Hi {f('index.md', 'c', 3)}",
    f"commit tutorial hello 2 {f('index.md', 'c', 3)} {f('a.md', 'd', 4)} {f('a.md', 'e', 4)}",
    "update tutorial hello - public", "update course c1 Course -",
    "get tutorial hello", "list", "list course", "files tutorial hello 1", "files tutorial hello",
    "files tutorial hello 9", "versions tutorial hello", "versions course c1",
    f"token-add {sha('1')} ann", f"token-add {sha('1')} ann", f"token-user {sha('1')}",
    f"token-user {sha('2')}", "token-count",
    "delete course c1", "delete course c1", "create course c1 ann",
    f"commit course c1 0 {f('index.md', 'f', 5)}", "versions course c1",
    "sleep 800",
]


def run_script(tool: Tool) -> tuple[list, list]:
    replies = [tool.cmd(*line.split()) for line in SCRIPT]
    for r in replies:
        for x in r.get("items", []) + ([r["item"]] if "item" in r else []):
            x.pop("created_at"), x.pop("updated_at")
        for x in r.get("versions", []):
            x.pop("created_at")
    events = [{k: v for k, v in e.items() if k != "t"} for e in tool.events]
    return replies, events


def test_same_answers_as_sqlite(mongo, tmp_path):
    """One script, both backends: the same answers and the same
    notifications in the same order (the MongoDB ones through the watcher)."""
    sq = Tool(["--sqlite", str(tmp_path / "sqlite")], tmp_path / "sqlite.log", "sqlite")
    try:
        want = run_script(sq)
    finally:
        sq.close()
    got = run_script(mongo.tool())
    assert got[0] == want[0]
    # Per item, the same notifications in the same order.  (Across items the
    # order may differ: a local commit is announced at once, a creation when
    # the change stream brings it.)
    assert sorted(got[1], key=item_key) == sorted(want[1], key=item_key)
    assert [(e["event"], e["version"]) for e in want[1] if e["kind"] == "course"] == [
        ("created", 0), ("updated", 0), ("deleted", 0), ("created", 0), ("version", 1)]


def item_key(e: dict) -> tuple:
    return (e["kind"], e["name"])


# Two processes, one base ------------------------------------------------------------


def test_concurrent_commits_two_processes(mongo):
    t = mongo.tool()
    t.ok("create", "tutorial", "race", "ann")
    rounds, slot = 30, 80
    start = int(time.time() * 1000) + 1500
    procs = [subprocess.Popen([str(catalog_tool_path()), "--uri", mongo.uri, "--db", mongo.db,
                               "race", "tutorial", "race", str(rounds), str(slot), str(start),
                               str(tag)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=clean_env()) for tag in (1, 2)]
    outs = [p.communicate(timeout=120) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err
    lines = [[json.loads(x) for x in out.splitlines()] for out, _ in outs]
    wins = [x for side in lines for x in side if x["result"] == "ok"]
    # No two commits ever won on the same base, and every won version is kept.
    assert len({w["base"] for w in wins}) == len(wins)
    assert sorted(w["version"] for w in wins) == list(range(1, len(wins) + 1))
    contested = 0
    for a, b in zip(*lines):
        if a["base"] == b["base"]:
            contested += 1
            assert sorted((a["result"], b["result"])) == ["conflict", "ok"], (a, b)
    assert contested >= rounds // 2, f"only {contested} contested rounds"
    assert t.ok("get", "tutorial", "race")["item"]["version"] == len(wins)
    vs = t.ok("versions", "tutorial", "race")["versions"]
    assert [v["version"] for v in vs] == list(range(1, len(wins) + 1))


# The change stream ---------------------------------------------------------------------


def test_commit_seen_by_another_process(mongo):
    b = mongo.tool("watcher")
    b.ok("watch-start")
    a = mongo.tool("committer")
    a.ok("watch-start")
    a.ok("create", "tutorial", "hello", "ann")
    for v in range(3):
        a.ok("commit", "tutorial", "hello", v, f("index.md", "abc"[v], v + 1))
    a.ok("update", "tutorial", "hello", "Title", "-")
    a.ok("create", "course", "other", "bob")
    a.ok("delete", "course", "other")
    want = [("created", 0), ("version", 1), ("version", 2), ("version", 3), ("updated", 3)]
    for tool in (b, a):
        tool.wait_for(lambda evs: any(e["event"] == "deleted" for e in evs), what="the delete")
        assert [(e["event"], e["version"]) for e in tool.item_events("tutorial", "hello")] == want
        assert [e["event"] for e in tool.item_events("course", "other")] == ["created", "deleted"]
    s = b.stats()
    assert s["running"] and s["connected"]
    assert s["events"] >= 7 and s["announced"] == 7 and s["announced_local"] == 0
    assert s["lag_count"] == 3 and s["lag_ms_max"] < 5000  # each version timed
    assert a.stats()["announced_local"] >= 1  # its own commits, announced at once


def test_versions_committed_in_one_millisecond_are_all_timed(mongo):
    """Two commits in the same millisecond write the same committed_at, and
    a change stream leaves a field set to its old value out of
    updatedFields (MongoDB's delta oplog entries do, and so does the test
    server): the watcher times such a version by the commit time it already
    knows.  The committer's wall clock is frozen by libfaketime, so every
    commit has the same committed_at."""
    lib = Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1")
    if not lib.is_file():
        pytest.skip(f"{lib} is missing (Debian libfaketime; scripts/test installs it)")
    frozen = {"LD_PRELOAD": str(lib), "FAKETIME": "2026-01-01 00:00:00",
              "FAKETIME_DONT_FAKE_MONOTONIC": "1"}
    b = mongo.tool("watcher")
    b.ok("watch-start")
    a = mongo.tool("committer", env=frozen)
    a.ok("create", "tutorial", "fast", "ann")
    for v in range(3):
        a.ok("commit", "tutorial", "fast", v, f("index.md", "abc"[v], v + 1))
    b.wait_for(lambda evs: sum(e["event"] == "version" for e in evs) == 3, what="three versions")
    assert [e["version"] for e in b.item_events("tutorial", "fast") if e["event"] == "version"] == [1, 2, 3]
    assert b.stats()["lag_count"] == 3


def test_watch_stop(mongo):
    """Stopped, the watcher announces nothing from elsewhere; the process's
    own writes announce themselves again, as without a watcher."""
    b = mongo.tool("watcher")
    b.ok("watch-start")
    a = mongo.tool("committer")
    a.ok("create", "tutorial", "calm", "ann")
    b.wait_for(lambda evs: len(evs) == 1, what="the creation")
    b.ok("watch-stop")
    assert not b.stats()["running"]
    a.ok("commit", "tutorial", "calm", 0, f("index.md", "a", 1))
    b.ok("commit", "tutorial", "calm", 1, f("index.md", "b", 1))
    b.ok("sleep", 1500)
    assert [(e["event"], e["version"]) for e in b.events] == [("created", 0), ("version", 2)]


def test_resumable_faults_during_500_commits(faulty):
    """100 injected disconnects and resumable errors while 500 versions are
    committed: both watchers announce every version, once, in order."""
    peer = faulty.peer
    b = faulty.tool("watcher")
    b.ok("watch-start")
    a = faulty.tool("committer")
    a.ok("watch-start")
    a.ok("create", "tutorial", "busy", "ann")
    cs = {"command": "getMore", "changeStream": True}
    kinds = [
        [dict(action="drop", ms=20, **cs)],  # the connection dies mid-getMore
        [dict(action="error", code=6, codeName="HostUnreachable",
              labels=["ResumableChangeStreamError"], **cs)],
        [dict(action="error", code=43, codeName="CursorNotFound", **cs)],
        # No label: libmongoc gives up; the watcher's legacy code list resumes.
        [dict(action="error", code=91, codeName="ShutdownInProgress", **cs)],
        # libmongoc's own resume (and its retried read) fails too: the
        # watcher resumes after a backoff.
        [dict(action="drop", **cs),
         dict(action="drop", command="aggregate", changeStream=True, times=2)],
    ]
    injected = 0
    for i in range(500):
        if i % 5 == 0:
            for rule in kinds[(i // 5) % len(kinds)]:
                peer.fault(**rule)
            injected += 1
        a.ok("commit", "tutorial", "busy", i, f"index.md={i:064x}:{i}")
    assert injected == 100
    for tool in (a, b):
        wait_version(tool, "tutorial", "busy", 500, timeout=60)
        assert versions_seen(tool, "tutorial", "busy") == list(range(1, 501))
    # The last round's getMore rule was once left unfired 20 s after both
    # watchers had all 500 versions (a full CI run, under load): nothing
    # came to the streams after it.  One more version, which both must see,
    # shows that both streams are still alive and gives the rule a getMore.
    a.ok("commit", "tutorial", "busy", 500, f"index.md={500:064x}:500")
    for tool in (a, b):
        wait_version(tool, "tutorial", "busy", 501, timeout=60)
        assert versions_seen(tool, "tutorial", "busy") == list(range(1, 502))
    peer.wait_fired()
    # The last fault may just have fired: wait for the streams to be back.
    sa, sb = a.wait_stat("connected"), b.wait_stat("connected")
    assert sa["resyncs"] == 0 and sb["resyncs"] == 0
    # At least the 20 label-less errors reach the watcher (libmongoc absorbs
    # most others with its own resume and retried reads).
    assert sa["errors"] + sb["errors"] >= 20
    assert sa["resumes"] + sb["resumes"] >= 20


def test_history_lost_resyncs(faulty):
    """The watcher cannot resume where it was (the oplog moved on): it re-reads
    the catalog and announces where each item now is."""
    peer = faulty.peer
    b = faulty.tool("watcher")
    b.ok("watch-start")
    a = faulty.tool("committer")
    a.ok("create", "tutorial", "lost", "ann")
    a.ok("create", "tutorial", "gone", "ann")
    a.ok("commit", "tutorial", "lost", 0, f("index.md", "a", 1))
    wait_version(b, "tutorial", "lost", 1)
    # Blind the watcher, move on, and lose the history it would resume from.
    peer.fault(action="drop", command="getMore", changeStream=True, times=-1)
    peer.fault(action="drop", command="aggregate", changeStream=True, times=-1)
    time.sleep(1.5)
    for v in range(1, 6):
        a.ok("commit", "tutorial", "lost", v, f("index.md", "bcdef"[v - 1], v))
    a.ok("delete", "tutorial", "gone")
    peer.history_lost()
    peer.clear()
    wait_version(b, "tutorial", "lost", 6, timeout=30)
    b.wait_for(lambda evs: any(e["event"] == "deleted" and e["name"] == "gone" for e in evs),
               what="the delete, from the resync")
    seen = versions_seen(b, "tutorial", "lost")
    assert seen[0] == 1 and seen[-1] == 6 and seen == sorted(set(seen))
    assert b.wait_stat("resyncs")["connected"]
    # The stream works again after the resync.
    a.ok("commit", "tutorial", "lost", 6, f("index.md", "9", 7))
    wait_version(b, "tutorial", "lost", 7)


def test_history_lost_on_a_live_stream(faulty):
    b = faulty.tool("watcher")
    b.ok("watch-start")
    a = faulty.tool("committer")
    a.ok("create", "tutorial", "live", "ann")
    a.ok("commit", "tutorial", "live", 0, f("index.md", "a", 1))
    wait_version(b, "tutorial", "live", 1)
    faulty.peer.history_lost(force=True)
    a.ok("commit", "tutorial", "live", 1, f("index.md", "b", 2))
    wait_version(b, "tutorial", "live", 2)
    assert versions_seen(b, "tutorial", "live") == [1, 2]
    assert b.wait_stat("resyncs", 1)["resyncs"] == 1


def test_non_resumable_error_resyncs(faulty):
    b = faulty.tool("watcher")
    b.ok("watch-start")
    a = faulty.tool("committer")
    a.ok("create", "tutorial", "odd", "ann")
    faulty.peer.fault(action="error", command="getMore", changeStream=True, code=2,
                      codeName="BadValue", errmsg="something the watcher cannot resume from")
    for v in range(3):
        a.ok("commit", "tutorial", "odd", v, f("index.md", "abc"[v], 1))
    faulty.peer.wait_fired()
    s = b.wait_stat("resyncs", 1)
    assert s["resyncs"] == 1 and s["errors"] == 1
    a.ok("commit", "tutorial", "odd", 3, f("index.md", "d", 1))
    wait_version(b, "tutorial", "odd", 4)
    seen = versions_seen(b, "tutorial", "odd")
    assert seen == sorted(set(seen)) and seen[-1] == 4


def test_invalidate_resyncs(faulty):
    """The content collection dropped under the watcher (drop + invalidate):
    every item is announced deleted, and later changes still arrive."""
    b = faulty.tool("watcher")
    b.ok("watch-start")
    a = faulty.tool("committer")
    a.ok("create", "tutorial", "one", "ann")
    a.ok("create", "tutorial", "two", "ann")
    b.wait_for(lambda evs: len(evs) >= 2, what="two creations")
    assert faulty.peer.command(faulty.db, {"drop": "content"})["ok"] == 1
    b.wait_for(lambda evs: sum(e["event"] == "deleted" for e in evs) == 2, what="two deletions")
    a.ok("create", "tutorial", "three", "ann")
    b.wait_for(lambda evs: any(e["name"] == "three" for e in evs), what="the new item")
    assert b.stats()["resyncs"] >= 1


def test_lost_reply_of_a_commit(faulty):
    """The connection dies after the server applied the commit's update: the
    driver's retryable write, or (retryWrites=false) the commit's own check
    of the content document, still reports the one version made."""
    peer = faulty.peer
    for n, uri in enumerate([faulty.uri, faulty.uri + "&retryWrites=false"]):
        t = faulty.tool(f"committer{n}", uri=uri)
        name = f"lossy{n}"
        t.ok("create", "tutorial", name, "ann")
        peer.fault(action="drop", command="update", collection="content", when="after")
        assert t.ok("commit", "tutorial", name, 0, f("index.md", "a", 1)) == {
            "version": 1, "created": True}
        assert [v["version"] for v in t.ok("versions", "tutorial", name)["versions"]] == [1]
        assert t.ok("commit", "tutorial", name, 1, f("index.md", "b", 1))["version"] == 2


def test_orphaned_version_is_taken_over(faulty):
    """A commit that dies between its versions document and the content
    update leaves an orphan: within the lease it blocks (conflict), after it
    the next commit fences and replaces it; the item never points at it."""
    peer = faulty.peer
    t = faulty.tool()
    t.ok("create", "tutorial", "orphan", "ann")
    peer.fault(action="error", command="update", collection="content", code=11602,
               codeName="InterruptedDueToReplStateChange")
    peer.fault(action="error", command="delete", collection="versions", code=11602,
               codeName="InterruptedDueToReplStateChange")
    r = t.cmd("commit", "tutorial", "orphan", 0, f("index.md", "a", 1))
    assert status(r) == "unavailable", r
    assert t.ok("get", "tutorial", "orphan")["item"]["version"] == 0
    assert t.ok("versions", "tutorial", "orphan")["versions"] == []
    r = t.cmd("commit", "tutorial", "orphan", 0, f("index.md", "b", 2))
    assert status(r) == "conflict" and "in progress" in r["error"]["message"]
    time.sleep(5.5)  # MG_LEASE_MS
    assert t.ok("commit", "tutorial", "orphan", 0, f("index.md", "b", 2))["version"] == 1
    assert t.ok("files", "tutorial", "orphan", 1)["files"][0]["sha256"] == sha("b")


# MongoDB unreachable ----------------------------------------------------------------------


def test_unreachable_at_start(wire_peer, tmp_path):
    wire_peer.down()
    try:
        t0 = time.monotonic()
        r = run_tool(wire_peer.uri + "&serverSelectionTimeoutMS=1000", "contentd_x", "ping")
        assert r.returncode == 1
        assert f"MongoDB at 127.0.0.1:{wire_peer.port} is unreachable" in r.stderr, r.stderr
        assert "replica set rs0" in r.stderr
        assert time.monotonic() - t0 < 10
    finally:
        wire_peer.up()
    r = run_tool("http://127.0.0.1:27017/", "x", "ping")
    assert r.returncode == 1 and "invalid MongoDB URI" in r.stderr, r.stderr


def test_not_a_replica_set(tmp_path):
    why = catalog_tool_missing() or bson_missing()
    if why:
        pytest.skip(why)
    peer = MongoPeer(tmp_path, ["--standalone"]).start()
    try:
        r = run_tool(f"mongodb://127.0.0.1:{peer.port}/", "x", "ping")
        assert r.returncode == 1
        assert "is not a replica set member" in r.stderr and "--replSet" in r.stderr, r.stderr
    finally:
        peer.stop()


def test_down_mid_run(faulty):
    """Down: ping fails at once (/readyz answers 503) and commits fail as
    unavailable; back up: ping recovers, commits work, the watcher resumes."""
    peer = faulty.peer
    t = faulty.tool(uri=faulty.uri + "&serverSelectionTimeoutMS=1500")
    t.ok("watch-start")
    t.ok("create", "tutorial", "blip", "ann")
    t.ok("commit", "tutorial", "blip", 0, f("index.md", "a", 1))
    wait_version(t, "tutorial", "blip", 1)
    peer.down()
    t0 = time.monotonic()
    r = t.cmd("ping")
    assert status(r) == "unavailable", r
    assert time.monotonic() - t0 < 3
    assert status(t.cmd("commit", "tutorial", "blip", 1, f("index.md", "b", 1))) == "unavailable"
    assert status(t.cmd("ping")) == "unavailable"
    deadline = time.monotonic() + 15
    while t.stats()["connected"]:
        assert time.monotonic() < deadline, "the watcher never noticed"
        time.sleep(0.1)
    peer.up()
    deadline = time.monotonic() + 20
    while status(t.cmd("ping")) != "ok":
        assert time.monotonic() < deadline, "ping did not recover"
        time.sleep(0.2)
    assert t.ok("commit", "tutorial", "blip", 1, f("index.md", "b", 1))["version"] == 2
    wait_version(t, "tutorial", "blip", 2)
    assert versions_seen(t, "tutorial", "blip") == [1, 2]
    s = t.wait_stat("connected")
    assert s["errors"] >= 1 and s["resyncs"] == 0 and s["resumes"] >= 1
