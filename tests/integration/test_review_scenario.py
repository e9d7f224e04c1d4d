# SPDX-License-Identifier: MIT
"""Issue 15's "done when", end to end, on both catalogs (SQLite, and MongoDB
through the wire-protocol test server tests/mongo/server.py), through the
`content` client wherever it has the command and the HTTP API otherwise:

an owner (alice) publishes v3 of a public tutorial and keeps pushing v4–v6
while a reader (eve) still sees v3 — the item, its history, its files, its
AST, her preview page in Chromium, and no update on her event stream —;
invites a reviewer (bob) who comments on a paragraph of v5; sends a share
link of v5 that works without an account and only for v5; gets the diff
between v3 and v6 from the API, from `content diff` and in her preview page
(the "changes since version 3" view marks the changed blocks); and
publishes v6 — then the reader sees v6 and gets `update` and `published`.

Every wait polls with a deadline.  The Chromium parts skip, saying why, when
Chromium cannot start (see test_preview.py, whose fixtures this uses).
"""
from __future__ import annotations

import json
import subprocess

import pytest

from helpers import server as srv
from helpers.api import Client, assert_error, render_ast
from helpers.server import clean_env, content_binary
from helpers.sse import SSEStream
from mongosupport import MongoPeer, bson_missing, fresh_db_name
from test_preview import (browsers, content_text, js, open_preview, preview_url,  # noqa: F401
                          version, wait_for)

DEADLINE = 10.0
KIND, NAME = "tutorial", "done-when"
ITEM = f"{KIND}/{NAME}"
BASE = f"/api/v1/content/{KIND}/{NAME}"
COMMENTED = "review-notes/p-1"  # the paragraph bob comments on (docs/review.md "Blocks")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 24


def version_files(v: int) -> dict:
    """Version v of the tutorial.  The introduction never changes; the step
    text changes in every version; v4 adds an image, v5 a section whose
    first paragraph is the one commented on (unchanged in v6), v6 a second
    paragraph in it."""
    body = ["# Guide", "", "Stable introduction.", "", "## Steps", "",
            f"This is the step text of version {v}."]
    if v >= 5:
        body += ["", "## Review notes", "", "A paragraph the reviewer reads closely."]
    if v >= 6:
        body += ["", "Final words of version six."]
    files = {"index.md": ("---\ntitle: Guide\n---\n\n" + "\n".join(body) + "\n").encode()}
    if v >= 4:
        files["img/shot.png"] = PNG
    return files


@pytest.fixture(params=["sqlite", "mongodb"])
def env(request, start_server, tmp_path):
    """A server on the SQLite or the MongoDB catalog and the tokens of
    alice (owner), bob (reviewer-to-be) and eve (a reader)."""
    storage = []
    peer = None
    if request.param == "mongodb":
        why = bson_missing()
        if why:
            pytest.skip(why)
        (tmp_path / "mongo").mkdir()
        peer = MongoPeer(tmp_path / "mongo").start()
        storage = ["--mongodb-uri", peer.uri, "--mongodb-db", fresh_db_name()]
    data = tmp_path / "data"
    data.mkdir()
    tokens = {}
    for u in ("alice", "bob", "eve"):
        p = srv.run_contentd(["token", "create", u, "--data", str(data), *storage])
        assert p.returncode == 0, p.stderr.decode()
        tokens[u] = p.stdout.decode().split()[-1]
    s = start_server(data, args=storage)
    yield s, tokens
    s.stop()
    if peer:
        peer.stop()


def content(server, token, *args, cwd=None) -> str:
    """`content ARGS…` as the holder of token; its standard output (exit 0
    asserted)."""
    p = subprocess.run([str(content_binary()), *map(str, args)], capture_output=True,
                       cwd=cwd, timeout=120, encoding="utf-8",
                       env=clean_env({"CONTENT_SERVER": server.base_url, "CONTENT_TOKEN": token}))
    assert p.returncode == 0, f"content {' '.join(map(str, args))}: exit {p.returncode}\n" \
                              f"stdout: {p.stdout}\nstderr: {p.stderr}"
    return p.stdout


def push_version(server, token, folder, v: int) -> None:
    for old in sorted(folder.rglob("*"), reverse=True):
        if old.is_file():
            old.unlink()
    for path, data in version_files(v).items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_bytes(data)
    content(server, token, "push", folder, "--kind", KIND, "--name", NAME)


def reader_sees(api: Client, v: int) -> None:
    """What a reader of the published version v gets over the API."""
    item = api.item_ok(KIND, NAME)
    assert (item["version"], item["published_version"]) == (v, v), item
    history = api.get(BASE + "/versions").json()
    assert max(h["version"] for h in history) == v, history
    r = api.file(KIND, NAME, "index.md")
    assert r.status == 200 and r.body == version_files(v)["index.md"], r
    ast = api.get(BASE + "/ast/index.md")
    assert ast.status == 200 and ast.json() == render_ast(version_files(v)["index.md"])
    assert_error(api.file(KIND, NAME, "index.md", version=v + 1), 404)


def next_past_publish_of(stream: SSEStream, v: int):
    """The stream's next event, past `published` events of version v: the
    publish of v that came just before the stream opened may reach it
    after its snapshot (the hub applies each change as the catalog
    announces it, on MongoDB through the change stream)."""
    while True:
        ev = stream.next_event(DEADLINE)
        if ev.event != "published" or ev.json().get("published_version") != v:
            return ev


def page_shows(driver, v: int) -> bool:
    return version(driver) == v and f"step text of version {v}." in content_text(driver)


def marked(driver, index: int, op: str) -> bool:
    """Whether block `index` of the shown document carries the diff view's
    mark for op (web/changes.js: class cp-diff-OP)."""
    return js(driver, "const b = document.querySelector('.cp-content').childNodes[arguments[0]];"
                      "return !!b && b.nodeType === 1 && b.classList.contains(arguments[1])",
              index, f"cp-diff-{op}")


def test_publish_review_share_diff_and_publish_again(env, browsers, tmp_path):  # noqa: F811
    s, tokens = env
    alice, bob, eve = (Client(s.port, tokens[u]) for u in ("alice", "bob", "eve"))
    folder = tmp_path / "guide"
    folder.mkdir()

    # v1–v3 pushed with the client, the item made public, v3 published.
    for v in (1, 2, 3):
        push_version(s, tokens["alice"], folder, v)
    content(s, tokens["alice"], "visibility", ITEM, "public")
    out = json.loads(content(s, tokens["alice"], "publish", ITEM, "3", "--output", "json"))
    assert (out["published_version"], out["version"]) == (3, 3), out
    reader_sees(eve, 3)

    # The reader's stream and preview page, the owner's stream.
    eve_events = SSEStream(s.port, BASE + "/events", token=tokens["eve"])
    alice_events = SSEStream(s.port, BASE + "/events", token=tokens["alice"])
    try:
        snap = eve_events.next_event(DEADLINE)
        assert snap.event == "snapshot" and snap.json()["version"] == 3, snap
        assert alice_events.next_event(DEADLINE).event == "snapshot"
        reader_tab = browsers().driver
        open_preview(reader_tab, preview_url(s, KIND, NAME, token=tokens["eve"]), 3)
        assert page_shows(reader_tab, 3)

        # v4–v6: the owner's stream gets each; the reader still sees v3.
        for v in (4, 5, 6):
            push_version(s, tokens["alice"], folder, v)
            alice_events.wait_event(lambda e, v=v: e.event == "update" and
                                    e.json()["version"] == v, DEADLINE)
        reader_sees(eve, 3)
        assert page_shows(reader_tab, 3)

        # bob, invited as a reviewer, comments on a paragraph of v5.
        content(s, tokens["alice"], "members", ITEM, "bob", "reviewer")
        assert bob.item_ok(KIND, NAME)["version"] == 6
        comment = json.loads(content(s, tokens["bob"], "comments", ITEM, "index.md", COMMENTED,
                                     "Is this clear enough?", "--version", "5",
                                     "--output", "json"))
        assert (comment["user"], comment["version"], comment["block"]) == ("bob", 5, COMMENTED)
        ev = alice_events.wait_event(lambda e: e.event == "comment", DEADLINE)
        assert ev.json()["comment"]["id"] == comment["id"], ev
        listed = alice.get(BASE + "/comments?path=index.md").json()["comments"]
        mine = [c for c in listed if c["id"] == comment["id"]]
        assert mine and mine[0]["outdated"] is False, listed  # the paragraph is the same in v6
        assert_error(eve.get(BASE + "/comments"), 403)

        # A share link of v5: without an account, v5 only.
        link = json.loads(content(s, tokens["alice"], "share", ITEM, "--version", "5",
                                  "--expires", "1h", "--output", "json"))
        assert link["version"] == 5 and f"/preview/{KIND}/{NAME}?link=" in link["url"], link
        anon = Client(s.port)
        q = f"?link={link['token']}"
        r = anon.get(f"{BASE}/files/index.md{q}")
        assert r.status == 200 and r.body == version_files(5)["index.md"], r
        assert anon.get(f"{BASE}/ast/index.md{q}").json() == \
            render_ast(version_files(5)["index.md"])
        assert anon.get(f"{BASE}/files/img/shot.png{q}").body == PNG
        for other in (3, 4, 6):
            assert_error(anon.get(f"{BASE}/files/index.md{q}&version={other}"), 404)
        assert anon.get(BASE + q).status in (401, 404)
        assert_error(anon.get(f"{BASE}/comments{q}"), 404)
        assert anon.get(f"/preview/{KIND}/{NAME}{q}").status == 200
        link_events = SSEStream(s.port, f"{BASE}/events{q}")
        try:
            snap = link_events.next_event(DEADLINE)
            assert snap.event == "snapshot" and snap.json()["version"] == 5, snap
        finally:
            link_events.close()
        assert_error(anon.get(BASE + "/files/index.md"), 401)

        # The diff between v3 and v6: the API, `content diff`, the preview.
        diff = alice.get(BASE + "/versions/3/diff?to=6")
        assert diff.status == 200, diff
        d = diff.json()
        assert (d["from"], d["to"]) == (3, 6)
        doc = d["documents"]["index.md"]
        assert doc["status"] == "changed"
        ops = {(b["op"], b["key"]) for b in doc["blocks"]}
        assert ops == {("changed", "steps/p-1"), ("added", "review-notes"),
                       ("added", COMMENTED), ("added", "review-notes/p-2")}, doc
        assert d["assets"] == {"added": ["img/shot.png"], "removed": [], "changed": []}
        cli = json.loads(content(s, tokens["alice"], "diff", ITEM, "3", "6", "--output", "json"))
        assert cli == d
        text = content(s, tokens["alice"], "diff", ITEM, "3", "6")
        for _, key in ops:
            assert key in text, text
        assert "index.md" in text and "img/shot.png" in text, text
        owner_tab = browsers().driver
        open_preview(owner_tab, preview_url(s, KIND, NAME, token=tokens["alice"]) + "&since=3",
                     6)
        marks = [(b["index"], b["op"]) for b in doc["blocks"] if b["op"] != "removed"]
        wait_for(owner_tab, lambda t: all(marked(t, i, op) for i, op in marks),
                 f"the changes since version 3 marked: {marks}")
        assert not marked(owner_tab, 1, "changed")  # the introduction did not change

        # Publishing v6: the reader gets one update from 3 to 6, then
        # `published` — nothing before them since the snapshot.
        out = json.loads(content(s, tokens["alice"], "publish", ITEM, "6", "--output", "json"))
        assert out["published_version"] == 6, out
        upd = next_past_publish_of(eve_events, 3)
        assert upd.event == "update", [(e.event, e.data[:80]) for e in eve_events.events]
        assert (upd.json()["base_version"], upd.json()["version"]) == (3, 6), upd
        pub = eve_events.next_event(DEADLINE)
        assert pub.event == "published" and pub.json()["published_version"] == 6, pub
        alice_events.wait_event(lambda e: e.event == "published", DEADLINE)
        reader_sees(eve, 6)
        wait_for(reader_tab, lambda t: page_shows(t, 6), "the reader's page to show v6")
        # The link still shows v5 only.
        assert anon.get(f"{BASE}/files/index.md{q}").body == version_files(5)["index.md"]
    finally:
        eve_events.close()
        alice_events.close()
