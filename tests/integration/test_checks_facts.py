# SPDX-License-Identifier: MIT
"""The checks' facts kept with the versions (docs/checks.md, "Facts kept
with the version") over many versions, on the default data folder, the
server restarted before every commit: each commit opens from the blob
store only the lesson it changes, as many times as a commit whose
process has every fact in memory (its /metrics count the store's calls),
reads at most 9 manifests, and finds what a cold run finds, also past the
versions where a manifest stores every file's facts again.  The S3 side
(the requests themselves, old manifests, rebuild-catalog):
test_s3_facts.py."""
from __future__ import annotations

import itertools
import json

from helpers import metrics
from helpers import server as srv
from helpers.api import Client

_n = itertools.count(1)
LESSONS = 30


def course() -> dict:
    files = {"index.md": b"---\ntitle: Facts\n---\n# Facts\n\n[start](lessons/00.md#part-two)\n",
             "img/unused.png": b"\x89PNG\r\n\x1a\n" + bytes(16)}
    for i in range(LESSONS):
        nxt = f"{i + 1:02d}.md#part-two" if i + 1 < LESSONS else "gone.md"
        files[f"lessons/{i:02d}.md"] = (f"# Lesson {i}\n\n## Part two\n\n[next]({nxt})\n"
                                        f"[back](00.md#part-{i})\n").encode()
    return files


def store_calls(api: Client) -> dict:
    r = api.get("/metrics")
    assert r.status == 200, r
    samples, _ = metrics.parse(r.body.decode())
    return {op: metrics.total(samples, "contentd_blobstore_op_duration_seconds_count", op=op)
            for op in ("open", "get_object")}


def test_every_commit_after_a_restart_opens_its_change_alone(contentd_bin, tmp_path):
    data = tmp_path / "data"

    def start() -> srv.Server:
        return srv.Server(data, tmp_path / f"contentd{next(_n)}.log").start()

    s = start()
    api = Client(s.port)
    api.create_ok("course", "facts")
    files = course()
    r = api.push("course", "facts", files, 0)
    assert r.status == 201, r

    def change(v: int) -> dict:
        """Pushes version v + 1, one lesson changed; the store's calls it cost."""
        nonlocal files, found
        path = f"lessons/{(v * 7) % LESSONS:02d}.md"
        files = dict(files)
        files[path] += f"\nVersion {v + 1}.\n".encode()
        before = store_calls(api)
        r = api.push("course", "facts", files, v)
        assert r.status == 201, r
        found = r.json()["checks"]
        return {op: n - before[op] for op, n in store_calls(api).items()}

    found = None
    # What one changed lesson costs a commit with every fact in memory.
    warm = change(1)
    for v in range(2, 14):  # past two manifests that store every file's facts
        s.stop()
        s = start()
        api = Client(s.port)
        calls = change(v)
        assert calls["open"] == warm["open"], (
            f"version {v + 1}: {calls['open']} blobs opened, {warm['open']} in memory")
        assert 1 <= calls["get_object"] <= 9, f"version {v + 1}: {calls}"
    manifest = json.loads((data / "manifests/course/facts/14.json").read_text())
    assert len(manifest["facts"]["from"]) <= 8
    s.stop()

    # The same files in a new item of a new server: a cold run.
    cold = srv.Server(tmp_path / "cold", tmp_path / "cold.log").start()
    api = Client(cold.port)
    api.create_ok("course", "facts")
    r = api.push("course", "facts", files, 0)
    assert r.status == 201, r
    assert found == r.json()["checks"]
    assert sorted({f["code"] for f in found}) == ["broken-anchor", "broken-link", "unused-asset"]
    cold.stop()
