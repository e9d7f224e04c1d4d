# SPDX-License-Identifier: MIT
"""HTTP over raw sockets, and a small client of the contentd API.

request() writes the request line and headers byte for byte (so a test can
send `..`, percent escapes or odd headers exactly as written, with no client
library normalising them), streams the body while watching for an early
response (a server may answer 413 before the body is read), and parses the
answer with http.client.  Client wraps the API calls the tests repeat:
create an item, upload blobs, commit a version, push a whole folder.
"""
from __future__ import annotations

import hashlib
import http.client
import json
import re
import select
import socket
import subprocess
import time
import urllib.parse
from dataclasses import dataclass, field

from .server import content_binary

JSON = "application/json"
SEND_CHUNK = 256 * 1024
ERROR_CODE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes
    sent: int = 0  # body bytes the server accepted before answering

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name, default)

    @property
    def media_type(self) -> str:
        return (self.header("Content-Type") or "").split(";")[0].strip().lower()

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError as e:
            raise AssertionError(f"HTTP {self.status}: body is not JSON ({e}): "
                                 f"{self.body[:300]!r}") from None

    def __repr__(self) -> str:
        return f"<HTTP {self.status} {self.body[:300]!r}>"


def _chunks(body, chunked: bool):
    """The bytes to put on the wire for a body: bytes, or an iterable of bytes."""
    if body is None:
        return
    parts = [body] if isinstance(body, (bytes, bytearray)) else body
    for part in parts:
        for i in range(0, len(part), SEND_CHUNK):
            piece = part[i:i + SEND_CHUNK]
            yield (b"%x\r\n" % len(piece) + piece + b"\r\n") if chunked else piece
    if chunked:
        yield b"0\r\n\r\n"


def open_request(port: int, method: str, path, headers: dict | None = None,
                 timeout: float = 30.0, rcvbuf: int | None = None) -> socket.socket:
    """Connects and sends the request line and headers; returns the socket."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.settimeout(timeout)
    sock.connect(("127.0.0.1", port))
    raw_path = path if isinstance(path, bytes) else path.encode("utf-8")
    hdrs = {"Host": f"127.0.0.1:{port}"}
    hdrs.update(headers or {})
    head = method.encode() + b" " + raw_path + b" HTTP/1.1\r\n"
    for k, v in hdrs.items():
        if v is not None:
            head += f"{k}: {v}\r\n".encode("latin-1")
    sock.sendall(head + b"\r\n")
    return sock


def read_response(sock: socket.socket, method: str, sent: int = 0) -> Response:
    resp = http.client.HTTPResponse(sock, method=method)
    resp.begin()
    body = resp.read()
    return Response(resp.status, resp.headers, body, sent)


def request(port: int, method: str, path, body=None, headers: dict | None = None,
            timeout: float = 30.0, chunked: bool = False) -> Response:
    """One request on a fresh connection (Connection: close).

    body: bytes or an iterable of bytes; sent as Content-Length unless
    chunked=True or the caller set the framing header itself."""
    hdrs = {"Connection": "close"}
    hdrs.update(headers or {})
    if chunked:
        hdrs.setdefault("Transfer-Encoding", "chunked")
    elif isinstance(body, (bytes, bytearray)) and "Content-Length" not in hdrs:
        hdrs["Content-Length"] = str(len(body))
    sock = open_request(port, method, path, hdrs, timeout)
    try:
        sent = _send_body(sock, _chunks(body, chunked), timeout)
        sock.settimeout(timeout)
        return read_response(sock, method, sent)
    finally:
        sock.close()


def _send_body(sock: socket.socket, pieces, timeout: float) -> int:
    """Sends pieces until done or until the server starts answering (or
    stops reading for `timeout` seconds).  Returns the bytes sent."""
    sent = 0
    sock.setblocking(False)
    try:
        for piece in pieces:
            view = memoryview(piece)
            while view:
                r, w, _ = select.select([sock], [sock], [], timeout)
                if r:
                    return sent  # an answer (or a close) before the end of the body
                if not w:
                    return sent  # the server stopped reading: let it answer
                try:
                    n = sock.send(view)
                except (BlockingIOError, InterruptedError):
                    continue
                except (BrokenPipeError, ConnectionResetError):
                    return sent
                sent += n
                view = view[n:]
        return sent
    finally:
        sock.setblocking(True)


def assert_error(resp: Response, status: int, code: str | None = None) -> dict:
    """resp is the CONTRACT's error: the status, a JSON body
    {"error": {"code": snake_case, "message": sentence}}.  Returns the error object."""
    assert resp.status == status, f"expected HTTP {status}, got {resp!r}"
    assert resp.media_type == JSON, (
        f"HTTP {status} error has Content-Type {resp.header('Content-Type')!r}, "
        f"not {JSON}: {resp.body[:200]!r}")
    doc = resp.json()
    assert isinstance(doc, dict) and isinstance(doc.get("error"), dict), (
        f"error body is not {{\"error\": {{...}}}}: {doc!r}")
    err = doc["error"]
    assert isinstance(err.get("code"), str) and ERROR_CODE.match(err["code"]), (
        f"error code is not snake_case: {err!r}")
    assert isinstance(err.get("message"), str) and err["message"].strip(), (
        f"error has no message: {err!r}")
    if code is not None:
        assert err["code"] == code, f"expected error code {code!r}, got {err!r}"
    return err


def quote_path(path: str) -> str:
    """A file path as URL path segments (each percent-encoded, '/' kept)."""
    return urllib.parse.quote(path, safe="/")


def render_ast(data: bytes) -> dict:
    """The AST document of markdown bytes by `content render -`: the
    independent path the server's AST is compared against."""
    p = subprocess.run([str(content_binary()), "render", "-"], input=data,
                       capture_output=True, timeout=60)
    assert p.returncode == 0, f"content render failed: {p.stderr.decode(errors='replace')}"
    return json.loads(p.stdout)


@dataclass
class Client:
    """The contentd API of one server, as one user (token None: no header)."""
    port: int
    token: str | None = None
    extra_headers: dict = field(default_factory=dict)

    def _headers(self, headers, content_type=None):
        h = {}
        if self.token is not None:
            h["Authorization"] = f"Bearer {self.token}"
        if content_type:
            h["Content-Type"] = content_type
        h.update(self.extra_headers)
        h.update(headers or {})
        return h

    def req(self, method, path, body=None, headers=None, content_type=None, **kw) -> Response:
        return request(self.port, method, path, body, self._headers(headers, content_type), **kw)

    def get(self, path, headers=None, **kw) -> Response:
        return self.req("GET", path, headers=headers, **kw)

    def send_json(self, method, path, obj, headers=None) -> Response:
        return self.req(method, path, json.dumps(obj).encode(), headers, JSON)

    def post(self, path, obj, headers=None) -> Response:
        return self.send_json("POST", path, obj, headers)

    def patch(self, path, obj, headers=None) -> Response:
        return self.send_json("PATCH", path, obj, headers)

    def delete(self, path, headers=None) -> Response:
        return self.req("DELETE", path, headers=headers)

    # --- items -------------------------------------------------------------

    def create(self, kind, name, **fields) -> Response:
        return self.post("/api/v1/content", {"kind": kind, "name": name, **fields})

    def create_ok(self, kind, name, **fields) -> dict:
        r = self.create(kind, name, **fields)
        assert r.status == 201, f"create {kind}/{name}: {r!r}"
        return r.json()

    def item(self, kind, name) -> Response:
        return self.get(f"/api/v1/content/{kind}/{name}")

    def item_ok(self, kind, name) -> dict:
        r = self.item(kind, name)
        assert r.status == 200, f"GET {kind}/{name}: {r!r}"
        return r.json()

    def file(self, kind, name, path, version=None, headers=None) -> Response:
        q = f"?version={version}" if version is not None else ""
        return self.get(f"/api/v1/content/{kind}/{name}/files/{quote_path(path)}{q}", headers)

    # --- push protocol -----------------------------------------------------

    def missing(self, shas) -> Response:
        return self.post("/api/v1/blobs/missing", {"sha256": list(shas)})

    def put_blob(self, data: bytes, sha: str | None = None, **kw) -> Response:
        return self.req("PUT", f"/api/v1/blobs/{sha or sha256(data)}", data,
                        content_type="application/octet-stream", **kw)

    def commit(self, kind, name, base, files) -> Response:
        return self.post(f"/api/v1/content/{kind}/{name}/versions",
                         {"base_version": base, "files": files})

    def upload(self, files: dict) -> list:
        """Uploads the blobs of {path: bytes} the server says are missing;
        returns the commit's file list [{path, sha256, size}]."""
        listing = [{"path": p, "sha256": sha256(b), "size": len(b)} for p, b in files.items()]
        by_sha = {sha256(b): b for b in files.values()}
        if by_sha:
            r = self.missing(by_sha)
            assert r.status == 200, f"blobs/missing: {r!r}"
            for sha in r.json()["missing"]:
                put = self.put_blob(by_sha[sha], sha)
                assert 200 <= put.status < 300, f"PUT blob {sha}: {put!r}"
        return listing

    def push(self, kind, name, files: dict, base: int | None = None) -> Response:
        """Pushes a whole folder {path: bytes} as the new version: blobs/missing,
        PUT of the missing blobs, commit against base (default: the current
        version).  Returns the commit's response."""
        if base is None:
            base = self.item_ok(kind, name)["version"]
        return self.commit(kind, name, base, self.upload(files))

    def push_ok(self, kind, name, files: dict, base: int | None = None) -> int:
        r = self.push(kind, name, files, base)
        assert r.status == 201, f"push to {kind}/{name}: {r!r}"
        return r.json()["version"]


def wait_until(pred, deadline: float, what: str, interval: float = 0.02):
    """Polls pred() until it returns a true value (returned) or the deadline
    passes (AssertionError naming `what`)."""
    end = time.monotonic() + deadline
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {deadline} s waiting for {what}")
        time.sleep(interval)
