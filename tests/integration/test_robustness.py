# SPDX-License-Identifier: MIT
"""Hostile and broken input, and a hard-killed or stopped process.

Bad input: every forbidden path form of CONTRACT.md ("..", ".", empty
segment, leading "/", backslash, control character, more than 1024 bytes,
invalid UTF-8), in a commit and in a file URL, is refused with 400 and never
normalised; bad kinds and names; malformed, oversized (413) and mistyped
(415) JSON; protocol garbage.  After each test the server must still answer
/healthz (conftest checks it after every service test).

Crashes: `kill -9` during a large blob upload, right after a commit and
during a commit, then a restart on the same data folder: the last committed
version is readable and consistent.  SIGTERM/SIGINT: exit 0, and SSE clients
see their stream end cleanly."""
import hashlib
import json
import re
import signal
import socket
import struct
import time

import pytest

from helpers.api import JSON, Client, assert_error, open_request, request, sha256, wait_until
from helpers.sample import PNG, folder, random_bytes
from helpers.sse import CurlStream, SSEStream

SHA_NAME = re.compile(r"^[0-9a-f]{64}$")


@pytest.fixture
def pushed(api, name):
    """An item at version 1 with index.md and an image."""
    api.create_ok("tutorial", name)
    api.push_ok("tutorial", name, {"index.md": b"# Safe\n", "img/p.png": PNG})
    return name


# --------------------------------------------------------------------------
# Forbidden paths

FORBIDDEN_PATHS = {
    "dotdot": "../escape.md",
    "dotdot-deep": "../../../../etc/passwd",
    "dotdot-inner": "a/../index.md",
    "dotdot-last": "a/..",
    "dotdot-alone": "..",
    "dot-first": "./index.md",
    "dot-inner": "a/./b.md",
    "dot-alone": ".",
    "empty": "",
    "empty-segment": "a//b.md",
    "trailing-slash": "a/",
    "leading-slash": "/etc/passwd",
    "leading-slash-rel": "/index.md",
    "backslash": "a\\b.md",
    "backslash-dotdot": "..\\..\\escape.md",
    "nul": "index.md\x00.png",
    "control-01": "a\x01.md",
    "newline": "a\nb.md",
    "carriage-return": "a\rb.md",
    "tab": "a\tb.md",
    "escape": "a\x1b[31m.md",
    "del": "a\x7f.md",
    "too-long-1025": "a" * 1022 + ".md",
    "too-long-utf8-bytes": "é" * 512 + "x",         # 513 characters, 1025 bytes
    "invalid-utf8-lone-surrogate": "a\udc80.md",     # JSON "\udc80": not UTF-8 text
}


@pytest.mark.parametrize("path", FORBIDDEN_PATHS.values(), ids=FORBIDDEN_PATHS.keys())
def test_forbidden_path_in_commit_is_400(server, api, name, path):
    api.create_ok("tutorial", name)
    good, bad = b"# fine\n", b"# smuggled\n"
    api.put_blob(good)
    api.put_blob(bad)
    files = [{"path": "index.md", "sha256": sha256(good), "size": len(good)},
             {"path": path, "sha256": sha256(bad), "size": len(bad)}]
    body = json.dumps({"base_version": 0, "files": files}, ensure_ascii=True).encode()
    r = api.req("POST", f"/api/v1/content/tutorial/{name}/versions", body, content_type=JSON)
    assert_error(r, 400)
    item = api.item_ok("tutorial", name)
    assert item["version"] == 0 and item["files"] == [], f"a refused commit left {item}"


def test_raw_invalid_utf8_path_in_commit_is_400(api, server, name):
    api.create_ok("tutorial", name)
    data = b"# x\n"
    api.put_blob(data)
    body = (b'{"base_version":0,"files":[{"path":"a\xff\xfe.md","sha256":"%s","size":%d}]}'
            % (sha256(data).encode(), len(data)))
    r = api.req("POST", f"/api/v1/content/tutorial/{name}/versions", body, content_type=JSON)
    assert_error(r, 400)
    assert api.item_ok("tutorial", name)["version"] == 0


ALLOWED_EDGE_PATHS = [
    "a" * 1021 + ".md",                # exactly 1024 bytes
    "é" * 512,                          # 1024 bytes in 512 characters
    "...",
    "a..b.md",
    ".hidden/x.md",
    "..well/x.md",
    "spaces in name.md",
    "ünïcödé/ファイル.md",
    "deep/" * 50 + "file.txt",
    "percent%2e%2e.md",
    "q?x=1#frag.txt",
]


def test_edge_paths_that_are_valid_are_kept_verbatim(api, server, name):
    files = {p: f"content of {p}".encode() for p in ALLOWED_EDGE_PATHS}
    files["index.md"] = b"# edges\n"
    api.create_ok("tutorial", name)
    assert api.push_ok("tutorial", name, files) == 1
    listed = {f["path"] for f in api.item_ok("tutorial", name)["files"]}
    assert listed == set(files), f"paths were changed: {sorted(listed ^ set(files))[:4]}"
    for p, data in files.items():
        r = api.file("tutorial", name, p)
        assert r.status == 200 and r.body == data, f"{p!r}: {r!r}"


FORBIDDEN_URL_PATHS = {
    "dotdot-raw": "../../../../../etc/passwd",
    "dotdot-raw-inner": "img/../index.md",
    "dotdot-encoded": "%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "dotdot-encoded-slash": "..%2f..%2findex.md",
    "dot-raw": "./index.md",
    "dot-encoded": "%2e/index.md",
    "empty-segment": "img//p.png",
    "leading-slash": "/index.md",
    "leading-slash-encoded": "%2findex.md",
    "backslash": "img%5cp.png",
    "backslash-dotdot": "..%5c..%5cindex.md",
    "nul": "index.md%00.png",
    "control": "index%01.md",
    "newline": "index%0a.md",
    "invalid-utf8": "index%ff.md",
    "overlong-utf8-dot": "%c0%ae%c0%ae/index.md",
    "too-long": "a" * 1025,
    "empty": "",
}


@pytest.mark.parametrize("endpoint", ["files", "ast"])
@pytest.mark.parametrize("path", FORBIDDEN_URL_PATHS.values(), ids=FORBIDDEN_URL_PATHS.keys())
def test_forbidden_path_in_url_is_400(server, api, pushed, endpoint, path):
    r = api.get(f"/api/v1/content/tutorial/{pushed}/{endpoint}/{path}")
    assert b"root:" not in r.body
    assert_error(r, 400)


# --------------------------------------------------------------------------
# Kinds and names

BAD_KINDS = ["article", "Tutorial", "TUTORIAL", "tutorials", "", " tutorial", "skill_path",
             "tutorial\x00", 5, None, ["tutorial"]]
BAD_NAMES = ["Hello", "-lead", "a_b", "a.b", "", "a" * 64, "ü", "a b", "../x", "a/b", "x\x00y",
             "x\n", 7, None, {"n": 1}]


@pytest.mark.parametrize("kind", BAD_KINDS, ids=repr)
def test_create_with_bad_kind_is_400(server, api, name, kind):
    assert_error(api.post("/api/v1/content", {"kind": kind, "name": name}), 400)


@pytest.mark.parametrize("bad", BAD_NAMES, ids=repr)
def test_create_with_bad_name_is_400(server, api, bad):
    assert_error(api.post("/api/v1/content", {"kind": "tutorial", "name": bad}), 400)
    assert all(i["name"] != bad for i in api.get("/api/v1/content").json()["items"])


@pytest.mark.parametrize("good", ["a" * 63, "0", "a-", "9-9-9", "x" + "-" * 62])
def test_create_with_edge_names_that_are_valid(server, api, good):
    r = api.create("roadmap", good)
    assert r.status == 201, r
    assert api.item_ok("roadmap", good)["name"] == good


@pytest.mark.parametrize("kind,item", [("article", "x"), ("Tutorial", "x"), ("tutorial", "Bad_Name"),
                                       ("tutorial", "a" * 64), ("tutorial", "%2e%2e"),
                                       ("tutorial", "x%00y")])
@pytest.mark.parametrize("suffix", ["", "/files/index.md", "/ast/index.md", "/versions", "/events"])
def test_bad_kind_or_name_in_url_is_refused(server, api, kind, item, suffix):
    r = api.get(f"/api/v1/content/{kind}/{item}{suffix}")
    assert r.status in (400, 404), r
    assert_error(r, r.status)


# --------------------------------------------------------------------------
# JSON bodies

MALFORMED = {
    "empty": b"",
    "open-brace": b"{",
    "not-json": b"not json",
    "single-quotes": b"{'kind':'tutorial','name':'x'}",
    "trailing-comma": b'{"kind":"tutorial","name":"x",}',
    "array": b'["tutorial","x"]',
    "string": b'"tutorial/x"',
    "null": b"null",
    "trailing-garbage": b'{"kind":"tutorial","name":"x"} {}',
    "truncated": b'{"kind":"tutorial","name":"x"',
    "invalid-utf8": b'{"kind":"tutorial","name":"x\xff"}',
    "nan": b'{"kind":"tutorial","name":"x","title":NaN}',
    "bad-escape": b'{"kind":"tutorial","name":"x","title":"\\q"}',
    "raw-control-in-string": b'{"kind":"tutorial","name":"x","title":"a\x01b"}',
    "deep-arrays": b"[" * 100_000,
    "deep-objects": b'{"a":' * 100_000,
    "huge-number": b'{"kind":"tutorial","name":"x","visibility":1' + b"0" * 5000 + b"}",
}


@pytest.mark.parametrize("body", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_json_is_400(server, api, body):
    r = api.req("POST", "/api/v1/content", body, content_type=JSON)
    allowed = (400, 413) if len(body) > 50_000 else (400,)  # deep nesting may be "too large"
    assert r.status in allowed, r
    assert_error(r, r.status)


@pytest.mark.parametrize("body", [MALFORMED["truncated"], MALFORMED["deep-arrays"], b"{}"])
def test_malformed_json_on_every_json_endpoint(server, api, pushed, body):
    for method, path in (("POST", "/api/v1/blobs/missing"),
                         ("POST", f"/api/v1/content/tutorial/{pushed}/versions"),
                         ("PATCH", f"/api/v1/content/tutorial/{pushed}")):
        r = api.req(method, path, body, content_type=JSON)
        if body == b"{}" and method == "PATCH":
            continue  # an empty change is a valid no-op
        assert r.status in (400, 413), f"{method} {path}: {r!r}"
        assert_error(r, r.status)
    assert api.item_ok("tutorial", pushed)["version"] == 1


OVERSIZE = 128 << 20  # twice the default blob limit: no JSON body needs that much


def _huge_json():
    yield b'{"kind":"tutorial","name":"huge","title":"'
    for _ in range(OVERSIZE >> 20):
        yield b"a" * (1 << 20)
    yield b'"}'


def test_oversized_json_body_is_413(server, api):
    total = sum(len(p) for p in _huge_json())
    r = request(server.port, "POST", "/api/v1/content", _huge_json(),
                {"Content-Type": JSON, "Content-Length": str(total)}, timeout=20)
    assert_error(r, 413)
    assert_error(api.item("tutorial", "huge"), 404)


def test_oversized_chunked_json_body_is_413(server, api):
    r = request(server.port, "POST", "/api/v1/content", _huge_json(), {"Content-Type": JSON},
                timeout=20, chunked=True)
    assert_error(r, 413)
    assert_error(api.item("tutorial", "huge"), 404)


@pytest.mark.parametrize("ctype", ["text/plain", "application/x-www-form-urlencoded",
                                   "multipart/form-data; boundary=x", None, "application/jsonx"])
def test_wrong_content_type_is_415(server, api, pushed, ctype, name):
    body = json.dumps({"kind": "tutorial", "name": name + "-415"}).encode()
    headers = {"Content-Type": ctype} if ctype else {}
    for method, path in (("POST", "/api/v1/content"),
                         ("POST", "/api/v1/blobs/missing"),
                         ("POST", f"/api/v1/content/tutorial/{pushed}/versions"),
                         ("PATCH", f"/api/v1/content/tutorial/{pushed}")):
        assert_error(api.req(method, path, body, headers=headers), 415)
    assert_error(api.item("tutorial", name + "-415"), 404)


def test_json_with_charset_parameter_is_accepted(server, api, name):
    r = api.req("POST", "/api/v1/content", json.dumps({"kind": "tutorial", "name": name}).encode(),
                headers={"Content-Type": "application/json; charset=utf-8"})
    assert r.status == 201, r


# --------------------------------------------------------------------------
# Protocol garbage


def raw_exchange(port, data: bytes, timeout=5.0) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        out = b""
        try:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server may answer and close before reading it all
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                out += chunk
        except (socket.timeout, ConnectionResetError):
            pass
        return out


@pytest.mark.parametrize("data", [
    b"GARBAGE\r\n\r\n",
    b"GET / HTTP/9.9\r\n\r\n",
    b"\x00\xff" * 500 + b"\r\n\r\n",
    b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
    b"POST /api/v1/content HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    b"Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
    b"GET /" + b"a" * 100_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 100_000 + b"\r\n\r\n",
], ids=["garbage", "bad-version", "binary", "negative-length", "bad-chunk", "long-url",
        "long-header"])
def test_protocol_garbage(server, data):
    reply = raw_exchange(server.port, data)
    if reply:
        assert re.match(rb"HTTP/1\.[01] [45]\d\d ", reply), reply[:100]


def test_half_open_connections_do_not_block_others(server, api):
    idle = []
    try:
        for _ in range(50):
            s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # never finished
            idle.append(s)
        t = time.monotonic()
        assert api.get("/healthz").status == 200
        assert api.get("/api/v1/content").status == 200
        assert time.monotonic() - t < 2.0, "half-open connections slowed the server down"
    finally:
        for s in idle:
            s.close()


def test_subscribers_that_reset_do_not_hurt(server, api, name):
    api.create_ok("tutorial", name)
    api.push_ok("tutorial", name, {"index.md": b"# v1\n"})
    gone = [SSEStream(server.port, f"/api/v1/content/tutorial/{name}/events") for _ in range(20)]
    for s in gone:
        s.next_event(10)
        s.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()  # RST
    live = SSEStream(server.port, f"/api/v1/content/tutorial/{name}/events")
    try:
        assert live.next_event(10).event == "snapshot"
        api.push_ok("tutorial", name, {"index.md": b"# v2\n"})
        assert live.next_event(10).id == "2"
    finally:
        live.close()


# --------------------------------------------------------------------------
# kill -9 and restart on the same data folder


def assert_consistent(api, kind, name, version, files: dict):
    """The item is at `version` with exactly `files`, every file fetchable
    with the listed sha256 and size, and its history ends at `version`."""
    item = api.item_ok(kind, name)
    assert item["version"] == version, f"after restart: version {item['version']}, not {version}"
    listed = {f["path"]: f for f in item["files"]}
    assert set(listed) == set(files)
    for p, f in listed.items():
        assert f["sha256"] == sha256(files[p]) and f["size"] == len(files[p]), p
        r = api.file(kind, name, p)
        assert r.status == 200, f"{p}: {r!r}"
        assert sha256(r.body) == f["sha256"], f"{p}: the bytes served do not hash to the listing"
    hist = api.get(f"/api/v1/content/{kind}/{name}/versions").json()
    assert max(h["version"] for h in hist) == version


def assert_store_consistent(data_dir, kind, name, versions):
    """Every blob under its final key hashes to its name (no half-written
    blob was published), and every committed version has its manifest."""
    for f in (data_dir / "blobs").rglob("*"):
        if f.is_file() and SHA_NAME.match(f.name) and f.parent.name == f.name[:2]:
            h = hashlib.sha256(f.read_bytes()).hexdigest()
            assert h == f.name, f"{f} holds bytes that hash to {h}"
    for v, files in versions.items():
        m = data_dir / "manifests" / kind / name / f"{v}.json"
        assert m.is_file(), f"no manifest {m.relative_to(data_dir)}"
        text = m.read_text()
        json.loads(text)
        for data in files.values():
            assert sha256(data) in text, f"manifest {v} lacks a file's sha256"


def test_kill9_during_large_upload_keeps_previous_version(start_server, name):
    s = start_server()
    api = Client(s.port)
    v1 = folder("course", name, "One", **{"big.bin": random_bytes(2 << 20)})
    v2 = dict(v1, **{"01-lesson.md": b"# changed\n"})
    api.create_ok("course", name)
    api.push_ok("course", name, v1)
    api.push_ok("course", name, v2)
    big = random_bytes(48 << 20)
    sock = open_request(s.port, "PUT", f"/api/v1/blobs/{sha256(big)}",
                        {"Content-Type": "application/octet-stream",
                         "Content-Length": str(len(big))})
    sock.sendall(big[:24 << 20])
    s.kill9()
    sock.close()

    s2 = start_server(data_dir=s.data_dir)
    api = Client(s2.port)
    assert_consistent(api, "course", name, 2, v2)
    assert api.missing([sha256(big)]).json()["missing"] == [sha256(big)]
    assert_store_consistent(s2.data_dir, "course", name, {1: v1, 2: v2})
    old = api.file("course", name, "01-lesson.md", version=1)
    assert old.status == 200 and old.body == v1["01-lesson.md"]
    # the store still takes writes: the same upload and a commit succeed
    assert api.push_ok("course", name, dict(v2, **{"huge.bin": big})) == 3


def test_kill9_right_after_commit_keeps_it(start_server, name):
    s = start_server()
    api = Client(s.port)
    v1 = {"index.md": b"# one\n", "img.png": PNG}
    v2 = {"index.md": b"# two\n", "img.png": PNG, "more.bin": random_bytes(1 << 20)}
    api.create_ok("tutorial", name)
    api.push_ok("tutorial", name, v1)
    api.push_ok("tutorial", name, v2)
    s.kill9()
    s2 = start_server(data_dir=s.data_dir)
    api = Client(s2.port)
    assert_consistent(api, "tutorial", name, 2, v2)
    assert_store_consistent(s2.data_dir, "tutorial", name, {1: v1, 2: v2})


def test_kill9_during_commit_leaves_old_or_new(start_server, name):
    s = start_server()
    data_dir = s.data_dir
    api = Client(s.port)
    api.create_ok("tutorial", name)
    current = {"index.md": b"# v1\n"}
    api.push_ok("tutorial", name, current)
    version = 1
    for round_ in range(3):
        new = {"index.md": b"# round %d\n" % round_, f"r{round_}.bin": random_bytes(100_000)}
        listing = api.upload(new)
        body = json.dumps({"base_version": version, "files": listing}).encode()
        sock = open_request(s.port, "POST", f"/api/v1/content/tutorial/{name}/versions",
                            {"Content-Type": JSON, "Content-Length": str(len(body))})
        sock.sendall(body)
        s.kill9()
        sock.close()
        s = start_server(data_dir=data_dir)
        api = Client(s.port)
        got = api.item_ok("tutorial", name)["version"]
        assert got in (version, version + 1), f"round {round_}: version {got}"
        if got == version + 1:
            version, current = got, new
        assert_consistent(api, "tutorial", name, version, current)
    version = api.push_ok("tutorial", name, {"index.md": b"# after the crashes\n"})


# The commit of a version syncs its new blobs and its manifest together,
# just before the catalog names them (docs/operations.md, "What is synced
# when").  CONTENTD_TEST_CRASH_AT kills the server, as kill -9 would,
# between two steps of that commit: after the staged objects' bytes are
# synced, after the first of them is moved into place, after all are, after
# their folders are synced (the catalog not yet written), and after the
# catalog names the version.  Until the catalog is written the old version
# must be served whole; after, the new one; and whatever is served, every
# blob and manifest the catalog names is stored.
CRASH_POINTS = [("settle-synced", 1), ("settle-moving", 1), ("settle-moved", 1),
                ("commit-settled", 1), ("commit-cataloged", 2)]


@pytest.mark.parametrize("point,after", CRASH_POINTS, ids=[p for p, _ in CRASH_POINTS])
def test_crash_inside_a_batched_commit_leaves_old_or_new(start_server, name, point, after):
    s = start_server()
    data_dir = s.data_dir
    api = Client(s.port)
    v1 = {"index.md": b"# v1\n\nFirst.\n", "img.png": PNG}
    api.create_ok("tutorial", name)
    api.push_ok("tutorial", name, v1)
    s.stop()

    s = start_server(data_dir=data_dir, env={"CONTENTD_TEST_CRASH_AT": point})
    api = Client(s.port)
    # several objects in several folders: two blobs, one blob named twice, the manifest
    shared = random_bytes(3000)
    v2 = {"index.md": b"# v2\n\nSecond.\n", "img.png": PNG, "a.bin": shared,
          "copy.bin": shared, "b.bin": random_bytes(7000)}
    listing = api.upload(v2)
    body = json.dumps({"base_version": 1, "files": listing}).encode()
    sock = open_request(s.port, "POST", f"/api/v1/content/tutorial/{name}/versions",
                        {"Content-Type": JSON, "Content-Length": str(len(body))})
    sock.sendall(body)
    assert s.wait_exit(30) == -signal.SIGKILL, f"no crash at {point}; log:\n{s.log_tail()}"
    s.kill9()  # reaped already: marks it stopped on purpose
    sock.close()

    s = start_server(data_dir=data_dir)
    api = Client(s.port)
    want = {1: v1, 2: v2}[after]
    assert_consistent(api, "tutorial", name, after, want)
    assert_store_consistent(data_dir, "tutorial", name, {v: {1: v1, 2: v2}[v]
                                                         for v in range(1, after + 1)})
    leftovers = [p.name for p in (data_dir / ".tmp").iterdir()]
    assert leftovers == [], f"temporary files left after the restart: {leftovers}"
    # and the item takes commits again, the same bytes among them
    v3 = dict(v2, **{"index.md": b"# v3\n"})
    assert api.push_ok("tutorial", name, v3, base=after) == after + 1
    assert_consistent(api, "tutorial", name, after + 1, v3)


def test_stop_makes_uploaded_blobs_durable(start_server):
    """An uploaded blob that no commit named yet waits in .tmp/; an orderly
    stop moves it into place, so the next start has it."""
    s = start_server()
    data = random_bytes(5000)
    r = Client(s.port).put_blob(data)
    assert 200 <= r.status < 300, r
    where = s.data_dir / "blobs" / sha256(data)[:2] / sha256(data)
    s.signal(signal.SIGTERM)
    assert s.wait_exit(10) == 0, s.log_tail()
    assert where.read_bytes() == data
    assert [p.name for p in (s.data_dir / ".tmp").iterdir()] == []
    s2 = start_server(data_dir=s.data_dir)
    assert Client(s2.port).missing([sha256(data)]).json()["missing"] == []


# --------------------------------------------------------------------------
# Orderly stop


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_stop_signal_exits_0_and_ends_streams_cleanly(start_server, name, sig):
    s = start_server()
    api = Client(s.port)
    api.create_ok("tutorial", name)
    api.push_ok("tutorial", name, {"index.md": b"# bye\n"})
    py = SSEStream(s.port, f"/api/v1/content/tutorial/{name}/events")
    glob = SSEStream(s.port, "/api/v1/events")
    curl = CurlStream(f"{s.base_url}/api/v1/content/tutorial/{name}/events")
    try:
        assert py.next_event(10).event == "snapshot"
        assert curl.next_event(10).event == "snapshot"
        glob.wait_bytes(len(b"retry: 2000\n"), 10)
        s.signal(sig)
        assert s.wait_exit(10) == 0, f"exit status after {sig.name}; log:\n{s.log_tail()}"
        for st, what in ((py, "item stream"), (glob, "global stream")):
            assert st.read_to_end(10), f"the {what} did not end"
            assert st.clean_end, f"the {what} ended uncleanly (reset={st.reset})"
        assert curl.wait_exit(10) == 0, f"curl: {curl.stderr()}"
    finally:
        py.close()
        glob.close()
        curl.close()


# --------------------------------------------------------------------------
# Readiness


def test_readyz_503_with_reason_while_blob_store_is_broken(start_server):
    s = start_server()
    api = Client(s.port)
    assert api.get("/readyz").status == 200
    blobs = s.data_dir / "blobs"
    aside = s.data_dir.parent / (s.data_dir.name + "-blobs-aside")
    blobs.rename(aside)
    blobs.write_bytes(b"not a folder")  # the blob store can no longer write
    try:
        r = api.get("/readyz")
        err = assert_error(r, 503)
        assert "blob" in err["message"].lower(), f"503 without the reason: {err}"
        assert api.get("/healthz").status == 200, "/healthz must stay 200 while not ready"
    finally:
        blobs.unlink()
        aside.rename(blobs)
    wait_until(lambda: api.get("/readyz").status == 200, 10.0, "/readyz to recover")
