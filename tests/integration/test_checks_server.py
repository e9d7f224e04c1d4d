# SPDX-License-Identifier: MIT
"""The checks on the server (docs/checks.md "On the server", CONTRACT
"Checks"): every commit runs them and stores the findings with the version,
on both catalogs (SQLite in the data folder, MongoDB through the
wire-protocol test server of tests/mongo/).  They come back in the commit's
answer, at GET …/versions/N/checks (with the visibility of the version), in
the `update` and `snapshot` events, and after `rebuild-catalog`.  An item
PATCHed to {"checks":"strict"} refuses a version with an error (422
checks_failed, with the findings) and commits nothing.
"""
from __future__ import annotations

import subprocess

import pytest

from helpers.api import Client, assert_error, wait_until
from helpers.server import clean_env, content_binary, run_contentd
from helpers.sse import SSEStream
from mongosupport import fresh_db_name

# The "done when": a broken lesson link, a missing image, a cover
# that does not exist and a task cycle.
BROKEN = {
    "index.md": ("---\nkind: challenge\nname: broken\ntitle: Broken\n"
                 "cover: __static__/cover.png\n"
                 "tasks:\n"
                 "  init_cluster:\n    needs: [verify_pod]\n    run: kind create cluster\n"
                 "  verify_pod:\n    needs: [init_cluster]\n    run: kubectl get pod\n"
                 "---\n# Broken\n\nStart with [the first lesson](01-first.md).\n").encode(),
    "01-first.md": b"# First\n\n![the diagram](images/diagram.png)\n\nThen [go on](02-second.md).\n",
}
BROKEN_FOUND = [
    ("01-first.md", 3, "error", "missing-asset"),
    ("01-first.md", 5, "error", "broken-link"),
    ("index.md", 5, "error", "missing-asset"),
    ("index.md", 7, "error", "task-cycle"),
]
CLEAN = {"index.md": b"---\nkind: challenge\nname: broken\ntitle: Clean\n---\n# Clean\n\nHello.\n"}


def places(checks: list) -> list:
    return [(f["path"], f["line"], f["severity"], f["code"]) for f in checks]


@pytest.fixture(params=["sqlite", "mongodb"])
def site(request, start_server, tmp_path):
    """A server with two users, alice and bob, on either catalog: returns
    (server, alice's Client, bob's Client, the storage flags)."""
    data = tmp_path / "data"
    data.mkdir()
    storage = ["--data", str(data)]
    if request.param == "mongodb":
        peer = request.getfixturevalue("wire_peer")
        peer.up()
        peer.clear()
        storage += ["--mongodb-uri", peer.uri, "--mongodb-db", fresh_db_name()]
    tokens = {}
    for user in ("alice", "bob"):
        p = run_contentd(["token", "create", user, *storage])
        assert p.returncode == 0, p.stderr
        tokens[user] = p.stdout.decode().split()[-1]
    s = start_server(data_dir=data, args=storage[2:])
    return s, Client(s.port, tokens["alice"]), Client(s.port, tokens["bob"]), storage


def test_commit_answers_and_stores_the_findings(site):
    s, alice, bob, _ = site
    alice.create_ok("challenge", "broken")
    r = alice.push("challenge", "broken", BROKEN)
    assert r.status == 201, r  # a finding never refuses a push (not strict)
    doc = r.json()
    assert doc["version"] == 1
    assert places(doc["checks"]) == BROKEN_FOUND
    assert all(set(f) == {"path", "line", "severity", "code", "message"} for f in doc["checks"])

    got = alice.get("/api/v1/content/challenge/broken/versions/1/checks")
    assert got.status == 200, got
    assert got.json() == {"checks": doc["checks"]}
    # An unchanged push answers the current version's findings.
    again = alice.push("challenge", "broken", BROKEN)
    assert again.status == 200 and again.json()["checks"] == doc["checks"], again

    r2 = alice.push("challenge", "broken", CLEAN)
    assert r2.status == 201 and r2.json() == {"version": 2, "created": True, "checks": []}, r2
    assert alice.get("/api/v1/content/challenge/broken/versions/2/checks").json() == {
        "checks": []}
    # Version 1 keeps its own.
    assert places(alice.get("/api/v1/content/challenge/broken/versions/1/checks")
                  .json()["checks"]) == BROKEN_FOUND


def test_checks_follow_the_visibility_of_the_version(site):
    s, alice, bob, _ = site
    alice.create_ok("challenge", "broken")
    alice.push_ok("challenge", "broken", BROKEN)
    path = "/api/v1/content/challenge/broken/versions/1/checks"
    assert_error(bob.get(path), 404, "not_found")  # private: not there for bob
    assert_error(Client(s.port).get(path), 401)
    assert alice.patch("/api/v1/content/challenge/broken", {"visibility": "public"}).status == 200
    assert places(bob.get(path).json()["checks"]) == BROKEN_FOUND
    assert_error(alice.get("/api/v1/content/challenge/broken/versions/2/checks"), 404,
                 "not_found")
    for bad in ("0", "-1", "x", "01", "99999999999999999999"):
        assert_error(alice.get(f"/api/v1/content/challenge/broken/versions/{bad}/checks"), 400,
                     "invalid_version")


def test_update_and_snapshot_events_carry_the_findings(site):
    s, alice, bob, _ = site
    alice.create_ok("challenge", "broken")
    alice.push_ok("challenge", "broken", CLEAN)
    stream = SSEStream(s.port, "/api/v1/content/challenge/broken/events", token=alice.token)
    try:
        snap = stream.wait_event(lambda e: e.event == "snapshot").json()
        assert snap["version"] == 1 and snap["checks"] == []
        alice.push_ok("challenge", "broken", BROKEN)
        up = stream.wait_event(lambda e: e.event == "update").json()
        assert up["version"] == 2
        assert places(up["checks"]) == BROKEN_FOUND
    finally:
        stream.close()
    stream = SSEStream(s.port, "/api/v1/content/challenge/broken/events", token=alice.token)
    try:
        snap = stream.wait_event(lambda e: e.event == "snapshot").json()
        assert snap["version"] == 2 and places(snap["checks"]) == BROKEN_FOUND
    finally:
        stream.close()


def test_strict_item_refuses_a_version_with_an_error(site):
    s, alice, bob, _ = site
    item = alice.create_ok("challenge", "broken")
    assert item["checks"] == "warn"  # the default
    alice.push_ok("challenge", "broken", CLEAN)
    r = alice.patch("/api/v1/content/challenge/broken", {"checks": "strict"})
    assert r.status == 200 and r.json()["checks"] == "strict", r
    assert alice.item_ok("challenge", "broken")["checks"] == "strict"

    refused = alice.push("challenge", "broken", BROKEN)
    err = assert_error(refused, 422, "checks_failed")
    assert places(err["checks"]) == BROKEN_FOUND
    assert "4 error" in err["message"]
    assert alice.item_ok("challenge", "broken")["version"] == 1  # nothing committed
    assert_error(alice.get("/api/v1/content/challenge/broken/versions/2/checks"), 404)

    # Warnings alone pass a strict item.
    warned = dict(CLEAN, **{"unused.png": b"\x89PNG\r\n\x1a\n" + bytes(32)})
    ok = alice.push("challenge", "broken", warned)
    assert ok.status == 201, ok
    assert [f["severity"] for f in ok.json()["checks"]] == ["warning"]
    # Back to "warn": the same broken version is taken, with its findings.
    assert alice.patch("/api/v1/content/challenge/broken", {"checks": "warn"}).status == 200
    back = alice.push("challenge", "broken", BROKEN)
    assert back.status == 201 and places(back.json()["checks"]) == BROKEN_FOUND, back

    for bad in ("off", "STRICT", 1, None, ["strict"]):
        assert_error(alice.patch("/api/v1/content/challenge/broken", {"checks": bad}), 400,
                     "invalid_checks")
    assert alice.item_ok("challenge", "broken")["checks"] == "warn"
    assert_error(bob.patch("/api/v1/content/challenge/broken", {"checks": "strict"}), 404)


def test_strict_refusal_reaches_content_push(site, tmp_path):
    s, alice, bob, _ = site
    alice.create_ok("challenge", "broken")
    assert alice.patch("/api/v1/content/challenge/broken", {"checks": "strict"}).status == 200
    d = tmp_path / "broken"
    for rel, data in BROKEN.items():
        (d / rel).parent.mkdir(parents=True, exist_ok=True)
        (d / rel).write_bytes(data)
    p = subprocess.run([str(content_binary()), "push", str(d)], capture_output=True, text=True,
                       env=clean_env({"CONTENT_SERVER": s.base_url, "CONTENT_TOKEN": alice.token}),
                       timeout=60)
    assert p.returncode == 1, p
    assert "strict" in p.stderr.splitlines()[-1], p.stderr
    # The findings that refused it, like a compiler's, before the error.
    shown = [ln for ln in p.stderr.splitlines() if ": error: " in ln and ln.endswith("]")]
    assert [(ln.split(":")[0], int(ln.split(":")[1])) for ln in shown] == [
        (path, line) for path, line, _, _ in BROKEN_FOUND], p.stderr
    assert alice.item_ok("challenge", "broken")["version"] == 0


def test_rebuild_catalog_keeps_the_findings_and_the_mode(site, start_server, tmp_path):
    s, alice, bob, storage = site
    if "--mongodb-uri" in storage:
        pytest.skip("rebuild-catalog fills an empty catalog: tested on SQLite, whose file "
                    "can be moved away")
    alice.create_ok("challenge", "broken")
    alice.push_ok("challenge", "broken", BROKEN)
    alice.push_ok("challenge", "broken", CLEAN)
    assert alice.patch("/api/v1/content/challenge/broken", {"checks": "strict"}).status == 200
    s.stop()
    data = storage[1]
    for f in ("catalog.db", "catalog.db-wal", "catalog.db-shm"):
        p = tmp_path / "data" / f
        if p.exists():
            p.unlink()
    p = run_contentd(["rebuild-catalog", "--data", data])
    assert p.returncode == 0, p.stderr
    s2 = start_server(data_dir=data)
    # Tokens are not in the blob store; on loopback with none, requests act
    # as "local", who does not own alice's item: make it readable through
    # a fresh token for alice.
    p = run_contentd(["token", "create", "alice", "--data", data])
    a = Client(s2.port, p.stdout.decode().split()[-1])
    assert places(a.get("/api/v1/content/challenge/broken/versions/1/checks")
                  .json()["checks"]) == BROKEN_FOUND
    assert a.get("/api/v1/content/challenge/broken/versions/2/checks").json() == {"checks": []}
    assert a.item_ok("challenge", "broken")["checks"] == "strict"


def content(server, token, *args) -> subprocess.CompletedProcess:
    return subprocess.run([str(content_binary()), *map(str, args)], capture_output=True,
                          text=True, timeout=60,
                          env=clean_env({"CONTENT_SERVER": server.base_url,
                                         "CONTENT_TOKEN": token}))


def test_done_when_push_prints_the_servers_findings_as_check_does(site, tmp_path):
    """The issue's "done when", end to end: `content push` of the broken item
    prints the four findings with file and line — the server's, as stored
    with the version — `content check` offline prints the same lines, and a
    clean item prints nothing."""
    s, alice, bob, _ = site
    d = tmp_path / "broken"
    for rel, data in BROKEN.items():
        (d / rel).parent.mkdir(parents=True, exist_ok=True)
        (d / rel).write_bytes(data)
    pushed = content(s, alice.token, "push", d)
    assert pushed.returncode == 0, pushed
    printed = [ln for ln in pushed.stderr.splitlines() if ": error: " in ln or ": warning: " in ln]
    stored = alice.get("/api/v1/content/challenge/broken/versions/1/checks").json()["checks"]
    assert places(stored) == BROKEN_FOUND
    assert printed == [f"{f['path']}:{f['line']}: {f['severity']}: {f['message']} [{f['code']}]"
                       for f in stored], pushed.stderr
    offline = content(s, alice.token, "check", d)
    assert offline.returncode == 1 and offline.stdout.splitlines() == printed, offline

    c = tmp_path / "clean"
    c.mkdir()
    (c / "index.md").write_bytes(CLEAN["index.md"].replace(b"name: broken", b"name: clean"))
    pushed = content(s, alice.token, "push", c)
    assert pushed.returncode == 0, pushed
    assert not [ln for ln in pushed.stderr.splitlines() if "error" in ln or "warning" in ln], \
        pushed.stderr
    assert alice.get("/api/v1/content/challenge/clean/versions/1/checks").json() == {"checks": []}
    assert content(s, alice.token, "check", c).stdout == ""
