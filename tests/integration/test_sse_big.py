# SPDX-License-Identifier: MIT
"""Big courses and gzip on the event streams (docs/api.md "Server-sent
events", "Compression"): a course whose snapshot is larger than a
subscriber's queue bound subscribes with curl; ?documents= chooses the
documents sent in full; gzip streams are compressed once per event and read
event by event by curl --compressed and by zlib; the AST and text files
come gzip-encoded with their own ETags."""
from __future__ import annotations

import gzip
import json

import pytest

from helpers import metrics
from helpers.api import render_ast, request, sha256
from helpers.sample import PNG, course, course_lesson, index_md
from helpers.sse import CurlStream, SSEStream

EVENT_DEADLINE = 30.0
QUEUE_BYTES = 8 << 20  # docs/api.md: the default bound of a subscriber's queue
LESSONS = 320


def events_path(kind, name, query=""):
    return f"/api/v1/content/{kind}/{name}/events{query}"


def overflows(server) -> float:
    r = request(server.port, "GET", "/metrics")
    samples, _ = metrics.parse(r.body.decode())
    return metrics.total(samples, "contentd_sse_overflow_disconnects_total")


@pytest.fixture(scope="module")
def big(server, api):
    """A course of LESSONS lessons, pushed once for the module."""
    name = "big-course-sse"
    files = course("course", name, LESSONS)
    api.create_ok("course", name)
    api.push_ok("course", name, files)
    return name, files


def test_snapshot_larger_than_the_queue_reaches_curl(server, big):
    name, files = big
    before = overflows(server)
    curl = CurlStream(f"{server.base_url}{events_path('course', name)}")
    try:
        ev = curl.next_event(EVENT_DEADLINE)
        assert ev.event == "snapshot", ev
        assert len(ev.data) > QUEUE_BYTES, \
            f"the course is too small to test the bound: {len(ev.data)} bytes"
        snap = ev.json()
        docs = snap["documents"]
        assert set(docs) == {p for p in files if p.endswith(".md")}
        assert docs["lessons/0007.md"] == render_ast(files["lessons/0007.md"])
    finally:
        curl.close()
    assert overflows(server) == before


def test_documents_param_sends_stubs_for_the_others(server, api, name):
    files = course("course", name, 12)
    api.create_ok("course", name)
    api.push_ok("course", name, files)
    s = SSEStream(server.port, events_path("course", name, "?documents=index.md,lessons/0002.md"))
    try:
        assert s.status == 200
        snap = s.next_event(EVENT_DEADLINE).json()
        docs = snap["documents"]
        assert set(docs) == {p for p in files if p.endswith(".md")}
        assert docs["index.md"] == render_ast(files["index.md"])
        assert docs["lessons/0002.md"] == render_ast(files["lessons/0002.md"])
        ast5 = render_ast(files["lessons/0005.md"])
        assert docs["lessons/0005.md"] == {"title": ast5["data"]["title"], "toc": ast5["toc"]}
        assert len(snap["files"]) == len(files)
        # A lesson not asked for changes: named, as a stub.
        files["lessons/0005.md"] = course_lesson(5, version=2)
        api.push_ok("course", name, files)
        up = s.next_event(EVENT_DEADLINE).json()
        assert up["documents"] == {"lessons/0005.md": {"title": "Lesson 5 v2",
                                                       "toc": render_ast(files["lessons/0005.md"])["toc"]}}
        # One asked for changes: its AST.
        files["lessons/0002.md"] = course_lesson(2, version=2)
        api.push_ok("course", name, files)
        up = s.next_event(EVENT_DEADLINE).json()
        assert up["documents"] == {"lessons/0002.md": render_ast(files["lessons/0002.md"])}
    finally:
        s.close()


def test_curl_compressed_reads_events_as_they_come(server, api, name, tmp_path):
    api.create_ok("tutorial", name)
    api.push_ok("tutorial", name, {"index.md": b"# One\n"})
    head = tmp_path / "head.txt"
    curl = CurlStream(f"{server.base_url}{events_path('tutorial', name)}",
                      extra_args=["--compressed", "-D", str(head)])
    try:
        ev = curl.next_event(EVENT_DEADLINE)
        assert ev.event == "snapshot" and ev.id == "1", ev
        assert "content-encoding: gzip" in head.read_text().lower(), head.read_text()
        new = b"# Two\n\nstill open\n"
        api.push_ok("tutorial", name, {"index.md": new})
        ev = curl.next_event(EVENT_DEADLINE)  # before the stream ends
        assert ev.event == "update" and ev.id == "2", ev
        assert ev.json()["documents"] == {"index.md": render_ast(new)}
        assert api.delete(f"/api/v1/content/tutorial/{name}").status == 204
        ev = curl.next_event(EVENT_DEADLINE)
        assert ev.event == "deleted", ev
        assert curl.wait_exit(EVENT_DEADLINE) == 0, curl.stderr()  # a complete gzip stream
    finally:
        curl.close()


def test_gzip_stream_decodes_with_zlib_event_by_event(server, api, name):
    api.create_ok("tutorial", name)
    api.push_ok("tutorial", name, {"index.md": b"# One\n"})
    s = SSEStream(server.port, events_path("tutorial", name), gzip=True)
    plain = SSEStream(server.port, events_path("tutorial", name))
    try:
        assert s.status == 200
        assert s.header("Content-Encoding") == "gzip"
        assert "accept-encoding" in (s.header("Vary") or "").lower()
        assert plain.header("Content-Encoding") is None
        s.wait_event(lambda e: e.event == "snapshot", EVENT_DEADLINE)
        api.push_ok("tutorial", name, {"index.md": b"# Two\n"})
        ev = s.wait_event(lambda e: e.event == "update", EVENT_DEADLINE)
        assert ev.json()["documents"] == {"index.md": render_ast(b"# Two\n")}
        plain.wait_event(lambda e: e.event == "update", EVENT_DEADLINE)
        assert s.parser.events == plain.parser.events
    finally:
        s.close()
        plain.close()


def test_ast_and_text_files_gzip_with_their_own_etags(server, api, name):
    md = index_md("tutorial", name, "Zipped", "word " * 2000)
    svg = b"<svg xmlns='http://www.w3.org/2000/svg'>" + b"<g/>" * 500 + b"</svg>"
    api.create_ok("tutorial", name)
    api.push_ok("tutorial", name, {"index.md": md, "a.svg": svg, "a.png": PNG})
    sha = sha256(md)
    base = f"/api/v1/content/tutorial/{name}"
    gz = {"Accept-Encoding": "gzip"}
    r = request(server.port, "GET", f"{base}/ast/index.md", headers=gz)
    assert r.status == 200 and r.header("Content-Encoding") == "gzip", r
    assert r.header("ETag") == f'"{sha}-gz"'
    assert "accept-encoding" in r.header("Vary").lower()
    assert json.loads(gzip.decompress(r.body)) == render_ast(md)
    ident = request(server.port, "GET", f"{base}/ast/index.md")
    assert ident.header("ETag") == f'"{sha}"' and ident.header("Content-Encoding") is None
    assert json.loads(ident.body) == render_ast(md)
    assert len(r.body) < len(ident.body) / 3
    # If-None-Match: each encoding matches its own tag only.
    assert request(server.port, "GET", f"{base}/ast/index.md",
                   headers=dict(gz, **{"If-None-Match": f'"{sha}-gz"'})).status == 304
    assert request(server.port, "GET", f"{base}/ast/index.md",
                   headers={"If-None-Match": f'"{sha}"'}).status == 304
    assert request(server.port, "GET", f"{base}/ast/index.md",
                   headers={"If-None-Match": f'"{sha}-gz"'}).status == 200
    assert request(server.port, "GET", f"{base}/ast/index.md",
                   headers=dict(gz, **{"If-None-Match": f'"{sha}"'})).status == 200
    # Files: text and SVG compressed, PNG not; a range is of the plain bytes.
    for path, data, zipped in (("index.md", md, True), ("a.svg", svg, True), ("a.png", PNG, False)):
        r = request(server.port, "GET", f"{base}/files/{path}", headers=gz)
        assert r.status == 200, r
        assert (r.header("Content-Encoding") == "gzip") == zipped, (path, r.headers)
        body = gzip.decompress(r.body) if zipped else r.body
        assert body == data, path
        assert r.header("ETag") == (f'"{sha256(data)}-gz"' if zipped else f'"{sha256(data)}"')
        if zipped:
            assert request(server.port, "GET", f"{base}/files/{path}",
                           headers=dict(gz, **{"If-None-Match": r.header("ETag")})).status == 304
    r = request(server.port, "GET", f"{base}/files/index.md", headers=dict(gz, Range="bytes=0-9"))
    assert r.status == 206 and r.body == md[:10] and r.header("Content-Encoding") is None


def test_preview_scripts_gzip_with_their_own_etag(server):
    path = "/preview/_assets/page.js"
    plain = request(server.port, "GET", path)
    r = request(server.port, "GET", path, headers={"Accept-Encoding": "gzip"})
    assert plain.status == 200 and plain.header("Content-Encoding") is None
    assert r.status == 200 and r.header("Content-Encoding") == "gzip", r.headers
    assert gzip.decompress(r.body) == plain.body
    assert r.header("ETag") == plain.header("ETag")[:-1] + '-gz"'
    assert "accept-encoding" in r.header("Vary").lower()
    again = request(server.port, "GET", path, headers={"Accept-Encoding": "gzip",
                                                       "If-None-Match": r.header("ETag")})
    assert again.status == 304
    assert request(server.port, "GET", path,
                   headers={"If-None-Match": r.header("ETag")}).status == 200
