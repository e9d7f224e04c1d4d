# SPDX-License-Identifier: MIT
"""Real `contentd` processes for the tests.

A Server is one `contentd serve --listen 127.0.0.1:PORT --data DIR` child on
a free port, started with a clean environment (no CONTENTD_*, S3 or MongoDB
variables leak in from the caller: every test runs on the embedded default)
and ready once GET /healthz answers 200, polled with a deadline.  Its
standard output and error go to a log file whose tail is shown when a start
or a check fails.
"""
from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
BUILD_HINT = "build it with: meson setup build && ninja -C build"
START_DEADLINE = 15.0  # seconds for a fresh server to answer /healthz
STOP_DEADLINE = 10.0

# Variables that would point a child at another configuration than the one
# a test gives it on the command line.
_SCRUB_PREFIXES = ("CONTENTD_", "CONTENT_", "AWS_", "MONGODB_")


def build_dir() -> Path:
    """The meson build directory: $CONTENTD_BUILD, else <repo>/build."""
    env = os.environ.get("CONTENTD_BUILD")
    return Path(env).resolve() if env else REPO_ROOT / "build"


def contentd_binary() -> Path:
    return build_dir() / "server" / "contentd"


def content_binary() -> Path:
    return build_dir() / "cli" / "content"


def recv_until(sock: socket.socket, marker: bytes) -> bytes:
    """Everything read from sock until marker has arrived (the socket's own
    timeout bounds each read); AssertionError when it closes before."""
    data = b""
    while marker not in data:
        chunk = sock.recv(65536)
        assert chunk, f"closed before {marker!r} arrived: {data[:200]!r}"
        data += chunk
    return data


def not_built(program: Path) -> str | None:
    """Why a test program of the build cannot run (it is not built), or None."""
    if not (program.is_file() and os.access(program, os.X_OK)):
        return f"{program} is not built (meson setup build && ninja -C build)"
    return None


def missing_contentd() -> str | None:
    """Why the service cannot be started, or None when it can."""
    b = contentd_binary()
    if not (b.is_file() and os.access(b, os.X_OK)):
        return f"{b} is not built, so there is no service to test ({BUILD_HINT}; or set CONTENTD_BUILD)"
    return None


def clean_env(extra: dict | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_SCRUB_PREFIXES)}
    env.update(extra or {})
    return env


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_answers(port: int, host: str = "127.0.0.1", timeout: float = 1.0) -> bool:
    """True when a GET / on host:port gets any HTTP answer (a peer is up)."""
    try:
        c = http.client.HTTPConnection(host, port, timeout=timeout)
        c.request("GET", "/")
        c.getresponse().read()
        c.close()
        return True
    except OSError:
        return False


def healthz_ok(port: int, timeout: float = 2.0) -> bool:
    """True when GET /healthz on 127.0.0.1:port answers 200."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.settimeout(timeout)
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            head = b""
            while b"\r\n" not in head:
                chunk = s.recv(4096)
                if not chunk:
                    break
                head += chunk
            return head.startswith((b"HTTP/1.1 200", b"HTTP/1.0 200"))
    except OSError:
        return False


def run_contentd(args: list[str], env: dict | None = None, timeout: float = 30,
                 input: bytes | None = None) -> subprocess.CompletedProcess:
    """Runs a short-lived contentd subcommand (token create, --help, ...)."""
    return subprocess.run([str(contentd_binary()), *args], capture_output=True,
                          env=clean_env(env), timeout=timeout, input=input)


def create_token(data_dir: Path, user: str) -> str:
    """`contentd token create USER --data DIR`; returns the printed token
    (the last word it prints on standard output)."""
    p = run_contentd(["token", "create", user, "--data", str(data_dir)])
    out = p.stdout.decode("utf-8", "replace").strip()
    assert p.returncode == 0, (
        f"contentd token create {user} exited {p.returncode}: "
        f"{p.stderr.decode('utf-8', 'replace').strip()}")
    assert out, "contentd token create printed nothing on standard output"
    return out.split()[-1]


class Server:
    """One contentd serve child process."""

    def __init__(self, data_dir: Path, log_path: Path, extra_args=(), env=None,
                 port: int | None = None, flags: bool = True):
        """flags=False leaves --listen and --data out of the command line
        (a test that configures them through the environment)."""
        self.flags = flags
        self.data_dir = Path(data_dir)
        self.log_path = Path(log_path)
        self.extra_args = list(extra_args)
        self.env = dict(env or {})
        self.auto_port = port is None
        self.port = port or free_port()
        self.proc: subprocess.Popen | None = None
        self.expected_down = False  # a test stopped or killed it on purpose

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def argv(self) -> list[str]:
        flags = ["--listen", f"127.0.0.1:{self.port}", "--data", str(self.data_dir)]
        return [str(contentd_binary()), "serve", *(flags if self.flags else []), *self.extra_args]

    def start(self) -> "Server":
        """Starts the process and waits for /healthz.  A free port taken by
        another process between free_port() and the bind is retried on a
        new port (twice at most)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        for attempt in range(3):
            log = open(self.log_path, "ab")
            try:
                self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL, stdout=log,
                                             stderr=subprocess.STDOUT, env=clean_env(self.env))
            finally:
                log.close()
            try:
                self.wait_healthy()
                return self
            except AssertionError:
                lost_port = self.proc.poll() is not None and "in use" in self.log_tail(3)
                if not (self.auto_port and lost_port and attempt < 2):
                    raise
                self.port = free_port()
        return self

    def wait_healthy(self, deadline: float = START_DEADLINE) -> None:
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"contentd exited with status {self.proc.returncode} before answering "
                    f"/healthz on port {self.port}; its log:\n{self.log_tail()}")
            if healthz_ok(self.port, timeout=1.0) and self.proc.poll() is None:
                return  # (and not some other process that holds the port)
            time.sleep(0.02)  # poll interval while waiting for the condition
        raise AssertionError(f"contentd did not answer /healthz within {deadline} s; "
                             f"its log:\n{self.log_tail()}")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def assert_alive(self) -> None:
        """The process runs and answers /healthz (checked after bad input)."""
        assert self.proc.poll() is None, (
            f"contentd died (status {self.proc.returncode}); its log:\n{self.log_tail()}")
        assert healthz_ok(self.port, timeout=5.0), (
            f"contentd runs but no longer answers /healthz; its log:\n{self.log_tail()}")

    def log_tail(self, n: int = 40) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return "(no log)"
        return "\n".join(lines[-n:]) or "(empty log)"

    def signal(self, sig: int) -> None:
        self.expected_down = True
        if self.alive():
            self.proc.send_signal(sig)

    def kill9(self) -> None:
        """SIGKILL, then reap: the process is gone when this returns."""
        self.expected_down = True
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=STOP_DEADLINE)

    def wait_exit(self, deadline: float = STOP_DEADLINE) -> int:
        return self.proc.wait(timeout=deadline)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it does not exit in time (teardown)."""
        self.expected_down = True
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=STOP_DEADLINE)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=STOP_DEADLINE)
