# SPDX-License-Identifier: MIT
"""`contentd token list` and `contentd token revoke ID|USER`, on both
catalogs (SQLite in the data folder, and MongoDB: the wire-protocol test
server of tests/mongo): the list shows each token's id, user, creation and
last use, never the token; a revoked token gets 401 at once from a running
server, and its open event streams close (at the hub's next keep-alive
round: within about 15 s)."""
import hashlib
import re

import pytest

from helpers import server as srv
from helpers.api import Client, assert_error
from helpers.sse import SSEStream
from mongosupport import fresh_db_name

ID = re.compile(r"^[0-9a-f]{12}$")
TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


@pytest.fixture(params=["sqlite", "mongodb"])
def storage(request, tmp_path):
    """The storage flags of one catalog (the blobs stay in the data folder)."""
    args = ["--data", str(tmp_path / "data")]
    if request.param == "mongodb":
        peer = request.getfixturevalue("wire_peer")
        args += ["--mongodb-uri", peer.uri, "--mongodb-db", fresh_db_name()]
    return args


def contentd(storage, *args):
    p = srv.run_contentd([*args, *storage])
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def create(storage, user) -> str:
    code, out, err = contentd(storage, "token", "create", user)
    assert code == 0, err
    return out.split()[-1]


def token_id(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:12]


def listing(storage) -> list[dict]:
    code, out, err = contentd(storage, "token", "list")
    assert code == 0, err
    lines = out.rstrip("\n").split("\n")
    assert lines[0].split() == ["ID", "USER", "CREATED", "LAST", "USED"], lines[0]
    rows = []
    for line in lines[1:]:
        assert line == line.rstrip(), f"trailing blanks: {line!r}"
        tid, user, created, used = line.split()
        assert ID.match(tid) and TIME.match(created) and (used == "-" or TIME.match(used)), line
        rows.append({"id": tid, "user": user, "created": created, "used": used})
    return rows


def start(start_server, storage):
    args = [a for a in storage]
    data = args[args.index("--data") + 1]
    del args[args.index("--data"):args.index("--data") + 2]
    return start_server(data_dir=data, args=args)


def test_list_shows_ids_never_secrets(storage):
    tokens = {create(storage, u): u for u in ("alice", "bob", "bob")}
    code, out, _ = contentd(storage, "token", "list")
    for t in tokens:
        assert t not in out
        assert hashlib.sha256(t.encode()).hexdigest() not in out
    rows = listing(storage)
    assert [(r["id"], r["user"]) for r in rows] == [(token_id(t), u) for t, u in tokens.items()]
    assert all(r["used"] == "-" for r in rows)


def test_empty_list(storage):
    assert listing(storage) == []


def test_revoked_token_is_refused_at_once(start_server, storage, name):
    alice = create(storage, "alice")
    bob1, bob2 = create(storage, "bob"), create(storage, "bob")
    s = start(start_server, storage)
    a, b1, b2 = Client(s.port, alice), Client(s.port, bob1), Client(s.port, bob2)
    for c in (a, b1, b2):
        assert c.get("/api/v1/content").status == 200
    used = {r["id"]: r["used"] for r in listing(storage)}
    assert all(TIME.match(used[token_id(t)]) for t in (alice, bob1, bob2)), used

    code, out, err = contentd(storage, "token", "revoke", token_id(bob1))
    assert code == 0, err
    assert out.strip() == f"revoked token {token_id(bob1)} of user bob"
    assert_error(b1.get("/api/v1/content"), 401, "invalid_token")
    assert b2.get("/api/v1/content").status == 200
    assert a.get("/api/v1/content").status == 200

    code, out, err = contentd(storage, "token", "revoke", "bob")
    assert code == 0, err
    assert out.strip() == f"revoked token {token_id(bob2)} of user bob"
    assert_error(b2.get("/api/v1/content"), 401, "invalid_token")
    assert [r["user"] for r in listing(storage)] == ["alice"]
    assert a.get("/api/v1/content").status == 200


def test_revoking_every_token_does_not_open_the_service(start_server, storage):
    """With no token left, the running server still asks for one (it does
    not fall back to the tokenless local user)."""
    t = create(storage, "alice")
    s = start(start_server, storage)
    assert contentd(storage, "token", "revoke", "alice")[0] == 0
    assert_error(Client(s.port).get("/api/v1/content"), 401, "missing_token")
    assert_error(Client(s.port, t).get("/api/v1/content"), 401, "invalid_token")


def test_revoked_token_ends_its_streams(start_server, storage, name):
    alice, other = create(storage, "alice"), create(storage, "alice")
    s = start(start_server, storage)
    Client(s.port, alice).create_ok("tutorial", name, visibility="public")
    gone = SSEStream(s.port, f"/api/v1/content/tutorial/{name}/events?access_token={alice}")
    kept = SSEStream(s.port, f"/api/v1/events?access_token={other}")
    try:
        gone.next_event(timeout=10)
        kept.next_event(timeout=10)
        assert contentd(storage, "token", "revoke", token_id(alice))[0] == 0
        assert gone.response_ended(30), "the revoked token's stream is still open"
        assert kept.pump() and not kept.eof, "a stream of another token ended"
    finally:
        gone.close()
        kept.close()


@pytest.mark.parametrize("args,why", [
    (["revoke"], "usage"), (["revoke", "a", "b"], "usage"), (["list", "x"], "no arguments")])
def test_usage_errors(storage, args, why):
    code, _, err = contentd(storage, "token", *args)
    assert code == 2 and why in err, err


def test_unknown_id_or_user(storage):
    create(storage, "alice")
    code, out, err = contentd(storage, "token", "revoke", "0123456789ab")
    assert code == 1 and "no token has the id or the user '0123456789ab'" in err, err
    code, _, err = contentd(storage, "token", "revoke", "carol")
    assert code == 1 and "carol" in err
    assert [r["user"] for r in listing(storage)] == ["alice"]
