# SPDX-License-Identifier: MIT
"""AWS Signature Version 4, checked independently of libcurl.

s3rver accepts any well-formed V4 signature, so these tests put a recording
proxy between our client and s3rver, capture every request exactly as it
arrives (method, raw target, headers, body hash), and recompute each
signature with botocore's S3 SigV4 signer (Debian python3-botocore) from the
same method, path, query, signed headers and payload hash.  They also check
what S3 itself would: that x-amz-content-sha256 is the body's real SHA-256,
that every x-amz-* header is signed, and that the path and query are in the
canonical SigV4 encoding (S3 re-encodes what it decodes, so a key encoded any
other way would fail there even if the signature matched here).
"""
from __future__ import annotations

import hashlib
import os
import re
import urllib.parse

import pytest

from s3support import BUCKET, SECRET_KEY, Captured, Rule, proxy, s3_tool, s3peer  # noqa: F401

botocore = pytest.importorskip("botocore", reason="botocore (Debian python3-botocore) is "
                               "not installed; scripts/test installs it")
from botocore.auth import S3SigV4Auth  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402

AUTH = re.compile(r"AWS4-HMAC-SHA256 Credential=(?P<akid>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)"
                  r"/s3/aws4_request, ?SignedHeaders=(?P<signed>[^,]+), ?Signature=(?P<sig>[0-9a-f]{64})$")
MiB = 1024 * 1024
KEYS = ["sig/plain.md", "sig/with space.txt", "sig/plus+sign", "sig/equals=sign",
        "sig/percent%41", "sig/ünïcödé/日本語.md", "sig/mixed +=%~!*'()&$@,;:.txt"]


def canonical(s: str) -> bool:
    """True when s (one path segment or query name/value) is in SigV4's URI
    encoding: every byte but A-Z a-z 0-9 - _ . ~ as upper-case %XX."""
    return urllib.parse.quote(urllib.parse.unquote(s), safe="-_.~") == s


def recompute(c: Captured, secret: str = SECRET_KEY) -> tuple[str, str]:
    """(signature botocore computes, signature the request carries)."""
    m = AUTH.match(c.header("Authorization") or "")
    assert m, f"{c.method} {c.target}: no SigV4 Authorization header: {c.header('Authorization')}"
    signed = m["signed"].split(";")
    headers = {k: v for k, v in c.headers if k.lower() in signed}
    req = AWSRequest(method=c.method, url="http://" + c.header("Host") + c.target, headers=headers)
    req.context["timestamp"] = c.header("X-Amz-Date")
    auth = S3SigV4Auth(Credentials(m["akid"], secret, c.header("x-amz-security-token")), "s3",
                       m["region"])
    cr = auth.canonical_request(req)
    return auth.signature(auth.string_to_sign(req, cr), req), m["sig"]


def verify(c: Captured, region: str, token: str | None = None) -> None:
    what = f"{c.method} {c.target}"
    m = AUTH.match(c.header("Authorization") or "")
    assert m, f"{what}: Authorization is not SigV4: {c.header('Authorization')}"
    assert m["region"] == region, what
    amz_date = c.header("X-Amz-Date")
    assert amz_date and amz_date[:8] == m["date"], what
    signed = m["signed"].split(";")
    assert signed == sorted(signed), f"{what}: SignedHeaders not sorted: {signed}"
    for must in ("host", "x-amz-content-sha256", "x-amz-date"):
        assert must in signed, f"{what}: {must} is not signed"
    for k, _ in c.headers:
        if k.lower().startswith("x-amz-"):
            assert k.lower() in signed, f"{what}: {k} is sent but not signed"
    assert c.header("x-amz-content-sha256") == c.body_sha256, \
        f"{what}: x-amz-content-sha256 is not the SHA-256 of the {c.body_len}-byte body"
    assert c.header("x-amz-security-token") == token, what
    if token:
        assert "x-amz-security-token" in signed, what
    path, _, query = c.target.partition("?")
    for seg in path.split("/"):
        assert canonical(seg), f"{what}: path segment {seg!r} is not SigV4-encoded"
    names = []
    for pair in query.split("&") if query else []:
        name, eq, value = pair.partition("=")
        assert eq and canonical(name) and canonical(value), f"{what}: query {pair!r}"
        names.append(name)
    assert names == sorted(names), f"{what}: query names not in byte order"
    ours, theirs = recompute(c)
    assert ours == theirs, f"{what}: botocore computes {ours}, the request carries {theirs}"


def kind(c: Captured) -> str:
    """A name for the request type."""
    path, _, query = c.target.partition("?")
    bucket_level = path.rstrip("/") in ("", f"/{BUCKET}")
    if "uploads=" in query:
        return "create-multipart"
    if "partNumber=" in query:
        return "upload-part"
    if "uploadId=" in query:
        return {"POST": "complete-multipart", "DELETE": "abort-multipart"}[c.method]
    if "continuation-token=" in query:
        return "list-next-page"
    if "list-type=2" in query:
        return "list"
    if bucket_level:
        return "head-bucket"
    if c.method == "GET" and c.header("Range"):
        return "get-range"
    return c.method.lower()


def run_everything(endpoint: str, tmp_path, proxy, **kw) -> None:  # noqa: F811
    """One of every request type, through the proxy."""
    s3_tool(endpoint, "ping", **kw)
    for i, key in enumerate(KEYS):
        s3_tool(endpoint, "put-data", key, f"data {i}", **kw)
    big = tmp_path / "big"
    big.write_bytes(os.urandom(11 * MiB))
    s3_tool(endpoint, "put", "sig/big file+.bin", str(big), opts=["--part-size", str(5 * MiB)],
            **kw)
    for key in KEYS:
        s3_tool(endpoint, "get", key, "-", **kw)
        s3_tool(endpoint, "head", key, **kw)
    s3_tool(endpoint, "get-range", KEYS[-1], "1", "3", **kw)
    s3_tool(endpoint, "list", "sig/", "--page", "2", **kw)  # continuation tokens
    s3_tool(endpoint, "list", "sig/", "--start-after", KEYS[1], **kw)
    s3_tool(endpoint, "delete", KEYS[0], **kw)
    # A multipart upload whose second part is refused: it is aborted.
    proxy.add(Rule("403", method="PUT", contains="partNumber=2"))
    p = s3_tool(endpoint, "put", "sig/aborted upload", str(big),
                opts=["--part-size", str(5 * MiB), "--parallel", "1"], check=False, **kw)
    assert p.returncode == 1 and b"AccessDenied" in p.stderr, p.stderr


ALL_KINDS = {"head-bucket", "put", "get", "get-range", "head", "delete", "list", "list-next-page",
             "create-multipart", "upload-part", "complete-multipart", "abort-multipart"}


def test_every_request_type_matches_botocore(s3peer, proxy, tmp_path):
    run_everything(proxy.endpoint, tmp_path, proxy)
    seen = set()
    for c in proxy.captured:
        verify(c, "us-east-1")
        seen.add(kind(c))
    assert seen == ALL_KINDS
    # The special keys went over the wire in their canonical encoding.
    targets = {c.target.partition("?")[0] for c in proxy.captured}
    for key in KEYS:
        assert f"/{BUCKET}/" + urllib.parse.quote(key, safe="/-_.~") in targets, key
    assert any("continuation-token=" in c.target and "%" in c.target.split("continuation-token=")[1]
               .split("&")[0] for c in proxy.captured), "no continuation token needed encoding"


def test_session_token_region_auto_virtual_host(s3peer, proxy, tmp_path):
    """Temporary credentials (x-amz-security-token, signed), region `auto`
    (R2, Tigris) and virtual-host addressing (BUCKET.s3.localhost)."""
    endpoint = proxy.endpoint.replace("127.0.0.1", "s3.localhost")
    kw = dict(path_style=False, region="auto", env={"AWS_SESSION_TOKEN": "FQoGZXIvYXdzE+/=token"})
    run_everything(endpoint, tmp_path, proxy, **kw)
    seen = set()
    for c in proxy.captured:
        assert c.header("Host").startswith(f"{BUCKET}.s3.localhost:"), c.header("Host")
        verify(c, "auto", token="FQoGZXIvYXdzE+/=token")
        seen.add(kind(c))
    assert seen == ALL_KINDS


def test_checker_is_not_vacuous(s3peer, proxy, tmp_path):
    """The recomputation notices a changed key, query, header or secret."""
    s3_tool(proxy.endpoint, "put-data", "sig/x y", "v")
    s3_tool(proxy.endpoint, "list", "sig/", "--page", "1")
    put = proxy.captured[0]
    lst = proxy.captured[1]
    verify(put, "us-east-1")
    verify(lst, "us-east-1")
    tampered = [
        Captured(put.method, put.target.replace("x%20y", "x+y"), put.headers, put.body_sha256, 0),
        Captured(lst.method, lst.target.replace("max-keys=1", "max-keys=2"), lst.headers,
                 lst.body_sha256, 0),
        Captured(put.method, put.target,
                 [(k, v[:-1] + ("0" if v[-1] != "0" else "1"))
                  if k.lower() == "x-amz-content-sha256" else (k, v) for k, v in put.headers],
                 put.body_sha256, 0),
    ]
    for t in tampered:
        ours, theirs = recompute(t)
        assert ours != theirs, t.target
    ours, theirs = recompute(put, secret="not-the-secret")
    assert ours != theirs
    assert hashlib.sha256(b"v").hexdigest() == put.body_sha256
