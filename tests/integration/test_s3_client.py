# SPDX-License-Identifier: MIT
"""The S3 client (s3/) and the S3 blob store against a real peer: s3rver,
started by the tests on loopback, driven through tests/s3/s3_tool.  The AWS
CLI reads back what we wrote, as an independent reader."""
from __future__ import annotations

import hashlib
import json
import os
import urllib.parse

import pytest

from s3support import BUCKET, aws, clock_off_by_an_hour, proxy, s3_tool, s3peer  # noqa: F401

SPECIAL_KEYS = [
    "special/with space.txt",
    "special/plus+sign.md",
    "special/equals=sign",
    "special/percent%20literal",
    "special/ünïcödé/日本語.md",
    "special/mixed +=%~!*'()&$@,;:.txt",
]

MiB = 1024 * 1024


def listing(endpoint, prefix="", page=None, path_style=True) -> list[dict]:
    args = ["list", prefix] + (["--page", str(page)] if page else [])
    out = s3_tool(endpoint, *args, path_style=path_style).stdout.decode("utf-8")
    return [json.loads(line) for line in out.splitlines()]


def test_put_get_head_delete(s3peer, tmp_path):
    src = tmp_path / "in.bin"
    data = os.urandom(300_000)
    src.write_bytes(data)
    s3_tool(s3peer.endpoint, "put", "plain/one.bin", str(src))
    out = tmp_path / "out.bin"
    s3_tool(s3peer.endpoint, "get", "plain/one.bin", str(out))
    assert out.read_bytes() == data
    size, etag = s3_tool(s3peer.endpoint, "head", "plain/one.bin").stdout.decode().split()
    assert int(size) == len(data)
    assert etag.strip('"') == hashlib.md5(data).hexdigest()  # a single PUT's ETag is the MD5
    rng = s3_tool(s3peer.endpoint, "get-range", "plain/one.bin", "1000", "5000").stdout
    assert rng == data[1000:6000]
    s3_tool(s3peer.endpoint, "delete", "plain/one.bin")
    p = s3_tool(s3peer.endpoint, "head", "plain/one.bin", check=False)
    assert p.returncode == 3, p.stderr
    assert b'head "plain/one.bin"' in p.stderr and b"404 NoSuchKey" in p.stderr
    p = s3_tool(s3peer.endpoint, "get", "plain/one.bin", str(out), check=False)
    assert p.returncode == 3 and b"NoSuchKey" in p.stderr, p.stderr


def test_empty_object(s3peer, tmp_path):
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    s3_tool(s3peer.endpoint, "put", "plain/empty", str(empty))
    assert s3_tool(s3peer.endpoint, "get", "plain/empty", "-").stdout == b""
    assert s3_tool(s3peer.endpoint, "head", "plain/empty").stdout.split()[0] == b"0"


def test_special_keys_round_trip(s3peer, tmp_path):
    for i, key in enumerate(SPECIAL_KEYS):
        s3_tool(s3peer.endpoint, "put-data", key, f"body {i} of {key}")
    for i, key in enumerate(SPECIAL_KEYS):
        got = s3_tool(s3peer.endpoint, "get", key, "-").stdout.decode("utf-8")
        assert got == f"body {i} of {key}"
    keys = [e["key"] for e in listing(s3peer.endpoint, "special/")]
    assert keys == sorted(SPECIAL_KEYS, key=lambda k: k.encode())
    # Virtual-host addressing: BUCKET.s3.localhost (s3rver serves vhost
    # buckets under its --service-endpoint, and *.localhost is loopback).
    vhost = s3peer.endpoint.replace("127.0.0.1", "s3.localhost")
    vkeys = [e["key"] for e in listing(vhost, "special/", path_style=False)]
    assert vkeys == keys
    assert s3_tool(vhost, "get", SPECIAL_KEYS[4], "-", path_style=False).stdout == \
        f"body 4 of {SPECIAL_KEYS[4]}".encode()


def test_pagination(s3peer, tmp_path):
    want = [f"page/k{i:03d}" for i in range(57)]
    files = []
    for k in want:
        f = tmp_path / k.replace("/", "_")
        f.write_bytes(k.encode())
        files += [k, str(f)]
    s3_tool(s3peer.endpoint, "batch-put", *files)  # in parallel
    for page in (1, 7, 10, 1000):
        got = [e["key"] for e in listing(s3peer.endpoint, "page/", page=page)]
        assert got == want, f"page size {page}"
    # start-after skips what sorts before it
    out = s3_tool(s3peer.endpoint, "list", "page/", "--page", "5", "--start-after",
                  "page/k049").stdout.decode()
    assert [json.loads(line)["key"] for line in out.splitlines()] == want[50:]


def test_batch_get(s3peer, tmp_path):
    pairs, want = [], {}
    for i in range(12):
        k = f"batch/{i}"
        want[k] = os.urandom(1000 + i)
        f = tmp_path / f"in{i}"
        f.write_bytes(want[k])
        pairs += [k, str(f)]
    s3_tool(s3peer.endpoint, "batch-put", *pairs)
    gets = []
    for i in range(12):
        gets += [f"batch/{i}", str(tmp_path / f"out{i}")]
    s3_tool(s3peer.endpoint, "batch-get", *gets)
    for i in range(12):
        assert (tmp_path / f"out{i}").read_bytes() == want[f"batch/{i}"]


def test_multipart_20mib(s3peer, tmp_path, proxy):
    """20 MiB over the 8 MiB threshold with 5 MiB parts: four parts in
    parallel, then Complete; the object reads back byte for byte."""
    data = os.urandom(20 * MiB)
    src = tmp_path / "big.bin"
    src.write_bytes(data)
    s3_tool(proxy.endpoint, "put", "big/20mib.bin", str(src), opts=["--part-size", str(5 * MiB)])
    kinds = [(c.method, c.target.split("?")[1] if "?" in c.target else "") for c in proxy.captured]
    assert kinds[0] == ("POST", "uploads=")
    parts = [t for m, t in kinds if m == "PUT"]
    assert sorted(parts) == sorted(f"partNumber={i}&uploadId=" + parts[0].split("uploadId=")[1]
                                   for i in range(1, 5))
    assert kinds[-1][0] == "POST" and kinds[-1][1].startswith("uploadId=")
    out = tmp_path / "big.out"
    s3_tool(s3peer.endpoint, "get", "big/20mib.bin", str(out))
    assert hashlib.sha256(out.read_bytes()).digest() == hashlib.sha256(data).digest()
    assert int(s3_tool(s3peer.endpoint, "head", "big/20mib.bin").stdout.split()[0]) == 20 * MiB


def test_blobstore_put_get_has(s3peer, tmp_path):
    """The blob store's S3 backend: streaming put with digest check, reads
    through the range window, has(), and nothing stored on a mismatch."""
    data = os.urandom(3 * MiB + 12345)  # several windows, odd size
    sha = hashlib.sha256(data).hexdigest()
    src = tmp_path / "blob"
    src.write_bytes(data)
    assert s3_tool(s3peer.endpoint, "blob-has", sha).stdout == b"absent\n"
    s3_tool(s3peer.endpoint, "blob-put", sha, str(src))
    assert s3_tool(s3peer.endpoint, "blob-has", sha).stdout == b"present\n"
    out = tmp_path / "blob.out"
    s3_tool(s3peer.endpoint, "blob-get", sha, str(out))
    assert out.read_bytes() == data
    keys = [e["key"] for e in listing(s3peer.endpoint, "blobs/")]
    assert f"blobs/{sha[:2]}/{sha}" in keys
    # Putting it again is not an error (and uploads nothing).
    s3_tool(s3peer.endpoint, "blob-put", sha, str(src))
    # A digest mismatch stores nothing at the final key.
    wrong = hashlib.sha256(b"something else").hexdigest()
    p = s3_tool(s3peer.endpoint, "blob-put", wrong, str(src), check=False)
    assert p.returncode == 1 and b"hash to" in p.stderr, p.stderr
    assert s3_tool(s3peer.endpoint, "blob-has", wrong).stdout == b"absent\n"
    # The empty blob.
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    esha = hashlib.sha256(b"").hexdigest()
    s3_tool(s3peer.endpoint, "blob-put", esha, str(empty))
    assert s3_tool(s3peer.endpoint, "blob-get", esha, "-").stdout == b""
    p = s3_tool(s3peer.endpoint, "blob-get", "0" * 64, "-", check=False)
    assert p.returncode == 3, p.stderr


def test_blobstore_large_blob_is_multipart(s3peer, tmp_path, proxy):
    data = os.urandom(10 * MiB)
    sha = hashlib.sha256(data).hexdigest()
    src = tmp_path / "blob"
    src.write_bytes(data)
    s3_tool(proxy.endpoint, "blob-put", sha, str(src), opts=["--part-size", str(5 * MiB)])
    key = f"/{BUCKET}/blobs/{sha[:2]}/{sha}"
    assert [c.method for c in proxy.captured if c.target.startswith(key)] == \
        ["HEAD", "POST", "PUT", "PUT", "POST"]
    # every upload request was signed with its payload's real SHA-256
    for c in proxy.captured:
        assert c.header("x-amz-content-sha256") == c.body_sha256
    out = tmp_path / "blob.out"
    s3_tool(s3peer.endpoint, "blob-get", sha, str(out))
    assert out.read_bytes() == data


def test_manifests_walk(s3peer, tmp_path):
    for kind, name, version in [("tutorial", "b", 10), ("tutorial", "b", 9), ("course", "a", 1),
                                ("tutorial", "b", 1)]:
        f = tmp_path / f"{kind}-{name}-{version}.json"
        f.write_text(json.dumps({"kind": kind, "name": name, "version": version}))
        s3_tool(s3peer.endpoint, "object-put", f"manifests/{kind}/{name}/{version}.json", str(f))
    s3_tool(s3peer.endpoint, "put-data", "manifests/not-a-manifest.txt", "x")
    out = s3_tool(s3peer.endpoint, "manifests").stdout.decode().splitlines()
    assert [line.split()[:3] for line in out] == [
        ["course", "a", "1"], ["tutorial", "b", "1"], ["tutorial", "b", "9"],
        ["tutorial", "b", "10"]]
    got = s3_tool(s3peer.endpoint, "object-get", "manifests/tutorial/b/10.json").stdout
    assert json.loads(got)["version"] == 10


def test_errors_name_operation_key_status_code(s3peer, tmp_path):
    other = ["--bucket", "no-such-bucket"]
    p = s3_tool(s3peer.endpoint, "put-data", "some/key", "v", opts=other, check=False)
    assert p.returncode == 4, p.stderr  # no such bucket, not "no such key"
    msg = p.stderr.decode()
    assert 's3 put "some/key": HTTP 404 NoSuchBucket' in msg, msg
    assert "create it, or correct --s3-bucket" in msg, msg
    p = s3_tool(s3peer.endpoint, "ping", opts=other, check=False)
    assert p.returncode == 4 and "head-bucket" in p.stderr.decode(), p.stderr


# What each refusal must name: (the S3 error code, the setting to check).
REFUSALS = {
    "wrong-secret": ({"AWS_SECRET_ACCESS_KEY": "not-the-secret"},
                     "SignatureDoesNotMatch", "check AWS_SECRET_ACCESS_KEY"),
    "wrong-key": ({"AWS_ACCESS_KEY_ID": "NO-SUCH-KEY"}, "InvalidAccessKeyId",
                  "check AWS_ACCESS_KEY_ID"),
    "clock-skew": (None, "RequestTimeTooSkewed", "set the clock right"),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_refusals_name_their_cause(s3peer, case):
    """Wrong credentials and a skewed clock fail every operation at once with
    the server's error code and the setting to check, HEAD included: a HEAD
    answer has no body, so our client asks again with a GET to learn why."""
    env, code, hint = REFUSALS[case]
    if case == "wrong-secret" and s3peer.kind == "s3rver":
        pytest.skip("s3rver checks no signature, so it accepts any secret")
    if case == "clock-skew":
        env = clock_off_by_an_hour()
    s3_tool(s3peer.endpoint, "put-data", "refusals/there", "v")
    for args in (["ping"], ["head", "refusals/there"], ["head", "refusals/absent"],
                 ["put-data", "refusals/new", "v"], ["get", "refusals/there", "-"]):
        p = s3_tool(s3peer.endpoint, *args, env=env, check=False)
        msg = p.stderr.decode()
        assert p.returncode == 1, (args, msg)
        assert f"HTTP 403 {code}" in msg and hint in msg, (args, msg)
        assert "after" not in msg, (args, msg)  # not retried
    assert s3_tool(s3peer.endpoint, "head", "refusals/new", check=False).returncode == 3



def test_aws_cli_reads_what_we_wrote(s3peer, tmp_path):
    """An independent reader: the AWS CLI lists exactly our keys and reads
    exactly our bytes."""
    want = {}
    for i, key in enumerate(["reader/a.md", "reader/dir/b.png"] +
                            [k.replace("special/", "reader/") for k in SPECIAL_KEYS]):
        want[key] = os.urandom(100 + i * 37)
        f = tmp_path / f"r{i}"
        f.write_bytes(want[key])
        s3_tool(s3peer.endpoint, "put", key, str(f))
    big = os.urandom(9 * MiB)  # multipart
    (tmp_path / "big").write_bytes(big)
    s3_tool(s3peer.endpoint, "put", "reader/big.bin", str(tmp_path / "big"))
    want["reader/big.bin"] = big
    # Asked for explicitly, encoding-type=url makes the CLI leave the keys as
    # the server sent them.  A server that encodes them (S3, RGW) says so in
    # <EncodingType>; s3rver ignores the parameter and sends them raw.  Decode
    # as botocore does (unquote_plus) exactly when the answer says it is encoded.
    out = aws(s3peer.endpoint, "s3api", "list-objects-v2", "--bucket", BUCKET, "--prefix",
              "reader/", "--encoding-type", "url", "--no-paginate", "--output", "json",
              tmp=tmp_path).stdout
    doc = json.loads(out)
    encoded = doc.get("EncodingType") == "url"
    assert encoded == (s3peer.kind == "rgw"), doc.get("EncodingType")
    decode = urllib.parse.unquote_plus if encoded else str
    listed = {decode(o["Key"]): o["Size"] for o in doc["Contents"]}
    assert listed == {k: len(v) for k, v in want.items()}
    ls = aws(s3peer.endpoint, "s3", "ls", f"s3://{BUCKET}/reader/dir/", tmp=tmp_path).stdout
    assert ls.decode().split()[-2:] == [str(len(want["reader/dir/b.png"])), "b.png"]
    # Each CLI run costs a couple of seconds: read back one key of each kind.
    for key in ["reader/a.md", "reader/with space.txt", "reader/ünïcödé/日本語.md",
                "reader/mixed +=%~!*'()&$@,;:.txt", "reader/big.bin"]:
        got = aws(s3peer.endpoint, "s3", "cp", f"s3://{BUCKET}/{key}", "-", tmp=tmp_path).stdout
        assert got == want[key], key
