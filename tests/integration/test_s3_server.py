# SPDX-License-Identifier: MIT
"""contentd end to end on S3: `contentd serve --s3-endpoint … --s3-bucket …`
against each server, s3rver and Ceph RGW (and, for faults, through the fault
proxy).  Push, pull, list and delete through the HTTP API in path-style and
virtual-host addressing, file names with spaces, `+`, `=`, `%` and UTF-8, a
20 MiB asset, /readyz, what the bucket holds afterwards (read by the AWS
CLI), a push under persistent faults that fails clearly while the previous
version stays current and readable, and the refusals a misconfiguration
brings (missing bucket, wrong credentials): 503 naming the cause."""
from __future__ import annotations

import hashlib
import itertools
import json
import os
import subprocess

import pytest

from helpers import server as srv
from helpers.api import Client, request
from helpers.server import clean_env, content_binary
from s3support import (ACCESS_KEY, BUCKET, SECRET_KEY, Rule, aws,  # noqa: F401
                       clock_off_by_an_hour, proxy, s3_tool, s3peer)

MiB = 1024 * 1024
_n = itertools.count(1)
# Quick retries, so that persistent faults fail in about a second.
TUNING = {"CONTENTD_S3_MAX_ATTEMPTS": "3", "CONTENTD_S3_STALL_TIMEOUT_MS": "1000"}


@pytest.fixture
def start_s3_server(contentd_bin, s3peer, tmp_path):  # noqa: F811
    """start(endpoint, bucket=BUCKET) -> a contentd serving blobs from S3.
    Skips, with the server's own words, when this build cannot use S3."""
    started = []

    def start(endpoint: str, bucket: str = BUCKET, path_style: bool = True,
              env: dict | None = None) -> srv.Server:
        i = next(_n)
        s = srv.Server(tmp_path / f"data{i}", tmp_path / f"contentd{i}.log",
                       ["--s3-endpoint", endpoint, "--s3-bucket", bucket] +
                       (["--s3-path-style"] if path_style else []),
                       {"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
                        **TUNING, **(env or {})})
        started.append(s)
        return s.start()

    yield start
    for s in started:
        s.stop()


def sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def bucket_keys(s3peer, prefix) -> set[str]:  # noqa: F811
    out = s3_tool(s3peer.endpoint, "list", prefix).stdout.decode()
    return {json.loads(line)["key"] for line in out.splitlines()}


def folder(tag: str) -> dict:
    return {"index.md": f"---\ntitle: S3 {tag}\n---\n# Hello {tag}\n".encode(),
            "lessons/one.md": f"# One {tag}\n".encode(),
            "img/pic.png": os.urandom(50_000),
            # Names that need encoding; they travel in the manifest's JSON.
            "files/with space+plus=equals%25.txt": f"special {tag}".encode(),
            "files/ünïcödé/日本語.md": f"# 日本語 {tag}\n".encode()}


def vhost(endpoint: str) -> str:
    """The endpoint whose BUCKET.host is the bucket: *.s3.localhost is
    loopback for curl, s3rver serves it (--service-endpoint localhost) and
    RGW too (rgw_dns_name = s3.localhost)."""
    return endpoint.replace("127.0.0.1", "s3.localhost")


@pytest.mark.parametrize("addressing", ["path", "vhost"])
def test_push_pull_list_delete(s3peer, start_s3_server, tmp_path, addressing):  # noqa: F811
    path_style = addressing == "path"
    s = start_s3_server(s3peer.endpoint if path_style else vhost(s3peer.endpoint),
                        path_style=path_style)
    api = Client(s.port)
    api.create_ok("tutorial", "s3-hello")
    files = folder("v1")
    assert api.push_ok("tutorial", "s3-hello", files) == 1
    for path, data in files.items():
        r = api.file("tutorial", "s3-hello", path)
        assert r.status == 200 and r.body == data, path
        assert r.header("ETag") == f'"{sha(data)}"'
    items = api.get("/api/v1/content").json()["items"]
    assert [(i["kind"], i["name"], i["version"]) for i in items if i["name"] == "s3-hello"] == \
        [("tutorial", "s3-hello", 1)]
    # The bucket holds each blob under its digest and the version's manifest.
    blobs = {f"blobs/{sha(d)[:2]}/{sha(d)}" for d in files.values()}
    assert blobs <= bucket_keys(s3peer, "blobs/")
    assert "manifests/tutorial/s3-hello/1.json" in bucket_keys(s3peer, "manifests/")
    # The AWS CLI, an independent reader, sees the same keys and bytes.
    ls = aws(s3peer.endpoint, "s3", "ls", f"s3://{BUCKET}/blobs/", "--recursive",
             tmp=tmp_path).stdout.decode()
    listed = {line.split()[-1] for line in ls.splitlines()}
    assert blobs <= listed
    pic = files["img/pic.png"]
    got = aws(s3peer.endpoint, "s3", "cp", f"s3://{BUCKET}/blobs/{sha(pic)[:2]}/{sha(pic)}", "-",
              tmp=tmp_path).stdout
    assert got == pic
    # `content pull` writes the same tree, special names included.
    pulled = tmp_path / "pulled"
    p = content_cli(s, "pull", "tutorial/s3-hello", str(pulled))
    assert p.returncode == 0, p.stderr
    got = {str(f.relative_to(pulled)): f.read_bytes() for f in pulled.rglob("*") if f.is_file()}
    assert got == files
    # A second version, then delete.
    files2 = dict(files, **{"index.md": b"# Changed\n"})
    assert api.push_ok("tutorial", "s3-hello", files2) == 2
    assert api.file("tutorial", "s3-hello", "index.md").body == b"# Changed\n"
    assert api.file("tutorial", "s3-hello", "index.md", version=1).body == files["index.md"]
    assert api.delete("/api/v1/content/tutorial/s3-hello").status == 204
    assert api.item("tutorial", "s3-hello").status == 404


def test_20mib_asset(s3peer, proxy, start_s3_server):  # noqa: F811
    """A 20 MiB asset goes to S3 as a multipart upload and reads back whole."""
    s = start_s3_server(proxy.endpoint)
    api = Client(s.port)
    api.create_ok("course", "s3-big")
    big = os.urandom(20 * MiB)
    files = {"index.md": b"# Big\n", "video/clip.bin": big}
    assert api.push_ok("course", "s3-big", files) == 1
    key = f"/{BUCKET}/blobs/{sha(big)[:2]}/{sha(big)}"
    methods = [c.method for c in proxy.captured if c.target.startswith(key)]
    assert "POST" in methods and methods.count("PUT") >= 3, methods  # parts of 8 MiB
    r = api.file("course", "s3-big", "video/clip.bin")
    assert r.status == 200 and len(r.body) == len(big) and sha(r.body) == sha(big)


def test_readyz_checks_the_bucket(s3peer, start_s3_server):  # noqa: F811
    s = start_s3_server(s3peer.endpoint)
    assert request(s.port, "GET", "/readyz").status == 200
    missing = start_s3_server(s3peer.endpoint, bucket="no-such-bucket")
    r = request(missing.port, "GET", "/readyz")
    assert r.status == 503, r
    assert b"NoSuchBucket" in r.body, r.body


def test_transient_faults_push_completes(s3peer, proxy, start_s3_server):  # noqa: F811
    s = start_s3_server(proxy.endpoint)
    api = Client(s.port)
    api.create_ok("tutorial", "s3-flaky")
    proxy.add(Rule("503", method="HEAD"), Rule("slowdown", method="PUT", times=2),
              Rule("reset", method="PUT", contains="manifests/"),
              Rule("stall", method="GET"))
    files = folder("flaky")
    assert api.push_ok("tutorial", "s3-flaky", files) == 1
    for path, data in files.items():
        assert api.file("tutorial", "s3-flaky", path).body == data, path
    assert len(proxy.faults()) >= 4


def test_persistent_faults_fail_and_keep_previous_version(s3peer, proxy, start_s3_server):  # noqa: F811
    s = start_s3_server(proxy.endpoint)
    api = Client(s.port)
    api.create_ok("tutorial", "s3-down")
    v1 = folder("v1")
    assert api.push_ok("tutorial", "s3-down", v1) == 1
    # Blob uploads fail for good: the PUT of the new blob answers an error
    # naming S3's refusal, and nothing is committed.
    proxy.add(Rule("slowdown", method="PUT", times=-1))
    v2 = dict(v1, **{"index.md": b"# Version two\n"})
    new = v2["index.md"]
    r = api.put_blob(new)
    assert r.status == 503, r
    msg = r.json()["error"]["message"]
    assert "SlowDown" in msg and f"blobs/{sha(new)[:2]}/{sha(new)}" in msg, msg
    r = api.commit("tutorial", "s3-down", 1, [{"path": p, "sha256": sha(b), "size": len(b)}
                                             for p, b in v2.items()])
    assert r.status == 422, r  # missing_blobs: the blob never reached S3
    assert api.item_ok("tutorial", "s3-down")["version"] == 1
    for path, data in v1.items():
        assert api.file("tutorial", "s3-down", path).body == data, path
    # Blobs get through but the manifest cannot be written: still no commit.
    proxy.clear()
    proxy.add(Rule("500", method="PUT", contains="manifests/", times=-1))
    r = api.push("tutorial", "s3-down", v2)
    assert r.status >= 500, r
    assert "InternalError" in r.json()["error"]["message"], r
    assert api.item_ok("tutorial", "s3-down")["version"] == 1
    assert api.file("tutorial", "s3-down", "index.md").body == v1["index.md"]
    # Once S3 answers again, the same push succeeds.
    proxy.clear()
    assert api.push_ok("tutorial", "s3-down", v2) == 2
    assert api.file("tutorial", "s3-down", "index.md").body == new


def content_cli(server: srv.Server, *args: str) -> subprocess.CompletedProcess:
    """`content ARGS...` against server; output as text."""
    return subprocess.run([str(content_binary()), *args], capture_output=True,
                          env=clean_env({"CONTENT_SERVER": server.base_url}), timeout=120,
                          encoding="utf-8", errors="replace")


def push_cli(server: srv.Server, tmp_path, name: str) -> subprocess.CompletedProcess:
    """`content push` of a new two-file folder for tutorial/NAME."""
    d = tmp_path / name
    (d / "lessons").mkdir(parents=True)
    (d / "index.md").write_text(f"---\nkind: tutorial\nname: {name}\ntitle: T\n---\n# T\n")
    (d / "lessons" / "01-lesson.md").write_text("# Lesson\n")
    return content_cli(server, "push", str(d))


def test_missing_bucket_is_503_naming_it(s3peer, start_s3_server, tmp_path):  # noqa: F811
    """A missing bucket is the store being unusable, not a missing blob: 503
    naming NoSuchBucket and the flag to fix, from /readyz and from every
    request, and `content push` says so."""
    s = start_s3_server(s3peer.endpoint, bucket="no-such-bucket")
    r = request(s.port, "GET", "/readyz")
    assert r.status == 503 and b"NoSuchBucket" in r.body and b"--s3-bucket" in r.body, r
    api = Client(s.port)
    api.create_ok("tutorial", "s3-nobucket")
    r = api.put_blob(b"# Lesson\n")
    assert r.status == 503, r
    msg = r.json()["error"]["message"]
    assert "NoSuchBucket" in msg and "create it, or correct --s3-bucket" in msg, msg
    p = push_cli(s, tmp_path, "s3-nobucket")
    assert p.returncode == 1, p.stdout + p.stderr
    assert "NoSuchBucket" in p.stderr and "No such blob" not in p.stderr, p.stderr


# (environment, the S3 code the message names, the setting it says to check)
REFUSALS = {
    "clock-skew": (None, "RequestTimeTooSkewed", "set the clock right"),
    "wrong-secret": ({"AWS_SECRET_ACCESS_KEY": "not-the-secret"}, "SignatureDoesNotMatch",
                     "check AWS_SECRET_ACCESS_KEY"),
    "wrong-key": ({"AWS_ACCESS_KEY_ID": "NO-SUCH-KEY"}, "InvalidAccessKeyId",
                  "check AWS_ACCESS_KEY_ID"),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_refusals_are_503_naming_the_cause(s3peer, start_s3_server, tmp_path, case):  # noqa: F811
    """A deliberately wrong secret (or access key, or a clock an hour off):
    /readyz, a blob upload, a file read and `content push` all fail at once
    with the server's code and what to check — even where S3 answers a HEAD
    with a bare 403."""
    env, code, hint = REFUSALS[case]
    if case == "wrong-secret" and s3peer.kind == "s3rver":
        pytest.skip("s3rver checks no signature, so it accepts any secret")
    if case == "clock-skew":
        env = clock_off_by_an_hour()
    good = start_s3_server(s3peer.endpoint)
    Client(good.port).create_ok("tutorial", "s3-creds")
    Client(good.port).push_ok("tutorial", "s3-creds", {"index.md": b"# Stored\n"})
    good.stop()
    s = srv.Server(good.data_dir, tmp_path / f"wrong-{case}.log", good.extra_args,
                   dict(good.env, **env)).start()
    try:
        r = request(s.port, "GET", "/readyz")
        assert r.status == 503, r
        assert code.encode() in r.body and hint.encode() in r.body, r.body
        api = Client(s.port)
        for r in (api.put_blob(os.urandom(100)), api.file("tutorial", "s3-creds", "index.md")):
            assert r.status == 503, r
            msg = r.json()["error"]["message"]
            assert f"HTTP 403 {code}" in msg and hint in msg, msg
        p = push_cli(s, tmp_path, "s3-creds-cli")
        assert p.returncode == 1 and code in p.stderr and hint in p.stderr, p.stderr
    finally:
        s.stop()


def test_rebuild_catalog(s3peer, start_s3_server, tmp_path):  # noqa: F811
    s = start_s3_server(s3peer.endpoint)
    api = Client(s.port)
    api.create_ok("tutorial", "s3-rebuild")
    files = folder("rb")
    api.push_ok("tutorial", "s3-rebuild", files)
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    p = srv.run_contentd(["rebuild-catalog", "--data", str(fresh), "--s3-endpoint",
                          s3peer.endpoint, "--s3-bucket", BUCKET, "--s3-path-style"],
                         env={"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY})
    err = p.stderr.decode("utf-8", "replace")
    assert p.returncode == 0, err
    s2 = srv.Server(fresh, tmp_path / "rebuilt.log",
                    ["--s3-endpoint", s3peer.endpoint, "--s3-bucket", BUCKET, "--s3-path-style"],
                    {"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY}).start()
    try:
        api2 = Client(s2.port)
        assert api2.item_ok("tutorial", "s3-rebuild")["version"] == 1
        for path, data in files.items():
            assert api2.file("tutorial", "s3-rebuild", path).body == data
    finally:
        s2.stop()
