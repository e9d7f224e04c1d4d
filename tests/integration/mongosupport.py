# SPDX-License-Identifier: MIT
"""The MongoDB side of the tests: the wire-protocol test server
(tests/mongo/server.py) as a child process with its fault-injection
control port, and tests/mongo/catalog_tool (the driver of the MongoDB
catalog) as a one-shot command or a long-running shell.

The same tests run against a real replica set when CONTENTD_TEST_MONGODB_URI
is set (faults cannot be injected there).
"""
from __future__ import annotations

import json
import os
import queue
import subprocess
import threading
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from helpers.server import REPO_ROOT, build_dir, clean_env, free_port, not_built

SERVER_PY = REPO_ROOT / "tests" / "mongo" / "server.py"
PYTHON = "/usr/bin/python3"
REAL_URI_ENV = "CONTENTD_TEST_MONGODB_URI"
START_DEADLINE = 15.0


def catalog_tool_path() -> Path:
    return build_dir() / "tests" / "mongo" / "catalog_tool"


def catalog_tool_missing() -> str | None:
    return not_built(catalog_tool_path())


def bson_missing() -> str | None:
    try:
        r = subprocess.run([PYTHON, "-c", "import bson"], capture_output=True, timeout=20)
    except OSError as e:
        return f"{PYTHON} cannot run: {e}"
    if r.returncode != 0:
        return "python3-bson is not installed (scripts/test installs it); the test server needs it"
    return None


def fresh_db_name() -> str:
    return "contentd_test_" + uuid.uuid4().hex[:12]


class MongoPeer:
    """tests/mongo/server.py on free loopback ports: `uri` for libmongoc,
    and methods for the control port."""

    def __init__(self, log_dir: Path, extra_args=()):
        self.port = free_port()
        self.control_port = free_port()
        self.log_path = log_dir / f"mongo-{self.port}.log"
        self.extra_args = list(extra_args)
        self.proc = None

    @property
    def uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/?replicaSet=rs0"

    def start(self) -> "MongoPeer":
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [PYTHON, str(SERVER_PY), "--port", str(self.port), "--control-port",
             str(self.control_port), *self.extra_args],
            stdout=subprocess.PIPE, stderr=self._log, env=clean_env())
        line = self._first_line()
        if line != b"ready\n":
            self.stop()
            raise RuntimeError(f"the MongoDB test server did not start: {line!r}; "
                               f"see {self.log_path}")
        return self

    def _first_line(self) -> bytes:
        box: list[bytes] = []
        t = threading.Thread(target=lambda: box.append(self.proc.stdout.readline()), daemon=True)
        t.start()
        t.join(START_DEADLINE)
        return box[0] if box else b"(nothing within %gs)" % START_DEADLINE

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if getattr(self, "_log", None):
            self._log.close()

    def _call(self, method: str, path: str, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"http://127.0.0.1:{self.control_port}{path}", data=data,
                                     method=method, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())

    def fault(self, **rule) -> int:
        """Adds one fault rule (see tests/mongo/mongo_faults.py)."""
        return self._call("POST", "/fault", rule)["ids"][0]

    def faults(self) -> list:
        return self._call("GET", "/faults")["faults"]

    def clear(self):
        self._call("POST", "/clear", {})

    def down(self):
        self._call("POST", "/down", {})

    def up(self):
        self._call("POST", "/up", {})

    def history_lost(self, force=False):
        self._call("POST", "/history-lost", {"force": force})

    def command(self, db: str, command: dict) -> dict:
        return self._call("POST", "/command", {"db": db, "command": command})

    def stats(self) -> dict:
        return self._call("GET", "/stats")

    def wait_fired(self, timeout: float = 20.0):
        """Waits until every fault rule has fired as often as it was told."""
        deadline = time.monotonic() + timeout
        while any(r["times"] > 0 for r in self.faults()):
            if time.monotonic() > deadline:
                raise AssertionError(f"faults not fired within {timeout}s: {self.faults()}")
            time.sleep(0.05)


@pytest.fixture(scope="module")
def wire_peer(tmp_path_factory):
    """The wire-protocol test server, one per test module that asks for it
    (conftest.py makes it every module's); skipped when bson is missing."""
    why = bson_missing()
    if why:
        pytest.skip(why)
    peer = MongoPeer(tmp_path_factory.mktemp("mongo")).start()
    yield peer
    peer.stop()


def real_replica_uri() -> str:
    """$CONTENTD_TEST_MONGODB_URI; the test is skipped when it is not set."""
    uri = os.environ.get(REAL_URI_ENV)
    if not uri:
        pytest.skip(f"{REAL_URI_ENV} is not set: set it to a replica set's URI (e.g. "
                    "mongodb://127.0.0.1:27017/?replicaSet=rs0) to run this test against a "
                    "real MongoDB too; the wire-protocol server variant always runs")
    return uri


@pytest.fixture
def faulty(mongo):
    """The module's `mongo` fixture, on the wire-protocol server only: the
    tests that inject faults are skipped on a real replica set."""
    if mongo.peer is None:
        pytest.skip("fault injection needs the wire-protocol test server (tests/mongo/server.py): "
                    "a real replica set cannot be made to fail on cue")
    return mongo


def run_tool(uri: str, db: str, *args, timeout: float = 60) -> subprocess.CompletedProcess:
    """One catalog_tool command: CompletedProcess with text output."""
    return subprocess.run([str(catalog_tool_path()), "--uri", uri, "--db", db, *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, env=clean_env())


class Tool:
    """A catalog_tool shell: cmd() sends one command and returns its answer;
    the watcher's notifications collect in `events` (wait_for() waits)."""

    def __init__(self, backend_args: list, log_path: Path, name: str = "tool",
                 env: dict | None = None):
        self.name = name
        self.log_path = log_path
        self._log = open(log_path, "wb")
        self.proc = subprocess.Popen([str(catalog_tool_path()), *backend_args, "shell"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self._log, text=True, bufsize=1, env=clean_env(env))
        self.replies: queue.Queue = queue.Queue()
        self.events: list[dict] = []
        self.cond = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    @classmethod
    def mongo(cls, uri: str, db: str, log_dir: Path, name: str = "tool",
              env: dict | None = None) -> "Tool":
        return cls(["--uri", uri, "--db", db], log_dir / f"{name}-{db}.log", name, env)

    def _read(self):
        for line in self.proc.stdout:
            try:
                obj = json.loads(line)
            except ValueError:
                obj = {"garbage": line}
            if "event" in obj:
                with self.cond:
                    self.events.append(obj)
                    self.cond.notify_all()
            else:
                self.replies.put(obj)
        self.replies.put({"error": {"status": "exited", "message": self.log_tail()}})

    def log_tail(self, n: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def cmd(self, *words, timeout: float = 60) -> dict:
        self.proc.stdin.write(" ".join(map(str, words)) + "\n")
        self.proc.stdin.flush()
        try:
            return self.replies.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"{self.name}: no answer to {words[0]} within {timeout}s;\n"
                                 f"{self.log_tail()}") from None

    def ok(self, *words, timeout: float = 60) -> dict:
        r = self.cmd(*words, timeout=timeout)
        assert "error" not in r, f"{self.name}: {' '.join(map(str, words))[:200]} -> {r}"
        return r

    def wait_for(self, pred, timeout: float = 20.0, what: str = "an event") -> list:
        """Waits until pred(events) is true; returns a copy of the events."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while not pred(self.events):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{self.name}: {what} not seen within {timeout}s; "
                                         f"events: {self.events[-10:]}\n{self.log_tail()}")
                self.cond.wait(left)
            return list(self.events)

    def item_events(self, kind: str, name: str) -> list:
        with self.cond:
            return [e for e in self.events if e["kind"] == kind and e["name"] == name]

    def stats(self) -> dict:
        return self.ok("stats")["stats"]

    def wait_stat(self, key: str, at_least: int = 1, timeout: float = 20.0) -> dict:
        """Waits until the watcher's counter `key` reaches at_least (for a
        flag such as "connected": until it is true)."""
        deadline = time.monotonic() + timeout
        while (s := self.stats())[key] < at_least:
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name}: {key} stayed at {s[key]} (< {at_least}); "
                                     f"{s}\n{self.log_tail()}")
            time.sleep(0.05)
        return s

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write("quit\n")
                self.proc.stdin.flush()
                self.proc.wait(15)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        self._log.close()
