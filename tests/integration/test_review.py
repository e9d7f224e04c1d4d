# SPDX-License-Identifier: MIT
"""Review and sharing (CONTRACT "Review and sharing"), on both catalogs —
SQLite and MongoDB (the wire-protocol test server tests/mongo/server.py):

- a published version: readers who are neither the owner nor a member see
  it only — the item, its files, its ASTs, its history, the listing, the
  item's event stream and the global one — and never a later draft; they
  get an update only when a new version is published;
- members: viewer, reviewer and editor read every version; only an editor
  pushes besides the owner; only the owner publishes and manages members;
  a stranger gets 404 on a private item; taking a role away closes that
  user's open streams of the item at once.
"""
from __future__ import annotations

import itertools
import json
import subprocess

import pytest

from helpers import server as srv
from helpers.api import Client, assert_error, render_ast
from helpers.sse import SSEStream
from mongosupport import fresh_db_name

DEADLINE = 10.0
USERS = ("alice", "bob", "carol", "dave", "eve")
_n = itertools.count(1)


class Env:
    def __init__(self, server, tokens):
        self.server = server
        self.port = server.port
        self.c = {u: Client(server.port, t) for u, t in tokens.items()}
        self.tokens = tokens

    def __getattr__(self, user):
        try:
            return self.__dict__["c"][user]
        except KeyError:
            raise AttributeError(user) from None

    def sse(self, user, path, **kw):
        return SSEStream(self.port, path, token=self.tokens[user], **kw)


@pytest.fixture(scope="module", params=["sqlite", "mongodb"])
def env(request, module_servers):
    """A server with tokens for USERS, on the SQLite or the MongoDB catalog."""
    data = module_servers.data_dir()
    storage = []
    if request.param == "mongodb":
        peer = request.getfixturevalue("wire_peer")
        storage = ["--mongodb-uri", peer.uri, "--mongodb-db", fresh_db_name()]
    tokens = {}
    for u in USERS:
        p = srv.run_contentd(["token", "create", u, "--data", str(data), *storage])
        assert p.returncode == 0, p.stderr.decode()
        tokens[u] = p.stdout.decode().split()[-1]
    s = module_servers(data_dir=data, args=storage)
    yield Env(s, tokens)
    s.stop()


@pytest.fixture
def name() -> str:
    return f"r{next(_n)}"


def doc(text: str) -> dict:
    return {"index.md": f"---\ntitle: T\n---\n\n# {text}\n".encode()}


def versions_pushed(e, kind, name, n, **create):
    """alice's item with versions 1..n, version k's heading "v<k>"."""
    e.alice.create_ok(kind, name, **create)
    for k in range(1, n + 1):
        assert e.alice.push_ok(kind, name, doc(f"v{k}")) == k
    return f"/api/v1/content/{kind}/{name}"


def publish(e, base, version=None, user="alice"):
    body = {} if version is None else {"version": version}
    return getattr(e, user).post(base + "/publish", body)


# ---- published version ------------------------------------------------------

def test_publish_answers_the_item_with_its_published_version(env, name):
    base = versions_pushed(env, "tutorial", name, 3, visibility="public")
    assert env.alice.item_ok("tutorial", name)["published_version"] == 0
    r = publish(env, base, 2)
    assert r.status == 200, r
    assert r.json()["published_version"] == 2 and r.json()["version"] == 3
    r = publish(env, base)  # omitted: the latest
    assert r.status == 200 and r.json()["published_version"] == 3, r


def test_readers_see_the_published_version_only(env, name):
    base = versions_pushed(env, "tutorial", name, 3, visibility="public")
    assert publish(env, base, 2).status == 200
    it = env.bob.item_ok("tutorial", name)
    assert it["version"] == 2 and it["published_version"] == 2, it
    raw = env.bob.file("tutorial", name, "index.md")
    assert raw.status == 200 and b"# v2" in raw.body, raw
    assert_error(env.bob.file("tutorial", name, "index.md", version=3), 404)
    assert_error(env.bob.file("tutorial", name, "index.md", version=1), 404)
    ast = env.bob.get(base + "/ast/index.md")
    assert ast.status == 200 and ast.json() == render_ast(doc("v2")["index.md"]), ast
    assert [v["version"] for v in env.bob.get(base + "/versions").json()] == [1, 2]
    listed = [i for i in env.bob.get("/api/v1/content").json()["items"] if i["name"] == name]
    assert listed and listed[0]["version"] == 2, listed
    # the owner still sees everything
    assert env.alice.item_ok("tutorial", name)["version"] == 3
    assert b"# v3" in env.alice.file("tutorial", name, "index.md").body
    assert env.alice.file("tutorial", name, "index.md", version=1).status == 200


def test_readers_get_the_findings_of_the_published_version_only(env, name):
    base = versions_pushed(env, "tutorial", name, 3, visibility="public")
    assert publish(env, base, 2).status == 200
    r = env.bob.get(base + "/versions/2/checks")
    assert r.status == 200 and isinstance(r.json()["checks"], list), r
    assert_error(env.bob.get(base + "/versions/3/checks"), 404)
    assert env.alice.get(base + "/versions/3/checks").status == 200


def test_an_item_never_published_shows_readers_the_latest(env, name):
    versions_pushed(env, "tutorial", name, 2, visibility="public")
    assert env.bob.item_ok("tutorial", name)["version"] == 2
    assert env.bob.file("tutorial", name, "index.md", version=1).status == 200


def test_only_the_owner_publishes(env, name):
    base = versions_pushed(env, "tutorial", name, 2, visibility="public")
    assert_error(publish(env, base, 1, user="bob"), 403, "forbidden")
    priv = versions_pushed(env, "course", name, 1)
    assert_error(publish(env, priv, 1, user="bob"), 404, "not_found")
    assert_error(publish(env, base, 7), 404, "not_found")
    assert_error(publish(env, base, 0), 400, "invalid_version")
    assert_error(env.alice.post(base + "/publish", {"version": "2"}), 400, "invalid_version")
    env.alice.create_ok("skill-path", name)
    assert_error(publish(env, f"/api/v1/content/skill-path/{name}"), 409, "no_version")


def test_a_reader_stream_gets_no_draft_only_the_next_published_version(env, name):
    base = versions_pushed(env, "tutorial", name, 2, visibility="public")
    assert publish(env, base, 2).status == 200
    reader = env.sse("bob", base + "/events")
    owner = env.sse("alice", base + "/events")
    try:
        snap = reader.next_event(DEADLINE)
        assert snap.event == "snapshot" and snap.json()["version"] == 2, snap
        assert owner.next_event(DEADLINE).json()["version"] == 2
        env.alice.push_ok("tutorial", name, doc("v3"))
        env.alice.push_ok("tutorial", name, doc("v4"))
        # the owner gets both drafts; the hub hands one change to every
        # stream before the next, so the reader would have had them by now
        assert owner.wait_event(lambda e: e.id == "4", DEADLINE).event == "update"
        assert publish(env, base, 4).status == 200
        upd = reader.next_event(DEADLINE)
        assert upd.event == "update", f"the reader got {upd!r} before the publish's update"
        assert (upd.json()["base_version"], upd.json()["version"]) == (2, 4), upd
        assert upd.json()["documents"]["index.md"] == render_ast(doc("v4")["index.md"])
        pub = reader.next_event(DEADLINE)
        assert pub.event == "published" and pub.json()["published_version"] == 4, pub
        assert "version" not in pub.json(), "a reader's published event names the latest draft"
        opub = owner.wait_event(lambda e: e.event == "published", DEADLINE)
        assert opub.json()["published_version"] == 4 and opub.json()["version"] == 4
    finally:
        reader.close()
        owner.close()


def test_a_reconnecting_reader_gets_the_published_snapshot(env, name):
    base = versions_pushed(env, "tutorial", name, 3, visibility="public")
    assert publish(env, base, 1).status == 200
    st = env.sse("bob", base + "/events", headers={"Last-Event-ID": "3"})
    try:
        ev = st.next_event(DEADLINE)
        assert ev.event == "snapshot" and ev.json()["version"] == 1, ev
        assert ev.json()["documents"]["index.md"] == render_ast(doc("v1")["index.md"])
    finally:
        st.close()


def two_docs(k: int) -> dict:
    return {"index.md": f"---\ntitle: I{k}\n---\n\n# i{k}\n".encode(),
            "lessons/a.md": f"---\ntitle: L{k}\n---\n\n# l{k}\n".encode()}


def stub(md: bytes) -> dict:
    ast = render_ast(md)
    return {"title": ast["data"]["title"], "toc": ast["toc"]}


def test_a_reader_with_documents_gets_the_published_version_gzip_compressed(env, name):
    """?documents= and gzip on a reader's stream: the snapshot is of the
    published version with its stubs (though the owner's snapshot of the
    draft for the same list was made first), and publishing brings the
    update to the new published version with stubs, then `published`."""
    base = f"/api/v1/content/tutorial/{name}"
    env.alice.create_ok("tutorial", name, visibility="public")
    for k in (1, 2):
        assert env.alice.push_ok("tutorial", name, two_docs(k)) == k
    assert publish(env, base, 1).status == 200
    q = "/events?documents=lessons/a.md"
    owner = env.sse("alice", base + q)
    try:
        assert owner.next_event(DEADLINE).json()["version"] == 2
    finally:
        owner.close()
    reader = env.sse("bob", base + q, gzip=True)
    try:
        assert reader.status == 200 and reader.header("Content-Encoding") == "gzip"
        snap = reader.next_event(DEADLINE)
        assert snap.event == "snapshot" and snap.json()["version"] == 1, snap
        assert snap.json()["documents"] == {"index.md": stub(two_docs(1)["index.md"]),
                                            "lessons/a.md": render_ast(two_docs(1)["lessons/a.md"])}
        env.alice.push_ok("tutorial", name, two_docs(3))
        assert publish(env, base, 3).status == 200
        upd = reader.next_event(DEADLINE)
        assert upd.event == "update", upd
        assert (upd.json()["base_version"], upd.json()["version"]) == (1, 3), upd
        assert upd.json()["documents"] == {"index.md": stub(two_docs(3)["index.md"]),
                                           "lessons/a.md": render_ast(two_docs(3)["lessons/a.md"])}
        pub = reader.next_event(DEADLINE)
        assert pub.event == "published" and pub.json()["published_version"] == 3, pub
    finally:
        reader.close()


def test_the_global_stream_shows_readers_published_versions_only(env, name):
    base = versions_pushed(env, "tutorial", name, 1, visibility="public")
    assert publish(env, base, 1).status == 200
    reader = env.sse("bob", "/api/v1/events")
    owner = env.sse("alice", "/api/v1/events")
    try:
        assert reader.next_event(DEADLINE).event == "snapshot"
        assert owner.next_event(DEADLINE).event == "snapshot"
        # The hub applies changes on its own thread: the version 1 and the
        # first publish may reach the streams after their snapshots.
        env.alice.push_ok("tutorial", name, doc("v2"))
        owner.wait_event(lambda e: name in e.data and e.event == "version"
                         and e.json()["version"] == 2, DEADLINE)
        assert publish(env, base, 2).status == 200
        ev = reader.wait_event(lambda e: e.event == "published" and name in e.data
                               and e.json()["published_version"] == 2, DEADLINE)
        assert ev.json()["version"] == 2, ev
        # before it, only what was there before the draft (events of the
        # item's creation the hub may still have been applying), or the
        # publish's own `updated`
        before = reader.events[:reader.events.index(ev)]
        seen = [e for e in before if name in e.data and e.event != "snapshot"]
        drafts = [e for e in seen if e.json().get("version") == 2 and e.event != "updated"]
        assert not drafts, f"the reader saw the draft: {drafts!r}"
        owner.wait_event(lambda e: e.event == "published" and name in e.data, DEADLINE)
    finally:
        reader.close()
        owner.close()


# ---- members ----------------------------------------------------------------

def put_role(e, base, user, role, by="alice"):
    return getattr(e, by).send_json("PUT", f"{base}/members/{user}", {"role": role})


@pytest.fixture
def team(env, name):
    """alice's private course at version 1, bob viewer, carol reviewer,
    dave editor; eve is a stranger."""
    base = versions_pushed(env, "course", name, 1)
    for user, role in (("bob", "viewer"), ("carol", "reviewer"), ("dave", "editor")):
        r = put_role(env, base, user, role)
        assert r.status == 200, r
    return env, base, name


def test_members_are_listed_for_the_owner(team):
    e, base, _ = team
    r = e.alice.get(base + "/members")
    assert r.status == 200 and r.json() == {"members": [
        {"user": "bob", "role": "viewer"}, {"user": "carol", "role": "reviewer"},
        {"user": "dave", "role": "editor"}]}, r


@pytest.mark.parametrize("user", ["bob", "carol", "dave"])
def test_every_role_reads_the_latest_and_every_version(team, user):
    e, base, name = team
    assert e.alice.push_ok("course", name, doc("v2")) == 2
    assert publish(e, base, 1).status == 200
    c = getattr(e, user)
    assert c.item_ok("course", name)["version"] == 2
    assert b"# v2" in c.file("course", name, "index.md").body
    assert b"# v1" in c.file("course", name, "index.md", version=1).body
    assert any(i["name"] == name for i in c.get("/api/v1/content").json()["items"])
    st = e.sse(user, base + "/events")
    try:
        assert st.next_event(DEADLINE).json()["version"] == 2
    finally:
        st.close()


@pytest.mark.parametrize("user,status", [("bob", 403), ("carol", 403), ("dave", 201),
                                         ("eve", 404)])
def test_only_editors_push_besides_the_owner(team, user, status):
    e, base, name = team
    r = getattr(e, user).push("course", name, doc(f"by {user}"), base=1)
    assert r.status == status, r
    if status == 201:
        assert e.alice.item_ok("course", name)["version"] == 2


@pytest.mark.parametrize("user,status", [("bob", 403), ("carol", 403), ("dave", 403),
                                         ("eve", 404)])
def test_only_the_owner_publishes_and_manages_members(team, user, status):
    e, base, _ = team
    c = getattr(e, user)
    assert_error(publish(e, base, 1, user=user), status)
    assert_error(c.get(base + "/members"), status)
    assert_error(put_role(e, base, "eve", "viewer", by=user), status)
    assert_error(c.delete(base + "/members/bob"), status)
    assert_error(c.delete(base), status)


def test_a_stranger_sees_nothing_of_a_private_item(team):
    e, base, name = team
    assert_error(e.eve.item("course", name), 404)
    assert_error(e.eve.file("course", name, "index.md"), 404)
    assert_error(e.eve.get(base + "/ast/index.md"), 404)
    st = e.sse("eve", base + "/events")
    try:
        assert st.status == 404
    finally:
        st.close()


def test_bad_member_requests(team):
    e, base, _ = team
    assert_error(put_role(e, base, "eve", "admin"), 400, "invalid_role")
    assert_error(e.alice.send_json("PUT", base + "/members/eve", {}), 400, "invalid_role")
    assert_error(put_role(e, base, "bad%20name", "viewer"), 400, "invalid_user")
    assert_error(put_role(e, base, "alice", "editor"), 422, "owner_role")
    assert_error(e.alice.delete(base + "/members/eve"), 404, "not_found")


def test_changing_a_role_takes_effect_at_once(team):
    e, base, name = team
    assert put_role(e, base, "bob", "editor").status == 200
    assert e.bob.push("course", name, doc("bob"), base=1).status == 201
    assert put_role(e, base, "bob", "viewer").status == 200
    assert_error(e.bob.push("course", name, doc("bob 2"), base=2), 403)
    assert e.bob.delete(base + "/members/bob").status == 403
    r = e.alice.delete(base + "/members/bob")
    assert r.status == 204, r
    assert_error(e.bob.item("course", name), 404)
    roles = [m["user"] for m in e.alice.get(base + "/members").json()["members"]]
    assert roles == ["carol", "dave"], roles


def test_revoking_a_role_closes_that_users_streams_at_once(team):
    e, base, name = team
    bob = e.sse("bob", base + "/events")
    dave = e.sse("dave", base + "/events")
    try:
        assert bob.next_event(DEADLINE).event == "snapshot"
        assert dave.next_event(DEADLINE).event == "snapshot"
        assert e.alice.delete(base + "/members/bob").status == 204
        assert bob.response_ended(DEADLINE), "bob's stream stayed open after his role was revoked"
        assert not [ev for ev in bob.events[1:] if ev.event == "update"]
        # dave's stream is untouched and goes on getting versions
        e.alice.push_ok("course", name, doc("v2"))
        assert dave.wait_event(lambda ev: ev.event == "update", DEADLINE).json()["version"] == 2
        again = e.sse("bob", base + "/events")
        try:
            assert again.status == 404
        finally:
            again.close()
    finally:
        bob.close()
        dave.close()


def test_a_member_of_a_public_published_item_reads_the_drafts(env, name):
    base = versions_pushed(env, "tutorial", name, 2, visibility="public")
    assert publish(env, base, 1).status == 200
    assert env.bob.item_ok("tutorial", name)["version"] == 1
    assert put_role(env, base, "bob", "viewer").status == 200
    assert env.bob.item_ok("tutorial", name)["version"] == 2
    st = env.sse("bob", base + "/events")
    try:
        assert st.next_event(DEADLINE).json()["version"] == 2
        env.alice.push_ok("tutorial", name, doc("v3"))
        assert st.wait_event(lambda e: e.event == "update", DEADLINE).json()["version"] == 3
    finally:
        st.close()


# ---- share links ------------------------------------------------------------

def make_link(e, base, version=None, expires_in=3600, by="alice"):
    body = {"version": version, "expires_in": expires_in}
    return getattr(e, by).post(base + "/links", body)


@pytest.fixture
def shared(env, name):
    """alice's private tutorial at version 3, a link to version 2 and one
    that follows the latest."""
    base = versions_pushed(env, "tutorial", name, 3)
    pinned = make_link(env, base, 2)
    latest = make_link(env, base, None)
    assert pinned.status == 201 and latest.status == 201, (pinned, latest)
    return env, base, name, pinned.json(), latest.json()


def anon(e) -> Client:
    return Client(e.port)


def test_a_link_is_shown_once_and_listed_without_its_secret(shared):
    e, base, name, pinned, latest = shared
    assert pinned["token"].startswith("cdl_") and pinned["version"] == 2
    assert latest["version"] is None
    assert pinned["url"].endswith(f"/preview/tutorial/{name}?link={pinned['token']}"), pinned
    r = e.alice.get(base + "/links")
    assert r.status == 200, r
    links = r.json()["links"]
    assert [(l["id"], l["version"]) for l in links] == [(pinned["id"], 2), (latest["id"], None)]
    assert all(set(l) == {"id", "version", "expires_at", "created_at"} for l in links), links
    assert pinned["token"] not in r.body.decode()
    if not e.server.extra_args:  # SQLite: the token is nowhere in the data folder
        stored = b"".join(p.read_bytes() for p in e.server.data_dir.rglob("*") if p.is_file())
        assert pinned["token"].encode() not in stored


def test_a_link_grants_its_versions_preview_files_asts_and_events(shared):
    e, base, name, pinned, latest = shared
    c = anon(e)
    for link, v in ((pinned, 2), (latest, 3)):
        q = f"?link={link['token']}"
        assert c.get(f"/preview/tutorial/{name}{q}").status == 200
        f = c.get(f"{base}/files/index.md{q}")
        assert f.status == 200 and f"# v{v}".encode() in f.body, f
        a = c.get(f"{base}/ast/index.md{q}")
        assert a.status == 200 and a.json() == render_ast(doc(f"v{v}")["index.md"])
        assert_error(c.get(f"{base}/files/index.md{q}&version=1"), 404)
        st = SSEStream(e.port, f"{base}/events{q}")
        try:
            ev = st.next_event(DEADLINE)
            assert ev.event == "snapshot" and ev.json()["version"] == v, ev
        finally:
            st.close()
        # and nothing else
        assert_error(c.get(f"{base}{q}"), 401)
        assert_error(c.get(f"/api/v1/content{q}"), 401)
        assert_error(c.get(f"{base}/versions{q}"), 401)
        holder = Client(e.port, link["token"])
        assert_error(holder.missing(["0" * 64]), 401)
        assert_error(holder.commit("tutorial", name, 3, []), 401)
        g = SSEStream(e.port, f"/api/v1/events{q}")
        try:
            assert g.status == 404
        finally:
            g.close()
    other = versions_pushed(e, "course", name, 1)
    assert_error(c.get(f"{other}/files/index.md?link={pinned['token']}"), 404)


def test_a_pinned_link_stream_gets_no_later_version_a_following_one_does(shared):
    e, base, name, pinned, latest = shared
    p = SSEStream(e.port, f"{base}/events?link={pinned['token']}")
    f = SSEStream(e.port, f"{base}/events?link={latest['token']}")
    try:
        assert p.next_event(DEADLINE).json()["version"] == 2
        assert f.next_event(DEADLINE).json()["version"] == 3
        e.alice.push_ok("tutorial", name, doc("v4"))
        assert publish(e, base, 4).status == 200
        assert f.wait_event(lambda ev: ev.event == "update", DEADLINE).json()["version"] == 4
        f.wait_event(lambda ev: ev.event == "published", DEADLINE)
        # the same change reached the pinned stream by now, if it was to
        e.alice.push_ok("tutorial", name, doc("v5"))
        assert f.wait_event(lambda ev: ev.event == "update", DEADLINE).json()["version"] == 5
        assert not [ev for ev in p.events[1:] if ev.event in ("update", "snapshot")], p.events
    finally:
        p.close()
        f.close()


def test_a_link_stream_takes_documents_and_gzip(shared):
    e, base, name, pinned, latest = shared
    st = SSEStream(e.port, f"{base}/events?link={pinned['token']}&documents=", gzip=True)
    try:
        assert st.status == 200 and st.header("Content-Encoding") == "gzip"
        ev = st.next_event(DEADLINE)
        assert ev.event == "snapshot" and ev.json()["version"] == 2, ev
        assert ev.json()["documents"] == {"index.md": stub(doc("v2")["index.md"])}
    finally:
        st.close()


def test_a_revoked_link_is_404_at_once_and_its_streams_close(shared):
    e, base, name, pinned, latest = shared
    q = f"?link={pinned['token']}"
    st = SSEStream(e.port, f"{base}/events{q}")
    keep = SSEStream(e.port, f"{base}/events?link={latest['token']}")
    try:
        assert st.next_event(DEADLINE).event == "snapshot"
        assert keep.next_event(DEADLINE).event == "snapshot"
        r = e.alice.delete(f"{base}/links/{pinned['id']}")
        assert r.status == 204, r
        for path in (f"/preview/tutorial/{name}", f"{base}/files/index.md", f"{base}/ast/index.md"):
            assert anon(e).get(path + q).status == 404, path
        assert st.response_ended(DEADLINE), "the revoked link's stream stayed open"
        again = SSEStream(e.port, f"{base}/events{q}")
        try:
            assert again.status == 404
        finally:
            again.close()
        e.alice.push_ok("tutorial", name, doc("v4"))
        assert keep.wait_event(lambda ev: ev.event == "update", DEADLINE).json()["version"] == 4
        assert_error(e.alice.delete(f"{base}/links/{pinned['id']}"), 404)
    finally:
        st.close()
        keep.close()


def test_an_expired_link_is_404_and_its_streams_close(env, name):
    base = versions_pushed(env, "tutorial", name, 1)
    link = make_link(env, base, None, expires_in=2).json()
    q = f"?link={link['token']}"
    st = SSEStream(env.port, f"{base}/events{q}")
    try:
        assert st.next_event(DEADLINE).event == "snapshot"
        assert st.response_ended(DEADLINE), "the stream outlived its link's expiry"
        for path in (f"/preview/tutorial/{name}", f"{base}/files/index.md", f"{base}/ast/index.md"):
            assert anon(env).get(path + q).status == 404, path
    finally:
        st.close()


@pytest.mark.parametrize("user,status", [("bob", 403), ("carol", 403), ("dave", 403),
                                         ("eve", 404)])
def test_only_the_owner_makes_lists_and_revokes_links(team, user, status):
    e, base, _ = team
    link = make_link(e, base).json()
    c = getattr(e, user)
    assert_error(make_link(e, base, by=user), status)
    assert_error(c.get(base + "/links"), status)
    assert_error(c.delete(f"{base}/links/{link['id']}"), status)


def test_bad_link_requests(env, name):
    base = versions_pushed(env, "tutorial", name, 1)
    assert_error(make_link(env, base, 5), 404)
    assert_error(make_link(env, base, 0), 400, "invalid_version")
    assert_error(make_link(env, base, None, expires_in=0), 400, "invalid_expires_in")
    assert_error(make_link(env, base, None, expires_in="1d"), 400, "invalid_expires_in")
    assert_error(anon(env).get(f"{base}/files/index.md?link=cdl_nonsense"), 404)


# ---- rollback -----------------------------------------------------------------

def test_rollback_makes_a_new_version_with_the_old_files(env, name):
    base = versions_pushed(env, "tutorial", name, 3)
    r = env.alice.post(base + "/rollback", {"to": 1})
    assert r.status == 201 and r.json()["version"] == 4, r
    assert b"# v1" in env.alice.file("tutorial", name, "index.md").body
    assert b"# v3" in env.alice.file("tutorial", name, "index.md", version=3).body
    assert [v["version"] for v in env.alice.get(base + "/versions").json()] == [1, 2, 3, 4]
    # the files of version 1 again: nothing new to make
    r = env.alice.post(base + "/rollback", {"to": 1})
    assert r.status == 200 and r.json() == {"version": 4, "created": False, "checks": []}, r


@pytest.mark.parametrize("user,status", [("dave", 201), ("bob", 403), ("carol", 403),
                                         ("eve", 404)])
def test_rollback_is_for_the_owner_and_editors(team, user, status):
    e, base, name = team
    assert e.alice.push_ok("course", name, doc("v2")) == 2
    r = getattr(e, user).post(base + "/rollback", {"to": 1})
    assert r.status == status, r


def test_bad_rollbacks(env, name):
    base = versions_pushed(env, "tutorial", name, 2)
    assert_error(env.alice.post(base + "/rollback", {"to": 3}), 404)
    assert_error(env.alice.post(base + "/rollback", {"to": 0}), 400, "invalid_version")
    assert_error(env.alice.post(base + "/rollback", {}), 400, "invalid_version")


# ---- the client ---------------------------------------------------------------

def content(e, user, *args):
    """`content ARGS...` as user against the server; stdout and stderr as text."""
    env = {"CONTENT_SERVER": e.server.base_url, "CONTENT_TOKEN": e.tokens[user]}
    return subprocess.run([str(srv.content_binary()), *map(str, args)], capture_output=True,
                          env=srv.clean_env(env), timeout=60, encoding="utf-8")


def ok_json(p):
    assert p.returncode == 0, f"exit {p.returncode}: {p.stderr}"
    return json.loads(p.stdout)


def test_client_publish_members_share_rollback(env, name):
    versions_pushed(env, "tutorial", name, 3, visibility="public")
    item = f"tutorial/{name}"
    p = content(env, "alice", "publish", item, 2)
    assert p.returncode == 0 and "published version 2 (latest 3)" in p.stdout, p
    assert ok_json(content(env, "alice", "publish", item, "--output", "json"))[
        "published_version"] == 3
    p = content(env, "alice", "members", item, "bob", "editor")
    assert p.returncode == 0 and "bob" in p.stdout and "editor" in p.stdout, p
    assert ok_json(content(env, "alice", "members", item, "--output", "json")) == {
        "members": [{"user": "bob", "role": "editor"}]}
    p = content(env, "alice", "members", item, "--remove", "bob")
    assert p.returncode == 0 and "no longer a member" in p.stdout, p
    assert "no members" in content(env, "alice", "members", item).stdout
    link = ok_json(content(env, "alice", "share", item, "--version", 1, "--expires", "2h",
                           "--output", "json"))
    assert link["version"] == 1 and link["token"].startswith("cdl_"), link
    f = anon(env).get(f"/api/v1/content/{item}/files/index.md?link={link['token']}")
    assert f.status == 200 and b"# v1" in f.body
    p = content(env, "alice", "share", item)
    assert p.returncode == 0 and "the latest version" in p.stdout and "?link=cdl_" in p.stdout, p
    listed = content(env, "alice", "share", item, "--list")
    assert listed.returncode == 0 and link["id"] in listed.stdout, listed
    assert link["token"] not in listed.stdout
    p = content(env, "alice", "share", item, "--revoke", link["id"])
    assert p.returncode == 0 and "revoked" in p.stdout, p
    assert anon(env).get(f"/api/v1/content/{item}/files/index.md?link={link['token']}").status \
        == 404
    p = content(env, "alice", "rollback", item, 1)
    assert p.returncode == 0 and "version 4 has the files of version 1" in p.stdout, p
    assert ok_json(content(env, "alice", "rollback", item, 1, "--output", "json")) == {
        "version": 4, "created": False, "checks": []}


@pytest.mark.parametrize("args", [
    ("publish",), ("publish", "tutorial/x", "zero"), ("members", "tutorial/x", "bob"),
    ("share", "tutorial/x", "--list", "--revoke", "abc"), ("share", "tutorial/x", "--expires", "7y"),
    ("rollback", "tutorial/x"), ("rollback", "nokind/x", "1"), ("publish", "tutorial/x", "--bogus"),
    ("publish", "tutorial/x", "1", "2"), ("rollback", "tutorial/x", "1", "2"),
    ("share", "tutorial/x", "extra"), ("members", "tutorial/x", "--remove"),
])
def test_client_usage_errors_exit_2(env, args):
    p = content(env, "alice", *args)
    assert p.returncode == 2 and p.stderr.count("\n") == 1, p


def test_client_refusals_exit_1_with_the_servers_reason(env, name):
    versions_pushed(env, "tutorial", name, 1, visibility="public")
    p = content(env, "bob", "publish", f"tutorial/{name}")
    assert p.returncode == 1 and p.stderr.count("\n") == 1 and "owner" in p.stderr.lower(), p
    p = content(env, "alice", "rollback", f"tutorial/{name}", 9)
    assert p.returncode == 1 and "no version 9" in p.stderr, p


@pytest.mark.parametrize("what", ["push", "publish", "members", "member_put", "links",
                                  "link_post", "rollback", "delete", "patch"])
def test_a_reader_of_a_public_item_changes_nothing(env, name, what):
    """The contract's row "anyone else, public item": reads the published
    version, and every change is 403."""
    base = versions_pushed(env, "tutorial", name, 2, visibility="public")
    assert publish(env, base, 1).status == 200
    c = env.bob
    r = {"push": lambda: c.push("tutorial", name, doc("bob"), base=2),
         "publish": lambda: publish(env, base, 2, user="bob"),
         "members": lambda: c.get(base + "/members"),
         "member_put": lambda: put_role(env, base, "bob", "editor", by="bob"),
         "links": lambda: c.get(base + "/links"),
         "link_post": lambda: make_link(env, base, by="bob"),
         "rollback": lambda: c.post(base + "/rollback", {"to": 1}),
         "delete": lambda: c.delete(base),
         "patch": lambda: c.patch(base, {"title": "bob's"})}[what]()
    assert_error(r, 403)
    it = env.alice.item_ok("tutorial", name)
    assert (it["version"], it["published_version"], it["title"]) == (2, 1, "T"), it
