# SPDX-License-Identifier: MIT
"""The peers of the S3 tests, started and stopped by the tests themselves.

- S3rver: the `s3rver` npm package (pinned in tests/package-lock.json) on a
  free loopback port with a temporary directory and the test bucket created
  at start-up; ready once it answers HTTP, polled with a deadline.
- Proxy: an HTTP proxy between our client and s3rver that records every
  request exactly as received (method, raw target, headers, body hash) for
  the SigV4 checks, and injects faults on chosen requests: 500/503/SlowDown/
  429 answers, connection resets, stalls in the middle of a body, and a
  request body changed on the way.
- s3_tool(): runs tests/s3/s3_tool (the driver of our client) with the
  credentials s3rver accepts.
- aws(): the AWS CLI (Debian's awscli) as an independent reader.

s3rver accepts any well-formed V4 signature without checking it, which is
why the signatures are recomputed with botocore in test_s3_sigv4.py.
"""
from __future__ import annotations

import hashlib
import http.client
import http.server
import shutil
import socket
import struct
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from helpers import rgw
from helpers.server import REPO_ROOT, build_dir, clean_env, free_port, http_answers, not_built

BUCKET = "contentd-test"
ACCESS_KEY = "S3RVER"  # the account s3rver knows
SECRET_KEY = "S3RVER"
NODE_MODULES = REPO_ROOT / "tests" / "node_modules"
S3RVER_BIN = NODE_MODULES / "s3rver" / "bin" / "s3rver.js"
AWS_CLI = Path("/usr/bin/aws")
START_DEADLINE = 20.0


def s3rver_missing() -> str | None:
    """Why s3rver cannot be started, or None."""
    if not shutil.which("node"):
        return "node is not installed (scripts/test installs nodejs); the S3 tests need s3rver"
    if not S3RVER_BIN.is_file():
        return (f"{S3RVER_BIN} is missing: run `npm ci --prefix tests` "
                "(s3rver is pinned in tests/package-lock.json)")
    return None


def s3_tool_path() -> Path:
    return build_dir() / "tests" / "s3" / "s3_tool"


def s3_tool_missing() -> str | None:
    return not_built(s3_tool_path())


class S3rver:
    """One s3rver child on a free port, serving BUCKET from a temp folder."""

    kind = "s3rver"

    def __init__(self, tmp: Path):
        self.dir = tmp / "s3rver-data"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.log_path = tmp / "s3rver.log"
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "S3rver":
        # s3rver encrypts its continuation tokens with DES, which OpenSSL 3
        # keeps in its legacy provider: without it, every truncated listing
        # fails with 500.
        log = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen(
                ["node", "--openssl-legacy-provider", str(S3RVER_BIN), "-d", str(self.dir), "-a", "127.0.0.1",
                 "-p", str(self.port), "--service-endpoint", "localhost",
                 "--configure-bucket", BUCKET],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                env=clean_env())
        finally:
            log.close()
        end = time.monotonic() + START_DEADLINE
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise AssertionError(f"s3rver exited ({self.proc.returncode}): {self.log_tail()}")
            if http_answers(self.port):
                return self
            time.sleep(0.05)  # poll interval while waiting for the port
        raise AssertionError(f"s3rver did not answer within {START_DEADLINE} s: {self.log_tail()}")

    def log_tail(self, n: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


# --------------------------------------------------------------------------
# The recording, fault-injecting proxy


@dataclass
class Captured:
    method: str
    target: str            # the request target exactly as received
    headers: list          # [(name, value)] in order
    body_sha256: str
    body_len: int
    fault: str | None = None

    def header(self, name: str) -> str | None:
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None


@dataclass
class Rule:
    """Fault `action` on the requests that match (method, target substring),
    `times` of them (-1: all), skipping the first `skip` matches."""
    action: str            # "500", "503", "slowdown", "429", "403", "reset", "stall", "reset-mid",
                           # "corrupt" (one byte of the body changed on the way)
    method: str | None = None
    contains: str | None = None
    times: int = 1
    skip: int = 0
    seen: int = field(default=0)

    def take(self, method: str, target: str) -> bool:
        if self.method and self.method != method:
            return False
        if self.contains and self.contains not in target:
            return False
        self.seen += 1
        if self.seen <= self.skip:
            return False
        if self.times == 0:
            return False
        if self.times > 0:
            self.times -= 1
        return True


SLOWDOWN = (b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code>'
            b'<Message>Please reduce your request rate.</Message></Error>')
DENIED = (b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code>'
          b'<Message>Access Denied</Message></Error>')
INTERNAL = (b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code>'
            b'<Message>We encountered an internal error. Please try again.</Message></Error>')
HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "te", "upgrade"}


class Proxy:
    """A threaded HTTP/1.1 proxy on a free loopback port in front of an
    upstream (s3rver).  Thread-safe records in .captured."""

    def __init__(self, upstream_port: int, stall_s: float = 3.0):
        self.upstream_port = upstream_port
        self.stall_s = stall_s
        self.rules: list[Rule] = []
        self.captured: list[Captured] = []
        self.lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def handle_one(self):
                proxy._handle(self)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_one

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "Proxy":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def add(self, *rules: Rule) -> None:
        with self.lock:
            self.rules.extend(rules)

    def clear(self) -> None:
        with self.lock:
            self.rules.clear()
            self.captured.clear()

    def faults(self) -> list[Captured]:
        with self.lock:
            return [c for c in self.captured if c.fault]

    def _pick(self, method: str, target: str) -> str | None:
        with self.lock:
            for r in self.rules:
                if r.take(method, target):
                    return r.action
        return None

    def _handle(self, h: http.server.BaseHTTPRequestHandler) -> None:
        n = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(n) if n else b""
        action = self._pick(h.command, h.path)
        cap = Captured(h.command, h.path, list(h.headers.items()),
                       hashlib.sha256(body).hexdigest(), len(body), action)
        with self.lock:
            self.captured.append(cap)
        if action in ("500", "503", "slowdown", "429", "403"):
            status = {"500": 500, "503": 503, "slowdown": 503, "429": 429, "403": 403}[action]
            payload = {"500": INTERNAL, "403": DENIED}.get(action, SLOWDOWN)
            if h.command == "HEAD":
                payload = b""
            h.send_response(status)
            h.send_header("Content-Type", "application/xml")
            h.send_header("Content-Length", str(len(payload)))
            h.end_headers()
            h.wfile.write(payload)
            return
        if action == "reset" or (action in ("stall", "reset-mid") and h.command != "GET"):
            # Without a body to cut, a stall or reset happens before any answer
            # (and the request never reaches s3rver).
            if action == "stall":
                time.sleep(self.stall_s)  # the client must give up on its own before this
            _reset(h)
            return
        if action == "corrupt" and body:
            body = bytes([body[0] ^ 0x01]) + body[1:]
        status, headers, rbody = self._forward(h, body)
        if action in ("stall", "reset-mid") and len(rbody) > 1:
            h.send_response(status)
            for k, v in headers:
                h.send_header(k, v)
            h.end_headers()
            h.wfile.write(rbody[: len(rbody) // 2])
            h.wfile.flush()
            if action == "stall":
                time.sleep(self.stall_s)  # the client must give up on its own before this
            _reset(h)
            return
        h.send_response(status)
        for k, v in headers:
            h.send_header(k, v)
        h.end_headers()
        if h.command != "HEAD":
            h.wfile.write(rbody)

    def _forward(self, h, body: bytes):
        c = http.client.HTTPConnection("127.0.0.1", self.upstream_port, timeout=60)
        hdrs = {k: v for k, v in h.headers.items() if k.lower() not in HOP and k.lower() != "expect"}
        c.request(h.command, h.path, body=body if (body or h.command in ("PUT", "POST")) else None,
                  headers=hdrs)
        r = c.getresponse()
        try:
            rbody = r.read()
        except http.client.IncompleteRead as e:
            # s3rver announces a byte it never sends on a range GET of an
            # empty object: relay exactly that (and close), as s3rver would.
            rbody = e.partial
            h.close_connection = True
        headers = [(k, v) for k, v in r.getheaders() if k.lower() not in HOP]
        if not any(k.lower() == "content-length" for k, _ in headers):
            headers.append(("Content-Length", str(len(rbody))))
        c.close()
        return r.status, headers, rbody


def _reset(h) -> None:
    """Closes the client's connection with a TCP reset."""
    h.close_connection = True
    try:
        h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        h.connection.close()
    except OSError:
        pass


# --------------------------------------------------------------------------
# Running our client and the AWS CLI


def s3_env(extra: dict | None = None) -> dict:
    env = clean_env({"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY})
    env.update(extra or {})
    return env


def s3_tool(endpoint: str, *args, opts=(), env=None, timeout=120, check=True,
            path_style=True, region=None) -> subprocess.CompletedProcess:
    argv = [str(s3_tool_path()), "--endpoint", endpoint, "--bucket", BUCKET,
            "--backoff-ms", "20", "--backoff-max-ms", "200"]
    if path_style:
        argv.append("--path-style")
    if region:
        argv += ["--region", region]
    argv += list(opts) + list(args)
    p = subprocess.run(argv, capture_output=True, env=s3_env(env), timeout=timeout)
    if check:
        assert p.returncode == 0, (f"s3_tool {' '.join(map(str, args))} exited {p.returncode}: "
                                   f"{p.stderr.decode('utf-8', 'replace').strip()}")
    return p


def clock_off_by_an_hour() -> dict:
    """The environment that runs a program (s3_tool, contentd) an hour behind
    the S3 server, through Debian's libfaketime: only the wall clock, which
    SigV4 signs, is moved; deadlines and backoff use the monotonic clock."""
    lib = Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1")
    if not lib.is_file():
        pytest.skip(f"{lib} is missing (Debian libfaketime; scripts/test installs it)")
    return {"LD_PRELOAD": str(lib), "FAKETIME": "-1h", "FAKETIME_DONT_FAKE_MONOTONIC": "1"}


def aws(endpoint: str, *args, tmp: Path, timeout=120) -> subprocess.CompletedProcess:
    """The AWS CLI against endpoint, with the dummy credentials and no user
    configuration."""
    env = s3_env({"AWS_DEFAULT_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true",
                  "AWS_CONFIG_FILE": str(tmp / "aws-config"),
                  "AWS_SHARED_CREDENTIALS_FILE": str(tmp / "aws-credentials"),
                  "HOME": str(tmp), "AWS_PAGER": ""})
    p = subprocess.run([str(AWS_CLI), "--endpoint-url", endpoint, *args], capture_output=True,
                       env=env, timeout=timeout)
    assert p.returncode == 0, (f"aws {' '.join(args)} exited {p.returncode}: "
                               f"{p.stderr.decode('utf-8', 'replace').strip()}")
    return p


# --------------------------------------------------------------------------
# Ceph RADOS Gateway, the real server beside s3rver


class RgwPeer:
    """BUCKET on the session's Ceph gateway, emptied for each module: the
    same face as S3rver (endpoint, port) to the tests."""

    kind = "rgw"

    def __init__(self, cluster: rgw.Rgw):
        self.cluster = cluster
        self.port = cluster.port

    @property
    def endpoint(self) -> str:
        return self.cluster.endpoint

    def fresh_bucket(self, name: str = BUCKET) -> "RgwPeer":
        """Creates bucket `name`, or empties it when it exists (in us-east-1,
        creating a bucket one already owns succeeds, as on AWS: no error
        tells that it was there)."""
        c = admin_client(self.endpoint)
        try:
            c.create_bucket(Bucket=name)
        except c.exceptions.BucketAlreadyOwnedByYou:
            pass
        empty_bucket(c, name)
        return self


def admin_client(endpoint: str):
    """A botocore S3 client with the test account, path-style: creates and
    empties buckets (our client has no bucket-level writes)."""
    import botocore.session
    from botocore.config import Config
    return botocore.session.get_session().create_client(
        "s3", endpoint_url=endpoint, aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY, region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))


def empty_bucket(c, name: str) -> None:
    for page in c.get_paginator("list_objects_v2").paginate(Bucket=name):
        keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
        if keys:
            c.delete_objects(Bucket=name, Delete={"Objects": keys, "Quiet": True})
    for u in c.list_multipart_uploads(Bucket=name).get("Uploads", []):
        c.abort_multipart_upload(Bucket=name, Key=u["Key"], UploadId=u["UploadId"])


# --------------------------------------------------------------------------
# Fixtures (imported by the test_s3*.py modules)

import pytest  # noqa: E402

SERVERS = ["s3rver", "rgw"]


@pytest.fixture(scope="session")
def rgw_cluster(tmp_path_factory):
    """One Ceph cluster with a gateway and the test account for the whole
    session; skips, saying why, when the packages are missing."""
    why = rgw.missing() or s3_tool_missing()
    if why:
        pytest.skip(why)
    try:
        cluster = rgw.Rgw(tmp_path_factory.mktemp("rgw")).start()
    except rgw.RgwError:
        # A free port taken by someone else between free_port() and the
        # daemon's bind: once more, on new ports (a real failure repeats).
        cluster = rgw.Rgw(tmp_path_factory.mktemp("rgw")).start()
    try:
        cluster.create_user("contentd-test", ACCESS_KEY, SECRET_KEY)
        yield cluster
    finally:
        cluster.stop()


def start_s3rver(tmp_path_factory):
    why = s3rver_missing() or s3_tool_missing()
    if why:
        pytest.skip(why)
    return S3rver(tmp_path_factory.mktemp("s3rver")).start()


@pytest.fixture(scope="module", params=SERVERS)
def s3peer(request):
    """BUCKET, empty, on each server in turn: s3rver (a fake that checks no
    signature) and Ceph RGW (a real one).  Skips, saying why, when the
    server cannot run here.  A fixture that picks the server itself asks
    for s3rver_peer or rgw_peer by name (a parametrized fixture cannot be
    requested with getfixturevalue)."""
    return request.getfixturevalue(f"{request.param}_peer")


@pytest.fixture(scope="module")
def s3rver_peer(tmp_path_factory):
    """s3rver with BUCKET; alone, for suites whose subject is not S3 (the
    replica tests)."""
    s = start_s3rver(tmp_path_factory)
    yield s
    s.stop()


@pytest.fixture(scope="module")
def rgw_peer(rgw_cluster):
    """BUCKET, emptied for this module, on the session's Ceph gateway."""
    return RgwPeer(rgw_cluster).fresh_bucket()


@pytest.fixture
def proxy(s3peer):
    """A recording, fault-injecting proxy in front of s3peer."""
    p = Proxy(s3peer.port).start()
    yield p
    p.stop()
