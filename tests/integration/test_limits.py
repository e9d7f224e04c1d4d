# SPDX-License-Identifier: MIT
"""Request limits and the request line as libmicrohttpd parses it.

A NUL byte in the request target is refused with 400 (libmicrohttpd hands
the target over as a C string: unchecked, "files/index.md\\0/../x" would be
read as "files/index.md").  Request headers up to 16 KiB are accepted by
default (browsers send every localhost cookie to every port), the limit is
configurable, and what is over it is answered in the contract's JSON error
shape.

The limits of one version (common.h: files per version, size of the
commit's file list): a 20,000-file item pushes, and a folder over a limit is
refused by `content push` (and `--dry-run`) before anything is sent, with
the limit named; the server names it too."""
import json
import socket
import subprocess
import time

import pytest

from helpers import metrics
from helpers.api import JSON, Client, assert_error, read_response, request
from helpers.server import clean_env, content_binary, recv_until

FILES_MAX = 100_000           # CD_VERSION_FILES_MAX
COMMIT_BODY_MAX = 64 << 20    # CD_COMMIT_BODY_MAX


def raw_request(port: int, head: bytes, timeout: float = 10.0):
    """Sends head (request line and headers, byte for byte) and parses the reply."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(head)
        return read_response(s, head.split(b" ", 1)[0].decode())


@pytest.fixture
def pushed(api, name):
    api.create_ok("tutorial", name)
    api.push_ok("tutorial", name, {"index.md": b"# Index\n", "x": b"secret x\n"})
    return name


# --------------------------------------------------------------------------
# NUL in the request target

@pytest.mark.parametrize("target", [
    b"/api/v1/content/tutorial/{n}/files/index.md\x00/../x",
    b"/api/v1/content/tutorial/{n}/files/index.md\x00",
    b"/api/v1/content/tutorial/{n}\x00/files/x",
    b"/api/v1/content/tutorial/{n}/files/index.md?version=1\x00",
    b"/healthz\x00",
], ids=["path-then-dotdot", "path-end", "in-name", "in-query", "open-route"])
def test_nul_in_request_target_is_400(server, pushed, target):
    target = target.replace(b"{n}", pushed.encode())
    resp = raw_request(server.port, b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n"
                       b"Connection: close\r\n\r\n")
    err = assert_error(resp, 400, "invalid_request")
    assert "NUL" in err["message"]


def test_same_targets_without_nul_are_served(server, pushed):
    """The control: the truncated form of each target above is a request
    the server answers, so the 400 above is about the NUL byte alone."""
    base = b"/api/v1/content/tutorial/" + pushed.encode()
    for target, status in [(base + b"/files/index.md", 200), (base, 200),
                           (base + b"/files/index.md?version=1", 200), (b"/healthz", 200)]:
        resp = raw_request(server.port, b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n"
                           b"Connection: close\r\n\r\n")
        assert resp.status == status, (target, resp)


# --------------------------------------------------------------------------
# Request headers

def head(target: bytes, headers: list) -> bytes:
    return (b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            + b"".join(h + b"\r\n" for h in headers) + b"\r\n")


def cookie(size: int) -> bytes:
    """A Cookie header of `size` bytes made of many small cookies, as a
    browser sends every localhost cookie to every port."""
    parts, n = [], 0
    while sum(len(p) + 2 for p in parts) < size:
        parts.append(b"c%d=%s" % (n, b"v" * 40))
        n += 1
    return (b"Cookie: " + b"; ".join(parts))[:size]


def small_headers(count: int, size: int) -> list:
    return [b"X-Small-%03d: %s" % (i, b"s" * (size // count - 15)) for i in range(count)]


HEADER_SETS = {
    "cookie-2600": [cookie(2600)],
    "80-small": small_headers(80, 80 * 40),
    "cookie-and-80-small": [cookie(2600)] + small_headers(80, 80 * 40),
    "16k-of-small": small_headers(80, 16 * 1024 - 200),
    "16k-cookie": [cookie(16 * 1024 - 200)],
}


@pytest.mark.parametrize("which", list(HEADER_SETS))
def test_16k_of_headers_are_accepted_by_default(server, pushed, which):
    hdrs = HEADER_SETS[which]
    assert sum(len(h) + 2 for h in hdrs) <= 16 * 1024
    target = b"/api/v1/content/tutorial/" + pushed.encode() + b"/files/x"
    resp = raw_request(server.port, head(target, hdrs))
    assert resp.status == 200, resp
    assert resp.body == b"secret x\n"


def test_event_stream_with_16k_cookie(server, pushed):
    """An event stream (the connection that stays open) takes them too."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        s.sendall(head(b"/api/v1/content/tutorial/" + pushed.encode() + b"/events",
                       [cookie(16 * 1024 - 200)]))
        data = recv_until(s, b"event: snapshot")
        assert data.startswith(b"HTTP/1.1 200 "), data[:100]


@pytest.mark.parametrize("which", ["cookie", "small"])
def test_headers_over_the_limit_get_json_431(server, which):
    hdrs = [cookie(20 * 1024)] if which == "cookie" else small_headers(100, 20 * 1024)
    resp = raw_request(server.port, head(b"/api/v1/content", hdrs))
    err = assert_error(resp, 431, "header_fields_too_large")
    assert "--max-header-size" in err["message"]


def test_request_target_over_8k_gets_json_414(server):
    resp = raw_request(server.port, head(b"/api/v1/content/tutorial/" + b"a" * 9000, []))
    err = assert_error(resp, 414, "uri_too_long")
    assert "8 KiB" in err["message"]


def test_long_target_under_8k_is_routed(server):
    """A 1024-byte path, every byte percent-encoded (3 KiB), plus a token:
    the longest target a client needs reaches the API."""
    target = b"/api/v1/content/tutorial/nope/files/" + b"%C3%A9" * 512 + b"?access_token=" + \
        b"t" * 64
    resp = raw_request(server.port, head(target, []))
    assert_error(resp, 404, "not_found")


@pytest.mark.parametrize("how", ["flag", "env"])
def test_header_limit_is_configurable(start_server, how):
    if how == "flag":
        s = start_server(args=["--max-header-size", "4KiB"])
    else:
        s = start_server(env={"CONTENTD_MAX_HEADER_SIZE": "4k"})
    ok = raw_request(s.port, head(b"/api/v1/content", [cookie(3500)]))
    assert ok.status == 200, ok
    err = assert_error(raw_request(s.port, head(b"/api/v1/content", [cookie(5000)])), 431,
                       "header_fields_too_large")
    assert "4096" in err["message"]
    big = start_server(args=["--max-header-size", "64k"])
    assert raw_request(big.port, head(b"/api/v1/content", [cookie(60000)])).status == 200


@pytest.mark.parametrize("value", ["0", "512", "2M", "lots"])
def test_bad_header_limit_is_a_usage_error(contentd_bin, tmp_path, value):
    import subprocess
    p = subprocess.run([str(contentd_bin), "serve", "--data", str(tmp_path),
                        "--max-header-size", value], capture_output=True, timeout=30)
    assert p.returncode == 2
    assert b"--max-header-size" in p.stderr


# --------------------------------------------------------------------------
# The limits of one version


def content(server, *args, timeout=600):
    return subprocess.run([str(content_binary()), *map(str, args)], capture_output=True,
                          env=clean_env({"CONTENT_SERVER": server.base_url}), timeout=timeout,
                          encoding="utf-8", errors="surrogateescape")


def make_folder(root, name, n, distinct):
    """index.md and n-1 tiny files in folders of 500; file i holds i % distinct
    (so only `distinct` blobs travel: the upload is not what is tested)."""
    root.mkdir()
    (root / "index.md").write_text(f"---\nkind: tutorial\nname: {name}\n---\n# Many\n")
    for i in range(n - 1):
        d = root / f"part-{i // 500:03d}"
        if i % 500 == 0:
            d.mkdir()
        (d / f"file-{i:06d}.txt").write_text(f"{i % distinct}\n")
    return root


def blob_puts(server) -> float:
    r = request(server.port, "GET", "/metrics")
    samples, _ = metrics.parse(r.body.decode())
    return sum(v for n, labels, v in samples
               if n == "contentd_http_requests_total" and labels.get("route") == "/api/v1/blobs/{sha256}")


def test_push_of_20000_files(start_server, tmp_path, name):
    server = start_server()
    src = make_folder(tmp_path / "src", name, 20_000, distinct=2_000)
    dry = content(server, "push", src, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    t0 = time.monotonic()
    p = content(server, "push", src)
    took = time.monotonic() - t0
    assert p.returncode == 0, p.stderr[-2000:]
    print(f"pushed 20,000 files in {took:.1f} s")
    it = Client(server.port).item_ok("tutorial", name)
    assert it["version"] == 1 and len(it["files"]) == 20_000
    listed = {f["path"] for f in it["files"]}
    assert "part-039/file-019998.txt" in listed and "index.md" in listed
    f = Client(server.port).file("tutorial", name, "part-039/file-019998.txt")
    assert f.status == 200 and f.body == b"1998\n"


def test_too_many_files_are_refused_before_anything_is_sent(start_server, tmp_path, name):
    server = start_server()
    src = make_folder(tmp_path / "src", name, FILES_MAX + 1, distinct=10)
    for args in (["--dry-run"], []):
        p = content(server, "push", src, *args)
        assert p.returncode == 1, (args, p.stdout, p.stderr)
        err = p.stderr.strip().splitlines()[-1]
        assert f"{FILES_MAX + 1} files" in err and "at most 100000" in err, err
        assert "Nothing was sent" in err, err
    assert Client(server.port).item("tutorial", name).status == 404, "the item was created"
    assert blob_puts(server) == 0, "blobs were uploaded"


def test_file_list_too_large_is_refused_before_anything_is_sent(start_server, tmp_path, name):
    """70,000 files whose paths are 1,000 bytes long: under the file count,
    over the size of one version's file list."""
    server = start_server()
    src = tmp_path / "src"
    src.mkdir()
    (src / "index.md").write_text(f"---\nkind: tutorial\nname: {name}\n---\n# Long\n")
    deep = src / ("d" * 200) / ("e" * 200) / ("f" * 200) / ("g" * 200)
    for j in range(70):
        sub = deep / f"{j:02d}{'h' * 100}"
        sub.mkdir(parents=True)
        for i in range(1000):
            (sub / f"{i:03d}{'i' * 90}").write_bytes(b"")
    p = content(server, "push", src)
    assert p.returncode == 1, (p.stdout, p.stderr)
    err = p.stderr.strip().splitlines()[-1]
    assert "64 MiB" in err and "70001 files" in err and "Nothing was sent" in err, err
    assert Client(server.port).item("tutorial", name).status == 404, "the item was created"
    assert blob_puts(server) == 0, "blobs were uploaded"


def test_server_names_the_file_count_limit(api, name):
    api.create_ok("tutorial", name)
    sha = "0" * 64
    files = [{"path": f"f{i}", "sha256": sha, "size": 0} for i in range(FILES_MAX + 1)]
    err = assert_error(api.commit("tutorial", name, 0, files), 413, "too_many_files")
    assert "100001" in err["message"] and "at most 100000" in err["message"], err


def test_server_names_the_commit_body_limit(api, name):
    api.create_ok("tutorial", name)
    body = b'{"base_version":0,"files":[]' + b" " * COMMIT_BODY_MAX + b"}"
    r = api.req("POST", f"/api/v1/content/tutorial/{name}/versions", body, content_type=JSON)
    err = assert_error(r, 413, "payload_too_large")
    assert "64 MiB" in err["message"] and "version" in err["message"], err


def test_commit_of_a_few_mib_is_accepted(api, name):
    """2.5 MiB of file list (the 1 MiB JSON limit of the other endpoints
    does not apply to commits)."""
    api.create_ok("tutorial", name)
    listing = api.upload({"index.md": b"# x\n", "a": b"a"})
    sha_a = listing[1]["sha256"]
    files = listing[:1] + [{"path": f"dir/{'p' * 100}-{i}", "sha256": sha_a, "size": 1}
                           for i in range(20_000)]
    assert len(json.dumps({"base_version": 0, "files": files})) > 2 << 20
    r = api.commit("tutorial", name, 0, files)
    assert r.status == 201, r
