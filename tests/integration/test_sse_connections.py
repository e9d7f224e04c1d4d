# SPDX-License-Identifier: MIT
"""Event-stream connections that end: a closed stream is noticed within
about a second although it is idle (suspended), so subscribers and
descriptors do not pile up when tabs open and close; one client address
cannot take the whole connection table; and a client going away is no
warning in the log."""
from __future__ import annotations

import http.client
import socket
import struct
import time

from helpers import server as srv
from helpers.api import Client, wait_until
from helpers.metrics import parse as parse_metrics, total

RELEASE_DEADLINE = 2.0
HEADERS = b"Accept: text/event-stream\r\nCache-Control: no-cache\r\n"


def subscribers(port: int) -> float:
    r = Client(port).get("/metrics")
    assert r.status == 200, r
    return total(parse_metrics(r.body.decode())[0], "contentd_sse_subscribers")


def subscribers_when_let_in(port: int) -> float | None:
    """subscribers(), or None while this address's share of the connection
    table is still full (the server closes the /metrics connection)."""
    try:
        return subscribers(port)
    except (OSError, http.client.HTTPException):
        return None


def open_raw(port: int, path: str, source: str = "127.0.0.1") -> socket.socket:
    """An event stream whose first bytes (status line, retry) have arrived."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(5)
    s.bind((source, 0))
    s.connect(("127.0.0.1", port))
    s.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: x\r\n" + HEADERS + b"\r\n")
    got = srv.recv_until(s, b"retry: 2000")
    assert got.startswith(b"HTTP/1.1 200"), got[:100]
    return s


def reset(s: socket.socket) -> None:
    """Closes with an RST (a tab killed with its process)."""
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


def test_closed_streams_are_released_within_two_seconds(start_server):
    s = start_server()
    api = Client(s.port)
    api.create_ok("tutorial", "tabs")
    api.push_ok("tutorial", "tabs", {"index.md": b"# tabs\n"})
    for rnd in range(2):  # twice: slots and descriptors are reused cleanly
        socks = [open_raw(s.port, "/api/v1/content/tutorial/tabs/events" if i % 2 else
                          "/api/v1/events") for i in range(200)]
        wait_until(lambda: subscribers(s.port) == 200, 5, "200 subscribers")
        for i, sock in enumerate(socks):
            reset(sock) if i % 3 == 0 else sock.close()
        t0 = time.monotonic()
        wait_until(lambda: subscribers(s.port) == 0, RELEASE_DEADLINE,
                   f"round {rnd}: the subscriber gauge back to 0 within {RELEASE_DEADLINE} s "
                   f"of 200 idle streams closing (now {subscribers(s.port)})")
        assert time.monotonic() - t0 < RELEASE_DEADLINE
    log = s.log_path.read_text()
    assert log.count("path=/api/v1/events") >= 200 and "end=closed" in log, s.log_tail(5)


class LimitedServer(srv.Server):
    """contentd with a small descriptor limit, so its connection table is
    small (the limit less 100: 200 connections)."""

    def argv(self) -> list[str]:
        return ["prlimit", "--nofile=300:300", "--", *super().argv()]


def connect_or_refused(port: int, source: str) -> socket.socket | None:
    """A stream from source, or None when the server refuses the connection."""
    try:
        return open_raw(port, "/api/v1/events", source)
    except (ConnectionError, AssertionError, socket.timeout, OSError):
        return None


def test_one_address_cannot_take_the_whole_connection_table(contentd_bin, tmp_path):
    s = LimitedServer(tmp_path / "data", tmp_path / "contentd.log").start()
    try:
        assert "max_connections=200" in s.log_path.read_text(), s.log_tail(5)
        # A reconnect loop from one address: it keeps what it gets.
        held, refused = [], 0
        for _ in range(260):
            sock = connect_or_refused(s.port, "127.0.0.1")
            if sock is None:
                refused += 1
            else:
                held.append(sock)
        assert refused > 0, "one address got every slot of the connection table"
        assert len(held) <= 100, len(held)
        # Another address still gets in, and so does /healthz from it.
        other = [connect_or_refused(s.port, "127.0.0.2") for _ in range(20)]
        assert all(other), "a second address could not connect while the first held its share"
        for sock in held + other:
            sock.close()
        wait_until(lambda: subscribers_when_let_in(s.port) == 0, RELEASE_DEADLINE,
                   "streams released")
    finally:
        s.stop()
    # The limit is configurable: 0 turns it off.
    s2 = LimitedServer(tmp_path / "data", tmp_path / "contentd2.log",
                       ["--max-connections-per-address", "0"]).start()
    try:
        held = [connect_or_refused(s2.port, "127.0.0.1") for _ in range(150)]
        assert all(held), "with no per-address limit one address may hold 150 of 200"
        for sock in held:
            sock.close()
    finally:
        s2.stop()


def test_client_disconnects_are_no_warning(start_server):
    s = start_server()
    api = Client(s.port)
    api.create_ok("tutorial", "quiet")
    api.push_ok("tutorial", "quiet", {"index.md": b"# one\n"})
    socks = [open_raw(s.port, "/api/v1/content/tutorial/quiet/events") for _ in range(60)]
    wait_until(lambda: subscribers(s.port) == 60, 5, "60 subscribers")
    for i, sock in enumerate(socks):
        reset(sock) if i % 2 else sock.close()
    # A version right after: the server writes to every stream it still has.
    big = b"# two\n\n" + b"".join(b"paragraph %d\n\n" % i for i in range(3000))
    api.push_ok("tutorial", "quiet", {"index.md": big})
    wait_until(lambda: subscribers(s.port) == 0, RELEASE_DEADLINE + 3, "streams released")
    warns = [line for line in s.log_path.read_text().splitlines() if "level=warn" in line]
    assert not warns, f"clients going away logged {len(warns)} warning(s), e.g. {warns[:3]}"
