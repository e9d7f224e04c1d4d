# SPDX-License-Identifier: MIT
"""What contentd on S3 knows to be stored (docs/s3.md, "What the server
knows"), against each server, s3rver and Ceph RGW, with the recording proxy
in between to count what reaches S3:

- POST /blobs/missing answers blobs it knows (uploaded by this process, or
  named by a committed version, also after a restart) without a request to
  S3, and looks up the others (by listing their key prefix when there are
  many): a blob stored behind contentd's back is not missing, a blob never
  stored, or whose upload was refused, is;
- a blob deleted behind contentd's back is never committed: the commit
  answers 422 missing_blobs naming it, and once uploaded again the commit
  succeeds;
- `content push` with parallel uploads: every blob arrives; uploads that
  fail part-way leave the previous version current and readable, and the
  next push sends only what had not arrived."""
from __future__ import annotations

import hashlib
import itertools
import json
import os
import subprocess
import tempfile
from pathlib import Path

import pytest

from helpers import server as srv
from helpers.api import Client
from helpers.server import clean_env, content_binary
from s3support import (ACCESS_KEY, BUCKET, SECRET_KEY, Rule, proxy, s3_tool,  # noqa: F401
                       s3peer)

_n = itertools.count(1)
TUNING = {"CONTENTD_S3_MAX_ATTEMPTS": "2"}  # refusals end quickly


def sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


@pytest.fixture
def start(contentd_bin, tmp_path):
    """start(endpoint, data=None) -> contentd on BUCKET at endpoint; the same
    data folder (catalog) again when `data` is given."""
    started = []

    def go(endpoint: str, data: Path | None = None) -> srv.Server:
        i = next(_n)
        s = srv.Server(data or tmp_path / f"data{i}", tmp_path / f"contentd{i}.log",
                       ["--s3-endpoint", endpoint, "--s3-bucket", BUCKET, "--s3-path-style"],
                       {"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
                        **TUNING})
        started.append(s)
        return s.start()

    yield go
    for s in started:
        s.stop()


def heads(proxy) -> list[str]:  # noqa: F811
    """The blob digests the store was asked about (HEAD) since the last clear."""
    return [c.target.rsplit("/", 1)[-1] for c in proxy.captured
            if c.method == "HEAD" and "/blobs/" in c.target]


def s3_requests(proxy, digest: str) -> list[str]:  # noqa: F811
    return [c.method for c in proxy.captured if c.target.endswith(f"/{digest}")]


def put_behind(s3peer, data: bytes) -> str:  # noqa: F811
    """Stores data as a blob straight into the bucket, behind contentd's back."""
    with tempfile.NamedTemporaryFile() as f:
        f.write(data)
        f.flush()
        s3_tool(s3peer.endpoint, "blob-put", sha(data), f.name)
    return sha(data)


def delete_behind(s3peer, digest: str) -> None:  # noqa: F811
    s3_tool(s3peer.endpoint, "delete", f"blobs/{digest[:2]}/{digest}")


def lessons(tag: str, n: int = 5) -> dict:
    files = {"index.md": f"---\ntitle: Known {tag}\n---\n# Known {tag}\n".encode()}
    for i in range(n):
        files[f"lessons/{i:02d}.md"] = f"# Lesson {i} of {tag}\n\n{os.urandom(8).hex()}\n".encode()
    return files


def test_missing_known_unknown_present_and_absent(s3peer, proxy, start):  # noqa: F811
    s = start(proxy.endpoint)
    api = Client(s.port)
    api.create_ok("course", "known-1")
    v1 = lessons("one")
    assert api.push_ok("course", "known-1", v1) == 1
    known = [sha(b) for b in v1.values()]
    present = put_behind(s3peer, b"stored behind contentd's back " + os.urandom(8))
    absent = sha(b"never stored " + os.urandom(8))
    refused_data = b"an upload that is refused " + os.urandom(8)
    refused = sha(refused_data)
    r = api.put_blob(b"not those bytes", refused)
    assert r.status == 400 and r.json()["error"]["code"] == "digest_mismatch", r
    proxy.clear()
    r = api.missing(known + [present, absent, refused] + known[:2])
    assert r.status == 200, r
    assert r.json()["missing"] == [absent, refused]
    # The known blobs cost no request; each of the others one lookup.
    assert sorted(heads(proxy)) == sorted([present, absent, refused])
    # Found once, `present` is known from then on; the absent ones are
    # asked about again, since they may arrive.
    proxy.clear()
    assert api.missing([present, absent]).json()["missing"] == [absent]
    assert heads(proxy) == [absent]


def test_missing_many_unknown_by_listing(s3peer, proxy, start):  # noqa: F811
    """A request about hundreds of unknown blobs lists the key prefixes that
    hold several of them (`blobs/XX/`) instead of a HEAD each, and answers
    the same: the blobs stored behind contentd's back are found, every
    other one is missing."""
    s = start(proxy.endpoint)
    api = Client(s.port)
    present = [put_behind(s3peer, f"behind {i} ".encode() + os.urandom(8)) for i in range(12)]
    absent = []
    for p in present:  # neighbours in the same prefix, never stored
        absent += [p[:2] + os.urandom(31).hex() for _ in range(4)]
    crowded = {p[:2] for p in present}
    # One more in every other prefix: looked up alone (too few to list).
    absent += [f"{x:02x}" + os.urandom(31).hex() for x in range(256) if f"{x:02x}" not in crowded]
    asked = present + absent
    proxy.clear()
    r = api.missing(asked)
    assert r.status == 200, r
    assert r.json()["missing"] == absent
    lists = [c for c in proxy.captured if c.method == "GET" and "list-type=2" in c.target]
    assert sorted(c.target.split("prefix=blobs%2F")[1][:2] for c in lists) == sorted(crowded)
    assert len(heads(proxy)) == 256 - len(crowded)
    # What the listing found is known from then on.
    proxy.clear()
    assert api.missing(present).json()["missing"] == []
    assert heads(proxy) == [] and not [c for c in proxy.captured if c.method == "GET"]


def test_missing_many_unknown_in_a_small_bucket_by_one_listing(s3peer, proxy, start):  # noqa: F811
    """When the prefixes to list are many and the bucket holds few blobs,
    the whole of `blobs/` is listed instead, in a page or two, with the
    same answer."""
    s = start(proxy.endpoint)
    api = Client(s.port)
    present = [put_behind(s3peer, f"small {i} ".encode() + os.urandom(8)) for i in range(24)]
    absent = []
    for p in present:
        absent += [p[:2] + os.urandom(31).hex() for _ in range(3)]
    while len(present) + len(absent) < 300:
        absent.append(os.urandom(32).hex())
    proxy.clear()
    r = api.missing(absent[:150] + present + absent[150:])
    assert r.status == 200, r
    assert r.json()["missing"] == absent
    lists = [c for c in proxy.captured if c.method == "GET" and "list-type=2" in c.target]
    assert 1 <= len(lists) <= 3 and heads(proxy) == [], (len(lists), len(heads(proxy)))
    assert all("prefix=blobs%2F&" in c.target or c.target.endswith("prefix=blobs%2F")
               for c in lists), [c.target for c in lists]


def test_known_after_a_restart_from_the_catalog(s3peer, proxy, start):  # noqa: F811
    s = start(proxy.endpoint)
    api = Client(s.port)
    api.create_ok("course", "known-2")
    v1 = lessons("two")
    assert api.push_ok("course", "known-2", v1) == 1
    s.stop()
    s2 = start(proxy.endpoint, data=s.data_dir)
    api2 = Client(s2.port)
    proxy.clear()
    absent = sha(os.urandom(16))
    r = api2.missing([sha(b) for b in v1.values()] + [absent])
    assert r.status == 200 and r.json()["missing"] == [absent], r
    assert heads(proxy) == [absent]


def test_deleted_behind_the_back_is_not_committed(s3peer, proxy, start):  # noqa: F811
    s = start(proxy.endpoint)
    api = Client(s.port)
    api.create_ok("course", "known-3")
    v1 = lessons("three")
    assert api.push_ok("course", "known-3", v1) == 1
    # A new process: it knows the blobs from the catalog, and holds none of
    # their bytes.
    s.stop()
    s2 = start(proxy.endpoint, data=s.data_dir)
    api2 = Client(s2.port)
    gone = v1["lessons/00.md"]
    delete_behind(s3peer, sha(gone))
    # blobs/missing takes the catalog's word for it (no request) ...
    proxy.clear()
    assert api2.missing([sha(gone)]).json()["missing"] == []
    assert heads(proxy) == []
    # ... but the commit of a version that adds it checks the store.
    api2.create_ok("course", "known-3b")
    listing = [{"path": "index.md", "sha256": sha(v1["index.md"]), "size": len(v1["index.md"])},
               {"path": "copy.md", "sha256": sha(gone), "size": len(gone)}]
    r = api2.commit("course", "known-3b", 0, listing)
    assert r.status == 422, r
    err = r.json()["error"]
    assert err["code"] == "missing_blobs" and err["missing"] == [sha(gone)], err
    assert api2.item_ok("course", "known-3b")["version"] == 0
    # Found missing, it is forgotten: blobs/missing says so now.
    assert api2.missing([sha(gone)]).json()["missing"] == [sha(gone)]
    assert api2.put_blob(gone).status == 201
    r = api2.commit("course", "known-3b", 0, listing)
    assert r.status == 201, r
    assert api2.file("course", "known-3b", "copy.md").body == gone


def content_push(server: srv.Server, folder: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(content_binary()), "push", str(folder), *args],
                          capture_output=True, encoding="utf-8", errors="replace", timeout=300,
                          env=clean_env({"CONTENT_SERVER": server.base_url}))


def write_course(root: Path, tag: str, n: int) -> dict:
    files = {"index.md": f"---\nkind: course\nname: par\ntitle: {tag}\n---\n# {tag}\n\n"
                         f"{os.urandom(8).hex()}\n".encode()}
    for i in range(n):
        files[f"m{i // 20}/lesson-{i:03d}.md"] = f"# {tag} {i}\n\n{os.urandom(40).hex()}\n".encode()
    files["assets/big.bin"] = os.urandom(9 * 1024 * 1024)  # past the multipart threshold
    for path, data in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(data)
    return files


def stored_blobs(s3peer) -> set[str]:  # noqa: F811
    out = s3_tool(s3peer.endpoint, "list", "blobs/").stdout.decode()
    return {json.loads(line)["key"].rsplit("/", 1)[-1] for line in out.splitlines()}


def blob_puts(proxy) -> set[str]:  # noqa: F811
    """Digests of the blobs written to the bucket since the last clear."""
    return {c.target.split("?")[0].rsplit("/", 1)[-1] for c in proxy.captured
            if c.method in ("PUT", "POST") and "/blobs/" in c.target and not c.fault}


@pytest.mark.parametrize("parallel", ["1", "16"])
def test_parallel_push_all_arrive(s3peer, proxy, start, tmp_path, parallel):  # noqa: F811
    s = start(proxy.endpoint)
    src = tmp_path / "course"
    files = write_course(src, "v1", 60)
    proxy.clear()
    p = content_push(s, src, "--parallel", parallel)
    assert p.returncode == 0, p.stderr
    assert blob_puts(proxy) == {sha(b) for b in files.values()}
    api = Client(s.port)
    item = api.item_ok("course", "par")
    assert item["version"] == 1
    assert {f["path"]: f["sha256"] for f in item["files"]} == \
        {path: sha(b) for path, b in files.items()}
    for path in ("index.md", "m2/lesson-045.md", "assets/big.bin"):
        assert api.file("course", "par", path).body == files[path], path


def test_parallel_push_failing_midway_then_resumed(s3peer, proxy, start, tmp_path):  # noqa: F811
    s = start(proxy.endpoint)
    src = tmp_path / "course"
    v1 = write_course(src, "v1", 10)
    assert content_push(s, src).returncode == 0
    (src / "m0").rename(tmp_path / "old-m0")
    v2 = write_course(src, "v2", 60)
    v2_paths = set(v2)
    # S3 takes 20 uploads of the new version, then refuses every other.
    proxy.clear()
    proxy.add(Rule("503", method="PUT", contains="/blobs/", skip=20, times=-1))
    p = content_push(s, src, "--parallel", "16")
    assert p.returncode == 1, p.stdout + p.stderr
    assert "stays at version 1" in p.stderr, p.stderr
    new = {sha(b) for b in v2.values()}
    arrived = stored_blobs(s3peer) & new
    assert 0 < len(arrived) < len(new), (len(arrived), len(new))
    api = Client(s.port)
    item = api.item_ok("course", "par")
    assert item["version"] == 1
    assert {f["path"] for f in item["files"]} == set(v1)
    assert api.file("course", "par", "m0/lesson-005.md").body == v1["m0/lesson-005.md"]
    # Once S3 takes uploads again, the push completes and sends only the
    # blobs that had not arrived.
    proxy.clear()
    p = content_push(s, src, "--parallel", "16")
    assert p.returncode == 0, p.stderr
    again = blob_puts(proxy)
    assert again == new - arrived
    item = api.item_ok("course", "par")
    assert item["version"] == 2
    assert {f["path"] for f in item["files"]} == v2_paths
    for path in ("m0/lesson-000.md", "m2/lesson-059.md", "assets/big.bin"):
        assert api.file("course", "par", path).body == v2[path], path
