# SPDX-License-Identifier: MIT
"""`content push` on the production shape, beside `aws s3 sync` (run by
bench/push/run --store rgw).

1. A course in a temporary folder: index.md, LESSONS lessons of 2-8 KB of
   realistic markdown in folders of 50 (fixed seed), and one 20 MiB asset.
2. A real Ceph RADOS Gateway (tests/integration/helpers/rgw.py: one
   monitor, one OSD on memstore, radosgw on loopback) with two buckets:
   `contentd-bench-I` for `contentd serve --s3-endpoint ... --s3-bucket ...`
   and `aws-bench-I` for `aws s3 sync` of the same folder (I: the round).
3. In the same run, each timed from the client's start to its exit:
   - initial: `content push DIR`, then `aws s3 sync DIR s3://aws-bench-I/course`,
     INITIAL_ROUNDS times, each to new buckets and a new contentd (median);
   - unchanged: both again on the unchanged folder (ROUNDS times, median);
   - one file changed: one lesson rewritten, then `content push`, then
     `aws s3 sync` (which sees the same change), ROUNDS times, median.
4. Prints each figure, the ratio aws / contentd and the targets: initial
   >= 1.5, unchanged >= 20, one file changed <= 50 ms for contentd.
5. Then the same one-file change where the server has not just uploaded
   every blob (docs/checks.md, "Facts kept with the version"), contentd
   alone, ROUNDS times each, median: once the recent bytes have expired
   (contentd restarted with CONTENTD_RECENT_BYTES_SECONDS=0, then one
   push after another) and right after a restart (contentd restarted
   before each push).  For each push, the blob store calls it cost the
   server, from its /metrics: blobs opened (each a ranged GET from S3, the
   recent bytes being off) and objects read (manifests).
"""
from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "integration"))
from helpers import rgw  # noqa: E402
from helpers.server import Server, clean_env, content_binary  # noqa: E402

ACCESS_KEY = "BENCHKEY"
SECRET_KEY = "BENCHSECRET"
CONTENTD_BUCKET = "contentd-bench"
AWS_BUCKET = "aws-bench"
ASSET_BYTES = 20 * 1024 * 1024
DUR = re.compile(r"method=(\w+) path=(\S+) status=(\d+) bytes=\d+ dur_ms=([\d.]+)")
WORDS = ("the lesson shows how a request travels from the client to the server and back, "
         "with every header and status code explained step by step so that a reader can "
         "follow along in a terminal of their own").split()


def paragraph(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(30, 90))) + ".\n\n"


def lesson(rng: random.Random, i: int, target: int) -> str:
    out = [f"---\ntitle: Lesson {i}\n---\n# Lesson {i}\n\n"]
    size = len(out[0])
    n = 0
    while size < target:
        n += 1
        part = f"## Step {n}\n\n" + paragraph(rng)
        if n % 3 == 0:
            part += f"```python\ndef step_{n}():\n    return {rng.randint(0, 10**6)}\n```\n\n"
        if n % 4 == 0:
            part += "| name | value |\n|---|---|\n" + "".join(
                f"| k{j} | {rng.randint(0, 999)} |\n" for j in range(4)) + "\n"
        out.append(part)
        size += len(part)
    return "".join(out)


def make_course(root: Path, lessons: int) -> list[Path]:
    """Writes the course; returns the lesson files."""
    rng = random.Random(17)
    (root / "index.md").write_text("---\nkind: course\nname: bench-course\ntitle: Bench course\n"
                                   "---\n# Bench course\n\nA thousand lessons, and the\n"
                                   "[lecture recording](assets/lecture.bin).\n")
    files = []
    for i in range(lessons):
        d = root / f"module-{i // 50:02d}"
        d.mkdir(exist_ok=True)
        f = d / f"lesson-{i:04d}.md"
        f.write_text(lesson(rng, i, rng.randint(2048, 8192)))
        files.append(f)
    (root / "assets").mkdir()
    (root / "assets" / "lecture.bin").write_bytes(rng.randbytes(ASSET_BYTES))
    return files


def s3_env(tmp: Path) -> dict:
    return clean_env({"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
                      "AWS_DEFAULT_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true",
                      "AWS_CONFIG_FILE": str(tmp / "aws-config"),
                      "AWS_SHARED_CREDENTIALS_FILE": str(tmp / "aws-credentials"),
                      "HOME": str(tmp), "AWS_PAGER": ""})


def timed(argv: list[str], env: dict, what: str) -> float:
    t0 = time.monotonic()
    p = subprocess.run(argv, capture_output=True, env=env, timeout=3600)
    took = time.monotonic() - t0
    if p.returncode != 0:
        raise SystemExit(f"{what} failed ({p.returncode}): {p.stderr.decode()[-800:]}")
    return took


def server_share(text: bytes) -> str:
    """What the server spent on the requests logged in text:
    "GET item 1 x 3 ms, blobs/missing 1 x 2 ms, PUT blob 1 x 9 ms, commit 1 x 12 ms"
    (PUTs overlap: their sum is not wall time)."""
    total: dict[str, list[float]] = {}
    for m in DUR.finditer(text.decode("utf-8", "replace")):
        method, path, _, ms = m.groups()
        if path.endswith("/blobs/missing"):
            k = "blobs/missing"
        elif method == "PUT" and "/blobs/" in path:
            k = "PUT blob"
        elif method == "POST" and path.endswith("/versions"):
            k = "commit"
        elif method == "GET" and path.startswith("/api/v1/content/"):
            k = "GET item"
        else:
            k = f"{method} {path}"
        total.setdefault(k, []).append(float(ms))
    parts = [f"{k} {len(v)} x {sum(v):.0f} ms" for k, v in total.items()]
    return ", ".join(parts) or "no request"


def make_buckets(endpoint: str, tmp: Path, i: int) -> tuple[str, str]:
    """Round i's two new buckets: contentd's and the AWS CLI's."""
    env = s3_env(tmp)
    names = (f"{CONTENTD_BUCKET}-{i}", f"{AWS_BUCKET}-{i}")
    for b in names:
        timed(["aws", "--endpoint-url", endpoint, "s3api", "create-bucket", "--bucket", b], env,
              f"creating bucket {b}")
    return names


def start_contentd(cluster: rgw.Rgw, tmp: Path, bucket: str, i: int,
                   env: dict | None = None) -> Server:
    return Server(tmp / f"data-{i}", tmp / f"contentd-{i}.log",
                  ["--s3-endpoint", cluster.endpoint, "--s3-bucket", bucket, "--s3-path-style"],
                  {"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
                   **(env or {})}).start()


OP_COUNT = re.compile(r'^contentd_blobstore_op_duration_seconds_count\{op="(\w+)"\} (\d+)', re.M)


def store_calls(server: Server) -> dict[str, int]:
    """The blob store calls the server has made, by operation (/metrics)."""
    with urllib.request.urlopen(f"{server.base_url}/metrics", timeout=10) as r:
        text = r.read().decode()
    return {op: int(n) for op, n in OP_COUNT.findall(text)}


def cold_pushes(cluster: rgw.Rgw, tmp: Path, bucket: str, i: int, push_argv: list[str],
                push_env: dict, lessons: list[Path], rounds: int, restart: bool) -> list[tuple]:
    """ROUNDS pushes of one changed lesson with the recent bytes off, the
    server restarted before each when restart: [(seconds, opens, gets)]."""
    off = {"CONTENTD_RECENT_BYTES_SECONDS": "0"}
    out, server = [], None
    try:
        for r in range(rounds):
            if server is None or restart:
                if server:
                    server.stop()
                server = start_contentd(cluster, tmp, bucket, i, off)
            f = lessons[(r * 53 + 11) % len(lessons)]
            f.write_text(f.read_text() + f"\nChanged {'after a restart' if restart else 'later'} "
                         f"in round {r}.\n")
            before = store_calls(server)
            at = server.log_path.stat().st_size
            env = dict(push_env, CONTENT_SERVER=server.base_url)  # a new port each start
            took = timed(push_argv, env, "content push (one file changed, cold)")
            after = store_calls(server)
            out.append((took, after.get("open", 0) - before.get("open", 0),
                        after.get("get_object", 0) - before.get("get_object", 0)))
    finally:
        if server:
            server.stop()
    last = server.log_path.read_bytes()[at:]
    facts = [m.decode() for m in re.findall(rb'msg="stored facts read"[^\n]*', last)]
    print(f"server side of the last push ({'after a restart' if restart else 'expired'}): "
          f"{server_share(last)}" + (f"; {facts[-1]}" if facts else ""))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lessons", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=5,
                    help="unchanged and one-file-changed pushes, median reported (default 5)")
    ap.add_argument("--initial-rounds", type=int, default=3,
                    help="initial pushes, each to new buckets and a new server (default 3)")
    args = ap.parse_args()
    if rgw.missing():
        raise SystemExit(rgw.missing())
    if not shutil.which("aws"):
        raise SystemExit("the AWS CLI is missing (Debian awscli; bench/push/run installs it)")
    tmp = Path(tempfile.mkdtemp(prefix="push-rgw-bench-"))
    cluster = server = None
    try:
        src = tmp / "course"
        src.mkdir()
        lessons = make_course(src, args.lessons)
        nfiles = sum(1 for p in src.rglob("*") if p.is_file())
        cluster = rgw.Rgw(tmp / "rgw").start()
        cluster.create_user("bench", ACCESS_KEY, SECRET_KEY)
        push_argv = [str(content_binary()), "push", str(src)]
        aws_env = s3_env(tmp)
        firsts, firsts_aws = [], []
        for i in range(args.initial_rounds):
            # A first push ever: new buckets, a new server, and no hashes
            # kept by the client (cli/hash_cache.c) from an earlier push.
            if server:
                server.stop()
            bucket, aws_bucket = make_buckets(cluster.endpoint, tmp, i)
            server = start_contentd(cluster, tmp, bucket, i)
            push_env = clean_env({"CONTENT_SERVER": server.base_url,
                                  "XDG_CACHE_HOME": str(tmp / f"cache-{i}")})
            aws_argv = ["aws", "--endpoint-url", cluster.endpoint, "s3", "sync",
                        "--only-show-errors", str(src), f"s3://{aws_bucket}/course"]
            log = server.log_path
            starts = [("initial", log.stat().st_size)]  # (push, where its requests begin)
            firsts.append(timed(push_argv, push_env, "content push (initial)"))
            firsts_aws.append(timed(aws_argv, aws_env, "aws s3 sync (initial)"))
        first, first_aws = statistics.median(firsts), statistics.median(firsts_aws)
        same, same_aws, one, one_aws = [], [], [], []
        for r in range(args.rounds):
            starts.append(("unchanged", log.stat().st_size))
            same.append(timed(push_argv, push_env, "content push (unchanged)"))
            same_aws.append(timed(aws_argv, aws_env, "aws s3 sync (unchanged)"))
        for r in range(args.rounds):
            f = lessons[(r * 37) % len(lessons)]
            f.write_text(f.read_text() + f"\nChanged in round {r}.\n")
            starts.append(("one file changed", log.stat().st_size))
            one.append(timed(push_argv, push_env, "content push (one file changed)"))
            one_aws.append(timed(aws_argv, aws_env, "aws s3 sync (one file changed)"))
        rows = [("initial push", first, first_aws, ">= 1.5x", first_aws / first >= 1.5),
                ("unchanged re-push", statistics.median(same), statistics.median(same_aws),
                 ">= 20x", statistics.median(same_aws) / statistics.median(same) >= 20),
                ("one file changed", statistics.median(one), statistics.median(one_aws),
                 "<= 50 ms", statistics.median(one) <= 0.050)]
        print(f"{nfiles} files ({args.lessons} lessons of 2-8 KB, one 20 MiB asset, index.md); "
              f"Ceph RGW on loopback; medians of {args.initial_rounds} initial pushes and of "
              f"{args.rounds} rounds after; load average {os.getloadavg()[0]:.1f}")
        print("| push | content push s | aws s3 sync s | aws / contentd | target | met |")
        print("|---|---:|---:|---:|---|---|")
        for name, c, a, target, met in rows:
            print(f"| {name} | {c:.3f} | {a:.3f} | {a / c:.1f} | {target} | "
                  f"{'yes' if met else 'no'} |")
        print("all rounds (s): initial contentd " + " ".join(f"{x:.3f}" for x in firsts) +
              "; aws " + " ".join(f"{x:.3f}" for x in firsts_aws))
        print("all rounds (s): unchanged contentd " + " ".join(f"{x:.3f}" for x in same) +
              "; aws " + " ".join(f"{x:.3f}" for x in same_aws))
        print("all rounds (s): one changed contentd " + " ".join(f"{x:.3f}" for x in one) +
              "; aws " + " ".join(f"{x:.3f}" for x in one_aws))
        server.stop()  # every request logged
        text = log.read_bytes()
        shares = {}
        for i, (which, at) in enumerate(starts):
            end = starts[i + 1][1] if i + 1 < len(starts) else len(text)
            shares[which] = server_share(text[at:end])
        for k, v in shares.items():
            print(f"server side of the last {k} push: {v}")
        server = None
        last = args.initial_rounds - 1
        for label, restart in (("one file changed, recent bytes expired", False),
                               ("one file changed, right after a restart", True)):
            runs = cold_pushes(cluster, tmp, bucket, last, push_argv, push_env, lessons,
                               args.rounds, restart)
            med = statistics.median(t for t, _, _ in runs)
            print(f"| {label} | {med:.3f} | | | <= 50 ms | {'yes' if med <= 0.050 else 'no'} |")
            print(f"all rounds ({label}): " +
                  " ".join(f"{t:.3f} s ({o} blobs opened, {g} objects read)" for t, o, g in runs))
    finally:
        if server:
            server.stop()
        if cluster:
            cluster.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
