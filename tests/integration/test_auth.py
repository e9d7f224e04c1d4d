# SPDX-License-Identifier: MIT
"""Auth as CONTRACT.md sets it: tokens made by `contentd token create USER`,
`Authorization: Bearer`, `?access_token=` for SSE and preview; once a token
exists every API request without a valid one answers 401; another user's
private item is 404 for reading, listing, subscribing and pushing; a public
item is readable by others but stays the owner's to change; a non-loopback
listen address with no tokens is refused at start-up."""
import subprocess

import pytest

from helpers import server as srv
from helpers.api import Client, assert_error, render_ast, sha256
from helpers.sample import folder
from helpers.sse import SSEStream

EVENT_DEADLINE = 10.0


@pytest.fixture(scope="module")
def users(module_servers):
    """A server whose catalog has tokens for alice and bob; their clients,
    and one with no token."""
    data = module_servers.data_dir()
    alice = srv.create_token(data, "alice")
    bob = srv.create_token(data, "bob")
    assert alice != bob
    s = module_servers(data_dir=data)
    return s, Client(s.port, alice), Client(s.port, bob), Client(s.port)


def test_token_create_prints_a_new_token_each_time(contentd_bin, tmp_path):
    t1 = srv.create_token(tmp_path, "carol")
    t2 = srv.create_token(tmp_path, "carol")
    assert t1 != t2 and len(t1) >= 20, (t1, t2)
    stored = b"".join(p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())
    assert t1.encode() not in stored, "the token itself is stored in the data folder"


@pytest.mark.parametrize("path", ["/api/v1/content", "/api/v1/content/tutorial/x",
                                  "/api/v1/events", "/api/v1/content/tutorial/x/events"])
@pytest.mark.parametrize("auth", [None, "Bearer wrong-token", "Bearer ", "Basic YWxpY2U6eA==",
                                  "bearer-missing-scheme"])
def test_missing_or_invalid_token_is_401(users, path, auth):
    s, _, _, _ = users
    headers = {"Authorization": auth} if auth else {}
    assert_error(Client(s.port).get(path, headers=headers), 401)


def test_401_on_writes_too(users, name):
    s, alice, _, anon = users
    assert_error(anon.create("tutorial", name), 401)
    assert_error(anon.missing(["0" * 64]), 401)
    assert_error(anon.put_blob(b"x"), 401)
    assert_error(alice.item("tutorial", name), 404)  # the refused create made nothing


def test_healthz_needs_no_token(users):
    s, _, _, anon = users
    assert anon.get("/healthz").status == 200


def test_valid_token_acts_as_its_user(users, name):
    _, alice, _, _ = users
    item = alice.create_ok("tutorial", name)
    assert item["owner"] == "alice"
    assert alice.push_ok("tutorial", name, folder("tutorial", name)) == 1


@pytest.fixture
def private_item(users, name):
    s, alice, bob, _ = users
    alice.create_ok("course", name)
    alice.push_ok("course", name, folder("course", name, "Alice's secret"))
    return s, alice, bob, name


def test_private_item_is_404_to_others(private_item):
    s, alice, bob, name = private_item
    base = f"/api/v1/content/course/{name}"
    for path in (base, f"{base}/files/index.md", f"{base}/ast/index.md", f"{base}/versions",
                 f"{base}/files/index.md?version=1"):
        assert_error(bob.get(path), 404)
        assert alice.get(path).status == 200, path
    assert_error(bob.patch(base, {"title": "mine now"}), 404)
    assert_error(bob.patch(base, {"visibility": "public"}), 404)
    assert_error(bob.delete(base), 404)
    item = alice.item_ok("course", name)
    assert (item["title"], item["visibility"], item["version"]) == ("Alice's secret", "private", 1)


def test_private_item_absent_from_others_list(private_item):
    s, alice, bob, name = private_item
    assert name not in {i["name"] for i in bob.get("/api/v1/content").json()["items"]}
    assert name not in {i["name"] for i in bob.get("/api/v1/content?kind=course").json()["items"]}
    assert name in {i["name"] for i in alice.get("/api/v1/content").json()["items"]}


def test_private_item_subscribe_is_404_to_others(private_item):
    s, alice, bob, name = private_item
    for kw in ({"token": bob.token}, {}):
        path = f"/api/v1/content/course/{name}/events"
        if not kw:
            path += f"?access_token={bob.token}"
        st = SSEStream(s.port, path, **kw)
        try:
            assert st.status == 404, f"bob subscribed to alice's private item: {st.status}"
        finally:
            st.close()
    assert bob.get(f"/preview/course/{name}").status == 404
    assert Client(s.port).get(f"/preview/course/{name}?access_token={bob.token}").status == 404


def test_private_item_push_is_404_to_others(private_item):
    s, alice, bob, name = private_item
    r = bob.push("course", name, {"index.md": b"# bob was here\n"}, base=1)
    assert_error(r, 404)
    assert alice.item_ok("course", name)["version"] == 1
    assert alice.file("course", name, "index.md").body != b"# bob was here\n"


def test_others_private_events_absent_from_global_stream(users, name):
    s, alice, bob, _ = users
    g = SSEStream(s.port, "/api/v1/events", token=bob.token)
    try:
        assert g.status == 200
        alice.create_ok("tutorial", name + "-p")
        alice.push_ok("tutorial", name + "-p", {"index.md": b"# private\n"})
        alice.create_ok("tutorial", name + "-q", visibility="public")
        # the public item's event comes after the private ones: when it has
        # arrived, the private ones would have too
        ev = g.wait_event(lambda e: name in e.data, EVENT_DEADLINE)
        assert name + "-q" in ev.data and name + "-p" not in ev.data, \
            f"bob's global stream shows alice's private item: {ev!r}"
    finally:
        g.close()


def test_public_item_readable_by_others(users, name, content_bin):
    s, alice, bob, _ = users
    alice.create_ok("tutorial", name, visibility="public")
    files = folder("tutorial", name, "Open to all")
    alice.push_ok("tutorial", name, files)
    assert bob.item_ok("tutorial", name)["owner"] == "alice"
    r = bob.file("tutorial", name, "images/pic.png")
    assert r.status == 200 and sha256(r.body) == sha256(files["images/pic.png"])
    r = bob.get(f"/api/v1/content/tutorial/{name}/ast/index.md")
    assert r.status == 200 and r.json() == render_ast(files["index.md"])
    assert bob.get(f"/api/v1/content/tutorial/{name}/versions").status == 200
    assert name in {i["name"] for i in bob.get("/api/v1/content").json()["items"]}
    st = SSEStream(s.port, f"/api/v1/content/tutorial/{name}/events", token=bob.token)
    try:
        assert st.status == 200
        assert st.next_event(EVENT_DEADLINE).event == "snapshot"
    finally:
        st.close()


def test_public_item_stays_the_owners_to_change(users, name):
    s, alice, bob, _ = users
    alice.create_ok("tutorial", name, visibility="public", title="Alice's")
    alice.push_ok("tutorial", name, {"index.md": b"# alice\n"})
    before = alice.item_ok("tutorial", name)
    base = f"/api/v1/content/tutorial/{name}"
    for r in (bob.patch(base, {"title": "Bob's"}), bob.delete(base),
              bob.push("tutorial", name, {"index.md": b"# bob\n"}, base=1)):
        assert r.status in (403, 404), f"a non-owner changed a public item: {r!r}"
        assert_error(r, r.status)
    item = alice.item_ok("tutorial", name)
    assert (item["title"], item["version"], item["visibility"]) == \
        (before["title"], 1, "public")
    assert alice.file("tutorial", name, "index.md").body == b"# alice\n"


def test_access_token_query_for_sse(users, name):
    s, alice, _, _ = users
    alice.create_ok("tutorial", name)
    alice.push_ok("tutorial", name, {"index.md": b"# q\n"})
    st = SSEStream(s.port, f"/api/v1/content/tutorial/{name}/events?access_token={alice.token}")
    try:
        assert st.status == 200
        assert st.next_event(EVENT_DEADLINE).event == "snapshot"
    finally:
        st.close()
    for path in (f"/api/v1/content/tutorial/{name}/events?access_token=wrong",
                 "/api/v1/events?access_token=wrong"):
        st = SSEStream(s.port, path)
        try:
            assert st.status == 401, path
        finally:
            st.close()


def test_access_token_query_for_preview(users, name):
    s, alice, _, _ = users
    alice.create_ok("tutorial", name)
    alice.push_ok("tutorial", name, {"index.md": b"# q\n"})
    anon = Client(s.port)
    r = anon.get(f"/preview/tutorial/{name}?access_token={alice.token}")
    assert r.status == 200 and r.media_type == "text/html", r
    assert anon.get(f"/preview/tutorial/{name}").status == 401
    assert anon.get(f"/preview/tutorial/{name}?access_token=wrong").status == 401


def test_first_token_turns_auth_on_while_running(start_server, name):
    s = start_server()
    anon = Client(s.port)
    assert anon.create_ok("tutorial", name)["owner"] == "local"
    token = srv.create_token(s.data_dir, "dave")
    assert_error(anon.get("/api/v1/content"), 401)
    assert Client(s.port, token).get("/api/v1/content").status == 200


def test_non_loopback_listen_without_tokens_is_refused(contentd_bin, tmp_path):
    port = srv.free_port()
    p = subprocess.Popen([str(contentd_bin), "serve", "--listen", f"0.0.0.0:{port}",
                          "--data", str(tmp_path)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=srv.clean_env())
    try:
        out, err = p.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        pytest.fail("contentd serve --listen 0.0.0.0 with no tokens kept running")
    assert p.returncode != 0
    msg = (err + out).decode(errors="replace").strip()
    assert "token" in msg.lower(), f"the refusal does not say why: {msg!r}"
    assert len(msg.splitlines()) <= 3, f"not a clear short message: {msg!r}"
