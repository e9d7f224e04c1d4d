# SPDX-License-Identifier: MIT
"""`contentd rebuild-catalog` restores an item's review state — its
published version, its members and their roles, its share links — from the
review record every change of them writes to the blob store
(`review/KIND/NAME.json`), so that after a rebuild readers, members and
link holders meet the same item as before: a link sent before the rebuild
still works, one revoked before it is still 404, and the record holds no
link secret.  On the folder store and on S3 (s3rver and Ceph RGW) with
SQLite, and on MongoDB (the wire-protocol test server)."""
from __future__ import annotations

import json

import pytest

from helpers import server as srv
from helpers.api import Client, assert_error
from mongosupport import MongoPeer, bson_missing, fresh_db_name
from s3support import ACCESS_KEY, BUCKET, SECRET_KEY, Rule, proxy, s3_tool, s3peer  # noqa: F401

S3_ENV = {"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY}
USERS = ("alice", "bob", "carol", "dave", "eve")


def doc(tag: str) -> dict:
    return {"index.md": f"---\ntitle: T\n---\n\n# {tag}\n".encode()}


def tokens_for(data_dir, storage, env=None) -> dict:
    out = {}
    for u in USERS:
        p = srv.run_contentd(["token", "create", u, "--data", str(data_dir), *storage], env=env)
        assert p.returncode == 0, p.stderr.decode()
        out[u] = p.stdout.decode().split()[-1]
    return out


def clients(port, tokens) -> dict:
    return {u: Client(port, t) for u, t in tokens.items()}


def make_review_state(c: dict, name: str) -> dict:
    """alice's public tutorial/NAME at v3, v2 published; bob reviewer,
    carol editor, dave given viewer and then taken away; a link to v2 kept,
    one following edits revoked.  Returns what the test compares later."""
    base = f"/api/v1/content/tutorial/{name}"
    a = c["alice"]
    a.create_ok("tutorial", name, visibility="public")
    for v in (1, 2, 3):
        assert a.push_ok("tutorial", name, doc(f"v{v}")) == v
    assert a.post(base + "/publish", {"version": 2}).status == 200
    for user, role in (("bob", "reviewer"), ("carol", "editor"), ("dave", "viewer")):
        assert a.send_json("PUT", f"{base}/members/{user}", {"role": role}).status == 200
    assert a.delete(f"{base}/members/dave").status == 204
    kept = a.post(base + "/links", {"version": 2, "expires_in": 3600})
    gone = a.post(base + "/links", {"version": None})
    assert kept.status == 201 and gone.status == 201, (kept, gone)
    assert a.delete(f"{base}/links/{gone.json()['id']}").status == 204
    # bob's comment on v2's heading, alice's answer, bob's on v3, resolved.
    first = c["bob"].post(base + "/comments", {"version": 2, "path": "index.md", "block": "v2",
                                               "body": "Why v2?"})
    assert first.status == 201, first
    r = a.post(base + "/comments", {"reply_to": first.json()["id"], "body": "Because."})
    assert r.status == 201, r
    r = c["bob"].post(base + "/comments", {"version": 3, "path": "index.md", "block": "v3",
                                           "body": "Fine now."})
    assert r.status == 201, r
    assert a.patch(f"{base}/comments/{r.json()['id']}", {"resolved": True}).status == 200
    return {"members": a.get(base + "/members").json(), "links": a.get(base + "/links").json(),
            "comments": a.get(base + "/comments").json(),
            "kept": kept.json()["token"], "gone": gone.json()["token"]}


def check_review_state(c: dict, port: int, name: str, before: dict) -> None:
    base = f"/api/v1/content/tutorial/{name}"
    a = c["alice"]
    assert a.get(base + "/members").json() == before["members"]
    assert a.get(base + "/links").json() == before["links"]
    assert a.get(base + "/comments").json() == before["comments"]
    # A comment made after the rebuild gets the next id.
    r = c["bob"].post(base + "/comments", {"version": 3, "path": "index.md", "block": "v3",
                                           "body": "After the rebuild."})
    assert r.status == 201 and r.json()["id"] == 4, r
    item = a.item_ok("tutorial", name)
    assert (item["version"], item["published_version"]) == (3, 2), item
    # Readers (a stranger, a member taken away) see the published version.
    for reader in ("eve", "dave"):
        assert c[reader].item_ok("tutorial", name)["version"] == 2, reader
        assert c[reader].file("tutorial", name, "index.md").body == doc("v2")["index.md"]
    # The members read the latest; the reviewer may not push, the editor may.
    assert c["bob"].item_ok("tutorial", name)["version"] == 3
    assert_error(c["bob"].push("tutorial", name, doc("bob")), 403)
    assert_error(c["bob"].post(base + "/publish", {"version": 3}), 403)
    # The link made before the rebuild still reads its version, without an
    # account; the one revoked before it stays 404.
    anon = Client(port, None)
    r = anon.get(f"{base}/files/index.md?link={before['kept']}")
    assert r.status == 200 and r.body == doc("v2")["index.md"], r
    assert_error(anon.get(f"{base}/files/index.md?link={before['gone']}"), 404)
    assert c["carol"].push_ok("tutorial", name, doc("v4")) == 4


def record_has_no_secret(raw: bytes, before: dict) -> None:
    rec = json.loads(raw)
    assert rec["published_version"] == 2
    assert before["kept"].encode() not in raw and before["gone"].encode() not in raw
    assert [m["user"] for m in rec["members"]] == ["bob", "carol"]


def rebuild(data_dir, extra=(), env=None) -> None:
    p = srv.run_contentd(["rebuild-catalog", "--data", str(data_dir), *extra], env=env)
    assert p.returncode == 0, p.stderr.decode("utf-8", "replace")


def test_rebuild_restores_review_state_folder(start_server, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    s = start_server(data)
    c = clients(s.port, tokens_for(data, []))
    before = make_review_state(c, "reviewed")
    s.stop()
    record_has_no_secret((data / "review/tutorial/reviewed.json").read_bytes(), before)
    for f in ("catalog.db", "catalog.db-wal", "catalog.db-shm"):
        if (data / f).exists():
            (data / f).unlink()
    rebuild(data)
    tokens = tokens_for(data, [])
    s2 = start_server(data)
    check_review_state(clients(s2.port, tokens), s2.port, "reviewed", before)


def test_rebuild_restores_review_state_s3(s3peer, start_server, tmp_path):  # noqa: F811
    flags = ["--s3-endpoint", s3peer.endpoint, "--s3-bucket", BUCKET, "--s3-path-style"]
    old, fresh = tmp_path / "old", tmp_path / "fresh"
    old.mkdir()
    fresh.mkdir()
    s = start_server(old, args=flags, env=S3_ENV)
    name = "reviewed"
    c = clients(s.port, tokens_for(old, flags, S3_ENV))
    before = make_review_state(c, name)
    s.stop()
    got = tmp_path / "record.json"
    s3_tool(s3peer.endpoint, "get", f"review/tutorial/{name}.json", str(got))
    record_has_no_secret(got.read_bytes(), before)
    rebuild(fresh, flags, S3_ENV)
    tokens = tokens_for(fresh, flags, S3_ENV)
    s2 = start_server(fresh, args=flags, env=S3_ENV)
    check_review_state(clients(s2.port, tokens), s2.port, name, before)


def test_rebuild_restores_review_state_mongodb(start_server, tmp_path):
    why = bson_missing()
    if why:
        pytest.skip(why)
    (tmp_path / "mongo").mkdir()
    peer = MongoPeer(tmp_path / "mongo").start()
    try:
        data = tmp_path / "data"
        data.mkdir()
        storage = ["--mongodb-uri", peer.uri, "--mongodb-db", fresh_db_name()]
        s = start_server(data, args=storage)
        c = clients(s.port, tokens_for(data, storage))
        before = make_review_state(c, "reviewed")
        s.stop()
        fresh = ["--mongodb-uri", peer.uri, "--mongodb-db", fresh_db_name()]
        rebuild(data, fresh)
        tokens = tokens_for(data, fresh)
        s2 = start_server(data, args=fresh)
        check_review_state(clients(s2.port, tokens), s2.port, "reviewed", before)
    finally:
        peer.stop()


def test_rebuild_skips_what_the_record_gets_wrong(start_server, tmp_path):
    """A record naming a version that was not rebuilt, an unknown role, a
    malformed link, a comment record that is no JSON or a second record of
    one comment restores the rest, says what it skipped, and exits 0; a
    comment record marked withdrawn is skipped without a word."""
    data = tmp_path / "data"
    data.mkdir()
    s = start_server(data)
    c = clients(s.port, tokens_for(data, []))
    make_review_state(c, "damaged")
    s.stop()
    path = data / "review/tutorial/damaged.json"
    rec = json.loads(path.read_bytes())
    rec["published_version"] = 9
    rec["members"].append({"user": "zed", "role": "owner"})
    rec["links"].append({"id": "nothex", "sha256": "x", "version": 1})
    path.write_text(json.dumps(rec))
    comments = data / "review/tutorial/damaged/comments"
    (comments / "1-copy.json").write_bytes((comments / "1.json").read_bytes())  # id 1 twice
    (comments / "bad.json").write_text("{not json")
    # a comment the catalog refused after its record was written
    (comments / "4.json").write_text('{"id":4,"withdrawn":true}\n')
    (data / "catalog.db").unlink()
    p = srv.run_contentd(["rebuild-catalog", "--data", str(data)])
    err = p.stderr.decode()
    assert p.returncode == 0, err
    assert "published version not restored" in err and "member not restored" in err, err
    assert "share link not restored" in err, err
    assert "comment not restored" in err and "bad.json is malformed" in err, err
    assert "4.json" not in err, err  # withdrawn: nothing to report
    tokens = tokens_for(data, [])
    s2 = start_server(data)
    a = Client(s2.port, tokens["alice"])
    item = a.item_ok("tutorial", "damaged")
    assert (item["version"], item["published_version"]) == (3, 0), item
    assert [m["user"] for m in a.get("/api/v1/content/tutorial/damaged/members").json()
            ["members"]] == ["bob", "carol"]
    assert len(a.get("/api/v1/content/tutorial/damaged/links").json()["links"]) == 1
    assert [c["id"] for c in a.get("/api/v1/content/tutorial/damaged/comments").json()
            ["comments"]] == [1, 2, 3]


def test_an_item_deleted_and_made_again_is_rebuilt_without_the_old_roles(start_server, tmp_path):
    """Deleting an item empties its review record first: the item made
    again under that name has no members or links, and after a rebuild
    neither, instead of the deleted item's."""
    data = tmp_path / "data"
    data.mkdir()
    s = start_server(data)
    c = clients(s.port, tokens_for(data, []))
    make_review_state(c, "again")
    a = c["alice"]
    assert a.delete("/api/v1/content/tutorial/again").status == 204
    a.create_ok("tutorial", "again")
    assert a.push_ok("tutorial", "again", doc("new")) == 4
    r = a.post("/api/v1/content/tutorial/again/comments",
               {"version": 4, "path": "index.md", "block": "new", "body": "Mine."})
    assert r.status == 201 and r.json()["id"] == 1, r
    s.stop()
    (data / "catalog.db").unlink()
    rebuild(data)
    tokens = tokens_for(data, [])
    s2 = start_server(data)
    a = Client(s2.port, tokens["alice"])
    assert a.get("/api/v1/content/tutorial/again/members").json() == {"members": []}
    assert a.get("/api/v1/content/tutorial/again/links").json() == {"links": []}
    assert a.item_ok("tutorial", "again")["published_version"] == 0
    assert [(m["id"], m["body"]) for m in
            a.get("/api/v1/content/tutorial/again/comments").json()["comments"]] == [(1, "Mine.")]
    assert_error(Client(s2.port, tokens["bob"]).item("tutorial", "again"), 404)


def test_no_review_change_while_its_record_cannot_be_written(s3peer, proxy, start_server,  # noqa: F811
                                                              tmp_path):
    """The record is written before the catalog changes: while the bucket
    refuses it, publishing, a role and a link answer 503 and change
    nothing; once S3 answers again they go through."""
    flags = ["--s3-endpoint", proxy.endpoint, "--s3-bucket", BUCKET, "--s3-path-style"]
    env = dict(S3_ENV, CONTENTD_S3_MAX_ATTEMPTS="2")
    data = tmp_path / "data"
    data.mkdir()
    s = start_server(data, args=flags, env=env)
    a = Client(s.port, tokens_for(data, flags, env)["alice"])
    base = "/api/v1/content/tutorial/refused"
    a.create_ok("tutorial", "refused", visibility="public")
    assert a.push_ok("tutorial", "refused", doc("v1")) == 1
    proxy.add(Rule("500", method="PUT", contains="review/", times=-1))
    assert_error(a.post(base + "/publish", {"version": 1}), 503, "blobstore_unavailable")
    assert_error(a.send_json("PUT", base + "/members/bob", {"role": "viewer"}), 503)
    assert_error(a.post(base + "/links", {"version": 1}), 503)
    assert a.item_ok("tutorial", "refused")["published_version"] == 0
    assert a.get(base + "/members").json() == {"members": []}
    assert a.get(base + "/links").json() == {"links": []}
    proxy.clear()
    assert a.post(base + "/publish", {"version": 1}).status == 200
    assert a.item_ok("tutorial", "refused")["published_version"] == 1


def test_no_comment_while_its_record_cannot_be_written(s3peer, proxy, start_server,  # noqa: F811
                                                        tmp_path):
    """A comment's record is written before the catalog has the comment:
    while the bucket refuses it, commenting and resolving answer 503, no
    comment is listed or changed and the item's stream gets no event; once
    S3 answers again both go through, and a rebuild has the comment."""
    flags = ["--s3-endpoint", proxy.endpoint, "--s3-bucket", BUCKET, "--s3-path-style"]
    env = dict(S3_ENV, CONTENTD_S3_MAX_ATTEMPTS="2")
    data = tmp_path / "data"
    data.mkdir()
    s = start_server(data, args=flags, env=env)
    token = tokens_for(data, flags, env)["alice"]
    a = Client(s.port, token)
    base = "/api/v1/content/tutorial/unrecorded"
    a.create_ok("tutorial", "unrecorded")
    assert a.push_ok("tutorial", "unrecorded", doc("v1")) == 1
    said = {"version": 1, "path": "index.md", "block": "v1", "body": "Kept?"}
    from helpers.sse import SSEStream
    stream = SSEStream(s.port, base + "/events", token=token)
    try:
        assert stream.next_event(10).event == "snapshot"
        proxy.add(Rule("500", method="PUT", contains="/comments/", times=-1))
        assert_error(a.post(base + "/comments", said), 503, "blobstore_unavailable")
        assert a.get(base + "/comments").json()["comments"] == []
        proxy.clear()
        made = a.post(base + "/comments", said)
        assert made.status == 201, made
        assert made.json()["id"] == 1
        ev = stream.next_event(10)  # the first event is the comment that was made
        assert ev.event == "comment" and ev.json()["comment"]["id"] == 1, ev
        proxy.add(Rule("500", method="PUT", contains="/comments/", times=-1))
        assert_error(a.patch(base + "/comments/1", {"resolved": True}), 503,
                     "blobstore_unavailable")
        assert [c["resolved"] for c in a.get(base + "/comments").json()["comments"]] == [False]
        proxy.clear()
        assert a.patch(base + "/comments/1", {"resolved": True}).status == 200
        ev = stream.next_event(10)  # no event came of the refused resolve
        assert ev.event == "comment" and ev.json()["comment"]["resolved"] is True, ev
    finally:
        stream.close()
    s.stop()
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    rebuild(fresh, flags, env)
    s2 = start_server(fresh, args=flags, env=env)
    a2 = Client(s2.port, tokens_for(fresh, flags, env)["alice"])
    assert [(c["id"], c["body"], c["resolved"]) for c in
            a2.get(base + "/comments").json()["comments"]] == [(1, "Kept?", True)]


def test_a_comment_record_that_cannot_be_read_fails_the_rebuild(s3peer, proxy, start_server,  # noqa: F811,E501
                                                                 tmp_path):
    """A comment record the bucket will not give fails the rebuild with its
    key, as an unreadable manifest does, instead of leaving the comment out."""
    flags = ["--s3-endpoint", proxy.endpoint, "--s3-bucket", BUCKET, "--s3-path-style"]
    env = dict(S3_ENV, CONTENTD_S3_MAX_ATTEMPTS="2")
    data = tmp_path / "data"
    data.mkdir()
    s = start_server(data, args=flags, env=env)
    a = Client(s.port, tokens_for(data, flags, env)["alice"])
    base = "/api/v1/content/tutorial/unread"
    a.create_ok("tutorial", "unread")
    assert a.push_ok("tutorial", "unread", doc("v1")) == 1
    for body in ("One.", "Two."):
        r = a.post(base + "/comments",
                   {"version": 1, "path": "index.md", "block": "v1", "body": body})
        assert r.status == 201, r
    s.stop()
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    proxy.add(Rule("500", method="GET", contains="unread/comments/2.json", times=-1))
    p = srv.run_contentd(["rebuild-catalog", "--data", str(fresh), *flags], env=env)
    err = p.stderr.decode("utf-8", "replace")
    assert p.returncode == 1, err
    assert "review/tutorial/unread/comments/2.json cannot be read" in err, err
