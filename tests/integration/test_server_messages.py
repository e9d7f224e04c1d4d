# SPDX-License-Identifier: MIT
"""What the service says when it is used wrongly or its items change hands:
a flag given without its value is named (the next flag is not taken as
the value), --data naming a file says so, --max-blob-size 0 is refused, a
JSON body with \\u0000 gets a plain sentence, and an item made public
reaches other users' global streams as `created` — never first as an
`updated` of an item they could not see."""
from __future__ import annotations

import pytest

from helpers import server as srv
from helpers.api import Client, assert_error
from helpers.sse import SSEStream

EVENT_DEADLINE = 10.0


def run(args, tmp_path):
    p = srv.run_contentd(args, timeout=15)
    return p.returncode, p.stderr.decode("utf-8", "replace").strip()


@pytest.mark.parametrize("flag", ["--listen", "--max-blob-size", "--threads"])
def test_flag_without_value_does_not_swallow_the_next_flag(contentd_bin, tmp_path, flag):
    rc, err = run(["serve", flag, "--data", str(tmp_path)], tmp_path)
    assert rc == 2, err
    assert err == f"contentd: option '{flag}' needs a value", err


def test_data_naming_a_file_says_so(contentd_bin, tmp_path):
    f = tmp_path / "not-a-folder"
    f.write_text("x")
    for cmd in (["serve", "--listen", "127.0.0.1:0"], ["rebuild-catalog"]):
        rc, err = run([*cmd, "--data", str(f)], tmp_path)
        assert rc == 1, err
        assert "is a file, not a folder" in err and str(f) in err, err
        assert "unable to open database file" not in err, err


@pytest.mark.parametrize("value", ["0", "0k"])
def test_max_blob_size_zero_is_refused(contentd_bin, tmp_path, value):
    rc, err = run(["serve", "--max-blob-size", value, "--data", str(tmp_path)], tmp_path)
    assert rc == 2 and "at least 1 byte" in err, err
    p = srv.run_contentd(["serve", "--data", str(tmp_path)],
                         env={"CONTENTD_MAX_BLOB_SIZE": value}, timeout=15)
    err = p.stderr.decode()
    assert p.returncode == 2 and "CONTENTD_MAX_BLOB_SIZE" in err and "at least 1 byte" in err, err


def test_json_body_with_nul_gets_a_plain_message(api, name):
    body = b'{"kind":"tutorial","name":"' + name.encode() + b'","title":"a\\u0000b"}'
    r = api.req("POST", "/api/v1/content", body, content_type="application/json")
    err = assert_error(r, 400, "invalid_json")
    msg = err["message"]
    assert "NUL" in msg and "JSON_ALLOW_NUL" not in msg and "ALLOW" not in msg, msg
    assert api.item(("tutorial"), name).status == 404


@pytest.fixture(scope="module")
def users(module_servers):
    data = module_servers.data_dir()
    alice = srv.create_token(data, "alice")
    bob = srv.create_token(data, "bob")
    s = module_servers(data_dir=data)
    return s, Client(s.port, alice), Client(s.port, bob)


def test_item_made_public_is_created_for_others_and_updated_for_its_owner(users, name):
    s, alice, bob = users
    alice.create_ok("tutorial", name)
    alice.push_ok("tutorial", name, {"index.md": b"# hidden\n"})
    gb = SSEStream(s.port, "/api/v1/events", token=bob.token)
    ga = SSEStream(s.port, "/api/v1/events", token=alice.token)
    try:
        assert gb.status == 200 and ga.status == 200
        r = alice.patch(f"/api/v1/content/tutorial/{name}", {"visibility": "public"})
        assert r.status == 200, r
        # A marker item afterwards: once its event is in, the change's are too.
        alice.create_ok("tutorial", name + "-z", visibility="public")
        for g in (gb, ga):
            g.wait_event(lambda e: name + "-z" in e.data, EVENT_DEADLINE)
        def about(g):
            return [e.event for e in g.events if f'"{name}"' in e.data and
                    e.event in ("created", "updated", "deleted")]
        assert about(gb) == ["created"], \
            f"bob could not see the item before: he must get it as created only, got {about(gb)}"
        assert about(ga) == ["updated"], f"the owner saw the item all along: {about(ga)}"
        r = alice.patch(f"/api/v1/content/tutorial/{name}", {"visibility": "private"})
        assert r.status == 200, r
        ev = gb.wait_event(lambda e: f'"{name}"' in e.data, EVENT_DEADLINE)
        assert ev.event == "deleted", ev
    finally:
        gb.close()
        ga.close()
