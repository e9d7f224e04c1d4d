# SPDX-License-Identifier: MIT
"""Where the milliseconds of one save go, server side: `perf trace` of the
watching process, the server and this process (one clock for all), while
this process saves index.md of a copy of examples/hello-tutorial N times and
reads the update event on a plain SSE client of the item.

    CONTENTD_BUILD=build-bench /usr/bin/python3 bench/preview/trace_save.py --mode serve|push [--saves 20]

For each save, from the trace (perf's clock, the same for all three
processes): the save (this process's openat with O_TRUNC), the watcher's
read of the inotify event, the watcher's first action (its first file
opened), each fsync/fdatasync (and their sum), each request of
`push --watch` (the client's send, the server's answer), each render (the
server's request to a renderer worker and its answer), the catalog's
fdatasync (the commit is durable), the event written to the subscriber's
socket, and this process reading it.  Prints the timeline of the median
save and the median of each step over all saves.  The browser's share
(event → painted) is measured by bench/preview/run; this does not open a
browser.  perf trace costs a few microseconds per traced system call, so
totals are a little above an untraced run's.
"""
from __future__ import annotations

import argparse
import os
import re
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "integration"))

from helpers import server as srv  # noqa: E402
from helpers.api import Client  # noqa: E402
from helpers.sse import SSEStream  # noqa: E402

KIND, NAME = "tutorial", "hello-tutorial"
FIRST_PARAGRAPH = "This tutorial walks you through"
SYSCALLS = ("read,write,sendto,sendmsg,recvfrom,fsync,fdatasync,openat,pwrite64")
LINE = re.compile(r"^\s*([\d.]+) \(\s*([\d.]*) ms\): (.+?)/(\d+) (?:\.\.\. \[continued\]: )?"
                  r"(\w+)\((.*?)\)\)?\s+= (-?\d+)")


def inotify_fds(pid: int) -> set:
    out = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") == "anon_inode:inotify":
                out.add(fd)
        except OSError:
            pass
    return out


def arg(args: str, name: str) -> str | None:
    m = re.search(rf"\b{name}: ([^,)]+)", args)
    return m.group(1) if m else None


def parse(path: Path) -> list:
    calls = []
    for line in path.read_text(errors="replace").splitlines():
        m = LINE.match(line)
        if not m or not m.group(2):
            continue  # the start of a call that blocked: its [continued] line has the duration
        t, dur, comm, tid, name, args, ret = m.groups()
        calls.append({"t": float(t), "dur": float(dur), "comm": comm, "tid": int(tid),
                      "name": name, "args": args, "ret": int(ret)})
    calls.sort(key=lambda c: c["t"])
    return calls


def steps_of(calls, me: int, ino: set, mode: str) -> list:
    """One dict of stamps (perf ms) per save, from this process's saves."""
    saves = [i for i, c in enumerate(calls)
             if c["name"] == "openat" and "TRUNC" in c["args"] and c["tid"] == me]
    out = []
    for k, i in enumerate(saves):
        end = saves[k + 1] if k + 1 < len(saves) else len(calls)
        window = calls[i:end]
        s = {"save": window[0]["t"], "fsync": [], "requests": [], "renders": []}
        for c in window:
            if "inotify" not in s and c["name"] == "read" and arg(c["args"], "fd") in ino \
                    and c["ret"] > 0:
                s["inotify"] = c["t"]
            elif "inotify" in s and "start" not in s and c["name"] == "openat" \
                    and c["comm"] != "MHD-worker" and c["tid"] != me:
                s["start"] = c["t"]
            # the syncs of this save's commit: up to its event (a window that
            # runs into another commit, a save whose truncation was missed,
            # keeps the first); the catalog's fdatasync is the last of them
            if c["name"] in ("fsync", "fdatasync") and "inotify" in s and "sent" not in s:
                s["fsync"].append((c["t"], c["dur"], c["name"], c["comm"]))
                if c["name"] == "fdatasync":
                    s["durable"] = c["t"] + c["dur"]
            if c["name"] == "sendto" and "DONTWAIT|NOSIGNAL" in c["args"] and c["ret"] == 12:
                s["renders"].append(c["t"])
            if c["name"] in ("sendto", "sendmsg") and c["comm"] == "MHD-worker" \
                    and "durable" in s and "sent" not in s and c["ret"] >= 2000:
                s["sent"] = c["t"]
            if c["name"] == "recvfrom" and c["tid"] == me and "sent" in s and "got" not in s:
                s["got"] = c["t"] + c["dur"]
            if mode == "push" and c["comm"] == "content" and c["name"] == "sendto" \
                    and "NOSIGNAL" in c["args"] and "DONTWAIT" not in c["args"]:
                s["requests"].append(c["t"])
        out.append(s)
    return [s for s in out if all(k in s for k in ("inotify", "start", "durable", "sent", "got"))]


def run(args) -> int:
    tmp = Path(tempfile.mkdtemp(prefix="contentd-trace-save-"))
    watched = tmp / "watched"
    item = watched / NAME
    shutil.copytree(ROOT / "examples" / NAME, item)
    s = srv.Server(tmp / "data", tmp / "contentd.log",
                   ["--watch", str(watched)] if args.mode == "serve" else [], {})
    s.start()
    pusher = trace = None
    try:
        if args.mode == "push":
            pusher = subprocess.Popen(
                [str(srv.content_binary()), "push", "--watch", str(item), "--server", s.base_url],
                stdin=subprocess.DEVNULL, stdout=open(tmp / "push.log", "ab"),
                stderr=subprocess.STDOUT, env=srv.clean_env({}))
        api = Client(s.port)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            r = api.item(KIND, NAME)
            if r.status == 200 and r.json()["version"] >= 1:
                break
            time.sleep(0.05)  # the watch's first push
        watcher = pusher.pid if pusher else s.proc.pid
        ino = inotify_fds(watcher)
        pids = [os.getpid(), s.proc.pid] + ([pusher.pid] if pusher else [])
        trace = subprocess.Popen(["perf", "trace", "-T", "-p", ",".join(map(str, pids)),
                                  "-o", str(tmp / "trace.txt"), "-e", SYSCALLS],
                                 stderr=subprocess.DEVNULL)
        time.sleep(1.0)  # perf attaches
        st = SSEStream(s.port, f"/api/v1/content/{KIND}/{NAME}/events")
        original = (item / "index.md").read_text(encoding="utf-8")
        totals = []
        for i in range(args.saves):
            time.sleep(args.gap_ms / 1000)  # the author's pace
            if select.select([st.sock], [], [], 0)[0]:
                st.pump()
            seen = len(st.events)
            t0 = time.monotonic()
            with open(item / "index.md", "w", encoding="utf-8") as f:
                f.write(original.replace(FIRST_PARAGRAPH, f"Edit t{i}: " + FIRST_PARAGRAPH, 1))
            while not any(e.event == "update" and f"t{i}:" in e.data for e in st.events[seen:]):
                select.select([st.sock], [], [], 5)
                st.pump()
            totals.append((time.monotonic() - t0) * 1000)
        time.sleep(0.5)
        trace.send_signal(signal.SIGINT)
        trace.wait(timeout=30)
        trace = None
        calls = parse(tmp / "trace.txt")
        saves = steps_of(calls, os.getpid(), ino, args.mode)
        report(args, saves, totals)
    finally:
        if trace:
            trace.kill()
        if pusher and pusher.poll() is None:
            pusher.terminate()
            pusher.wait(timeout=10)
        s.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


def report(args, saves, totals):
    if not saves:
        sys.exit("trace_save: no save could be followed through the trace")
    rows = [("save → inotify event read by the watcher", lambda s: s["inotify"] - s["save"]),
            ("event read → watcher at work (first file opened)", lambda s: s["start"] - s["inotify"]),
            ("at work → catalog durable (scan, hash, uploads, blob, render, manifest, catalog)",
             lambda s: s["durable"] - s["start"]),
            ("  of which fsync + fdatasync", lambda s: sum(d for _, d, _, _ in s["fsync"])),
            ("catalog durable → event written to the subscriber's socket",
             lambda s: s["sent"] - s["durable"]),
            ("written → read by the subscriber", lambda s: s["got"] - s["sent"]),
            ("save → read by the subscriber (traced)", lambda s: s["got"] - s["save"])]
    print(f"mode: {args.mode}; {len(saves)} of {args.saves} saves followed through the trace; "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"save → update at the subscriber, untraced clock: p50 {statistics.median(totals):.2f} ms")
    print()
    print("| step | p50 ms | min ms | max ms |")
    print("|---|---:|---:|---:|")
    for label, f in rows:
        xs = [f(s) for s in saves]
        print(f"| {label} | {statistics.median(xs):.2f} | {min(xs):.2f} | {max(xs):.2f} |")
    s = sorted(saves, key=lambda s: s["got"] - s["save"])[len(saves) // 2]
    print()
    print("median save, ms after the save began:")
    print(f"  {s['inotify'] - s['save']:7.2f} inotify event read")
    print(f"  {s['start'] - s['save']:7.2f} watcher at work")
    for t in s["requests"]:
        print(f"  {t - s['save']:7.2f} push --watch sends a request")
    for t in s["renders"]:
        print(f"  {t - s['save']:7.2f} render requested from a worker")
    for t, d, name, comm in s["fsync"]:
        print(f"  {t - s['save']:7.2f} {name} ({comm}) {d:.2f} ms")
    print(f"  {s['durable'] - s['save']:7.2f} catalog durable")
    print(f"  {s['sent'] - s['save']:7.2f} event written to the socket")
    print(f"  {s['got'] - s['save']:7.2f} event read by the subscriber")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mode", choices=["serve", "push"], default="serve")
    ap.add_argument("--saves", type=int, default=20)
    ap.add_argument("--gap-ms", type=int, default=300)
    args = ap.parse_args()
    if not shutil.which("perf"):
        sys.exit("trace_save: perf is not installed (apt-get install linux-perf)")
    if srv.missing_contentd():
        sys.exit(f"trace_save: {srv.missing_contentd()}")
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
