# SPDX-License-Identifier: MIT
"""Range requests on files (GET …/files/PATH): one range answers 206 with
Content-Range, several ranges answer 200 with the whole file, a range with
no byte in the file answers 416 with `Content-Range: bytes */SIZE`, and
If-Range with the file's ETag decides whether the range still applies.
Both blob stores: the data folder and S3 (s3rver and Ceph RGW), which
reads ranges of the object.  Checked with raw requests and with curl."""
import os
import subprocess

import pytest

from helpers import server as srv
from helpers.api import Client, assert_error, quote_path, sha256
from s3support import ACCESS_KEY, BUCKET, SECRET_KEY

DATA = os.urandom(700_000)  # over the S3 reader's first window (256 KiB)
PATH = "media/clip.mp4"


@pytest.fixture(params=["fs", "s3rver", "rgw"])
def store(request, start_server, tmp_path):
    """(server, api, item name) with DATA pushed, on either blob store."""
    if request.param == "fs":
        s = start_server()
    else:
        peer = request.getfixturevalue(f"{request.param}_peer")
        s = start_server(args=["--s3-endpoint", peer.endpoint, "--s3-bucket", BUCKET,
                               "--s3-path-style"],
                         env={"AWS_ACCESS_KEY_ID": ACCESS_KEY,
                              "AWS_SECRET_ACCESS_KEY": SECRET_KEY})
    api = Client(s.port)
    name = f"range-{request.param}-{os.getpid()}-{len(tmp_path.name)}"
    api.create_ok("tutorial", name)
    api.push_ok("tutorial", name, {"index.md": b"# Video\n", PATH: DATA, "empty.bin": b""})
    return s, api, name


def get(api, name, range_=None, path=PATH, **headers):
    if range_ is not None:
        headers["Range"] = range_
    return api.file("tutorial", name, path, headers=headers)


@pytest.mark.parametrize("spec,first,last", [
    ("bytes=0-99", 0, 99),
    ("bytes=100-100", 100, 100),
    ("bytes=600000-", 600000, len(DATA) - 1),
    ("bytes=-1000", len(DATA) - 1000, len(DATA) - 1),
    ("bytes=650000-9999999", 650000, len(DATA) - 1),
    ("bytes=-99999999", 0, len(DATA) - 1),
    ("bytes= 300000-300009 ", 300000, 300009),
])
def test_one_range_is_206(store, spec, first, last):
    _, api, name = store
    r = get(api, name, spec)
    assert r.status == 206, r
    assert r.body == DATA[first:last + 1]
    assert r.header("Content-Range") == f"bytes {first}-{last}/{len(DATA)}"
    assert int(r.header("Content-Length")) == last - first + 1
    assert r.header("ETag") == f'"{sha256(DATA)}"'
    assert r.header("Accept-Ranges") == "bytes"


def test_whole_file_announces_ranges(store):
    _, api, name = store
    r = get(api, name)
    assert r.status == 200 and r.body == DATA
    assert r.header("Accept-Ranges") == "bytes" and r.header("Content-Range") is None


@pytest.mark.parametrize("spec", ["bytes=0-1,5-6", "bytes=0-0,-1"])
def test_several_ranges_answer_the_whole_file(store, spec):
    _, api, name = store
    r = get(api, name, spec)
    assert r.status == 200 and r.body == DATA and r.header("Content-Range") is None


@pytest.mark.parametrize("spec", ["bytes=700000-", "bytes=800000-900000", "bytes=-0",
                                  "bytes=700000-700001,800000-800002"])
def test_unsatisfiable_range_is_416(store, spec):
    _, api, name = store
    r = get(api, name, spec)
    assert_error(r, 416, "range_not_satisfiable")
    assert r.header("Content-Range") == f"bytes */{len(DATA)}"


def test_any_range_of_an_empty_file_is_416(store):
    _, api, name = store
    r = get(api, name, "bytes=0-", path="empty.bin")
    assert_error(r, 416, "range_not_satisfiable")
    assert r.header("Content-Range") == "bytes */0"
    assert get(api, name, path="empty.bin").status == 200


@pytest.mark.parametrize("spec", ["items=0-5", "bytes=5-1", "bytes=abc", "bytes=-", "bytes="])
def test_malformed_range_is_ignored(store, spec):
    _, api, name = store
    r = get(api, name, spec)
    assert r.status == 200 and r.body == DATA


def test_if_range_with_the_etag(store):
    _, api, name = store
    tag = f'"{sha256(DATA)}"'
    r = get(api, name, "bytes=10-19", **{"If-Range": tag})
    assert r.status == 206 and r.body == DATA[10:20]
    for other in ['"' + "0" * 64 + '"', "W/" + tag, "Wed, 21 Oct 2015 07:28:00 GMT"]:
        r = get(api, name, "bytes=10-19", **{"If-Range": other})
        assert r.status == 200 and r.body == DATA, other


def test_if_none_match_wins_over_range(store):
    _, api, name = store
    r = get(api, name, "bytes=0-9", **{"If-None-Match": f'"{sha256(DATA)}"'})
    assert r.status == 304 and r.body == b""


def test_range_of_an_older_version(store):
    _, api, name = store
    api.push_ok("tutorial", name, {"index.md": b"# Video\n", PATH: b"new", "empty.bin": b""})
    r = api.get(f"/api/v1/content/tutorial/{name}/files/{quote_path(PATH)}?version=1",
                headers={"Range": "bytes=5-9"})
    assert r.status == 206 and r.body == DATA[5:10]


def test_curl_resumes_a_download(store, tmp_path):
    """curl -C - continues a partial file with a range request."""
    server, api, name = store
    out = tmp_path / "clip.mp4"
    out.write_bytes(DATA[:123_456])
    url = f"{server.base_url}/api/v1/content/tutorial/{name}/files/{quote_path(PATH)}"
    p = subprocess.run(["curl", "-sS", "-f", "-C", "-", "-o", str(out), "-w", "%{http_code}",
                        url], capture_output=True, timeout=60, env=srv.clean_env())
    assert p.returncode == 0, p.stderr
    assert p.stdout == b"206" and out.read_bytes() == DATA
    p = subprocess.run(["curl", "-sS", "-f", "-r", "1000-1999", url], capture_output=True,
                       timeout=60, env=srv.clean_env())
    assert p.returncode == 0 and p.stdout == DATA[1000:2000]
