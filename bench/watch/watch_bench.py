# SPDX-License-Identifier: MIT
"""Save to subscriber, in both watch modes (run by bench/watch/run).

For each mode and quiet window:

  1. a temporary watched folder holds one item (index.md, lesson.md);
     serve: `contentd serve --watch DIR --watch-quiet-ms Q`;
     push:  `contentd serve` and `content push --watch ITEM --watch-quiet-ms Q`;
  2. once version 1 exists, this process subscribes to the item's event
     stream (a raw socket, tests/integration/helpers/sse.py) and reads the
     snapshot;
  3. EDITS times (after WARMUP unmeasured ones): t0 = time.monotonic(), then
     open(lesson.md, O_TRUNC) + write() + close() of a new text; then read
     the stream until the `update` for the next version is parsed:
     t1 = time.monotonic().  The next edit starts only then.

Writer and subscriber are this one process, so both ends use the same
CLOCK_MONOTONIC.  The figure is therefore what an author's open tab sees
(the watcher's quiet window, the commit: hashing, storing, rendering,
the catalog transaction, the fan-out, plus the loopback socket), less the
browser's own parsing and painting (bench/preview measures that).
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "integration"))
sys.path.insert(0, str(ROOT / "bench"))

from helpers import server as srv  # noqa: E402
from machine import machine  # noqa: E402
from helpers.api import Client  # noqa: E402
from helpers.sse import SSEStream  # noqa: E402

KIND, NAME = "tutorial", "watch-bench"
WARMUP = 10
MAX_DELAY_MS = 500
EVENT_DEADLINE = 10.0
VITE_HMR_MS = "14–38"  # published edit-to-browser figures of Vite's hot module reload

INDEX = (b"---\nkind: tutorial\nname: watch-bench\ntitle: Watch bench\n---\n\n"
         b"# Watch bench\n\nThe lesson next to this file is edited again and again.\n")


def say(msg: str) -> None:
    print(f"==> {msg}", file=sys.stderr, flush=True)


def lesson(i: int) -> bytes:
    return (f"# Lesson\n\nEdit number {i}: a paragraph an author just saved, with "
            f"*emphasis*, `code` and a [link](https://example.com/{i}).\n\n"
            f"- one\n- two\n- {i}\n").encode()


def percentile(xs: list, p: float) -> float:
    xs = sorted(xs)
    k = (len(xs) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def write_close(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def atomic_save(path: Path, data: bytes) -> None:
    """An editor's atomic save: a new temporary file beside the target
    (random suffix, as Python's tempfile and VS Code name it), written,
    closed and renamed over the target."""
    tmp = path.with_name(f"{path.name}.{os.urandom(4).hex()}")
    write_close(tmp, data)
    os.rename(tmp, path)


SAVES = {"inplace": write_close, "atomic": atomic_save}


class Run:
    """One mode and quiet window: the processes, the item, the stream."""

    def __init__(self, mode: str, quiet_ms: int, work: Path, save: str = "inplace"):
        self.mode, self.quiet_ms, self.save = mode, quiet_ms, SAVES[save]
        self.work = work
        self.root = work / "watched"
        self.item = self.root / NAME if mode == "serve" else self.root
        self.item.mkdir(parents=True)
        (self.item / "index.md").write_bytes(INDEX)
        (self.item / "lesson.md").write_bytes(lesson(-1))
        windows = ["--watch-quiet-ms", str(quiet_ms), "--watch-max-delay-ms", str(MAX_DELAY_MS)]
        args = ["--watch", str(self.root), *windows] if mode == "serve" else []
        self.server = srv.Server(work / "data", work / "contentd.log", args)
        self.server.start()
        self.pusher = None
        if mode == "push":
            self.pusher = subprocess.Popen(
                [str(srv.content_binary()), "push", "--watch", str(self.item), *windows],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=open(work / "push.log", "wb"),
                env=srv.clean_env({"CONTENT_SERVER": self.server.base_url}))
        self.api = Client(self.server.port)
        self.version = self._wait_first_version()
        self.stream = SSEStream(self.server.port, f"/api/v1/content/{KIND}/{NAME}/events")
        ev = self.stream.next_event(EVENT_DEADLINE)
        assert ev.event == "snapshot" and int(ev.id) == self.version, ev

    def _wait_first_version(self) -> int:
        end = time.monotonic() + 30
        while time.monotonic() < end:
            r = self.api.item(KIND, NAME)
            if r.status == 200 and r.json()["version"] >= 1:
                return r.json()["version"]
            time.sleep(0.02)  # poll interval while waiting for the first push
        raise SystemExit(f"{self.mode}: the item never reached version 1; "
                         f"log: {self.server.log_tail()}")

    def edit(self, i: int, gap_ms: int = 0) -> float:
        """One save, at least gap_ms after the previous one (an author's
        pace: saves closer than the quiet window are a burst, docs/watch.md);
        the milliseconds until its update event was parsed."""
        path = self.item / "lesson.md"
        pause = getattr(self, "last_save", 0.0) + gap_ms / 1000 - time.monotonic()
        if pause > 0:
            time.sleep(pause)  # the author's pace, not a wait for a result
        t0 = self.last_save = time.monotonic()
        self.save(path, lesson(i))
        while True:
            ev = self.stream.next_event(EVENT_DEADLINE)
            if ev.event == "update" and int(ev.id) > self.version:
                t1 = time.monotonic()
                break
        up = ev.json()
        assert "lesson.md" in up["documents"], f"update {ev.id} without lesson.md: {up}"
        assert int(ev.id) == self.version + 1, f"version {ev.id} after {self.version}"
        self.version = int(ev.id)
        return (t1 - t0) * 1000

    def close(self) -> None:
        self.stream.close()
        if self.pusher and self.pusher.poll() is None:
            self.pusher.terminate()
            self.pusher.wait(timeout=10)
        self.server.stop()


def measure(mode: str, quiet_ms: int, edits: int, gap_ms: int, save: str) -> dict:
    work = Path(tempfile.mkdtemp(prefix=f"watch-bench-{mode}-"))
    run = None
    try:
        run = Run(mode, quiet_ms, work, save)
        for i in range(WARMUP):
            run.edit(i)
        ms = [run.edit(WARMUP + i, gap_ms) for i in range(edits)]
    finally:
        if run:
            run.close()
        shutil.rmtree(work, ignore_errors=True)
    p50 = percentile(ms, 50)
    return {"mode": mode, "quiet": quiet_ms, "edits": edits, "min": min(ms), "p50": p50,
            "p90": percentile(ms, 90), "p99": percentile(ms, 99), "max": max(ms),
            "mean": statistics.fmean(ms), "over": p50 - quiet_ms,
            "ok": p50 <= quiet_ms + 10}


MODE_LABEL = {"serve": "contentd serve --watch", "push": "content push --watch"}


def loadavg() -> str:
    try:
        return open("/proc/loadavg").read().split()[0]
    except OSError:
        return "?"


SAVE_LABEL = {"inplace": "write()+close() of a markdown file",
              "atomic": "atomic save (temporary file written, closed, renamed over) of a markdown file"}


def table(rows: list, edits: int, load: tuple, gap_ms: int, save: str) -> str:
    out = [f"Save to subscriber: {SAVE_LABEL[save]} -> SSE update parsed, "
           f"{edits} edits per row (after {WARMUP} warm-up, at least {gap_ms} ms apart), "
           f"max delay {MAX_DELAY_MS} ms",
           f"machine: {machine()}; 1-minute load average {load[0]} before, {load[1]} after "
           f"(other work on the machine shows in p99 and max)", "",
           "| mode | quiet window ms | min ms | p50 ms | p90 ms | p99 ms | max ms "
           "| p50 - quiet ms | p50 <= quiet + 10 |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        out.append(f"| {MODE_LABEL[r['mode']]} | {r['quiet']} | {r['min']:.1f} | {r['p50']:.1f} "
                   f"| {r['p90']:.1f} | {r['p99']:.1f} | {r['max']:.1f} | {r['over']:.1f} "
                   f"| {'yes' if r['ok'] else 'NO'} |")
    out += ["", f"reference: Vite hot module reload, {VITE_HMR_MS} ms edit to browser (published)"]
    return "\n".join(out) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--edits", type=int, default=200)
    ap.add_argument("--modes", default="serve,push")
    ap.add_argument("--quiet-ms", default="50,10")
    ap.add_argument("--gap-ms", type=int, default=250,
                    help="least time between two saves (default 250 ms; 0: back to back)")
    ap.add_argument("--save", choices=sorted(SAVES), default="inplace",
                    help="how lesson.md is saved (default inplace: open(O_TRUNC), write, close)")
    a = ap.parse_args()
    why = srv.missing_contentd()
    if why:
        raise SystemExit(why)
    rows = []
    load0 = loadavg()
    for quiet in (int(q) for q in a.quiet_ms.split(",")):
        for mode in a.modes.split(","):
            say(f"{MODE_LABEL[mode]}, quiet window {quiet} ms: {a.edits} edits")
            rows.append(measure(mode, quiet, a.edits, a.gap_ms, a.save))
    text = table(rows, a.edits, (load0, loadavg()), a.gap_ms, a.save)
    print(text, end="")
    results = ROOT / "bench" / "results" / "watch"
    results.mkdir(parents=True, exist_ok=True)
    (results / "latest.txt").write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
