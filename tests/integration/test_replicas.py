# SPDX-License-Identifier: MIT
"""Two `contentd` replicas as one service: both on one MongoDB catalog
(the wire-protocol test server tests/mongo/server.py, as
mongodb://127.0.0.1:PORT/?replicaSet=rs0) and one S3 bucket (s3rver), as in
production behind a load balancer (docs/deploy.md).

- a push to replica A reaches an event-stream subscriber on replica B, with
  the same snapshot and update content a subscriber on A gets;
- concurrent pushes to A and B on the same base: one 201, one 409;
- 100 injected disconnects and resumable errors on the change streams
  during 500 commits alternating between A and B: every subscriber on both
  replicas ends at version 500 with every version in order;
- ChangeStreamHistoryLost while a replica's stream is blind: its
  subscribers get a snapshot of where the item moved;
- MongoDB unreachable or not a replica set at start-up: one clear line and
  exit status 1; down mid-run: /readyz answers 503, then 200 again by
  itself, and events flow again;
- `contentd token create` and `contentd rebuild-catalog` on MongoDB.

Every test runs against the wire-protocol server.  When
CONTENTD_TEST_MONGODB_URI names a real replica set, the tests that need no
fault injection run against it too (each in a database of its own, dropped
afterwards); without it that variant is skipped, saying so.
"""
from __future__ import annotations

import itertools
import select
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from helpers import server as srv
from helpers.api import Client, assert_error, render_ast, sha256, wait_until
from helpers.metrics import parse as parse_metrics, total
from helpers.sse import SSEStream
from mongosupport import (MongoPeer, bson_missing, catalog_tool_missing,
                          fresh_db_name, real_replica_uri, run_tool)
from s3support import ACCESS_KEY, BUCKET, SECRET_KEY, s3_tool, s3rver_peer  # noqa: F401

S3_ENV = {"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
          "CONTENTD_S3_MAX_ATTEMPTS": "3"}
_n = itertools.count(1)


# --------------------------------------------------------------------------
# MongoDB: the wire-protocol server, or a real replica set


@dataclass
class Mongo:
    uri: str
    db: str
    peer: MongoPeer | None  # None: a real replica set (no fault injection)

    def uri_with(self, **options) -> str:
        sep = "&" if "?" in self.uri else ("?" if self.uri.endswith("/") else "/?")
        return self.uri + sep + "&".join(f"{k}={v}" for k, v in options.items())


@pytest.fixture(params=["wire-protocol-server", "real-replica-set"])
def mongo(request):
    """An empty database on the wire-protocol server, or on the replica set
    of CONTENTD_TEST_MONGODB_URI."""
    if request.param == "wire-protocol-server":
        peer = request.getfixturevalue("wire_peer")
        peer.up()
        peer.clear()
        yield Mongo(peer.uri, fresh_db_name(), peer)
        peer.up()
        peer.clear()
        return
    uri = real_replica_uri()
    m = Mongo(uri, fresh_db_name(), None)
    yield m
    if not catalog_tool_missing():
        run_tool(uri, m.db, "drop-database")


# --------------------------------------------------------------------------
# Event-stream subscribers that reconnect as a browser's EventSource does


class Subscriber:
    """One item's event stream on one replica, read by a thread.  When the
    server closes it, it reconnects with Last-Event-ID (as EventSource
    does).  `events` holds (connection number, Event)."""

    def __init__(self, replica: "Replica", kind: str, name: str, token: str | None = None):
        self.replica, self.kind, self.name, self.token = replica, kind, name, token
        self.path = f"/api/v1/content/{kind}/{name}/events"
        self.events: list = []
        self.connects = 0
        self.errors: list[str] = []
        self.cond = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name=f"sse-{replica.name}-{name}")
        self._thread.start()

    @property
    def last_id(self) -> int | None:
        with self.cond:
            ids = [int(e.id) for _, e in self.events if e.id is not None]
        return ids[-1] if ids else None

    def _run(self):
        while not self._stop.is_set():
            last = self.last_id
            headers = {"Last-Event-ID": str(last)} if last is not None else {}
            try:
                s = SSEStream(self.replica.port, self.path, headers, token=self.token,
                              timeout=5.0)
            except (OSError, AssertionError) as e:
                self.errors.append(f"connect: {e}")
                self._stop.wait(0.1)  # the reconnection delay, as `retry:` asks
                continue
            if s.status != 200:
                self.errors.append(f"HTTP {s.status}: {s.body[:200]!r}")
                s.close()
                self._stop.wait(0.1)
                continue
            with self.cond:
                self.connects += 1
                conn = self.connects
            self._read(s, conn)
            s.close()

    def _read(self, s: SSEStream, conn: int):
        seen = 0
        alive = True
        while alive and not self._stop.is_set():
            r, _, _ = select.select([s.sock], [], [], 0.2)
            if r:
                alive = s.pump()
            # The response ended (its last chunk), the connection may stay
            # open: EventSource reconnects all the same.
            if s._chunked is not None and s._chunked.done:
                alive = False
            if len(s.events) > seen:
                with self.cond:
                    self.events.extend((conn, e) for e in s.events[seen:])
                    seen = len(s.events)
                    self.cond.notify_all()

    def wait_version(self, v: int, timeout: float = 30.0):
        deadline = time.monotonic() + timeout
        with self.cond:
            while not any(e.id is not None and int(e.id) >= v for _, e in self.events):
                left = deadline - time.monotonic()
                if left <= 0:
                    tail = [e for _, e in self.events[-5:]]
                    raise AssertionError(
                        f"{self.replica.name} {self.path}: version {v} not reached within "
                        f"{timeout} s; last events {tail}; errors {self.errors[-3:]}\n"
                        f"{self.replica.server.log_tail(15)}")
                self.cond.wait(left)

    def content_events(self) -> list:
        with self.cond:
            return [(c, e) for c, e in self.events if e.event in ("snapshot", "update")]

    def close(self):
        self._stop.set()
        self._thread.join(timeout=5)


def check_sequence(sub: Subscriber, final: int) -> dict:
    """The subscriber's view is never stale or out of order: ids strictly
    increase; every update applies to exactly the version the subscriber
    held (base_version = the previous id), so a jump in ids happens only
    through a snapshot, or through the one catch-up update a reconnection
    with Last-Event-ID gets (CONTRACT "Server-sent events"); it ends at
    `final`.  Returns counts of snapshots and jumps."""
    prev, prev_conn = None, None
    out = {"snapshots": 0, "jumps": 0, "catch_ups": 0, "updates": 0}
    for conn, e in sub.content_events():
        d = e.json()
        v = int(e.id)
        where = f"{sub.replica.name} {sub.path} event {e!r} after id {prev}"
        assert d["version"] == v and (d["kind"], d["name"]) == (sub.kind, sub.name), where
        if prev is not None:
            assert v > prev, "ids not strictly increasing: " + where
        if e.event == "snapshot":
            out["snapshots"] += 1
            out["jumps"] += prev is not None and v > prev + 1
        else:
            out["updates"] += 1
            assert prev is not None and d["base_version"] == prev, (
                "an update that does not apply to the version held: " + where)
            if v > prev + 1:
                assert conn != prev_conn, "a gap without a snapshot or a reconnection: " + where
                out["catch_ups"] += 1
        prev, prev_conn = v, conn
    assert prev == final, f"{sub.replica.name} {sub.path} ended at {prev}, not {final}"
    return out


# --------------------------------------------------------------------------
# Replicas


@dataclass
class Replica:
    name: str
    server: srv.Server

    @property
    def port(self) -> int:
        return self.server.port

    def api(self, token: str | None = None) -> Client:
        return Client(self.port, token)

    def metrics(self) -> list:
        r = self.api().get("/metrics")
        assert r.status == 200, r
        return parse_metrics(r.body.decode())[0]

    def watch_metric(self, name: str) -> float:
        return total(self.metrics(), f"contentd_catalog_watch_{name}")

    def readyz(self) -> int:
        return self.api().get("/readyz").status


@dataclass
class Cluster:
    mongo: Mongo
    s3: object
    tmp: Path
    replicas: list = field(default_factory=list)
    subs: list = field(default_factory=list)

    def storage_args(self, uri: str | None = None, db: str | None = None) -> list[str]:
        return ["--mongodb-uri", uri or self.mongo.uri, "--mongodb-db", db or self.mongo.db,
                "--s3-endpoint", self.s3.endpoint, "--s3-bucket", BUCKET, "--s3-path-style"]

    def replica(self, name: str, uri: str | None = None, db: str | None = None) -> Replica:
        i = next(_n)
        s = srv.Server(self.tmp / f"data-{name}{i}", self.tmp / f"contentd-{name}{i}.log",
                       self.storage_args(uri, db), S3_ENV)
        r = Replica(name, s)
        self.replicas.append(r)
        s.start()
        return r

    def pair(self) -> tuple[Replica, Replica]:
        return self.replica("A"), self.replica("B")

    def subscribe(self, replica: Replica, kind: str, name: str, token=None) -> Subscriber:
        sub = Subscriber(replica, kind, name, token)
        self.subs.append(sub)
        return sub

    def contentd(self, *args, db: str | None = None, uri: str | None = None,
                 timeout: float = 60) -> subprocess.CompletedProcess:
        return srv.run_contentd([*args, *self.storage_args(uri, db)], S3_ENV, timeout=timeout)

    def close(self):
        for sub in self.subs:
            sub.close()
        # All at once: each waits a moment for its event streams to flush.
        for r in self.replicas:
            r.server.signal(signal.SIGTERM)
        for r in self.replicas:
            r.server.stop()


@pytest.fixture
def cluster(mongo, s3rver_peer, contentd_bin, tmp_path):  # noqa: F811
    c = Cluster(mongo, s3rver_peer, tmp_path)
    yield c
    c.close()


def doc(tag: str) -> dict:
    return {"index.md": f"---\ntitle: Replicas {tag}\n---\n# Hello {tag}\n\nText {tag}.\n".encode(),
            "img/pic.png": f"png {tag}".encode()}


def wait_ready(replica: Replica, status: int, timeout: float = 20.0):
    wait_until(lambda: replica.readyz() == status, timeout,
               f"{replica.name} /readyz to answer {status}")


# --------------------------------------------------------------------------
# One service


def test_push_reaches_a_subscriber_on_the_other_replica(cluster):
    a, b = cluster.pair()
    api_a, api_b = a.api(), b.api()
    api_a.create_ok("tutorial", "shared")
    # B sees the item A created (one catalog), and its global stream hears
    # of A's push.
    assert api_b.item_ok("tutorial", "shared")["version"] == 0
    glob = SSEStream(b.port, "/api/v1/events")
    on_a = cluster.subscribe(a, "tutorial", "shared")
    on_b = cluster.subscribe(b, "tutorial", "shared")
    on_a.wait_version(0)
    on_b.wait_version(0)
    v1 = doc("one")
    assert api_a.push_ok("tutorial", "shared", v1) == 1
    on_b.wait_version(1)
    on_a.wait_version(1)
    (_, snap_b), (_, upd_b) = on_b.content_events()
    (_, snap_a), (_, upd_a) = on_a.content_events()
    # Subscribers cannot tell where the edit landed: the same bytes.
    assert (snap_b.event, snap_b.id, upd_b.event, upd_b.id) == ("snapshot", "0", "update", "1")
    assert snap_b.data == snap_a.data and upd_b.data == upd_a.data
    u = upd_b.json()
    assert u["base_version"] == 0
    assert u["documents"] == {"index.md": render_ast(v1["index.md"])}
    pic = v1["img/pic.png"]
    assert u["assets"] == [{"path": "img/pic.png", "sha256": sha256(pic), "size": len(pic),
                            "content_type": "image/png"}]
    ev = glob.wait_event(lambda e: e.event == "version", timeout=15)
    assert (ev.json()["name"], ev.json()["version"]) == ("shared", 1)
    glob.close()
    # The blobs are in the shared bucket: B serves them.
    for path, data in v1.items():
        r = api_b.file("tutorial", "shared", path)
        assert r.status == 200 and r.body == data, path
    # And the other way round, with a fresh subscriber on A: snapshot at 2.
    v2 = dict(v1, **{"lessons/two.md": b"# Two\n"})
    assert api_b.push_ok("tutorial", "shared", v2) == 2
    on_a.wait_version(2)
    late = cluster.subscribe(a, "tutorial", "shared")
    late.wait_version(2)
    (_, snap), = late.content_events()
    s = snap.json()
    assert (snap.event, s["version"]) == ("snapshot", 2)
    assert sorted(f["path"] for f in s["files"]) == ["img/pic.png", "index.md", "lessons/two.md"]
    assert s["documents"]["lessons/two.md"] == render_ast(b"# Two\n")
    # A delete on B ends the stream on A with `deleted`.
    assert api_b.delete("/api/v1/content/tutorial/shared").status == 204
    wait_until(lambda: any(e.event == "deleted" for _, e in on_a.events), 15,
               "the delete to reach A's subscriber")
    for sub in (on_a, on_b):
        check_sequence(sub, 2)


def test_concurrent_pushes_on_one_base(cluster):
    """Both replicas commit on the same base at once: exactly one wins."""
    a, b = cluster.pair()
    api_a, api_b = a.api(), b.api()
    api_a.create_ok("course", "race")
    for rnd in range(8):
        base = api_a.item_ok("course", "race")["version"]
        assert base == rnd
        lists = {"A": api_a.upload(doc(f"A{rnd}")), "B": api_b.upload(doc(f"B{rnd}"))}
        go = threading.Barrier(2)
        answers = {}

        def commit(tag, api):
            go.wait(timeout=10)
            answers[tag] = api.commit("course", "race", base, lists[tag])

        ts = [threading.Thread(target=commit, args=(t, api)) for t, api in
              (("A", api_a), ("B", api_b))]
        for t in ts:
            t.start()
        for t in ts:
            t.join(timeout=60)
        got = sorted(r.status for r in answers.values())
        assert got == [201, 409], {t: repr(r) for t, r in answers.items()}
        winner = next(t for t, r in answers.items() if r.status == 201)
        loser = "B" if winner == "A" else "A"
        assert answers[winner].json()["version"] == base + 1
        assert_error(answers[loser], 409, "version_conflict")
        want = sorted((f["path"], f["sha256"]) for f in lists[winner])
        for api in (api_a, api_b):
            item = api.item_ok("course", "race")
            assert item["version"] == base + 1
            assert sorted((f["path"], f["sha256"]) for f in item["files"]) == want


def made_tokens(cluster, *users) -> dict:
    """An API token for each user, made with `contentd token create`."""
    tokens = {}
    for user in users:
        p = cluster.contentd("token", "create", user)
        assert p.returncode == 0, p.stderr
        tokens[user] = p.stdout.decode().split()[-1]
    return tokens


def test_token_create_and_rebuild_catalog_on_mongodb(cluster):
    """The storage subcommands take --mongodb-uri like serve: a token made
    by `token create` guards both replicas; `rebuild-catalog` refills an
    empty database from the bucket's manifests."""
    token = made_tokens(cluster, "ann")["ann"]
    a, b = cluster.pair()
    assert_error(b.api().get("/api/v1/content"), 401)
    ann_a, ann_b = a.api(token), b.api(token)
    ann_a.create_ok("roadmap", "rebuilt", visibility="public")
    for v in range(1, 4):
        assert ann_b.push_ok("roadmap", "rebuilt", doc(f"r{v}")) == v
    db2 = fresh_db_name()
    try:
        p = cluster.contentd("rebuild-catalog", db=db2)
        assert p.returncode == 0, p.stderr
        assert b"rebuilt" in p.stderr
        p = cluster.contentd("rebuild-catalog", db=db2)
        assert p.returncode == 1 and b"empty" in p.stderr, p.stderr
        c = cluster.replica("C", db=db2)
        item = c.api().item_ok("roadmap", "rebuilt")  # no token in db2: user `local`
        assert (item["owner"], item["version"], item["visibility"]) == ("ann", 3, "public")
        assert c.api().file("roadmap", "rebuilt", "index.md", version=2).body == \
            doc("r2")["index.md"]
    finally:
        if cluster.mongo.peer is None and not catalog_tool_missing():
            run_tool(cluster.mongo.uri, db2, "drop-database")


def test_rebuild_catalog_on_mongodb_keeps_latest_visibility(cluster):
    """rebuild-catalog into MongoDB restores visibility and title as they
    were last (an item made private after its last push stays private),
    not as its first manifest had them."""
    a = cluster.replica("A")
    api = a.api()
    api.create_ok("tutorial", "rb-private", visibility="public")
    assert api.push_ok("tutorial", "rb-private", doc("p1")) == 1
    assert api.push_ok("tutorial", "rb-private", doc("p2")) == 2
    r = api.patch("/api/v1/content/tutorial/rb-private", {"visibility": "private",
                                                          "title": "Hidden"})
    assert r.status == 200, r
    db2 = fresh_db_name()
    try:
        p = cluster.contentd("rebuild-catalog", db=db2)
        assert p.returncode == 0, p.stderr
        item = cluster.replica("C", db=db2).api().item_ok("tutorial", "rb-private")
        assert (item["visibility"], item["title"], item["version"]) == ("private", "Hidden", 2)
    finally:
        if cluster.mongo.peer is None and not catalog_tool_missing():
            run_tool(cluster.mongo.uri, db2, "drop-database")


# --------------------------------------------------------------------------
# Faults (wire-protocol server only)


def comment_on(api, name: str, body: str):
    return api.post(f"/api/v1/content/tutorial/{name}/comments",
                    {"path": "index.md", "index": 1, "body": body})


def test_comment_id_taken_by_the_other_replica_is_retried(faulty, cluster):
    """Two replicas take the same comment id at once: A reads the item's
    comments (none: its next id is 1) but the answer is held back (a slow
    MongoDB) while B adds its comment as id 1.  A then writes record 1 over
    B's, meets the id taken when it adds the comment, rewrites record 1 from
    the catalog and adds its comment as id 2.  Both answers are 201, each
    comment keeps its own text, and a rebuild from the bucket's records
    gives the same two."""
    a, b = cluster.pair()
    api_a, api_b = a.api(), b.api()
    api_a.create_ok("tutorial", "ids")
    assert api_a.push_ok("tutorial", "ids", doc("ids")) == 1
    faulty.peer.fault(action="delay", command="find", collection="comments", when="after",
                      ms=4000)
    answers = {}
    t = threading.Thread(target=lambda: answers.setdefault("A", comment_on(api_a, "ids", "from A")))
    t.start()
    faulty.peer.wait_fired()  # A has read the comments; its answer is held back
    answers["B"] = comment_on(api_b, "ids", "from B")
    t.join(timeout=60)
    assert not t.is_alive()
    assert answers["B"].status == 201, answers["B"]
    assert answers["B"].json()["id"] == 1
    assert answers["A"].status == 201, answers["A"]
    assert answers["A"].json()["id"] == 2
    want = [(1, "from B"), (2, "from A")]
    for api in (api_a, api_b):
        r = api.get("/api/v1/content/tutorial/ids/comments")
        assert [(c["id"], c["body"]) for c in r.json()["comments"]] == want, r.json()
    db2 = fresh_db_name()
    p = cluster.contentd("rebuild-catalog", db=db2)
    assert p.returncode == 0, p.stderr
    r = cluster.replica("C", db=db2).api().get("/api/v1/content/tutorial/ids/comments")
    assert [(c["id"], c["body"]) for c in r.json()["comments"]] == want, r.json()



FAULT_KINDS = [
    # the connection dies in the middle of a getMore
    [dict(action="drop", ms=20, command="getMore", changeStream=True)],
    # resumable, with the label
    [dict(action="error", code=6, codeName="HostUnreachable",
          labels=["ResumableChangeStreamError"], command="getMore", changeStream=True)],
    [dict(action="error", code=43, codeName="CursorNotFound", command="getMore",
          changeStream=True)],
    # legacy resumable code, no label: the watcher's own list resumes
    [dict(action="error", code=91, codeName="ShutdownInProgress", command="getMore",
          changeStream=True)],
    # the driver's own resume fails too: the watcher's backoff resumes
    [dict(action="drop", command="getMore", changeStream=True),
     dict(action="drop", command="aggregate", changeStream=True, times=2)],
]


def test_versions_keep_counting_across_delete_and_recreate_on_mongodb(cluster, tmp_path):
    """On MongoDB and S3 too, an item deleted and created again goes on from
    the deleted one's last version: a tab reconnecting with Last-Event-ID: 2
    gets the new content as a snapshot, and the deleted item's manifests in
    the bucket are not overwritten."""
    a = cluster.replica("A")
    api = a.api()
    api.create_ok("tutorial", "again")
    for tag in ("o1", "o2"):
        api.push_ok("tutorial", "again", doc(tag))

    def manifest(v: int) -> bytes:
        out = tmp_path / f"m{v}.json"
        s3_tool(cluster.s3.endpoint, "get", f"manifests/tutorial/again/{v}.json", str(out))
        return out.read_bytes()

    kept = {v: manifest(v) for v in (1, 2)}
    assert api.delete("/api/v1/content/tutorial/again").status == 204
    assert api.create_ok("tutorial", "again")["version"] == 0
    assert [api.push_ok("tutorial", "again", doc(t)) for t in ("n1", "n2")] == [3, 4]
    s = SSEStream(a.port, "/api/v1/content/tutorial/again/events", {"Last-Event-ID": "2"})
    try:
        assert s.status == 200, s.body
        ev = s.next_event(10)
        assert (ev.event, ev.id) == ("snapshot", "4"), ev
        assert ev.json()["documents"]["index.md"] == render_ast(doc("n2")["index.md"])
    finally:
        s.close()
    assert {v: manifest(v) for v in (1, 2)} == kept, "the deleted item's manifests changed"


def test_change_is_retried_when_the_item_cannot_be_read(faulty, cluster):
    """A version committed elsewhere (catalog_tool, as another replica would)
    whose item this replica's hub cannot read at once (MongoDB refuses the
    reads: HostUnreachable) is retried until delivered, not dropped: the
    subscriber gets it without waiting for the next version, and the
    failures are logged and counted in /metrics."""
    a = cluster.replica("A")
    api = a.api()
    api.create_ok("tutorial", "retried")
    assert api.push_ok("tutorial", "retried", doc("one")) == 1
    sub = cluster.subscribe(a, "tutorial", "retried")
    sub.wait_version(1)
    listing = api.upload(doc("two"))
    # The tool's own read (its commit's base check) passes; the reads after
    # it, this replica's hub's, fail (the driver retries each read once).
    faulty.peer.fault(action="error", command="find", collection="content", skip=1, times=4,
                      code=6, codeName="HostUnreachable", errmsg="injected: host unreachable")
    p = run_tool(faulty.uri, faulty.db, "commit", "tutorial", "retried", 1,
                 *[f"{f['path']}={f['sha256']}:{f['size']}" for f in listing])
    assert p.returncode == 0 and '"version":2' in p.stdout, (p.stdout, p.stderr)
    sub.wait_version(2, timeout=15)
    assert [r["fired"] for r in faulty.peer.faults()] == [4]
    faulty.peer.clear()
    assert total(a.metrics(), "contentd_sse_change_retries_total") >= 1
    ups = [e for _, e in sub.content_events() if e.id == "2"]
    assert len(ups) == 1 and ups[0].event == "update" and ups[0].json()["base_version"] == 1, ups
    log = a.server.log_path.read_text()
    assert "retrying" in log and "level=warn" in log, a.server.log_tail(20)


def test_500_commits_through_100_faults(faulty, cluster):
    """500 commits alternating between A and B while 100 disconnects and
    resumable errors hit the change streams: every subscriber on both
    replicas ends at 500, having received every version in order."""
    peer = faulty.peer
    a, b = cluster.pair()
    apis = [a.api(), b.api()]
    apis[0].create_ok("tutorial", "busy")
    subs = [cluster.subscribe(r, "tutorial", "busy") for r in (a, b, a, b)]
    for s in subs:
        s.wait_version(0)
    injected = 0
    for i in range(500):
        if i % 5 == 0:
            for rule in FAULT_KINDS[(i // 5) % len(FAULT_KINDS)]:
                peer.fault(**rule)
            injected += 1
        files = {"index.md": f"# Version {i + 1}\n".encode()}
        r = apis[i % 2].push("tutorial", "busy", files, base=i)
        assert r.status == 201, f"commit {i + 1} on {'AB'[i % 2]}: {r!r}"
    assert injected == 100
    for s in subs:
        s.wait_version(500, timeout=90)
    for s in subs:
        counts = check_sequence(s, 500)
        # Resumable faults lose nothing: no snapshot after the first event
        # and no reconnection was needed.
        assert counts["snapshots"] == 1 and counts["updates"] == 500, counts
    try:
        peer.wait_fired(timeout=60)
    except AssertionError as e:
        raise AssertionError(f"{e}\nA: {a.server.log_tail(15)}\nB: {b.server.log_tail(15)}")
    for r in (a, b):
        wait_until(lambda r=r: r.watch_metric("connected") == 1, 20,
                   f"{r.name}'s change stream to be open again")
        assert r.watch_metric("resyncs_total") == 0
    resumes = sum(r.watch_metric("resumes_total") for r in (a, b))
    errors = sum(r.watch_metric("errors_total") for r in (a, b))
    assert resumes >= 20 and errors >= 20, (resumes, errors)
    # Lag was measured for the versions each replica learnt from the other.
    for r in (a, b):
        assert total(r.metrics(), "contentd_catalog_watch_lag_seconds_count") >= 1


def blind_the_streams(peer: MongoPeer, replicas):
    """Every change-stream getMore and aggregate fails from now on, until
    peer.clear(); returns once every replica's stream is down."""
    peer.fault(action="drop", command="getMore", changeStream=True, times=-1)
    peer.fault(action="drop", command="aggregate", changeStream=True, times=-1)
    for r in replicas:
        wait_until(lambda r=r: r.watch_metric("connected") == 0, 20,
                   f"{r.name}'s change stream to fail")


def test_history_lost_sends_a_snapshot(faulty, cluster):
    """B's stream is blind while A commits four versions, and the history it
    would resume from is lost: B re-reads the catalog and its subscribers
    get a snapshot of the version the item moved to."""
    peer = faulty.peer
    a, b = cluster.pair()
    api_a = a.api()
    api_a.create_ok("challenge", "lost")
    assert api_a.push_ok("challenge", "lost", doc("1")) == 1
    on_a = cluster.subscribe(a, "challenge", "lost")
    on_b = cluster.subscribe(b, "challenge", "lost")
    on_a.wait_version(1)
    on_b.wait_version(1)
    blind_the_streams(peer, (a, b))
    for v in range(2, 6):
        assert api_a.push_ok("challenge", "lost", doc(str(v)), base=v - 1) == v
    on_a.wait_version(5)  # A's own commits reach A's subscribers at once
    peer.history_lost()
    peer.clear()
    on_b.wait_version(5)
    wait_until(lambda: b.watch_metric("resyncs_total") >= 1, 20, "B's resync")
    evs = on_b.content_events()
    assert [(e.event, e.id) for _, e in evs] == [("snapshot", "1"), ("snapshot", "5")], evs
    assert on_b.connects == 1  # brought up to date in place, not cut off
    assert evs[-1][1].json()["documents"]["index.md"] == render_ast(doc("5")["index.md"])
    check_sequence(on_a, 5)
    # The stream works again: the next commit on A reaches B as an update.
    assert api_a.push_ok("challenge", "lost", doc("6"), base=5) == 6
    on_b.wait_version(6)
    assert on_b.content_events()[-1][1].event == "update"
    check_sequence(on_b, 6)


def test_mongodb_down_mid_run(faulty, cluster):
    """MongoDB goes away: /readyz answers 503 with the reason on both
    replicas; it comes back: 200 again with no restart, and a push to A
    reaches B's subscriber."""
    peer = faulty.peer
    # A short server selection, so that the change stream gives up soon.
    uri = faulty.uri_with(serverSelectionTimeoutMS=1500)
    a, b = cluster.replica("A", uri=uri), cluster.replica("B", uri=uri)
    a.api().create_ok("skill-path", "blip")
    on_b = cluster.subscribe(b, "skill-path", "blip")
    on_b.wait_version(0)
    peer.down()
    try:
        for r in (a, b):
            wait_ready(r, 503)
        body = b.api().get("/readyz").json()
        assert body["error"]["code"] == "not_ready"
        assert "catalog (mongodb)" in body["error"]["message"], body
        wait_until(lambda: b.watch_metric("connected") == 0, 20,
                   "B's change stream to notice")
        # API requests answer 503 (here already when the token is checked).
        assert_error(a.api().commit("skill-path", "blip", 0, []), 503, "catalog_unavailable")
        assert b.server.alive() and a.server.alive()
    finally:
        peer.up()
    for r in (a, b):
        wait_ready(r, 200, timeout=30)
    assert a.api().push_ok("skill-path", "blip", doc("back"), base=0) == 1
    on_b.wait_version(1, timeout=30)
    check_sequence(on_b, 1)
    assert on_b.connects == 1  # the stream stayed open throughout
    wait_until(lambda: b.watch_metric("connected") == 1, 20, "B's stream to be open")
    assert b.watch_metric("errors_total") >= 1


# --------------------------------------------------------------------------
# Start-up


def serve_once(args: list[str], tmp_path: Path, timeout: float = 30):
    """`contentd serve` expected to fail at start-up: (status, stderr)."""
    p = srv.run_contentd(["serve", "--listen", f"127.0.0.1:{srv.free_port()}", "--data",
                          str(tmp_path / "data"), *args], timeout=timeout)
    return p.returncode, p.stderr.decode("utf-8", "replace")


def test_mongodb_unreachable_at_start(wire_peer, contentd_bin, tmp_path):
    wire_peer.down()
    try:
        t0 = time.monotonic()
        code, err = serve_once(["--mongodb-uri", wire_peer.uri + "&serverSelectionTimeoutMS=1000"],
                               tmp_path)
        assert time.monotonic() - t0 < 15
    finally:
        wire_peer.up()
    assert code == 1, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("contentd: catalog: MongoDB at 127.0.0.1:") and \
        "is unreachable" in lines[0] and "replica set rs0" in lines[0], lines[0]
    # The other storage commands say the same.
    p = srv.run_contentd(["token", "create", "ann", "--data", str(tmp_path / "data"),
                          "--mongodb-uri", wire_peer.uri.replace(str(wire_peer.port),
                                                                 str(srv.free_port()))
                          + "&serverSelectionTimeoutMS=500"])
    assert p.returncode == 1 and b"is unreachable" in p.stderr, p.stderr
    # The environment variable selects MongoDB too.
    p = srv.run_contentd(["serve", "--listen", "127.0.0.1:0", "--data", str(tmp_path / "d2")],
                         {"MONGODB_URI": "mongodb://127.0.0.1:1/?replicaSet=rs0"
                                         "&serverSelectionTimeoutMS=500"})
    assert p.returncode == 1 and b"MongoDB at 127.0.0.1:1 is unreachable" in p.stderr, p.stderr


def test_mongodb_not_a_replica_set(contentd_bin, tmp_path):
    why = bson_missing()
    if why:
        pytest.skip(why)
    peer = MongoPeer(tmp_path, ["--standalone"]).start()
    try:
        code, err = serve_once(["--mongodb-uri", f"mongodb://127.0.0.1:{peer.port}/"], tmp_path)
    finally:
        peer.stop()
    assert code == 1, err
    assert len(err.strip().splitlines()) == 1, err
    assert "is not a replica set member" in err and "--replSet" in err, err


def test_revocation_on_one_replica_closes_streams_on_the_other(cluster):
    """A role taken away and a share link revoked on replica A close, at
    once, the streams of that user and that link open on replica B
    (docs/review.md): the change reaches B through the change stream."""
    tokens = made_tokens(cluster, "ann", "ben")
    a, b = cluster.pair()
    ann = a.api(tokens["ann"])
    ann.create_ok("course", "shared")
    ann.push_ok("course", "shared", doc("s1"))
    base = "/api/v1/content/course/shared"
    assert ann.send_json("PUT", f"{base}/members/ben", {"role": "viewer"}).status == 200
    link = ann.post(f"{base}/links", {"version": None, "expires_in": 3600}).json()
    ben = SSEStream(b.port, f"{base}/events", token=tokens["ben"])
    guest = SSEStream(b.port, f"{base}/events?link={link['token']}")
    try:
        assert ben.next_event(20).event == "snapshot"
        assert guest.next_event(20).event == "snapshot"
        assert ann.delete(f"{base}/members/ben").status == 204
        assert ben.response_ended(20), "ben's stream on B outlived his role"
        assert ann.delete(f"{base}/links/{link['id']}").status == 204
        assert guest.response_ended(20), "the link's stream on B outlived the link"
        assert_error(b.api(tokens["ben"]).item("course", "shared"), 404)
    finally:
        ben.close()
        guest.close()


def test_a_comment_on_one_replica_reaches_streams_on_the_other(cluster):
    """A comment made on replica A arrives as `event: comment` on a member's
    stream open on replica B, and one made on B on A's: the comments
    collection is in the change stream (docs/review.md)."""
    tokens = made_tokens(cluster, "ann", "ben")
    a, b = cluster.pair()
    ann = a.api(tokens["ann"])
    ann.create_ok("course", "talk")
    ann.push_ok("course", "talk", doc("t1"))
    base = "/api/v1/content/course/talk"
    assert ann.send_json("PUT", f"{base}/members/ben", {"role": "reviewer"}).status == 200
    ben_on_b = SSEStream(b.port, f"{base}/events", token=tokens["ben"])
    ann_on_a = SSEStream(a.port, f"{base}/events", token=tokens["ann"])
    try:
        assert ben_on_b.next_event(20).event == "snapshot"
        assert ann_on_a.next_event(20).event == "snapshot"
        first = ann.post(f"{base}/comments", {"path": "index.md", "block": "hello-t1/p-1",
                                              "body": "From A."})
        assert first.status == 201, first
        ev = ben_on_b.wait_event(lambda e: e.event == "comment", 20)
        assert ev.json()["comment"]["body"] == "From A."
        second = b.api(tokens["ben"]).post(f"{base}/comments",
                                           {"reply_to": first.json()["id"], "body": "From B."})
        assert second.status == 201, second
        assert second.json()["id"] == first.json()["id"] + 1
        ev = ann_on_a.wait_event(lambda e: e.event == "comment" and
                                 e.json()["comment"]["body"] == "From B.", 20)
        assert ev.json()["comment"]["reply_to"] == first.json()["id"]
    finally:
        ben_on_b.close()
        ann_on_a.close()
