# SPDX-License-Identifier: MIT
"""A push of many small files (run by bench/push/run).

1. A temporary folder holds index.md and FILES-1 files of a few bytes in
   folders of 500, each with content of its own (so every blob travels).
2. `contentd serve` on a fresh data folder; `content push DIR` is timed
   (wall clock, from start to exit), then a push of the unchanged folder
   (hashing and one GET: nothing to send), then a push with one file
   changed (one blob, one commit of the whole list).
3. From the server's request log: how many blobs were PUT and how long
   the commit (POST …/versions) took on the server.

The figures are a laptop's view of what limits a large item: the number of
blob uploads (each a request, and on the data folder an fsync), not the
commit of the file list.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "integration"))
from helpers.server import Server, clean_env, content_binary  # noqa: E402

DUR = re.compile(r"method=(\w+) path=(\S+) status=(\d+) bytes=\d+ dur_ms=([\d.]+)")


def make_folder(root: Path, n: int) -> None:
    (root / "index.md").write_text("---\nkind: tutorial\nname: many\n---\n# Many files\n")
    for i in range(n - 1):
        d = root / f"part-{i // 500:03d}"
        if i % 500 == 0:
            d.mkdir()
        (d / f"file-{i:06d}.txt").write_text(f"{i}\n")


def push(server: Server, src: Path) -> float:
    t0 = time.monotonic()
    p = subprocess.run([str(content_binary()), "push", str(src)], capture_output=True,
                       env=clean_env({"CONTENT_SERVER": server.base_url,
                                     "XDG_CACHE_HOME": str(src.parent / "cache")}), timeout=3600)
    took = time.monotonic() - t0
    if p.returncode != 0:
        raise SystemExit(f"content push failed: {p.stderr.decode()[-500:]}")
    return took


def log_stats(log: str) -> tuple[int, list[float]]:
    puts, commits = 0, []
    for m in DUR.finditer(log):
        method, path, status, ms = m.groups()
        if method == "PUT" and path.startswith("/api/v1/blobs/"):
            puts += 1
        if method == "POST" and path.endswith("/versions"):
            commits.append(float(ms))
    return puts, commits


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=20_000)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="push-bench-"))
    try:
        src = tmp / "src"
        src.mkdir()
        make_folder(src, args.files)
        server = Server(tmp / "data", tmp / "contentd.log").start()
        try:
            first = push(server, src)
            puts, first_commit = log_stats((tmp / "contentd.log").read_text())
            again = push(server, src)
            (src / "part-000" / "file-000000.txt").write_text("changed\n")
            one = push(server, src)
        finally:
            server.stop()
        _, commits = log_stats((tmp / "contentd.log").read_text())
        print(f"| files | first push s | blobs PUT | commit ms (server) | unchanged push s "
              f"| one file changed s | commit ms |")
        print("|---:|---:|---:|---:|---:|---:|---:|")
        print(f"| {args.files} | {first:.1f} | {puts} | {first_commit[0]:.0f} | {again:.2f} "
              f"| {one:.2f} | {commits[-1]:.0f} |")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
