# SPDX-License-Identifier: MIT
"""RSS per idle event stream, by --max-header-size.

For each setting: `contentd serve` on a fresh data folder, WARMUP streams
opened and left idle (the allocator's first growth is not counted), then
VmRSS; STREAMS more idle streams on /api/v1/events, each ready (its
snapshot read); two seconds later VmRSS again.  The figure is the
difference over STREAMS.  The connection memory libmicrohttpd gives each
connection follows --max-header-size (server/server.c, conn_memory), and
most of it becomes resident (libmicrohttpd zeroes the part of its read
buffer it hands back).

usage: CONTENTD_BUILD=build /usr/bin/python3 bench/sse/idle_rss.py [--streams N] [SIZE...]
(SIZE: a --max-header-size such as 16KiB; "5632B-pool" runs with
CONTENTD_CONNECTION_MEMORY=5632 instead)
"""
from __future__ import annotations

import argparse
import socket
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "integration"))
from helpers.server import Server  # noqa: E402

WARMUP = 50


def rss_kib(pid: int) -> int:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def open_stream(port: int) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"GET /api/v1/events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
    data = b""
    while b"event: snapshot" not in data:
        chunk = s.recv(65536)
        if not chunk:
            raise RuntimeError("stream closed")
        data += chunk
    return s


def measure(setting: str, streams: int) -> float:
    tmp = Path(tempfile.mkdtemp(prefix="idle-rss-"))
    if setting.endswith("-pool"):
        server = Server(tmp / "data", tmp / "log", env={
            "CONTENTD_CONNECTION_MEMORY": setting[:-len("B-pool")]})
    else:
        server = Server(tmp / "data", tmp / "log", ["--max-header-size", setting])
    server.start()
    socks = []
    try:
        socks += [open_stream(server.port) for _ in range(WARMUP)]
        time.sleep(1)
        before = rss_kib(server.proc.pid)
        socks += [open_stream(server.port) for _ in range(streams)]
        time.sleep(2)
        return (rss_kib(server.proc.pid) - before) / streams
    finally:
        for s in socks:
            s.close()
        server.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--streams", type=int, default=1000)
    ap.add_argument("settings", nargs="*", default=["16KiB", "4KiB", "1KiB", "5632B-pool"])
    args = ap.parse_args()
    print("| --max-header-size | RSS per idle stream, KiB |")
    print("|---|---:|")
    for s in args.settings:
        print(f"| {s} | {measure(s, args.streams):.1f} |", flush=True)


if __name__ == "__main__":
    main()
