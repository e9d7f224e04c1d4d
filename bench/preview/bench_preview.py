# SPDX-License-Identifier: MIT
"""Save to paint: from a file saved in a watched folder to the changed text
painted in the preview page, in headless Chromium (run by bench/preview/run).

A copy of examples/hello-tutorial is put in a temporary watched folder and
pushed by the watch mode: `contentd serve --watch DIR` when this build has
it, else `content push --watch ITEM` against a plain `contentd serve`.  The
preview page of the item is opened.  Then, EDITS times: a new marker is
written into the first paragraph of index.md, and the page reports when it
saw the marker and when it was painted.

For comparison, a plain SSE client of the item in this process records
when each update event reached it: the time the server side takes (watcher,
commit, event), so that the rest is the browser's (shared worker, tab,
patch, paint).

Measured in the page: a MutationObserver on the document notes the moment
the marker is in the DOM (performance.now()); the first animation frame
after it runs before that frame's paint, and a task queued from it runs
once the frame has been painted: that time is "painted".

One clock: the file write is timed here (CLOCK_REALTIME, time.time_ns());
the page's times are performance.timeOrigin + performance.now(), which
Chromium also derives from the wall clock, but to not depend on that, the
offset between the two is measured by a handshake: this process reads its
clock, asks the page for its own, reads its clock again; of 50 such round
trips the shortest gives the offset (page − midpoint), correct to within
half that round trip, which is printed as the uncertainty.  The handshake is
repeated after the run to show any drift.

Peer in the same run (--peer vite, the default): a Vite dev server with hot
module replacement (bench/package.json, pinned in bench/package-lock.json;
installed with `npm ci --prefix bench` when missing) serving a page that
imports a copy of the same index.md `?raw` and renders it with marked
(bench/preview/vite/).  The same browser opens it after contentd's run, and
the same edits are measured the same way (MutationObserver, next frame); the
table ends with contentd's p50 and p99 as ratios of Vite's.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "integration"))
sys.path.insert(0, str(ROOT / "bench"))

from helpers import browser as chrome  # noqa: E402
from machine import machine  # noqa: E402
from helpers import server as srv  # noqa: E402
from helpers.api import Client  # noqa: E402
from helpers.sse import SSEStream  # noqa: E402
import server_steps  # noqa: E402

EXAMPLE = ROOT / "examples" / "hello-tutorial"
KIND, NAME = "tutorial", "hello-tutorial"
FIRST_PARAGRAPH = "This tutorial walks you through the markdown that **contentd** understands:"
WARMUP = 5
EDIT_DEADLINE = 10.0

OBSERVER = r"""
const root = document.querySelector('.cp-content');
const now = () => performance.timeOrigin + performance.now();
window.__bench = {want: null, seen: null, results: [], waiter: null};
new MutationObserver(() => {
  const b = window.__bench;
  if (!b.want || b.seen === b.want || !root.textContent.includes(b.want)) return;
  const want = b.want, dom = now();
  b.seen = want;
  requestAnimationFrame(() => {
    const frame = now();
    setTimeout(() => {
      b.results.push({want, dom, frame, paint: now()});
      if (b.waiter) b.waiter();
    }, 0);
  });
}).observe(root, {subtree: true, childList: true, characterData: true});
"""

# Resolves with the result of edit arguments[0] once the page has it: the
# bench waits in one asynchronous script per edit instead of asking the
# page every 10 ms (each ask a round trip through chromedriver to the tab's
# main thread, 100 a second, on the CPUs the measured pipeline needs).
WAIT_RESULT = r"""
const [want, done] = arguments;
const b = window.__bench;
const find = () => b.results.find((r) => r.want === want);
const check = () => { const r = find(); if (r) { b.waiter = null; done(r); } };
b.waiter = check;
check();
"""


# Installed before the page's scripts (an init script): the tab's side of
# the shared worker's port.  For each update message: when it reached the
# tab (its version, the time) and when the page's handler returned (the
# patch is synchronous: the DOM is patched then).  Not in the Vite page.
PORT_PROBE = r"""
(() => {
  const add = MessagePort.prototype.addEventListener;
  const now = () => performance.timeOrigin + performance.now();
  window.__benchPort = [];
  MessagePort.prototype.addEventListener = function (type, fn, opts) {
    if (type !== 'message' || typeof fn !== 'function') return add.call(this, type, fn, opts);
    return add.call(this, type, function (e) {
      const got = now();
      const r = fn.call(this, e);
      const d = e.data;
      if (d && d.t === 'update') window.__benchPort.push({version: d.version, got, done: now()});
      return r;
    }, opts);
  };
})();
"""


def percentile(xs, p):
    s = sorted(xs)
    if not s:
        return float("nan")
    k = (len(s) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def handshake(driver, rounds=50):
    """(offset_ms, uncertainty_ms): page clock − this process's clock."""
    best = None
    for _ in range(rounds):
        t1 = time.time_ns()
        page = driver.execute_script("return performance.timeOrigin + performance.now()")
        t2 = time.time_ns()
        rtt = (t2 - t1) / 1e6
        mid = (t1 + t2) / 2e6
        if best is None or rtt < best[1]:
            best = (page - mid, rtt)
    return best[0], best[1] / 2


class EventClock(threading.Thread):
    """A plain SSE client of the item beside the page: when each edit's
    update event reached a socket of this process.  The difference with the
    page's times is the browser's share (worker, tab, patch, paint)."""

    MARKER = re.compile(r"Edit (m\d+x\d+):")

    def __init__(self, port: int):
        super().__init__(daemon=True)
        self.stream = SSEStream(port, f"/api/v1/content/{KIND}/{NAME}/events")
        assert self.stream.status == 200, self.stream.status
        self.arrivals = {}  # marker → time.time_ns() when its event's bytes were readable
        self.versions = {}  # marker → the version its event carried
        self.done = threading.Event()

    def run(self):
        seen = 0
        while not self.done.is_set():
            ready, _, _ = select.select([self.stream.sock], [], [], 0.2)
            if not ready:
                continue
            t = time.time_ns()
            if not self.stream.pump():
                return
            for ev in self.stream.events[seen:]:
                m = self.MARKER.search(ev.data) if ev.event == "update" else None
                if m:
                    self.arrivals.setdefault(m.group(1), t)
                    if ev.id is not None:
                        self.versions.setdefault(m.group(1), int(ev.id))
            seen = len(self.stream.events)

    def stop(self):
        self.done.set()
        self.join(timeout=5)
        self.stream.sock.close()


def wait_version(api, at_least, deadline=15.0):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        r = api.item(KIND, NAME)
        if r.status == 200 and r.json()["version"] >= at_least:
            return r.json()["version"]
        time.sleep(0.05)  # polling the API for the watcher's first push
    return None


class Watch:
    """The watch mode and the processes behind it.  With replicas, the
    watch commits on replica A and the page (and the plain SSE client)
    follow replica B: two `contentd serve` on one MongoDB catalog (the
    wire-protocol test server, tests/mongo/server.py) and one data folder
    for the blobs; B learns of A's versions through the change stream."""

    def __init__(self, tmp: Path, mode: str, quiet_ms: int | None, replicas: bool = False):
        self.tmp = tmp
        self.watched = tmp / "watched"
        self.item_dir = self.watched / NAME
        shutil.copytree(EXAMPLE, self.item_dir)
        self.quiet_ms = quiet_ms
        self.server = None
        self.view = None  # the server the page follows: B with replicas, else the server
        self.pusher = None
        self.mode = None
        self.mongo = None
        if replicas:
            from mongosupport import MongoPeer, bson_missing
            why = bson_missing()
            if why:
                sys.exit(f"bench: --replicas: {why}")
            self.mongo = MongoPeer(tmp).start()
        order = {"auto": ["serve", "push"], "serve": ["serve"], "push": ["push"]}[mode]
        for m in order:
            if self._start(m):
                self.mode = m
                return
            self.stop()
        sys.exit("bench: no watch mode worked (see the logs above)")

    def _start(self, m: str) -> bool:
        # the per-save debug lines give the server's steps (server_steps.py)
        env = {"CONTENTD_LOG_LEVEL": "debug", "CONTENT_LOG_LEVEL": "debug"}
        if self.quiet_ms is not None:
            env.update({"CONTENTD_WATCH_QUIET_MS": str(self.quiet_ms),
                        "CONTENT_WATCH_QUIET_MS": str(self.quiet_ms)})
        args = ["--watch", str(self.watched)] if m == "serve" else []
        store = self.mongo_args()
        log = self.tmp / f"contentd-{m}.log"
        s = srv.Server(self.tmp / f"data-{m}", log, args + store, env)
        try:
            s.start()
        except AssertionError as e:
            print(f"bench: contentd serve {' '.join(args + store)} did not start: "
                  f"{str(e).splitlines()[0]}", file=sys.stderr)
            return False
        self.server = self.view = s
        if self.mongo:
            b = srv.Server(self.tmp / f"data-{m}", self.tmp / f"contentd-{m}-B.log", store, env)
            b.start()
            self.view = b
        if m == "push":
            self.pusher = subprocess.Popen(
                [str(srv.content_binary()), "push", "--watch", str(self.item_dir),
                 "--server", s.base_url],
                stdin=subprocess.DEVNULL, stdout=open(self.tmp / "push.log", "ab"),
                stderr=subprocess.STDOUT, env=srv.clean_env(env))
        if wait_version(Client(self.view.port), 1) is None:
            print(f"bench: the {m} watch mode pushed nothing within 15 s", file=sys.stderr)
            return False
        return True

    def mongo_args(self) -> list:
        if not self.mongo:
            return []
        return ["--mongodb-uri", self.mongo.uri, "--mongodb-db", "bench_preview"]

    def stop(self):
        if self.pusher and self.pusher.poll() is None:
            self.pusher.terminate()
            self.pusher.wait(timeout=10)
        self.pusher = None
        if self.view and self.view is not self.server:
            self.view.stop()
        if self.server:
            self.server.stop()
        self.server = self.view = None

    def close(self):
        self.stop()
        if self.mongo:
            self.mongo.stop()

    def describe(self) -> str:
        q = f"{self.quiet_ms} ms" if self.quiet_ms is not None else "default (50 ms)"
        if self.mode == "serve":
            what = f"contentd serve --watch DIR (quiet window {q})"
        else:
            what = f"content push --watch DIR against contentd serve (quiet window {q})"
        if self.mongo:
            what += ("; replicas: the watch on replica A, the page and the SSE client on "
                     "replica B (MongoDB wire-protocol test server, change stream)")
        return what


BENCH = ROOT / "bench"
VITE_PAGE = BENCH / "preview" / "vite"


class VitePeer:
    """A Vite dev server with HMR over a copy of the same index.md."""

    def __init__(self, tmp: Path):
        vite = BENCH / "node_modules" / "vite" / "bin" / "vite.js"
        if not vite.exists():
            subprocess.run(["npm", "ci", "--prefix", str(BENCH), "--no-audit", "--no-fund"],
                           check=True, stdout=subprocess.DEVNULL)
        self.root = tmp / "vite"
        (self.root / "content").mkdir(parents=True)
        for name in ("index.html", "main.js"):
            shutil.copy(VITE_PAGE / name, self.root / name)
        self.index = self.root / "content" / "index.md"
        shutil.copy(EXAMPLE / "index.md", self.index)
        self.port = srv.free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.proc = subprocess.Popen(
            ["node", str(vite), "--config", str(VITE_PAGE / "vite.config.js"),
             "--host", "127.0.0.1", "--port", str(self.port), "--strictPort"],
            cwd=str(BENCH), stdin=subprocess.DEVNULL,
            stdout=open(tmp / "vite.log", "ab"), stderr=subprocess.STDOUT,
            env={**os.environ, "BENCH_VITE_ROOT": str(self.root)})
        self.version = json.loads((BENCH / "node_modules" / "vite" / "package.json")
                                  .read_text(encoding="utf-8"))["version"]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


def edit(path: Path, original: str, marker: str) -> int:
    """Saves index.md with the marker in its first paragraph; returns the
    time (ns, CLOCK_REALTIME) just before the write began."""
    text = original.replace(FIRST_PARAGRAPH, f"Edit {marker}: " + FIRST_PARAGRAPH, 1)
    t0 = time.time_ns()
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return t0


def measure(d, index: Path, edits: int, gap_ms: int, events=None, events_a=None) -> list:
    """EDITS saves of index (after WARMUP), each timed from the write to the
    page's DOM and paint; the page must be loaded.  Saves are at least
    GAP_MS apart (an author's pace: a save within the watcher's quiet window
    of the previous one is a burst, folded on purpose, docs/watch.md)."""
    from selenium.common.exceptions import TimeoutException

    d.execute_script(OBSERVER)
    d.set_script_timeout(EDIT_DEADLINE)
    offset, _ = handshake(d)
    original = index.read_text(encoding="utf-8")
    samples = []
    run_id = os.getpid()
    last = 0.0
    for i in range(WARMUP + edits):
        marker = f"m{run_id}x{i}"
        d.execute_script("window.__bench.want = arguments[0]", marker)
        pause = last + gap_ms / 1000 - time.monotonic()
        if pause > 0:
            time.sleep(pause)  # the author's pace, not a wait for a result
        last = time.monotonic()
        t0 = edit(index, original, marker) / 1e6
        try:
            r = d.execute_async_script(WAIT_RESULT, marker)
        except TimeoutException:
            raise TimeoutException(
                f"edit {i} did not reach the page within {EDIT_DEADLINE} s") from None
        if i >= WARMUP:
            sample = {k: r[k] - offset - t0 for k in ("dom", "frame", "paint")}
            arrived = events.arrivals.get(marker) if events else None
            sample["event"] = arrived / 1e6 - t0 if arrived else None
            if events_a:
                at_a = events_a.arrivals.get(marker)
                sample["event_a"] = at_a / 1e6 - t0 if at_a else None
            v = events.versions.get(marker) if events else None
            sample["version"], sample["t0"] = v, t0
            port = d.execute_script(
                "return (window.__benchPort || []).find((m) => m.version === arguments[0]) || null",
                v) if v is not None else None
            if port:
                sample["message"] = port["got"] - offset - t0
                sample["patched"] = port["done"] - offset - t0
            samples.append(sample)
    return samples


def page_ready(d, url: str, ready_js: str):
    from selenium.webdriver.support.ui import WebDriverWait

    d.get(url)
    WebDriverWait(d, 15, poll_frequency=0.02).until(lambda d: d.execute_script(ready_js))


def run(args) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="contentd-preview-bench-"))
    watch = b = peer = None
    try:
        watch = Watch(tmp, args.mode, args.quiet_ms, args.replicas)
        s = watch.view
        if args.peer == "vite":
            peer = VitePeer(tmp)
        try:
            b = chrome.start(init_scripts=(PORT_PROBE,))
        except chrome.BrowserUnavailable as e:
            sys.exit(f"bench: {e}")
        d = b.driver
        page_ready(d, f"{s.base_url}/preview/{KIND}/{NAME}",
                   "return document.querySelector('.cp-conn').dataset.state === 'live'"
                   " && document.querySelector('.cp-content h1') !== null")
        events = EventClock(s.port)
        events.start()
        events_a = EventClock(watch.server.port) if watch.view is not watch.server else None
        if events_a:
            events_a.start()
        offset0, unc0 = handshake(d)
        try:
            samples = measure(d, watch.item_dir / "index.md", args.edits, args.gap_ms, events,
                              events_a)
        except Exception:
            # An edit that never reached the page: what the watch and the
            # server said, and whether the plain SSE client got its event.
            print(f"bench: events seen by the plain SSE client: {sorted(events.versions.items())[-3:]}",
                  file=sys.stderr)
            for log in sorted(tmp.glob("*.log")):
                tail = log.read_text(errors="replace").splitlines()[-8:]
                print(f"bench: the end of {log.name}:\n  " + "\n  ".join(tail), file=sys.stderr)
            raise
        events.stop()
        if events_a:
            events_a.stop()
        server_steps.attach(samples, watch.server.log_path, watch.tmp / "push.log")
        offset1, unc1 = handshake(d)
        violations = d.execute_script("return window.__cspViolations")
        res = {
            "gap_ms": args.gap_ms,
            "mode": watch.describe(),
            "edits": len(samples),
            "samples": samples,
            "offset_ms": offset0,
            "uncertainty_ms": unc0,
            "drift_ms": offset1 - offset0,
            "uncertainty_after_ms": unc1,
            "violations": violations,
            "chromium": d.capabilities.get("browserVersion", "?"),
        }
        if peer:
            page_ready(d, peer.url, "return document.querySelector('.cp-content h1') !== null")
            res["peer"] = {"name": f"Vite {peer.version} dev server, HMR",
                           "samples": measure(d, peer.index, args.edits, args.gap_ms)}
        return res
    finally:
        if b:
            b.quit()
        if peer:
            peer.stop()
        if watch:
            watch.close()
        shutil.rmtree(tmp, ignore_errors=True)


def report(res: dict) -> str:
    rows = []
    if any(s.get("event_a") is not None for s in res["samples"]):
        xs = [s["event_a"] for s in res["samples"] if s.get("event_a") is not None]
        rows.append(f"| update event at a plain SSE client of replica A (the watch's) | "
                    f"{percentile(xs, 50):.1f} | {percentile(xs, 99):.1f} | "
                    f"{statistics.mean(xs):.1f} | {min(xs):.1f} | {max(xs):.1f} |")
    for key, label in server_steps.STEPS:
        xs = [s[key] for s in res["samples"] if s.get(key) is not None]
        if xs:
            client = any(s.get("c_posted") is not None for s in res["samples"])
            # push mode: the event is the client's watcher's
            who = "" if key.startswith("c_") or (client and key == "s_event") else "*server:* "
            label = "client: " + label if client and key == "s_event" else label
            rows.append(f"| {who}{label} | {percentile(xs, 50):.1f} | "
                        f"{percentile(xs, 99):.1f} | {statistics.mean(xs):.1f} | "
                        f"{min(xs):.1f} | {max(xs):.1f} |")
    for key, label in (("event", "update event at a plain SSE client"),
                       ("message", "update message in the tab (from the shared worker)"),
                       ("patched", "the tab's handler done (blocks patched)"),
                       ("dom", "marker in the page's DOM"),
                       ("paint", "marker painted (frame after it)")):
        xs = [s[key] for s in res["samples"] if s.get(key) is not None]
        if not xs:
            continue
        rows.append(f"| {label} | {percentile(xs, 50):.1f} | {percentile(xs, 99):.1f} | "
                    f"{statistics.mean(xs):.1f} | {min(xs):.1f} | {max(xs):.1f} |")
    share = [s["paint"] - s["event"] for s in res["samples"] if s["event"] is not None]
    if share:
        rows.append(f"| *of which the browser: event → painted* | {percentile(share, 50):.1f} | "
                    f"{percentile(share, 99):.1f} | {statistics.mean(share):.1f} | "
                    f"{min(share):.1f} | {max(share):.1f} |")
    peer = res.get("peer")
    if peer:
        ours = [x["paint"] for x in res["samples"]]
        theirs = [x["paint"] for x in peer["samples"]]
        rows.append(f"| **peer: {peer['name']}**, marker painted | {percentile(theirs, 50):.1f} | "
                    f"{percentile(theirs, 99):.1f} | {statistics.mean(theirs):.1f} | "
                    f"{min(theirs):.1f} | {max(theirs):.1f} |")
        rows.append(f"| *contentd ÷ peer, painted* | {percentile(ours, 50) / percentile(theirs, 50):.2f}× | "
                    f"{percentile(ours, 99) / percentile(theirs, 99):.2f}× | "
                    f"{statistics.mean(ours) / statistics.mean(theirs):.2f}× | | |")
    return "\n".join([
        f"watch mode: {res['mode']}",
        f"edits: {res['edits']} (after {WARMUP} warm-up edits), one at a time, "
        f"at least {res['gap_ms']} ms apart",
        f"machine: {machine()}; Chromium {res['chromium']} (headless)",
        f"clock offset page - bench: {res['offset_ms']:+.2f} ms "
        f"(+/- {res['uncertainty_ms']:.2f} ms); drift over the run: {res['drift_ms']:+.2f} ms",
        "",
        "| save → | p50 ms | p99 ms | mean ms | min ms | max ms |",
        "|---|---:|---:|---:|---:|---:|",
        *rows,
    ])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--edits", type=int, default=100)
    ap.add_argument("--mode", choices=["auto", "serve", "push"], default="auto",
                    help="watch mode: contentd serve --watch, content push --watch, or the "
                         "first that works (auto)")
    ap.add_argument("--quiet-ms", type=int, default=None,
                    help="the watcher's quiet window (default: the watcher's own, 50 ms)")
    ap.add_argument("--gap-ms", type=int, default=250,
                    help="least time between two saves (default 250 ms; 0: back to back)")
    ap.add_argument("--peer", choices=["vite", "none"], default="vite",
                    help="also measure a Vite dev server with HMR in the same run (default)")
    ap.add_argument("--replicas", action="store_true",
                    help="save on replica A, paint from replica B (two contentd on the MongoDB "
                         "wire-protocol test server)")
    ap.add_argument("--json", type=Path, help="also write the raw samples here")
    args = ap.parse_args()
    if srv.missing_contentd():
        sys.exit(f"bench: {srv.missing_contentd()}")
    res = run(args)
    if res["violations"]:
        print(f"bench: the page reported CSP violations: {res['violations']}", file=sys.stderr)
    text = report(res)
    print(text)
    out = ROOT / "bench" / "results" / "preview"
    out.mkdir(parents=True, exist_ok=True)
    (out / ("latest-replicas.txt" if args.replicas else "latest.txt")).write_text(text + "\n", encoding="utf-8")
    if args.json:
        args.json.write_text(json.dumps(res, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
