# SPDX-License-Identifier: MIT
"""Server-sent events as CONTRACT.md describes them, with real clients: a
Python socket client that parses the stream itself and `curl -N`.

Per item: `retry: 2000` first, a `snapshot` for a fresh subscriber, an
`update` per new version carrying the ASTs of the changed documents, the
changed assets and the removed paths, `deleted`; reconnection with
Last-Event-ID (header or `last_event_id` query) that is current, older but
kept, or unknown.  The global stream.  A stalled subscriber is disconnected
while 100 others receive every event.  The ASTs are compared with
`content render` of the same bytes."""
import selectors
import threading
import time

import pytest

from helpers.api import render_ast, sha256
from helpers.sample import PNG, index_md, lesson_md
from helpers.sse import CurlStream, SSEStream

EVENT_DEADLINE = 10.0


def events_path(kind, name):
    return f"/api/v1/content/{kind}/{name}/events"


def open_stream(server, kind, name, **kw):
    s = SSEStream(server.port, events_path(kind, name), **kw)
    assert s.status == 200, f"GET events: HTTP {s.status} {s.body[:300]!r}"
    return s


@pytest.fixture
def streams():
    """Closes every stream a test opened."""
    opened = []
    yield opened
    for s in opened:
        s.close()


def assert_documents(docs, files):
    """docs (path -> AST) holds exactly the markdown files of files, each
    equal to `content render` of its bytes."""
    want = {p for p in files if p.endswith(".md")}
    assert set(docs) == want, f"documents {sorted(docs)} != markdown files {sorted(want)}"
    for p in want:
        assert docs[p] == render_ast(files[p]), f"AST of {p} differs from content render"


# --------------------------------------------------------------------------
# Fresh subscribers


def test_stream_headers_retry_and_snapshot(server, api, name, streams, content_bin):
    files = {"index.md": index_md("course", name, "Snap"), "01.md": lesson_md(1), "img/a.png": PNG}
    api.create_ok("course", name)
    api.push_ok("course", name, files)
    api.push_ok("course", name, dict(files, **{"02.md": lesson_md(2)}))
    files["02.md"] = lesson_md(2)
    s = open_stream(server, "course", name)
    streams.append(s)
    assert (s.header("Content-Type") or "").split(";")[0].strip() == "text/event-stream"
    assert s.header("Cache-Control") == "no-cache"
    assert s.header("X-Accel-Buffering") == "no"
    ev = s.next_event(EVENT_DEADLINE)
    assert s.parser.head.startswith(b"retry: 2000\n"), \
        f"the stream must open with 'retry: 2000': {s.parser.head[:60]!r}"
    assert ev.event == "snapshot", ev
    assert ev.id == "2", f"a snapshot's id is the item's version: {ev!r}"
    snap = ev.json()
    assert (snap["kind"], snap["name"], snap["version"]) == ("course", name, 2)
    listed = {f["path"]: f for f in snap["files"]}
    assert set(listed) == set(files)
    for p, data in files.items():
        assert (listed[p]["sha256"], listed[p]["size"]) == (sha256(data), len(data)), p
    assert_documents(snap["documents"], files)


def test_curl_gets_snapshot_then_update(server, api, name, content_bin):
    api.create_ok("tutorial", name)
    api.push_ok("tutorial", name, {"index.md": b"# One\n"})
    curl = CurlStream(f"{server.base_url}{events_path('tutorial', name)}")
    try:
        ev = curl.next_event(EVENT_DEADLINE)
        assert curl.parser.retry[:1] == [2000] and curl.parser.head.startswith(b"retry: 2000")
        assert ev.event == "snapshot" and ev.id == "1", ev
        new = b"# Two\n\nedited with *curl* watching\n"
        api.push_ok("tutorial", name, {"index.md": new})
        ev = curl.next_event(EVENT_DEADLINE)
        assert ev.event == "update" and ev.id == "2", ev
        up = ev.json()
        assert (up["version"], up["base_version"]) == (2, 1)
        assert up["documents"] == {"index.md": render_ast(new)}
    finally:
        curl.close()


def test_update_carries_changed_documents_assets_and_removed(server, api, name, streams,
                                                             content_bin):
    v1 = {"index.md": b"# Index\n", "same.md": b"# Unchanged\n", "old.md": b"# Old\n",
          "img/a.png": PNG, "keep.txt": b"keep\n"}
    v2 = {"index.md": b"# Index, edited\n", "same.md": b"# Unchanged\n", "new.md": b"# New\n",
          "img/a.png": PNG + b"2", "keep.txt": b"keep\n", "img/b.png": PNG + b"b"}
    api.create_ok("tutorial", name)
    api.push_ok("tutorial", name, v1)
    s = open_stream(server, "tutorial", name)
    streams.append(s)
    assert s.next_event(EVENT_DEADLINE).event == "snapshot"
    api.push_ok("tutorial", name, v2)
    ev = s.next_event(EVENT_DEADLINE)
    assert ev.event == "update" and ev.id == "2", ev
    up = ev.json()
    assert (up["kind"], up["name"], up["version"], up["base_version"]) == ("tutorial", name, 2, 1)
    assert set(up["documents"]) == {"index.md", "new.md"}, \
        f"an update carries the changed documents only: {sorted(up['documents'])}"
    for p in up["documents"]:
        assert up["documents"][p] == render_ast(v2[p]), p
    assert {(a["path"], a["sha256"]) for a in up["assets"]} == \
        {("img/a.png", sha256(v2["img/a.png"])), ("img/b.png", sha256(v2["img/b.png"]))}
    assert up["removed"] == ["old.md"]


def test_unchanged_push_sends_no_event(server, api, name, streams):
    files = {"index.md": b"# Same\n"}
    api.create_ok("tutorial", name)
    api.push_ok("tutorial", name, files)
    s = open_stream(server, "tutorial", name)
    streams.append(s)
    assert s.next_event(EVENT_DEADLINE).event == "snapshot"
    r = api.push("tutorial", name, files, base=1)
    assert r.status in (200, 201) and r.json()["version"] == 1, r
    api.push_ok("tutorial", name, {"index.md": b"# Changed\n"})
    ev = s.next_event(EVENT_DEADLINE)
    assert (ev.event, ev.id) == ("update", "2"), f"the unchanged push sent {ev!r}"


def test_deleted_event(server, api, name, streams):
    api.create_ok("tutorial", name)
    api.push_ok("tutorial", name, {"index.md": b"# Doomed\n"})
    s = open_stream(server, "tutorial", name)
    streams.append(s)
    assert s.next_event(EVENT_DEADLINE).event == "snapshot"
    assert api.delete(f"/api/v1/content/tutorial/{name}").status == 204
    ev = s.next_event(EVENT_DEADLINE)
    assert ev.event == "deleted", ev
    d = ev.json()
    assert (d["kind"], d["name"]) == ("tutorial", name), d


def test_events_of_unknown_item_is_404(server, name):
    s = SSEStream(server.port, events_path("tutorial", name))
    try:
        assert s.status == 404
        assert "error" in s.error_json()
    finally:
        s.close()


def test_keep_alive_comment_on_idle_stream(server, api, name, streams):
    """A `: keep-alive` comment every 15 s: waits up to 20 s for the first."""
    api.create_ok("tutorial", name)
    s = open_stream(server, "tutorial", name)
    streams.append(s)
    s.wait_comment("keep-alive", 20.0)


# --------------------------------------------------------------------------
# Reconnection with Last-Event-ID


@pytest.fixture
def three_versions(api, name):
    """An item at version 3 whose versions differ in documents and assets."""
    v1 = {"index.md": b"# A\n", "a.md": b"# a\n", "b.md": b"# b\n", "img.png": PNG}
    v2 = {"index.md": b"# B\n", "a.md": b"# a\n", "c.md": b"# c\n", "img.png": PNG}
    v3 = {"index.md": b"# B\n", "a.md": b"# a, again\n", "c.md": b"# c\n", "d.md": b"# d\n",
          "img.png": PNG + b"3"}
    api.create_ok("tutorial", name)
    for v in (v1, v2, v3):
        api.push_ok("tutorial", name, v)
    return name, [None, v1, v2, v3]


def reconnect(server, name, last, how):
    if how == "header":
        return open_stream(server, "tutorial", name, headers={"Last-Event-ID": str(last)})
    return SSEStream(server.port, f"{events_path('tutorial', name)}?last_event_id={last}")


@pytest.mark.parametrize("how", ["header", "query"])
def test_reconnect_with_current_id_gets_nothing_until_next_version(server, api, three_versions,
                                                                   streams, how):
    name, _ = three_versions
    s = reconnect(server, name, 3, how)
    streams.append(s)
    assert s.status == 200
    s.wait_bytes(len(b"retry: 2000\n"), EVENT_DEADLINE)
    assert s.parser.head.startswith(b"retry: 2000\n"), s.parser.head[:40]
    api.push_ok("tutorial", name, {"index.md": b"# four\n"})
    ev = s.next_event(EVENT_DEADLINE)
    assert (ev.event, ev.id) == ("update", "4"), \
        f"a subscriber that is current must get nothing before the next version: {ev!r}"
    assert ev.json()["base_version"] == 3


@pytest.mark.parametrize("how", ["header", "query"])
@pytest.mark.parametrize("last,docs,assets,removed", [
    (1, {"index.md", "a.md", "c.md", "d.md"}, {"img.png"}, ["b.md"]),
    (2, {"a.md", "d.md"}, {"img.png"}, []),
])
def test_reconnect_with_older_kept_id_gets_one_update_to_current(
        server, api, three_versions, streams, content_bin, how, last, docs, assets, removed):
    name, versions = three_versions
    s = reconnect(server, name, last, how)
    streams.append(s)
    assert s.status == 200
    ev = s.next_event(EVENT_DEADLINE)
    assert (ev.event, ev.id) == ("update", "3"), ev
    up = ev.json()
    assert (up["version"], up["base_version"]) == (3, last)
    assert set(up["documents"]) == docs
    for p in docs:
        assert up["documents"][p] == render_ast(versions[3][p]), p
    assert {a["path"] for a in up["assets"]} == assets
    assert {a["sha256"] for a in up["assets"]} == {sha256(versions[3][p]) for p in assets}
    assert sorted(up["removed"]) == removed
    api.push_ok("tutorial", name, {"index.md": b"# four\n"})
    ev = s.next_event(EVENT_DEADLINE)
    assert (ev.event, ev.id) == ("update", "4"), f"expected only one catch-up update: {ev!r}"


@pytest.mark.parametrize("how", ["header", "query"])
@pytest.mark.parametrize("last", ["999", "-1", "not-a-version"])
def test_reconnect_with_unknown_id_gets_snapshot(server, three_versions, streams, content_bin,
                                                 how, last):
    name, versions = three_versions
    s = reconnect(server, name, last, how)
    streams.append(s)
    assert s.status == 200
    ev = s.next_event(EVENT_DEADLINE)
    assert (ev.event, ev.id) == ("snapshot", "3"), ev
    assert_documents(ev.json()["documents"], versions[3])


def test_ids_keep_counting_across_delete_and_recreate(server, api, name, streams, content_bin):
    """An event id never names two contents of one KIND/NAME: after a delete
    and a re-creation, versions go on from the deleted item's last one, so a
    tab that was offline at version 2 gets the new content (a snapshot), a
    tab on the new (empty) item gets the first push as an update from 0,
    and the deleted item's manifests in the bucket are not overwritten."""
    old = [{"index.md": b"# old one\n"}, {"index.md": b"# old two\n"}]
    new = [{"index.md": b"# new one\n"}, {"index.md": b"# new two\n", "x.md": b"# x\n"}]
    api.create_ok("tutorial", name)
    for files in old:
        api.push_ok("tutorial", name, files)
    mdir = server.data_dir / "manifests" / "tutorial" / name
    kept = {p.name: p.read_bytes() for p in mdir.iterdir()}
    assert set(kept) == {"1.json", "2.json"}
    assert api.delete(f"/api/v1/content/tutorial/{name}").status == 204
    assert api.create_ok("tutorial", name)["version"] == 0
    live = open_stream(server, "tutorial", name)
    streams.append(live)
    ev = live.next_event(EVENT_DEADLINE)
    assert (ev.event, ev.id) == ("snapshot", "0"), ev
    assert api.push_ok("tutorial", name, new[0]) == 3
    ev = live.next_event(EVENT_DEADLINE)
    assert (ev.event, ev.id) == ("update", "3"), ev
    assert ev.json()["base_version"] == 0
    assert_documents(ev.json()["documents"], new[0])
    assert api.push_ok("tutorial", name, new[1]) == 4
    s = reconnect(server, name, 2, "header")
    streams.append(s)
    ev = s.next_event(EVENT_DEADLINE)
    assert (ev.event, ev.id) == ("snapshot", "4"), \
        f"Last-Event-ID 2 is the deleted item's version: the tab needs the new content: {ev!r}"
    assert_documents(ev.json()["documents"], new[1])
    for fname, data in kept.items():
        assert (mdir / fname).read_bytes() == data, f"manifest {fname} was overwritten"
    assert api.file("tutorial", name, "index.md", version=2).status == 404


def test_curl_reconnect_with_last_event_id(server, api, three_versions):
    name, _ = three_versions
    curl = CurlStream(f"{server.base_url}{events_path('tutorial', name)}",
                      headers={"Last-Event-ID": "2"})
    try:
        ev = curl.next_event(EVENT_DEADLINE)
        assert (ev.event, ev.id) == ("update", "3") and ev.json()["base_version"] == 2, ev
    finally:
        curl.close()


# --------------------------------------------------------------------------
# The global stream


def test_global_stream_reports_created_new_version_deleted(server, api, name, streams):
    g = SSEStream(server.port, "/api/v1/events")
    streams.append(g)
    assert g.status == 200, g.body
    assert (g.header("Content-Type") or "").startswith("text/event-stream")
    g.wait_bytes(len(b"retry: 2000\n"), EVENT_DEADLINE)
    assert g.parser.head.startswith(b"retry: 2000\n"), g.parser.head[:40]

    def about(ev):
        try:
            d = ev.json()
        except AssertionError:
            return False
        return isinstance(d, dict) and d.get("name") == name and d.get("kind") == "course"

    api.create_ok("course", name)
    ev = g.wait_event(about, EVENT_DEADLINE)
    assert ev.json().get("version", 0) == 0, f"first event about a new item: {ev!r}"
    api.push_ok("course", name, {"index.md": b"# v1\n"})
    ev = g.wait_event(about, EVENT_DEADLINE)
    assert ev.json()["version"] == 1, ev
    api.push_ok("course", name, {"index.md": b"# v2\n"})
    ev = g.wait_event(about, EVENT_DEADLINE)
    assert ev.json()["version"] == 2, ev
    assert api.delete(f"/api/v1/content/course/{name}").status == 204
    ev = g.wait_event(about, EVENT_DEADLINE)
    assert ev.event == "deleted", ev


# --------------------------------------------------------------------------
# A stalled subscriber and 100 live ones

SUBSCRIBERS = 100
MAX_PUSHES = 60          # each update is about 0.6 MB of AST
FANOUT_DEADLINE = 20.0   # for all 100 to receive one version
DROP_DEADLINE = 10.0     # for the server to close the stalled connection after the last update


def big_markdown(i: int) -> bytes:
    # many tiny paragraphs: each costs ~3 bytes of markdown and ~70 of AST JSON
    return (f"# Version {i}\n\n" + "".join(f"w{j}\n\n" for j in range(7000))).encode()


class Fanout:
    """Reads many streams in one thread (selectors), keeping only ids."""

    def __init__(self, streams):
        self.streams = streams
        self.sel = selectors.DefaultSelector()
        for s in streams:
            self.sel.register(s.sock, selectors.EVENT_READ, s)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop.is_set():
            for key, _ in self.sel.select(0.1):
                s = key.data
                if not s.pump():
                    self.sel.unregister(s.sock)

    def ids(self, s):
        return [e.id for e in s.events if e.event in ("snapshot", "update")]

    def wait_all(self, pred, deadline, what):
        end = time.monotonic() + deadline
        while True:
            lag = [i for i, s in enumerate(self.streams) if not pred(s)]
            if not lag:
                return
            if time.monotonic() > end:
                raise AssertionError(f"{len(lag)} of {len(self.streams)} subscribers lack {what} "
                                     f"after {deadline} s (e.g. #{lag[0]}: "
                                     f"{self.ids(self.streams[lag[0]])[-5:]}, eof="
                                     f"{self.streams[lag[0]].eof})")
            time.sleep(0.01)

    def close(self):
        self.stop.set()
        self.thread.join(5)


def server_side_open(server_port: int, client_port: int) -> bool:
    """Whether the server's end of the TCP connection from client_port is
    still ESTABLISHED (/proc/net/tcp): it is not once the server closed it,
    even while the unread data keeps the client from seeing the close."""
    local = f"0100007F:{server_port:04X}"
    remote = f"0100007F:{client_port:04X}"
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            parts = line.split()
            if parts[1] == local and parts[2] == remote:
                return parts[3] == "01"
    return False


def test_stalled_subscriber_is_disconnected_others_get_every_event(server, api, name, streams):
    api.create_ok("tutorial", name)
    api.push_ok("tutorial", name, {"index.md": b"# start\n"})
    path = events_path("tutorial", name)
    stalled = SSEStream(server.port, path, rcvbuf=4096, max_data=0)
    streams.append(stalled)
    assert stalled.status == 200
    stalled_port = stalled.sock.getsockname()[1]
    subs = [SSEStream(server.port, path, max_data=0) for _ in range(SUBSCRIBERS)]
    streams.extend(subs)
    assert all(s.status == 200 for s in subs)
    fan = Fanout(subs)
    try:
        fan.wait_all(lambda s: fan.ids(s)[:1] == ["1"], FANOUT_DEADLINE, "the snapshot")
        pushed, dropped_after = [], None
        for i in range(MAX_PUSHES):
            v = api.push_ok("tutorial", name, {"index.md": big_markdown(i)})
            pushed.append(str(v))
            fan.wait_all(lambda s: str(v) in fan.ids(s), FANOUT_DEADLINE, f"version {v}")
            if not server_side_open(server.port, stalled_port):
                dropped_after = len(pushed)
                break
        if dropped_after is None:  # the close may trail the last update a little
            end = time.monotonic() + DROP_DEADLINE
            while time.monotonic() < end and server_side_open(server.port, stalled_port):
                time.sleep(0.05)
            if not server_side_open(server.port, stalled_port):
                dropped_after = len(pushed)
        if dropped_after is None:
            mib = subs[0].parser.nbytes / 2**20
            ended = stalled.read_to_end(30.0)
            pytest.fail(f"the server kept the stalled subscriber's connection open through "
                        f"{MAX_PUSHES} updates ({mib:.0f} MiB it never read); reading it "
                        + ("then ended the stream: the server stopped sending but left the "
                           "connection to a reader that may never read" if ended else
                           "did not end the stream within 30 s"))
        for i in range(3):  # the others go on receiving after the drop
            v = api.push_ok("tutorial", name, {"index.md": b"# after %d\n" % i})
            pushed.append(str(v))
        fan.wait_all(lambda s: fan.ids(s)[-1:] == [pushed[-1]], FANOUT_DEADLINE, "the last version")
        for i, s in enumerate(subs):
            assert fan.ids(s) == ["1"] + pushed, f"subscriber #{i} got {fan.ids(s)}"
            assert not s.eof, f"subscriber #{i} was disconnected"
    finally:
        fan.close()
    assert stalled.read_to_end(30.0), "the stalled subscriber's stream never ended"
    got = [e.id for e in stalled.events if e.event == "update"]
    assert got != pushed, "the stalled subscriber got everything: it was not the one dropped"
