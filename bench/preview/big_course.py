#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The preview page of a big course, in headless Chromium (run by
bench/preview/run --big-course): a generated course of N lessons (default
2,000: some 12 MB of markdown) and 5,000 assets is pushed to a fresh
contentd, then the page of lesson N/2 is opened ROUNDS times, each in a
fresh browser (no shared worker holding the item yet, an empty cache), and
the page reports

  - shown: navigation start to the lesson's heading in the DOM (a
    MutationObserver installed before the page's own scripts), and
  - painted: to the end of the first frame painted after that (a task
    queued from the next animation frame),

both from performance.timeOrigin, so a whole page load: shell, scripts,
shared worker, event stream (the lesson whole and a stub per other
lesson, gzip), rendering.  Then one lesson is saved (pushed) ROUNDS times
and the time from the commit's request to the changed text painted is
reported, with how many sidebar entries each update redrew.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT / "tests" / "integration"))
sys.path.insert(0, str(ROOT / "bench"))

from helpers import browser as chrome  # noqa: E402
from machine import machine  # noqa: E402
from helpers import server as srv  # noqa: E402
from helpers.api import Client  # noqa: E402
from helpers.sample import PNG, course, course_lesson  # noqa: E402

# Notes when the lesson's heading is in the DOM, and when that frame was
# painted.  window.__want is set from the address (the lesson's number).
PROBE = r"""
(() => {
  const m = /lessons\/0*(\d+)\.md$/.exec(location.pathname);
  if (!m) return;
  const want = 'Lesson ' + m[1];
  const mo = new MutationObserver(() => {
    const h = document.querySelector('.cp-content h1');
    if (!h || h.textContent !== want || window.__shown) return;
    window.__shown = performance.now();
    requestAnimationFrame(() => setTimeout(() => { window.__painted = performance.now(); }, 0));
    mo.disconnect();
  });
  mo.observe(document, {subtree: true, childList: true, characterData: true});
})();
"""

# Counts the sidebar entries an update replaces, and notes when a marker
# text is painted (window.__mark set by the bench before the push).
WATCH = r"""
window.__redrawn = 0;
const list = document.querySelector('.cp-doc-list');
new MutationObserver((ms) => { for (const m of ms) window.__redrawn += m.addedNodes.length; })
  .observe(list, {childList: true});
new MutationObserver(() => {
  if (window.__mark && !window.__markShown &&
      document.querySelector('.cp-content').textContent.includes(window.__mark)) {
    window.__markShown = performance.timeOrigin + performance.now();
    requestAnimationFrame(() => setTimeout(() => {
      window.__markPainted = performance.timeOrigin + performance.now();
    }, 0));
  }
}).observe(document.querySelector('.cp-content'), {subtree: true, childList: true, characterData: true});
"""


def wait(driver, script, seconds=60.0):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        v = driver.execute_script(script)
        if v:
            return v
        time.sleep(0.01)
    raise RuntimeError(f"timed out waiting for: {script}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lessons", type=int, default=2000)
    ap.add_argument("--assets", type=int, default=5000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--results", default=str(ROOT / "bench/results/preview/big-course.txt"))
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="preview-big-"))
    server = srv.Server(tmp / "data", tmp / "contentd.log").start()
    b = None
    try:
        api = Client(server.port)
        files = course("course", "big", a.lessons, assets_per_lesson=a.assets // a.lessons)
        for i in range(a.assets - (a.assets // a.lessons) * a.lessons):
            files[f"images/extra-{i:04d}.png"] = PNG + f"extra {i}".encode()
        md = sum(len(v) for k, v in files.items() if k.endswith(".md"))
        print(f"==> pushing {a.lessons} lessons ({md / 1e6:.1f} MB of markdown), "
              f"{len(files) - a.lessons - 1} assets", file=sys.stderr)
        api.create_ok("course", "big")
        t0 = time.monotonic()
        version = api.push_ok("course", "big", files)
        push_s = time.monotonic() - t0
        mid = a.lessons // 2
        url = f"{server.base_url}/preview/course/big/lessons/{mid:04d}.md"
        loads = []
        for r in range(a.rounds):
            if b:
                b.quit()
            b = chrome.start(init_scripts=(PROBE,))  # a fresh browser: no worker, no cache
            b.driver.get(url)
            painted = wait(b.driver, "return window.__painted")
            shown = b.driver.execute_script("return window.__shown")
            entries = b.driver.execute_script("return document.querySelectorAll('.cp-doc-link').length")
            loads.append((shown, painted, entries))
        # Saves: the tab of the last round stays open.
        b.driver.execute_script(WATCH)
        saves = []
        for r in range(a.rounds):
            mark = f"Saved edit number {r}."
            b.driver.execute_script("window.__mark = arguments[0]; window.__markShown = 0;"
                                    "window.__markPainted = 0; window.__redrawn = 0;", mark)
            files[f"lessons/{mid:04d}.md"] = course_lesson(mid) + f"\n{mark}\n".encode()
            files["lessons/0007.md"] = course_lesson(7, version=r + 2)
            t_send = time.time() * 1000
            version = api.push_ok("course", "big", files, base=version)
            painted = wait(b.driver, "return window.__markPainted")
            saves.append((painted - t_send, b.driver.execute_script("return window.__redrawn")))
    finally:
        if b:
            b.quit()
        server.stop()
    shown = sorted(x[0] for x in loads)
    painted = sorted(x[1] for x in loads)
    save_ms = sorted(x[0] for x in saves)
    lines = [
        f"Preview of a course of {a.lessons} lessons ({md / 1e6:.1f} MB of markdown, "
        f"{a.assets} assets; push {push_s:.1f} s), lesson {mid} opened {a.rounds} times:",
        f"machine: {machine()}",
        "",
        "| measure | median ms | max ms |",
        "|---|---:|---:|",
        f"| navigation start → lesson in the DOM | {statistics.median(shown):.0f} | {shown[-1]:.0f} |",
        f"| navigation start → lesson painted | {statistics.median(painted):.0f} | {painted[-1]:.0f} |",
        f"| save (commit sent) → edit painted | {statistics.median(save_ms):.0f} | {save_ms[-1]:.0f} |",
        "",
        f"sidebar entries: {loads[-1][2]} (every document); entries each save redrew: "
        f"{sorted(set(x[1] for x in saves))} (the saved lessons' own; the list has {loads[-1][2]})",
    ]
    text = "\n".join(lines)
    print(text)
    os.makedirs(os.path.dirname(a.results), exist_ok=True)
    Path(a.results).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
