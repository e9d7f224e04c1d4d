# SPDX-License-Identifier: MIT
"""The checks' facts kept with the versions (docs/checks.md, "Facts kept
with the version"), on each S3 server (s3rver and Ceph RGW) with the
recording proxy in between to count the blobs contentd reads back:

- after a restart, a commit that changes one line of one lesson reads that
  lesson alone from the blob store, not every document of the course, and
  finds what a cold run (a new process, no stored facts) finds;
- so does a commit once the recent bytes have expired (here kept for 0 s),
  also when an asset is unused (whose search once read every document);
- a version whose manifest holds no facts (written before they were kept)
  still commits, reading the documents, and with the same findings; the
  version it makes holds them again;
- after `contentd rebuild-catalog` into a new catalog, a commit still reads
  only the lesson it changes."""
from __future__ import annotations

import hashlib
import itertools
import json
from pathlib import Path

import pytest

from helpers import server as srv
from helpers.api import Client
from s3support import (ACCESS_KEY, BUCKET, SECRET_KEY, proxy, s3_tool,  # noqa: F401
                       s3peer)

_n = itertools.count(1)
LESSONS = 40
S3_FLAGS = ["--s3-bucket", BUCKET, "--s3-path-style"]
S3_ENV = {"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
          "CONTENTD_S3_MAX_ATTEMPTS": "2",
          "CONTENTD_RECENT_BYTES_SECONDS": "0"}  # every read goes to S3
PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)


def sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


@pytest.fixture
def start(contentd_bin, tmp_path):
    """start(endpoint, data) -> contentd on BUCKET at endpoint with its
    catalog in the folder data (the same folder again: a restart)."""
    started = []

    def go(endpoint: str, data: Path) -> srv.Server:
        s = srv.Server(data, tmp_path / f"contentd{next(_n)}.log",
                       ["--s3-endpoint", endpoint, *S3_FLAGS], S3_ENV)
        started.append(s)
        return s.start()

    yield go
    for s in started:
        s.stop()


def course(tag: str) -> dict:
    """A course whose lessons link the next one's heading, with an image
    used, an image nobody uses, a broken anchor and a broken link: the
    checks need every document's facts to get these right."""
    files = {"index.md": (f"---\ntitle: Facts {tag}\ncover: img/cover.png\n---\n# Facts {tag}\n\n"
                          "[start](lessons/00.md#part-two)\n").encode(),
             "img/cover.png": PNG, "img/unused.png": PNG + b"unused",
             "img/shot.png": b"\xff\xd8\xff\xe0 a JPEG named .png"}
    for i in range(LESSONS):
        nxt = f"{i + 1:02d}.md#part-two" if i + 1 < LESSONS else "../index.md"
        extra = "See [nowhere](gone.md).\n" if i == 3 else ""
        extra += "![shot](../img/shot.png)\n" if i == 5 else ""
        extra += "[bad anchor](00.md#part-three)\n" if i == 9 else ""
        files[f"lessons/{i:02d}.md"] = (
            f"# Lesson {i} of {tag}\n\nSome text.\n\n## Part two\n\nMore text.\n\n"
            f"[next]({nxt})\n{extra}").encode()
    return files


def blob_reads(proxy) -> set[str]:  # noqa: F811
    """The blob digests contentd read (GET) from S3 since the last clear."""
    return {c.target.split("?", 1)[0].rsplit("/", 1)[-1] for c in proxy.captured
            if c.method == "GET" and "/blobs/" in c.target}


def manifest_reads(proxy) -> list[str]:  # noqa: F811
    return [c.target for c in proxy.captured if c.method == "GET" and "/manifests/" in c.target]


def one_line_more(files: dict, path: str = "lessons/07.md") -> dict:
    out = dict(files)
    out[path] = files[path] + b"\nOne more line.\n"
    return out


def commit(api: Client, name: str, files: dict, base: int) -> list:
    r = api.push("course", name, files, base)
    assert r.status == 201, r
    assert r.json()["version"] == base + 1
    return r.json()["checks"]


def cold_findings(start, proxy, tmp_path, files: dict) -> list:  # noqa: F811
    """What a new process with no stored facts finds in files."""
    s = start(proxy.endpoint, tmp_path / f"cold{next(_n)}")
    api = Client(s.port)
    name = f"facts-cold-{next(_n)}"
    api.create_ok("course", name)
    found = commit(api, name, files, 0)
    s.stop()
    return found


def test_one_line_after_a_restart_reads_that_lesson_alone(s3peer, proxy, start,  # noqa: F811
                                                          tmp_path):
    data = tmp_path / "data"
    s = start(proxy.endpoint, data)
    api = Client(s.port)
    name = f"facts-{next(_n)}"
    api.create_ok("course", name)
    v1 = course("restart")
    commit(api, name, v1, 0)
    s.stop()

    s = start(proxy.endpoint, data)
    api = Client(s.port)
    v2 = one_line_more(v1)
    proxy.clear()
    found = commit(api, name, v2, 1)
    assert blob_reads(proxy) == {sha(v2["lessons/07.md"])}, (
        f"{len(blob_reads(proxy))} blobs read back; the changed lesson alone should be")
    assert manifest_reads(proxy), "the stored facts come from the manifest"
    codes = sorted(f["code"] for f in found)
    assert codes == ["broken-anchor", "broken-link", "image-format-mismatch", "unused-asset"]
    assert found == cold_findings(start, proxy, tmp_path, v2)

    # The next commit of the same process reads no manifest again.
    proxy.clear()
    v3 = one_line_more(v2, "lessons/20.md")
    commit(api, name, v3, 2)
    assert blob_reads(proxy) == {sha(v3["lessons/20.md"])}
    assert not manifest_reads(proxy)


def test_one_line_with_the_recent_bytes_expired(s3peer, proxy, start, tmp_path):  # noqa: F811
    s = start(proxy.endpoint, tmp_path / "data")
    api = Client(s.port)
    name = f"facts-{next(_n)}"
    api.create_ok("course", name)
    files = course("expired")
    commit(api, name, files, 0)
    for v, path in enumerate(["lessons/07.md", "lessons/08.md", "index.md"], start=1):
        files = one_line_more(files, path)
        proxy.clear()
        found = commit(api, name, files, v)
        assert blob_reads(proxy) == {sha(files[path])}, (
            f"{len(blob_reads(proxy))} blobs read back for one changed file")
    assert found == cold_findings(start, proxy, tmp_path, files)


def test_a_manifest_without_facts_still_commits(s3peer, proxy, start, tmp_path):  # noqa: F811
    data = tmp_path / "data"
    s = start(proxy.endpoint, data)
    api = Client(s.port)
    name = f"facts-{next(_n)}"
    api.create_ok("course", name)
    v1 = course("old")
    commit(api, name, v1, 0)
    s.stop()
    # Version 1 as a release before stored facts wrote it.
    key = f"manifests/course/{name}/1.json"
    m = json.loads(s3_tool(s3peer.endpoint, "object-get", key).stdout)
    assert m["facts"]["docs"], "a first version stores the facts of every document"
    del m["facts"]
    old = tmp_path / "old.json"
    old.write_text(json.dumps(m))
    s3_tool(s3peer.endpoint, "object-put", key, str(old))

    s = start(proxy.endpoint, data)
    api = Client(s.port)
    v2 = one_line_more(v1)
    proxy.clear()
    found = commit(api, name, v2, 1)
    documents = {sha(b) for p, b in v2.items() if p.endswith(".md")}
    assert documents <= blob_reads(proxy), "without stored facts the documents are read"
    assert found == cold_findings(start, proxy, tmp_path, v2)
    s.stop()

    # The version made then holds every file's facts: after a restart the
    # next commit reads only its own change.
    s = start(proxy.endpoint, data)
    api = Client(s.port)
    v3 = one_line_more(v2, "lessons/30.md")
    proxy.clear()
    commit(api, name, v3, 2)
    assert blob_reads(proxy) == {sha(v3["lessons/30.md"])}


def test_after_rebuild_catalog_a_commit_reads_its_change_alone(s3peer, proxy, start,  # noqa: F811
                                                               tmp_path):
    s = start(proxy.endpoint, tmp_path / "data")
    api = Client(s.port)
    name = f"facts-{next(_n)}"
    api.create_ok("course", name)
    v1 = course("rebuilt")
    commit(api, name, v1, 0)
    v2 = one_line_more(v1)
    commit(api, name, v2, 1)
    s.stop()
    rebuilt = tmp_path / "rebuilt"
    p = srv.run_contentd(["rebuild-catalog", "--data", str(rebuilt), "--s3-endpoint",
                          proxy.endpoint, *S3_FLAGS], env=S3_ENV)
    assert p.returncode == 0, p.stderr

    s = start(proxy.endpoint, rebuilt)
    api = Client(s.port)
    v3 = one_line_more(v2, "lessons/11.md")
    proxy.clear()
    found = commit(api, name, v3, 2)
    assert blob_reads(proxy) == {sha(v3["lessons/11.md"])}
    assert found == cold_findings(start, proxy, tmp_path, v3)
