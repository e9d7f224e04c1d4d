# SPDX-License-Identifier: MIT
"""Server-sent event clients: a socket client that parses the stream itself
(HTTP/1.1, chunked or not), and a `curl -N` subprocess client.

SSEParser follows the event-stream format of the HTML standard: lines end in
LF, CRLF or CR; `:` starts a comment; `field: value` with one optional space
after the colon; an empty line dispatches the event if it has data.
"""
from __future__ import annotations

import json
import os
import queue
import select
import socket
import subprocess
import threading
import time
import zlib
from dataclasses import dataclass

from .api import open_request

SSE_HEADERS = {"Accept": "text/event-stream", "Cache-Control": "no-cache"}


@dataclass
class Event:
    event: str
    data: str
    id: str | None

    def json(self):
        try:
            return json.loads(self.data)
        except ValueError as e:
            raise AssertionError(f"event {self.event!r} has non-JSON data ({e}): "
                                 f"{self.data[:300]!r}") from None

    def __repr__(self):
        return f"<Event {self.event} id={self.id} {self.data[:120]!r}>"


class SSEParser:
    """Incremental event-stream parser: feed() body bytes, read .events."""

    def __init__(self, max_data: int | None = None):
        self.max_data = max_data  # keep at most this much of each event's data
        self.events: list[Event] = []
        self.comments: list[str] = []
        self.retry: list[int] = []
        self.head = b""          # the first bytes of the body, as sent
        self.nbytes = 0
        self._buf = b""
        self._data: list[str] = []
        self._event = ""
        self._id: str | None = None
        self._last_id: str | None = None

    def feed(self, data: bytes) -> None:
        if len(self.head) < 256:
            self.head += data[:256 - len(self.head)]
        self.nbytes += len(data)
        self._buf += data
        while True:
            i = self._line_end()
            if i < 0:
                return
            line = self._buf[:i]
            skip = 2 if self._buf[i:i + 2] == b"\r\n" else 1
            self._buf = self._buf[i + skip:]
            self._line(line.decode("utf-8", "replace"))

    def _line_end(self) -> int:
        n, r = self._buf.find(b"\n"), self._buf.find(b"\r")
        if r < 0:
            return n
        if r == len(self._buf) - 1:
            return n if 0 <= n < r else -1  # a CR at the end may start a CRLF
        return r if n < 0 or r < n else n

    def _line(self, line: str) -> None:
        if line == "":
            if self._data:
                data = "\n".join(self._data)
                if self.max_data is not None:
                    data = data[:self.max_data]
                self.events.append(Event(self._event or "message", data, self._last_id))
            self._data, self._event = [], ""
            return
        if line.startswith(":"):
            self.comments.append(line[1:].strip())
            return
        name, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id":
            self._last_id = value
        elif name == "retry" and value.isdigit():
            self.retry.append(int(value))


class _Dechunker:
    """Undoes HTTP/1.1 chunked transfer coding; .done after the last chunk."""

    def __init__(self):
        self._buf = b""
        self._left = 0   # data bytes left in the current chunk
        self._crlf = False
        self.done = False

    def feed(self, data: bytes) -> bytes:
        self._buf += data
        out = b""
        while self._buf and not self.done:
            if self._left:
                take = self._buf[:self._left]
                out += take
                self._left -= len(take)
                self._buf = self._buf[len(take):]
                if not self._left:
                    self._crlf = True
                continue
            if self._crlf:
                if len(self._buf) < 2:
                    break
                if self._buf[:2] != b"\r\n":
                    raise AssertionError(f"bad chunk framing: {self._buf[:20]!r}")
                self._buf, self._crlf = self._buf[2:], False
                continue
            i = self._buf.find(b"\r\n")
            if i < 0:
                break
            size = int(self._buf[:i].split(b";")[0], 16)
            self._buf = self._buf[i + 2:]
            if size == 0:
                self.done = True  # trailers, if any, are not read
            self._left = size
        return out


class SSEStream:
    """A GET on an event stream over a raw socket.

    After the constructor, .status and .headers hold the response head; for
    a non-200 answer .body holds the (short) error body.  next_event() and
    wait_event() read with a deadline; read_to_end() reads until the server
    closes.  .clean_end tells whether the last close was orderly (EOF, and
    for a chunked stream the final zero-length chunk)."""

    def __init__(self, port: int, path: str, headers: dict | None = None,
                 rcvbuf: int | None = None, timeout: float = 10.0, token: str | None = None,
                 max_data: int | None = None, gzip: bool = False):
        # gzip: ask for a gzip stream and inflate it with zlib as it comes
        self._inflate = zlib.decompressobj(16 + zlib.MAX_WBITS) if gzip else None
        hdrs = dict(SSE_HEADERS)
        if gzip:
            hdrs["Accept-Encoding"] = "gzip"
        if token:
            hdrs["Authorization"] = f"Bearer {token}"
        hdrs.update(headers or {})
        self.sock = open_request(port, "GET", path, hdrs, timeout, rcvbuf)
        self.parser = SSEParser(max_data)
        self.eof = False
        self.reset = False
        self._chunked: _Dechunker | None = None
        self._consumed = 0  # events handed out by next_event()
        self.body = b""
        self._read_head(timeout)

    # --- head ------------------------------------------------------------

    def _read_head(self, timeout: float) -> None:
        buf = b""
        end = time.monotonic() + timeout
        while b"\r\n\r\n" not in buf:
            self.sock.settimeout(max(0.01, end - time.monotonic()))
            chunk = self.sock.recv(65536)
            if not chunk:
                raise AssertionError(f"server closed before the response head: {buf!r}")
            buf += chunk
        head, _, rest = buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        self.status = int(lines[0].split()[1])
        self.headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            self.headers[k.strip().lower()] = v.strip()
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            self._chunked = _Dechunker()
        if self.status != 200:
            self.body = self._read_error_body(rest, end)
            return
        if rest:
            self._feed(rest)

    def _read_error_body(self, rest: bytes, end: float) -> bytes:
        want = int(self.headers.get("content-length", "-1"))
        data = self._chunked.feed(rest) if self._chunked else rest
        while (want < 0 or len(data) < want) and not (self._chunked and self._chunked.done):
            self.sock.settimeout(max(0.01, end - time.monotonic()))
            try:
                chunk = self.sock.recv(65536)
            except (socket.timeout, ConnectionResetError):
                break
            if not chunk:
                break
            data += self._chunked.feed(chunk) if self._chunked else chunk
        return data

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def error_json(self) -> dict:
        return json.loads(self.body)

    # --- body ------------------------------------------------------------

    def _feed(self, raw: bytes) -> None:
        data = self._chunked.feed(raw) if self._chunked else raw
        if self._inflate:
            data = self._inflate.decompress(data)
        self.parser.feed(data)

    def fileno(self) -> int:
        return self.sock.fileno()

    def pump(self) -> bool:
        """One non-blocking read; False once the server closed the stream."""
        try:
            chunk = self.sock.recv(1 << 20, socket.MSG_DONTWAIT)
        except (BlockingIOError, InterruptedError):
            return True
        except ConnectionResetError:
            self.eof = self.reset = True
            return False
        if not chunk:
            self.eof = True
            return False
        self._feed(chunk)
        return True

    def _read_some(self, end: float) -> bool:
        """Waits for bytes until `end`; False on timeout."""
        left = end - time.monotonic()
        if left <= 0:
            return False
        r, _, _ = select.select([self.sock], [], [], left)
        if not r:
            return False
        self.pump()
        return True

    @property
    def events(self) -> list[Event]:
        return self.parser.events

    def next_event(self, timeout: float = 10.0) -> Event:
        """The next event not yet returned; AssertionError on timeout or close."""
        end = time.monotonic() + timeout
        while self._consumed >= len(self.parser.events):
            if self.eof:
                raise AssertionError(f"stream closed while waiting for an event "
                                     f"(got {self.parser.events})")
            if not self._read_some(end):
                raise AssertionError(f"no event within {timeout} s "
                                     f"(got so far {self.parser.events})")
        ev = self.parser.events[self._consumed]
        self._consumed += 1
        return ev

    def wait_event(self, pred, timeout: float = 10.0) -> Event:
        """The first next event for which pred(ev) holds (others are skipped)."""
        end = time.monotonic() + timeout
        while True:
            ev = self.next_event(max(0.0, end - time.monotonic()))
            if pred(ev):
                return ev

    def wait_comment(self, text: str, timeout: float) -> None:
        end = time.monotonic() + timeout
        while text not in self.parser.comments:
            if self.eof or not self._read_some(end):
                raise AssertionError(f"no ': {text}' comment within {timeout} s "
                                     f"(comments {self.parser.comments})")

    def wait_bytes(self, n: int, timeout: float) -> None:
        """Until the body has at least n bytes (for the `retry:` prefix)."""
        end = time.monotonic() + timeout
        while self.parser.nbytes < n and not self.eof:
            if not self._read_some(end):
                break

    def read_to_end(self, timeout: float) -> bool:
        """Reads until the server closes; True if it did within timeout."""
        end = time.monotonic() + timeout
        while not self.eof:
            if not self._read_some(end):
                return False
        return True

    def response_ended(self, timeout: float) -> bool:
        """Reads until the response ends (its last chunk, or the connection
        closes); True if it did within timeout."""
        end = time.monotonic() + timeout
        while not (self.eof or (self._chunked and self._chunked.done)):
            if not self._read_some(end):
                return False
        return True

    @property
    def clean_end(self) -> bool:
        return self.eof and not self.reset and (self._chunked is None or self._chunked.done)

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


class CurlStream:
    """`curl -sN URL` as a subprocess; its output is parsed as an event stream."""

    def __init__(self, url: str, token: str | None = None, headers: dict | None = None,
                 extra_args: list | None = None):
        argv = ["curl", "-sS", "-N", "-H", "Accept: text/event-stream", *(extra_args or [])]
        if token:
            argv += ["-H", f"Authorization: Bearer {token}"]
        for k, v in (headers or {}).items():
            argv += ["-H", f"{k}: {v}"]
        self.proc = subprocess.Popen(argv + [url], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.parser = SSEParser()
        self.eof = False
        self._q: queue.Queue = queue.Queue()
        self._consumed = 0
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        fd = self.proc.stdout.fileno()
        while True:
            chunk = os.read(fd, 65536)
            self._q.put(chunk)
            if not chunk:
                return

    def _drain(self, timeout: float) -> bool:
        try:
            chunk = self._q.get(timeout=max(0.0, timeout))
        except queue.Empty:
            return False
        if chunk:
            self.parser.feed(chunk)
        else:
            self.eof = True
        return True

    def next_event(self, timeout: float = 10.0) -> Event:
        end = time.monotonic() + timeout
        while self._consumed >= len(self.parser.events):
            if self.eof:
                raise AssertionError(f"curl's stream ended (status {self.proc.poll()}, "
                                     f"stderr {self.stderr()!r})")
            if not self._drain(end - time.monotonic()):
                raise AssertionError(f"curl got no event within {timeout} s "
                                     f"(so far {self.parser.events})")
        ev = self.parser.events[self._consumed]
        self._consumed += 1
        return ev

    def wait_event(self, pred, timeout: float = 10.0) -> Event:
        end = time.monotonic() + timeout
        while True:
            ev = self.next_event(max(0.0, end - time.monotonic()))
            if pred(ev):
                return ev

    def wait_exit(self, timeout: float) -> int:
        end = time.monotonic() + timeout
        while not self.eof and self._drain(end - time.monotonic()):
            pass
        return self.proc.wait(timeout=max(0.1, end - time.monotonic()))

    def stderr(self) -> str:
        if self.proc.poll() is None:
            return ""
        return self.proc.stderr.read().decode(errors="replace")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.proc.stdout.close()
        self.proc.stderr.close()
