#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""What a commit costs on a running contentd (POST …/versions, wall time at
the client, loopback), on a course of N lessons (gen_course.py): the first
commit of the whole course, then ROUNDS commits that each change one lesson
(the usual commit), each after its blob is uploaded.  Prints the first
commit's time and the median, p90 and maximum of the one-lesson commits.

Run it once per contentd build to compare two builds (docs/performance.md
compares the build before the server ran the checks with the one after).

usage: commit_bench.py CONTENTD [--lessons N] [--rounds R] [--label L]
"""
import argparse
import hashlib
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Api:
    def __init__(self, port):
        self.c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def call(self, method, path, body=None, ctype="application/json"):
        data = json.dumps(body).encode() if ctype == "application/json" and body is not None \
            else body
        self.c.request(method, path, data, {"Content-Type": ctype} if data is not None else {})
        r = self.c.getresponse()
        out = r.read()
        return r.status, out

    def put_blobs(self, blobs):
        st, out = self.call("POST", "/api/v1/blobs/missing", {"sha256": list(blobs)})
        assert st == 200, out
        for sha in json.loads(out)["missing"]:
            st, out = self.call("PUT", f"/api/v1/blobs/{sha}", blobs[sha],
                                "application/octet-stream")
            assert st in (200, 201, 204), out


def listing(root):
    files, blobs = [], {}
    for p in sorted(root.rglob("*")):
        if p.is_file():
            data = p.read_bytes()
            sha = hashlib.sha256(data).hexdigest()
            blobs[sha] = data
            files.append({"path": p.relative_to(root).as_posix(), "sha256": sha,
                          "size": len(data)})
    return files, blobs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("contentd")
    ap.add_argument("--lessons", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=40)
    ap.add_argument("--label", default="")
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="commit-bench-"))
    course = tmp / "course"
    subprocess.run([sys.executable, str(HERE / "gen_course.py"), str(course), str(a.lessons)],
                   check=True, stdout=subprocess.DEVNULL)
    port = free_port()
    log = open(tmp / "contentd.log", "wb")
    proc = subprocess.Popen([a.contentd, "serve", "--data", str(tmp / "data"), "--listen",
                             f"127.0.0.1:{port}"], stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "contentd did not start"
                time.sleep(0.05)
        api = Api(port)
        st, out = api.call("POST", "/api/v1/content", {"kind": "course", "name": "bench"})
        assert st == 201, out
        files, blobs = listing(course)
        api.put_blobs(blobs)
        t0 = time.perf_counter()
        st, out = api.call("POST", "/api/v1/content/course/bench/versions",
                           {"base_version": 0, "files": files})
        first = (time.perf_counter() - t0) * 1000
        assert st == 201, out
        version, times = 1, []
        for i in range(a.rounds):
            lesson = course / f"lesson-{1 + i % a.lessons:03d}.md"
            lesson.write_text(lesson.read_text() + f"\nEdit {i}.\n")
            files, blobs = listing(course)
            sha = hashlib.sha256(lesson.read_bytes()).hexdigest()
            api.put_blobs({sha: blobs[sha]})
            t0 = time.perf_counter()
            st, out = api.call("POST", "/api/v1/content/course/bench/versions",
                               {"base_version": version, "files": files})
            times.append((time.perf_counter() - t0) * 1000)
            assert st == 201, out
            version = json.loads(out)["version"]
        times.sort()
        print(f"{a.label or a.contentd}: {a.lessons} lessons, {len(files)} files; first commit "
              f"{first:.1f} ms; one lesson changed ({a.rounds} commits): median "
              f"{statistics.median(times):.2f} ms, p90 {times[int(0.9 * len(times)) - 1]:.2f} "
              f"ms, max {times[-1]:.2f} ms")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)
        log.close()


if __name__ == "__main__":
    main()
