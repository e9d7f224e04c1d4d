# SPDX-License-Identifier: MIT
"""Comments anchored to a block (CONTRACT "Review and sharing"), on both
catalogs — SQLite and MongoDB (the wire-protocol test server):

- who may comment (owner, editor, reviewer), read comments (those and
  viewers), resolve one (its author, the owner, an editor), and what
  everyone else gets: 403 for a reader of a public item, 404 for a
  stranger to a private one and for a share link;
- what a comment must be: a non-empty body within the size limit, on a
  block of that version's document, a reply to a comment of the same
  document;
- `outdated` against the latest version: a block kept unchanged (also when
  it moved within its section) keeps its comment beside it (its current key
  and index); a changed or removed block marks it outdated;
- `event: comment` on the item's stream, for the owner and members only;
- the record review/KIND/NAME/comments/ID.json that a rebuild restores;
- an id another writer takes between reading the next id and adding the
  comment under it is retried with the next (SQLite here; two replicas on
  MongoDB in test_replicas.py).
"""
from __future__ import annotations

import json
import sqlite3
import threading

import pytest

from helpers.api import Client, assert_error, wait_until
from test_review import DEADLINE, content, env, make_link, name, ok_json, put_role  # noqa: F401


def lesson(*paras: str, extra: str = "") -> dict:
    body = "\n\n".join(paras)
    return {"index.md": f"---\ntitle: T\n---\n\n# Intro\n\n{body}\n\n## Details\n\nThird.\n{extra}"
            .encode(),
            "other.md": b"# Other\n\nElsewhere.\n"}


@pytest.fixture
def team(env, name):  # noqa: F811
    """alice's private tutorial at version 1, bob viewer, carol reviewer,
    dave editor; eve is a stranger."""
    env.alice.create_ok("tutorial", name)
    assert env.alice.push_ok("tutorial", name, lesson("First.", "Second.")) == 1
    base = f"/api/v1/content/tutorial/{name}"
    for user, role in (("bob", "viewer"), ("carol", "reviewer"), ("dave", "editor")):
        assert put_role(env, base, user, role).status == 200
    return env, base, name


def say(c, base, block="intro/p-1", body="Why?", path="index.md", **kw):
    return c.post(base + "/comments", {"path": path, "block": block, "body": body, **kw})


def say_ok(c, base, **kw) -> dict:
    r = say(c, base, **kw)
    assert r.status == 201, r
    return r.json()


def listed(c, base, query="") -> list:
    r = c.get(base + "/comments" + query)
    assert r.status == 200, r
    return r.json()["comments"]


def test_owner_editor_and_reviewer_comment_a_viewer_and_a_stranger_do_not(team):
    e, base, _ = team
    got = say_ok(e.carol, base, version=1, body="Say why.")
    assert set(got) == {"id", "user", "version", "path", "block", "body", "reply_to", "resolved",
                        "outdated", "created_at", "latest_block", "index"}, got
    assert (got["id"], got["user"], got["version"], got["path"], got["block"], got["body"],
            got["reply_to"], got["resolved"], got["outdated"]) == \
        (1, "carol", 1, "index.md", "intro/p-1", "Say why.", None, False, False), got
    assert got["latest_block"] == "intro/p-1" and got["index"] == 1, got
    assert say_ok(e.alice, base)["id"] == 2
    assert say_ok(e.dave, base)["id"] == 3
    assert_error(say(e.bob, base), 403, "forbidden")
    assert_error(say(e.eve, base), 404, "not_found")
    assert_error(e.eve.get(base + "/comments"), 404, "not_found")
    # every member and the owner read them; ?path= narrows to one document
    for c in (e.alice, e.bob, e.carol, e.dave):
        assert [x["id"] for x in listed(c, base)] == [1, 2, 3]
    assert listed(e.alice, base, "?path=other.md") == []
    assert len(listed(e.alice, base, "?path=index.md")) == 3
    # nothing was added by the refused ones
    assert {x["user"] for x in listed(e.alice, base)} == {"carol", "alice", "dave"}


def test_a_reader_of_a_public_item_and_a_share_link_get_no_comments(team):
    e, base, name = team
    assert e.alice.patch(base, {"visibility": "public"}).status == 200
    say_ok(e.carol, base)
    assert_error(say(e.eve, base), 403, "forbidden")
    assert_error(e.eve.get(base + "/comments"), 403, "forbidden")
    assert_error(e.eve.patch(base + "/comments/1", {"resolved": True}), 403, "forbidden")
    link = make_link(e, base, 1).json()["token"]
    anon = Client(e.port)
    assert_error(anon.get(f"{base}/comments?link={link}"), 404, "not_found")
    assert_error(anon.post(f"{base}/comments?link={link}",
                           {"path": "index.md", "block": "intro/p-1", "body": "x"}), 404)
    assert_error(Client(e.port, link).get(base + "/comments"), 404, "not_found")
    assert [x["id"] for x in listed(e.alice, base)] == [1]


def test_a_comment_must_have_a_body_and_name_a_block_of_its_version(team):
    e, base, _ = team
    assert_error(say(e.carol, base, body=""), 400, "empty_body")
    assert_error(say(e.carol, base, body=" \n\t "), 400, "empty_body")
    assert_error(say(e.carol, base, body=None), 400, "empty_body")
    assert_error(say(e.carol, base, body="x" * 10001), 400, "body_too_long")
    assert say(e.carol, base, body="é" * 5000).status == 201  # 10,000 bytes
    assert_error(say(e.carol, base, block="intro/p-9"), 400, "unknown_block")
    assert_error(say(e.carol, base, block="nope"), 400, "unknown_block")
    assert_error(say(e.carol, base, path="missing.md"), 400, "invalid_path")
    assert_error(say(e.carol, base, path="../x.md"), 400, "invalid_path")
    assert_error(say(e.carol, base, path="image.png"), 400, "invalid_path")
    assert_error(say(e.carol, base, version=2), 404, "not_found")
    assert_error(say(e.carol, base, version="1"), 400, "invalid_version")
    assert_error(say(e.carol, base, reply_to=99), 400, "invalid_reply_to")
    assert_error(e.carol.post(base + "/comments", {"body": "x"}), 400, "invalid_comment")
    assert [x["body"] for x in listed(e.alice, base)] == ["é" * 5000]


def test_the_page_names_a_block_by_its_index_and_learns_whether_it_may_comment(team):
    e, base, _ = team
    r = e.carol.post(base + "/comments", {"version": 1, "path": "index.md", "index": 2,
                                          "body": "By index."})
    assert r.status == 201, r
    assert (r.json()["block"], r.json()["index"]) == ("intro/p-2", 2), r.json()
    assert_error(e.carol.post(base + "/comments", {"path": "index.md", "index": 99,
                                                   "body": "x"}), 400, "unknown_block")
    assert_error(e.carol.post(base + "/comments", {"path": "index.md", "index": -1,
                                                   "body": "x"}), 400, "invalid_block")
    assert [(u, getattr(e, u).get(base + "/comments").json()["can_comment"])
            for u in ("alice", "bob", "carol", "dave")] == \
        [("alice", True), ("bob", False), ("carol", True), ("dave", True)]


def test_replies_answer_a_comment_of_the_same_document(team):
    e, base, _ = team
    first = say_ok(e.carol, base, block="details/p-1", body="Unclear.")
    other = say_ok(e.carol, base, path="other.md", block="other")
    reply = e.alice.post(base + "/comments", {"reply_to": first["id"], "body": "Fixed."})
    assert reply.status == 201, reply
    r = reply.json()
    assert (r["reply_to"], r["path"], r["block"], r["version"]) == \
        (first["id"], "index.md", "details/p-1", 1), r
    assert_error(say(e.alice, base, reply_to=other["id"]), 400, "invalid_reply_to")
    assert [x["reply_to"] for x in listed(e.bob, base)] == [None, None, first["id"]]


def test_a_comment_stays_beside_its_unchanged_block_and_is_outdated_once_it_changes(team):
    e, base, name = team
    c1 = say_ok(e.carol, base, block="intro/p-2", body="On Second.")
    c2 = say_ok(e.carol, base, block="details/p-1", body="On Third.")
    c3 = say_ok(e.carol, base, block="intro", body="On the heading.")
    # v2: a paragraph before Second in its section: Second is intro/p-3 now,
    # unchanged; Third and the heading unchanged too
    assert e.alice.push_ok("tutorial", name, lesson("First.", "New.", "Second.")) == 2
    got = {x["id"]: x for x in listed(e.bob, base)}
    assert not got[c1["id"]]["outdated"], got
    assert (got[c1["id"]]["latest_block"], got[c1["id"]]["index"]) == ("intro/p-3", 3)
    assert (got[c2["id"]]["latest_block"], got[c2["id"]]["index"]) == ("details/p-1", 5)
    assert (got[c3["id"]]["latest_block"], got[c3["id"]]["index"]) == ("intro", 0)
    assert got[c1["id"]]["block"] == "intro/p-2" and got[c1["id"]]["version"] == 1
    # v3: Second changed, Third gone
    assert e.alice.push_ok("tutorial", name, {
        "index.md": b"---\ntitle: T\n---\n\n# Intro\n\nFirst.\n\nSecond, edited.\n",
        "other.md": b"# Other\n"}) == 3
    got = {x["id"]: x for x in listed(e.bob, base)}
    assert got[c1["id"]]["outdated"] and got[c1["id"]]["index"] is None, got
    assert got[c2["id"]]["outdated"] and got[c2["id"]]["latest_block"] is None, got
    assert not got[c3["id"]]["outdated"]
    # a comment on an older version is placed against the latest at once
    old = say_ok(e.carol, base, version=1, block="details/p-1")
    assert old["outdated"] and old["version"] == 1
    # a document gone from the latest version outdates its comments
    assert e.alice.push_ok("tutorial", name, {"index.md": b"# Intro\n\nFirst.\n"}) == 4
    assert all(x["outdated"] for x in listed(e.alice, base, "?path=other.md"))


def test_resolving_is_for_the_author_the_owner_and_editors(team):
    e, base, _ = team
    mine = say_ok(e.carol, base)
    theirs = say_ok(e.alice, base)
    url = f"{base}/comments/{mine['id']}"
    r = e.carol.patch(url, {"resolved": True})
    assert r.status == 200 and r.json()["resolved"] is True, r
    assert_error(e.bob.patch(url, {"resolved": False}), 403, "forbidden")
    assert_error(e.carol.patch(f"{base}/comments/{theirs['id']}", {"resolved": True}), 403)
    assert_error(e.eve.patch(url, {"resolved": False}), 404)
    r = e.dave.patch(url, {"resolved": False})
    assert r.status == 200 and r.json()["resolved"] is False, r
    assert e.alice.patch(url, {"resolved": True}).status == 200
    assert_error(e.alice.patch(url, {"resolved": "yes"}), 400, "invalid_resolved")
    assert_error(e.alice.patch(f"{base}/comments/99", {"resolved": True}), 404, "not_found")
    assert_error(e.alice.patch(f"{base}/comments/x", {"resolved": True}), 404, "not_found")
    assert [(x["id"], x["resolved"]) for x in listed(e.bob, base)] == \
        [(mine["id"], True), (theirs["id"], False)]


def test_the_stream_tells_members_of_a_comment_and_readers_not(team):
    e, base, name = team
    assert e.alice.patch(base, {"visibility": "public"}).status == 200
    link = make_link(e, base, None).json()["token"]
    owner, viewer = e.sse("alice", base + "/events"), e.sse("bob", base + "/events")
    reader = e.sse("eve", base + "/events")
    linked = Client(e.port)  # (a stream opened with the link)
    from helpers.sse import SSEStream
    by_link = SSEStream(e.port, f"{base}/events?link={link}")
    streams = (owner, viewer, reader, by_link)
    try:
        for st in streams:
            assert st.next_event(DEADLINE).event == "snapshot"
        made = say_ok(e.carol, base, body="Live.")
        for st in (owner, viewer):
            ev = st.next_event(DEADLINE)
            assert ev.event == "comment", ev
            got = ev.json()
            assert (got["kind"], got["name"]) == ("tutorial", name)
            assert got["comment"]["id"] == made["id"] and got["comment"]["body"] == "Live."
        assert e.dave.patch(f"{base}/comments/{made['id']}", {"resolved": True}).status == 200
        ev = owner.next_event(DEADLINE)
        assert ev.event == "comment" and ev.json()["comment"]["resolved"] is True, ev
        # the next version reaches everyone; readers got no comment before it
        e.alice.push_ok("tutorial", name, lesson("First.", "Second.", "More."))
        for st in (reader, by_link):
            ev = st.next_event(DEADLINE)
            assert ev.event == "update", f"a reader got {ev!r}"
    finally:
        for st in streams:
            st.close()
        del linked


def test_each_comment_is_recorded_in_the_blob_store_for_a_rebuild(team):
    e, base, name = team
    made = say_ok(e.carol, base, body="Keep me.")
    rec = e.server.data_dir / f"review/tutorial/{name}/comments/{made['id']}.json"
    got = json.loads(rec.read_bytes())
    assert len(got.pop("block_hash")) == 64
    want = {k: v for k, v in made.items() if k not in ("outdated", "latest_block", "index")}
    assert got == want, got
    assert e.alice.patch(f"{base}/comments/{made['id']}", {"resolved": True}).status == 200
    assert json.loads(rec.read_bytes())["resolved"] is True


def record_body(e, name, cid):
    """The body in comment cid's record, or None while there is none."""
    rec = e.server.data_dir / f"review/tutorial/{name}/comments/{cid}.json"
    try:
        return json.loads(rec.read_bytes()).get("body")
    except (FileNotFoundError, ValueError):
        return None


@pytest.mark.parametrize("env", ["sqlite"], indirect=True)
def test_an_id_taken_by_another_writer_is_retried(team):
    """Another writer on catalog.db (a second process, here the test) holds
    the write lock and adds comment 2 while the server is between reading
    the next id (2), writing its record, and adding the comment under it:
    the add meets the id taken, rewrites record 2 from the catalog and adds
    the comment as 3."""
    e, base, name = team
    first = say_ok(e.carol, base, body=f"first of {name}")
    db = sqlite3.connect(e.server.data_dir / "catalog.db", timeout=10, isolation_level=None)
    try:
        cols = [r[1] for r in db.execute("PRAGMA table_info(comments)")]
        copy = ["2" if c == "id" else "'taken elsewhere'" if c == "body" else c for c in cols]
        db.execute("BEGIN IMMEDIATE")
        db.execute(f"INSERT INTO comments ({', '.join(cols)}) SELECT {', '.join(copy)} "
                   "FROM comments WHERE id = 1 AND body = ?", (first["body"],))
        answer = {}
        t = threading.Thread(target=lambda: answer.setdefault("r", say(e.carol, base,
                                                                       body="mine")))
        t.start()
        # Its record written, the server waits for the write lock.
        wait_until(lambda: record_body(e, name, 2) == "mine", DEADLINE, "record 2 to be written")
        db.execute("COMMIT")
        t.join(timeout=60)
    finally:
        db.close()
    assert answer["r"].status == 201, answer["r"]
    assert answer["r"].json()["id"] == 3
    assert [(c["id"], c["body"]) for c in listed(e.carol, base)] == \
        [(1, first["body"]), (2, "taken elsewhere"), (3, "mine")]
    assert record_body(e, name, 2) == "taken elsewhere"
    assert record_body(e, name, 3) == "mine"


# ---- the client ---------------------------------------------------------------

def test_client_lists_adds_answers_and_resolves_comments(team):
    e, base, name = team
    item = f"tutorial/{name}"
    p = content(e, "carol", "comments", item)
    assert p.returncode == 0 and p.stdout == f"{item} has no comments\n", p
    p = content(e, "carol", "comments", item, "index.md", "intro/p-2", "Why this?\nAnd that?")
    assert p.returncode == 0, p
    assert p.stdout == f"comment #1 on index.md intro/p-2 of {item} (version 1)\n", p
    made = ok_json(content(e, "alice", "comments", item, "other.md", "other", "Elsewhere?",
                           "--version", 1, "--output", "json"))
    assert made["id"] == 2 and made["block"] == "other" and made["outdated"] is False, made
    p = content(e, "alice", "comments", item, "--reply", 1, "Because.")
    assert p.returncode == 0 and p.stdout.startswith("comment #3 on index.md intro/p-2"), p
    assert content(e, "dave", "comments", item, "--resolve", 1).stdout == \
        f"comment #1 of {item} is resolved\n"
    e.alice.push_ok("tutorial", name, lesson("First.", "Second, changed."))
    p = content(e, "bob", "comments", item)
    assert p.returncode == 0, p
    assert p.stdout == (
        "index.md:\n"
        "  #1 carol on intro/p-2 (version 1) [resolved] [outdated]\n"
        "      Why this?\n"
        "      And that?\n"
        "      #3 alice\n"
        "          Because.\n"
        "\n"
        "other.md:\n"
        "  #2 alice on other (version 1)\n"
        "      Elsewhere?\n"), p.stdout
    p = content(e, "bob", "comments", item, "--path", "other.md")
    assert p.returncode == 0 and "#2" in p.stdout and "#1" not in p.stdout, p
    # --flag=VALUE works for the command's own flags too (docs/client.md)
    assert content(e, "bob", "comments", item, "--path=other.md").stdout == p.stdout
    got = ok_json(content(e, "bob", "comments", item, "--output", "json"))
    assert got == e.bob.get(base + "/comments").json()
    p = content(e, "carol", "comments", item, "--reopen", 1)
    assert p.returncode == 0 and p.stdout.endswith("is open\n"), p
    # refusals exit 1 with the server's reason; usage errors exit 2
    p = content(e, "bob", "comments", item, "index.md", "intro/p-1", "x")
    assert p.returncode == 1 and "viewer" in p.stderr, p
    p = content(e, "carol", "comments", item, "index.md", "intro/p-9", "x")
    assert p.returncode == 1 and "no block intro/p-9" in p.stderr, p
    for args in ((), ("nokind/x",), (item, "index.md", "intro/p-1"), (item, "--resolve", "x"),
                 (item, "--resolve", 1, "--reopen", 1), (item, "--reply", 1),
                 (item, "--bogus"), (item, "index.md", "b", "t", "--version", "0")):
        p = content(e, "alice", "comments", *args)
        assert p.returncode == 2, (args, p)
