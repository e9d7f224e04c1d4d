#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""SSE fan-out: contentd against nginx + nchan and a Node.js broadcaster.

Run through bench/sse/run, which installs what is missing, builds, raises
the open-file limit and kills whatever this leaves behind.  For each server,
in one run and with the same client (sse_load):

  1. start the server on a free 127.0.0.1 port, wait for /healthz;
  2. contentd: create tutorial/sse-bench and push version 1;
  3. read the server's RSS, open N subscribers, wait until all are ready,
     let them sit idle, read the RSS again and the CPU it used while idle;
  4. publish a few warm-up events (not measured: the first fan-out pays for
     JIT compilation and first-touch allocations), then M events one after
     the other: each once every live subscriber
     has the previous one (or after a timeout), with a short gap; the
     publish time is taken right before the publishing request is sent
     (contentd: the commit, after the blob is uploaded);
  5. stop the client and the server, and work out, over every
     (subscriber, event) pair, the delivery latency, and per event the time
     until the last subscriber had it.

Per server it also reports its own CPU time per delivery (utime + stime
of its processes from /proc/PID/stat over the measured events, divided by
events x subscribers, in µs) and the bytes on the wire per delivery (what
the client read from its sockets over the same span — HTTP chunk framing,
keep-alives and all — divided likewise).  Every client asks for
gzip (Accept-Encoding, as browsers do: --no-gzip turns it off); each
server answers as it is configured: contentd compresses every event once
for all, nchan and the Node broadcaster send it plain.  --payloads
2048,204800 measures every server at each size in one run (contentd: a
document whose update event is about that big) and prints the CPU ratios
against their targets; --course-lessons N also times the snapshot of a
generated course of N lessons on contentd.

The machine is shared: the CPU other processes used while each server
published is measured and shown.  With --rounds R every server is measured
R times, interleaved, and the round with the least such noise is reported
(all rounds are listed too).

All traffic stays on 127.0.0.1.
"""
import argparse
import ctypes
import hashlib
import http.client
import json
import os
import re
import resource
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.dirname(HERE))
from machine import machine  # noqa: E402  (bench/machine.py)

CHANNEL_PATH = "/sub"
ITEM = ("tutorial", "sse-bench")

children = []  # every Popen we started, killed on exit


def say(msg):
    print(f"==> {msg}", file=sys.stderr, flush=True)


# ---- processes ---------------------------------------------------------


def _die_with_parent():
    """Runs in the child: SIGKILL it when this driver dies, whatever way."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def spawn(argv, log, pgid_file, **kw):
    with open(log, "ab") as out:
        p = subprocess.Popen(argv, stdout=kw.pop("stdout", out), stderr=out,
                             start_new_session=True, preexec_fn=_die_with_parent, **kw)
    children.append(p)
    with open(pgid_file, "a") as f:
        f.write(f"{p.pid}\n")
    return p


def stop(p, grace=5.0):
    """SIGTERM the process group, SIGKILL it after grace seconds."""
    if p.poll() is None:
        try:
            os.killpg(p.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            p.wait(grace)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(p.pid, signal.SIGKILL)  # what is left of the group (nginx workers)
    except ProcessLookupError:
        pass
    try:
        p.wait(2)
    except subprocess.TimeoutExpired:
        pass


def kill_all(*_):
    for p in children:
        stop(p, grace=1.0)
    children.clear()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_status(pid, key):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def busy_ticks():
    """CPU ticks spent in user, nice and system mode by the whole machine."""
    with open("/proc/stat") as f:
        fields = f.readline().split()
    return int(fields[1]) + int(fields[2]) + int(fields[3])


def proc_cpu_ticks(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime
    except (OSError, IndexError, ValueError):
        return 0


def children_of(pid):
    kids = []
    for d in os.listdir("/proc"):
        if d.isdigit() and proc_status(int(d), "PPid") == pid:
            kids.append(int(d))
    return kids


def wait_healthy(port, proc, path="/healthz", seconds=20.0):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with status {proc.returncode}")
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            c.request("GET", path)
            if c.getresponse().status == 200:
                c.close()
                return
            c.close()
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"no 200 from {path} within {seconds:.0f} s")


# ---- publishers ----------------------------------------------------------


class Http:
    """One keep-alive connection with TCP_NODELAY, for publishing."""

    def __init__(self, port):
        self.port = port
        self.conn = None

    def request(self, method, path, body=None, ctype="application/json", stamp=None):
        """Returns (status, body bytes, t_sent_ns, t_answered_ns)."""
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            self.conn.connect()
            self.conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        headers = {"Content-Type": ctype} if body is not None else {}
        t0 = time.monotonic_ns()
        self.conn.request(method, path, body=body, headers=headers)
        r = self.conn.getresponse()
        data = r.read()
        t1 = time.monotonic_ns()
        return r.status, data, t0, t1


def payload(seq, size):
    """One event's data for nchan and Node: JSON of about size bytes."""
    head = f'{{"seq":{seq},"kind":"tutorial","name":"sse-bench","pad":"'
    return (head + "x" * max(0, size - len(head) - 2) + '"}').encode()


DOC = """---
title: Fan-out benchmark
description: A tutorial page that the SSE benchmark edits once per version.
---

# Fan-out benchmark

Revision {rev} of this page. Every push changes this line, so every version
carries one changed document to every open editor tab.

## Set-up

1. Install the **toolchain** and check it with `cc --version`.
2. Clone the repository and open [the guide](https://example.com/guide).
3. Run the tests.

```c
int main(void)
{{
    return 0;
}}
```

> Note: the preview re-renders as soon as the update arrives.
"""


# Repeated in the document until its update event is about --payload bytes
# (its AST is some 5x its markdown); the words vary, as prose does, so that
# it compresses as a real document does (some 5 to 8 times), not better.
PART = """
## Part {k}: {title}

{p1} With **{w1}** and *{w2}*, `{w3} --{w4}` and [the {w5} guide](https://example.com/{w5}/{k}).

- {l1}
- {l2}, with `{w6}`
"""
WORDS = ("container image layer network volume process kernel namespace cgroup socket port "
         "service pod node cluster shell file folder command flag build cache index table "
         "query commit branch merge patch review deploy rollback metric alert trace span "
         "queue topic stream batch window shard replica leader follower quorum").split()


def part(k, rev):
    import random
    rng = random.Random(k * 7919 + rev)
    w = lambda: rng.choice(WORDS)  # noqa: E731
    sentence = lambda: " ".join(w() for _ in range(rng.randint(6, 14))).capitalize() + "."  # noqa: E731
    return PART.format(k=k, title=" ".join(w() for _ in range(3)),
                       p1=" ".join(sentence() for _ in range(3)),
                       w1=w(), w2=w(), w3=w(), w4=w(), w5=w(), w6=w(),
                       l1=sentence(), l2=sentence())


class ContentdPublisher:
    """Publishing = one new version through the push protocol."""

    def __init__(self, port, payload=2048):
        self.http = Http(port)
        self.version = 0
        self.rev = 0
        self.parts = max(0, (payload - 2048) // 1450)
        self.base = f"/api/v1/content/{ITEM[0]}/{ITEM[1]}"

    def setup(self):
        body = json.dumps({"kind": ITEM[0], "name": ITEM[1], "title": "Fan-out benchmark",
                           "visibility": "public"}).encode()
        st, data, _, _ = self.http.request("POST", "/api/v1/content", body)
        if st != 201:
            raise RuntimeError(f"create item: HTTP {st}: {data[:200]!r}")
        self.publish()

    def publish(self):
        """Commits a new version; returns (marker, t_sent, t_answered)."""
        self.rev += 1
        doc = (DOC.format(rev=self.rev)
               + "".join(part(k, self.rev) for k in range(self.parts))).encode()
        sha = hashlib.sha256(doc).hexdigest()
        st, data, _, _ = self.http.request("POST", "/api/v1/blobs/missing",
                                           json.dumps({"sha256": [sha]}).encode())
        if st != 200:
            raise RuntimeError(f"blobs/missing: HTTP {st}: {data[:200]!r}")
        if sha in json.loads(data).get("missing", []):
            st, data, _, _ = self.http.request("PUT", f"/api/v1/blobs/{sha}", doc,
                                               ctype="application/octet-stream")
            if st not in (200, 201, 204):
                raise RuntimeError(f"PUT blob: HTTP {st}: {data[:200]!r}")
        commit = json.dumps({"base_version": self.version, "files": [
            {"path": "index.md", "sha256": sha, "size": len(doc)}]}).encode()
        st, data, t0, t1 = self.http.request("POST", self.base + "/versions", commit)
        if st != 201:
            raise RuntimeError(f"commit: HTTP {st}: {data[:200]!r}")
        self.version = json.loads(data)["version"]
        return self.version, t0, t1


class PostPublisher:
    """Publishing = one POST of the event's data (nchan, Node)."""

    def __init__(self, port, path, size):
        self.http = Http(port)
        self.path = path
        self.size = size
        self.seq = 0

    def setup(self):
        pass

    def publish(self):
        self.seq += 1
        st, data, t0, t1 = self.http.request("POST", self.path, payload(self.seq, self.size))
        if st not in (200, 201, 202, 204):
            raise RuntimeError(f"publish: HTTP {st}: {data[:200]!r}")
        return self.seq, t0, t1


# ---- servers -------------------------------------------------------------


def start_contentd(a, tmp, port):
    data = os.path.join(tmp, "data")
    # Every subscriber comes from 127.0.0.1: lift the per-address share.
    p = spawn([a.contentd, "serve", "--listen", f"127.0.0.1:{port}", "--data", data,
               "--max-connections-per-address", "0"],
              os.path.join(tmp, "server.log"), a.pgids)
    wait_healthy(port, p)
    pub = ContentdPublisher(port, a.payload)
    pub.setup()
    url = f"http://127.0.0.1:{port}/api/v1/content/{ITEM[0]}/{ITEM[1]}/events"
    return p, (lambda: [p.pid]), pub, url, ["--ready", "event:snapshot", "--marker", "id"]


def start_nchan(a, tmp, port):
    with open(os.path.join(HERE, "nginx.conf")) as f:
        conf = f.read().replace("@TMP@", tmp).replace("@PORT@", str(port))
    nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if nofile == resource.RLIM_INFINITY:
        nofile = 1 << 20
    conns = a.subscribers + 1024
    if conns > nofile:
        raise RuntimeError(f"the open-file limit ({nofile}) is too low for {a.subscribers} "
                           "subscribers on one nginx worker")
    conf = conf.replace("@NOFILE@", str(nofile)).replace("@CONNS@", str(conns))
    path = os.path.join(tmp, "nginx.conf")
    with open(path, "w") as f:
        f.write(conf)
    p = spawn([a.nginx, "-p", tmp, "-c", path, "-e", os.path.join(tmp, "error.log")],
              os.path.join(tmp, "server.log"), a.pgids)
    wait_healthy(port, p)
    pub = PostPublisher(port, "/pub", a.payload)
    url = f"http://127.0.0.1:{port}{CHANNEL_PATH}"
    return p, (lambda: children_of(p.pid)), pub, url, ["--ready", "headers", "--marker",
                                                       "data:seq"]


def start_node(a, tmp, port):
    p = spawn([a.node, os.path.join(HERE, "node-broadcaster.mjs"), "--port", str(port)],
              os.path.join(tmp, "server.log"), a.pgids)
    wait_healthy(port, p)
    pub = PostPublisher(port, "/publish", a.payload)
    url = f"http://127.0.0.1:{port}/events"
    return p, (lambda: [p.pid]), pub, url, ["--ready", "headers", "--marker", "data:seq"]


SERVERS = {"contentd": start_contentd, "nchan": start_nchan, "node": start_node}


# ---- the client ----------------------------------------------------------


class Client:
    """sse_load with a line reader over its stdout."""

    def __init__(self, a, tmp, url, extra):
        self.out = os.path.join(tmp, "receipts.txt")
        argv = [a.client, "--url", url, "--subscribers", str(a.subscribers),
                "--max-pending", str(a.max_pending), "--connect-rate", str(a.connect_rate),
                "--timeout", str(a.client_timeout), "--control", "--out", self.out] + extra
        if a.gzip:
            argv += ["--header", "Accept-Encoding: gzip"]
        self.p = spawn(argv, os.path.join(tmp, "client.log"), a.pgids,
                       stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.buf = b""
        self.lines = []
        self.eof = False

    def _fill(self, timeout):
        if self.eof:
            return False
        r, _, _ = select.select([self.p.stdout], [], [], max(0.0, timeout))
        if not r:
            return False
        chunk = os.read(self.p.stdout.fileno(), 65536)
        if not chunk:
            self.eof = True
            return False
        self.buf += chunk
        *done, self.buf = self.buf.split(b"\n")
        self.lines += [d.decode() for d in done]
        return True

    def wait_for(self, pattern, seconds):
        """The first unread line matching pattern (a regex), or None."""
        end = time.monotonic() + seconds
        while True:
            for i, line in enumerate(self.lines):
                if re.match(pattern, line):
                    del self.lines[i]
                    return line
            left = end - time.monotonic()
            if left <= 0 or (self.eof and not self._fill(0)):
                return None
            self._fill(min(left, 0.5))

    def command(self, text):
        try:
            self.p.stdin.write(text.encode() + b"\n")
            self.p.stdin.flush()
        except (BrokenPipeError, ValueError):
            pass

    def finish(self):
        self.command("quit")
        while self._fill(30):
            pass
        try:
            self.p.wait(30)
        except subprocess.TimeoutExpired:
            stop(self.p)
        return self.lines


def client_status(client):
    """The client's CPU seconds and bytes read so far (it answers between
    two events)."""
    client.command("status")
    st = kv(client.wait_for(r"status ", 10))
    return float(st.get("cpu_s", "nan")), int(st.get("bytes", 0))


def kv(line):
    return dict(m.groups() for m in re.finditer(r"(\w+)=(\S+)", line or ""))


# ---- statistics ----------------------------------------------------------


def pct(sorted_vals, q):
    if not sorted_vals:
        return float("nan")
    k = max(0, min(len(sorted_vals) - 1, int(round(q / 100.0 * len(sorted_vals) + 0.5)) - 1))
    return sorted_vals[k]


def analyse(receipts, sent, ready):
    """Latencies in ms over every pair, per event the time to the last one."""
    lat = []
    last = {}
    with open(receipts) as f:
        for line in f:
            _, marker, t = line.split()
            marker = int(marker)
            if marker not in sent:
                continue
            d = (int(t) - sent[marker][0]) / 1e6
            lat.append(d)
            last[marker] = max(last.get(marker, d), d)
    lat.sort()
    tails = sorted(last.values())
    return {
        "pairs": len(lat), "expected": ready * len(sent),
        "p50": pct(lat, 50), "p99": pct(lat, 99), "max": lat[-1] if lat else float("nan"),
        "last_p50": pct(tails, 50), "last_max": tails[-1] if tails else float("nan"),
    }


# ---- one server ----------------------------------------------------------


def measure(a, name):
    tmp = tempfile.mkdtemp(prefix=f"sse-{name}-", dir=a.workdir)
    port = free_port()
    say(f"{name}: starting on 127.0.0.1:{port}")
    server, pids, pub, url, extra = SERVERS[name](a, tmp, port)
    res = {"name": name, "notes": []}
    client = None
    try:
        time.sleep(0.5)
        rss0 = sum(proc_status(p, "VmRSS") for p in pids())
        say(f"{name}: opening {a.subscribers} subscribers to {url}")
        client = Client(a, tmp, url, extra)
        line = client.wait_for(r"ready ", a.ready_timeout)
        if line is None:
            client.command("status")
            st = kv(client.wait_for(r"status ", 5))
            res["notes"].append(f"not all subscribers ready after {a.ready_timeout:.0f} s: {st}")
            ready = int(st.get("alive", 0))
            res["connect_s"] = float("nan")
        else:
            r = kv(line)
            ready = int(r["ready"])
            res["connect_s"] = float(r["connect_s"])
            if int(r["failed"]):
                res["notes"].append(f"{r['failed']} subscribers failed to connect")
        res["ready"] = ready
        say(f"{name}: {ready} ready; idle for {a.settle:.0f} s")
        time.sleep(a.settle)
        rss1 = sum(proc_status(p, "VmRSS") for p in pids())
        cpu0 = sum(proc_cpu_ticks(p) for p in pids())
        time.sleep(a.settle)
        cpu1 = sum(proc_cpu_ticks(p) for p in pids())
        res["rss_before_kib"], res["rss_idle_kib"] = rss0, rss1
        res["rss_per_sub_kib"] = (rss1 - rss0) / ready if ready else float("nan")
        res["idle_cpu_pct"] = 100.0 * (cpu1 - cpu0) / os.sysconf("SC_CLK_TCK") / a.settle

        say(f"{name}: publishing {a.warmup} warm-up and {a.messages} measured events")
        sent, timeouts, cpu = {}, 0, []
        ours = lambda: sum(proc_cpu_ticks(p) for p in pids() + [client.p.pid])
        for i in range(a.warmup + a.messages):
            if i == a.warmup:
                c0, bytes0 = client_status(client)
                cpu.append(c0)
                t_busy, busy0, ours0 = time.monotonic(), busy_ticks(), ours()
                srv0 = sum(proc_cpu_ticks(p) for p in pids())
            marker, t0, t1 = pub.publish()
            if i >= a.warmup:
                sent[marker] = (t0, t1)
            if client.wait_for(rf"complete marker={marker} ", a.message_timeout) is None:
                timeouts += 1
            time.sleep(a.gap)
        srv1 = sum(proc_cpu_ticks(p) for p in pids())
        deliveries = max(1, a.messages * ready)
        res["server_cpu_us"] = (srv1 - srv0) / os.sysconf("SC_CLK_TCK") * 1e6 / deliveries
        res["deliveries"] = a.messages * ready
        c1, bytes1 = client_status(client)
        cpu.append(c1)
        res["wire_bytes"] = (bytes1 - bytes0) / deliveries
        others = (busy_ticks() - busy0) - (ours() - ours0)
        res["other_cpu_pct"] = max(0.0, 100.0 * others / os.sysconf("SC_CLK_TCK")
                                   / (time.monotonic() - t_busy))
        res["client_cpu_ms"] = (cpu[1] - cpu[0]) * 1000 / max(1, a.messages)
        if timeouts:
            res["notes"].append(f"{timeouts} of {a.warmup + a.messages} events did not reach every "
                                f"live subscriber within {a.message_timeout:.0f} s")
        lines = client.finish()
        result = kv(next((x for x in lines if x.startswith("result ")), ""))
        res["result"] = result
        for x in lines:
            if x.startswith("reason "):
                res["notes"].append(x[len("reason "):])
        if int(result.get("closed", 0)):
            res["notes"].append(f"{result['closed']} subscribers were closed by the server")
        res.update(analyse(client.out, sent, ready))
        res["event_bytes"] = float(result.get("event_data_bytes_avg", "nan"))
        rtt = sorted((t1 - t0) / 1e6 for t0, t1 in sent.values())
        res["publish_rtt_p50"], res["publish_rtt_max"] = pct(rtt, 50), rtt[-1]
        if server.poll() is not None:
            res["notes"].append(f"the server exited during the run (status {server.returncode})")
    finally:
        if client:
            stop(client.p)
        stop(server)
    res["notes"] += error_log_notes(os.path.join(tmp, "error.log"))
    return res


def error_log_notes(path):
    """nginx: how many error-or-worse lines its log has, and the first."""
    try:
        with open(path, errors="replace") as f:
            bad = [x.strip() for x in f if re.search(r"\[(error|crit|alert|emerg)\]", x)]
    except OSError:
        return []
    return [f"{len(bad)} error lines in nginx's log, first: {bad[0]}"] if bad else []


# ---- the report ----------------------------------------------------------


def fmt(v, spec=".1f"):
    return "—" if v is None or v != v else format(v, spec)


def report(a, results, machine):
    out = []
    p = out.append
    p(f"SSE fan-out: {a.subscribers} subscribers, {a.messages} events of {a.payload} B, one at a time "
      f"({a.gap * 1000:.0f} ms apart once all have the previous one)"
      + (f"; per server the quietest of {a.rounds} rounds" if a.rounds > 1 else ""))
    p(f"machine: {machine}")
    p("")
    p("| server | held | connect s | event B | p50 ms | p99 ms | max ms | last p50 ms "
      "| last max ms | missing | publish RTT p50 ms | RSS idle MiB | RSS/sub KiB | idle CPU % "
      "| client CPU ms/event | others' CPU % | server CPU µs/delivery | wire B/delivery |")
    p("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        if "p99" not in r:
            p(f"| {r['name']} | not measured: {r.get('error', '')} |")
            continue
        held = f"{int(r['result'].get('alive', 0))}/{a.subscribers}"
        p(f"| {r['name']} | {held} | {fmt(r['connect_s'], '.2f')} | {fmt(r['event_bytes'], '.0f')} "
          f"| {fmt(r['p50'], '.2f')} | {fmt(r['p99'], '.2f')} | {fmt(r['max'], '.2f')} "
          f"| {fmt(r['last_p50'], '.2f')} | {fmt(r['last_max'], '.2f')} "
          f"| {r['expected'] - r['pairs']} | {fmt(r['publish_rtt_p50'], '.2f')} "
          f"| {fmt(r['rss_idle_kib'] / 1024, '.1f')} | {fmt(r['rss_per_sub_kib'], '.2f')} "
          f"| {fmt(r['idle_cpu_pct'], '.1f')} | {fmt(r['client_cpu_ms'], '.1f')} "
          f"| {fmt(r['other_cpu_pct'], '.0f')} | {fmt(r['server_cpu_us'], '.2f')} "
          f"| {fmt(r['wire_bytes'], '.0f')} |")
    p("")
    by = {r["name"]: r for r in results if "p99" in r}
    c = by.get("contentd")

    def ratio(x, y):
        return x / y if x and y and x == x and y == y else float("nan")

    p("| ratio | value | target |")
    p("|---|---:|---:|")
    if c and "nchan" in by:
        p(f"| contentd p99 / nchan p99 | {fmt(ratio(c['p99'], by['nchan']['p99']), '.2f')} | ≤ 1 |")
        p(f"| contentd last-max / nchan last-max | "
          f"{fmt(ratio(c['last_max'], by['nchan']['last_max']), '.2f')} | |")
    if c and "node" in by:
        p(f"| Node p99 / contentd p99 | {fmt(ratio(by['node']['p99'], c['p99']), '.2f')} | ≥ 5 |")
        p(f"| Node last-max / contentd last-max | "
          f"{fmt(ratio(by['node']['last_max'], c['last_max']), '.2f')} | |")
    if "nchan" in by and "node" in by:
        p(f"| Node p99 / nchan p99 | {fmt(ratio(by['node']['p99'], by['nchan']['p99']), '.2f')} "
          f"| |")
    for name in ("contentd", "nchan", "node"):
        if name in by:
            tgt = "≤ 8" if name == "contentd" else ""
            p(f"| {name} RSS per idle subscriber, KiB | {fmt(by[name]['rss_per_sub_kib'], '.2f')}"
              f" | {tgt} |")
    if c:
        p(f"| contentd subscribers held | {c['result'].get('alive', 0)} | {a.subscribers} |")
    p("")
    busy = [r["name"] for r in results if r.get("other_cpu_pct", 0) > 10.0]
    if busy:
        p(f"warning: other processes used more than 10% of a CPU while {', '.join(busy)} "
          "published: they shared the 2 CPUs, so those latencies carry their noise")
    for r in results:
        for n in r.get("notes", []):
            p(f"note: {r['name']}: {n}")
    return "\n".join(out)


def cost_table(a, by_payload):
    """Server CPU and bytes per delivery at every payload, and the ratios."""
    out = [f"Cost per delivery (clients {'ask for gzip' if a.gzip else 'ask for no compression'}):",
           "", "| payload B | subscribers | server | event B | server CPU µs/delivery "
           "| wire B/delivery |", "|---:|---:|---|---:|---:|---:|"]
    ratios = []
    for (payload, subscribers), results in by_payload:
        by = {r["name"]: r for r in results if "p99" in r}
        for r in results:
            if "p99" in r:
                out.append(f"| {payload} | {subscribers} | {r['name']} | {fmt(r['event_bytes'], '.0f')} "
                           f"| {fmt(r['server_cpu_us'], '.2f')} | {fmt(r['wire_bytes'], '.0f')} |")
        c, n = by.get("contentd"), by.get("nchan")
        if c and n:
            target = 0.5 if payload >= 100 * 1024 else 1.0
            v = c["server_cpu_us"] / n["server_cpu_us"] if n["server_cpu_us"] else float("nan")
            ratios.append((payload, "contentd CPU / nchan CPU per delivery", v, f"≤ {target:g}",
                           v <= target))
            w = c["wire_bytes"] / n["wire_bytes"] if n["wire_bytes"] else float("nan")
            ratios.append((payload, "contentd bytes / nchan bytes per delivery", w, "", None))
        if c and by.get("node"):
            v = c["server_cpu_us"] / by["node"]["server_cpu_us"] if by["node"]["server_cpu_us"] \
                else float("nan")
            ratios.append((payload, "contentd CPU / Node CPU per delivery", v, "", None))
    out += ["", "| payload B | ratio | value | target | met |", "|---:|---|---:|---:|---|"]
    ratios = [((p[0] if isinstance(p, tuple) else p), w, v, t, m) for p, w, v, t, m in ratios]
    for payload, what, v, target, met in ratios:
        out.append(f"| {payload} | {what} | {fmt(v, '.2f')} | {target} "
                   f"| {'' if met is None else ('yes' if met else 'NO')} |")
    return "\n".join(out)


# ---- the snapshot of a big course (contentd) ----------------------------


def first_event(port, path, gzip):
    """Opens an event stream and reads its first event: (ms until it was
    complete, body bytes received, event data bytes)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    headers = {"Accept": "text/event-stream"}
    if gzip:
        headers["Accept-Encoding"] = "gzip"
    t0 = time.monotonic_ns()
    conn.request("GET", path, headers=headers)
    r = conn.getresponse()
    if r.status != 200:
        raise RuntimeError(f"GET {path}: HTTP {r.status}")
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS) \
        if r.getheader("Content-Encoding") == "gzip" else None
    text, got, start, scan = bytearray(), 0, -1, 0
    while True:  # linear: each byte is appended once and searched once
        chunk = r.read1(1 << 20)
        if not chunk:
            raise RuntimeError(f"GET {path}: the stream ended before its first event")
        got += len(chunk)
        text += inflate.decompress(chunk) if inflate else chunk
        if start < 0:
            start = text.find(b"event: ")
            scan = max(start, 0)
        if start >= 0:
            end = text.find(b"\n\n", max(start, scan - 1))
            if end >= 0:
                break
            scan = len(text)
    ms = (time.monotonic_ns() - t0) / 1e6
    conn.close()
    return ms, got, end - (text.find(b"data: ", start) + 6)


def course_snapshot(a):
    """Pushes a generated course of a.course_lessons lessons to a fresh
    contentd and times the first event of its stream: whole, gzip, and the
    preview page's (one document whole, the others as stubs)."""
    sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
    from helpers.sample import PNG, course  # noqa: E402
    tmp = tempfile.mkdtemp(prefix="sse-course-", dir=a.workdir)
    port = free_port()
    p = spawn([a.contentd, "serve", "--listen", f"127.0.0.1:{port}", "--data",
               os.path.join(tmp, "data")], os.path.join(tmp, "server.log"), a.pgids)
    out = []
    try:
        wait_healthy(port, p)
        n = a.course_lessons
        files = course("course", "big", n, assets_per_lesson=2)
        for i in range(max(0, 5000 - 2 * n)):
            files[f"images/extra-{i:04d}.png"] = PNG + f"extra {i}".encode()
        md = sum(len(v) for k, v in files.items() if k.endswith(".md"))
        say(f"course: pushing {n} lessons ({md / 1e6:.1f} MB of markdown), {len(files)} files")
        http_ = Http(port)
        st, data, _, _ = http_.request("POST", "/api/v1/content", json.dumps(
            {"kind": "course", "name": "big"}).encode())
        if st != 201:
            raise RuntimeError(f"create: HTTP {st} {data[:200]!r}")
        shas = {k: hashlib.sha256(v).hexdigest() for k, v in files.items()}
        st, data, _, _ = http_.request("POST", "/api/v1/blobs/missing", json.dumps(
            {"sha256": sorted(set(shas.values()))}).encode())
        missing = set(json.loads(data)["missing"])
        for k, v in files.items():
            if shas[k] in missing:
                missing.discard(shas[k])
                st, data, _, _ = http_.request("PUT", f"/api/v1/blobs/{shas[k]}", v,
                                               ctype="application/octet-stream")
        t0 = time.monotonic()
        st, data, _, _ = http_.request("POST", "/api/v1/content/course/big/versions", json.dumps(
            {"base_version": 0, "files": [{"path": k, "sha256": shas[k], "size": len(v)}
                                          for k, v in files.items()]}).encode())
        if st != 201:
            raise RuntimeError(f"commit: HTTP {st} {data[:200]!r}")
        commit_s = time.monotonic() - t0
        out += [f"Snapshot of a course of {n} lessons ({md / 1e6:.1f} MB of markdown, "
                f"{len(files) - n - 1} assets; commit with rendering {commit_s:.1f} s), "
                "time to the first event complete:", "",
                "| stream | first open ms | again ms | body B | event data B |",
                "|---|---:|---:|---:|---:|"]
        base = "/api/v1/content/course/big/events"
        for label, path, gz in (("whole (?documents=*), plain", base, False),
                                ("whole, gzip", base, True),
                                ("preview: one lesson whole, gzip", base + "?documents=lessons/1000.md"
                                 if n >= 1000 else base + "?documents=index.md", True)):
            ms1, got, dlen = first_event(port, path, gz)
            ms2, _, _ = first_event(port, path, gz)
            out.append(f"| {label} | {ms1:.0f} | {ms2:.0f} | {got} | {dlen} |")
    finally:
        stop(p)
    return "\n".join(out)


def quietest(runs):
    """The measured round with the least CPU used by other processes."""
    ok = [r for r in runs if "p99" in r]
    return min(ok, key=lambda r: r["other_cpu_pct"]) if ok else runs[-1]


def rounds_table(rounds):
    out = ["every round (the quietest is reported above):", "",
           "| server | round | p50 ms | p99 ms | last max ms | others' CPU % |",
           "|---|---:|---:|---:|---:|---:|"]
    for name, runs in rounds.items():
        for i, r in enumerate(runs, 1):
            if "p99" in r:
                out.append(f"| {name} | {i} | {fmt(r['p50'], '.2f')} | {fmt(r['p99'], '.2f')} "
                           f"| {fmt(r['last_max'], '.2f')} | {fmt(r['other_cpu_pct'], '.0f')} |")
            else:
                out.append(f"| {name} | {i} | not measured: {r.get('error', '')} | | | |")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--subscribers", type=int, default=10000)
    ap.add_argument("--messages", type=int, default=20)
    ap.add_argument("--payload", type=int, default=2048,
                    help="bytes of each event's data (default 2048)")
    ap.add_argument("--payloads", default=None,
                    help="comma-separated payload sizes measured one after the other in this "
                         "run, each SIZE or SIZE:SUBSCRIBERS (e.g. 2048:10000,204800:1000): a "
                         "cost table and its ratios at the end")
    ap.add_argument("--no-gzip", dest="gzip", action="store_false",
                    help="clients do not send Accept-Encoding: gzip")
    ap.add_argument("--course-lessons", type=int, default=0,
                    help="also time the snapshot of a generated course of N lessons (contentd)")
    ap.add_argument("--servers", default="contentd,nchan,node")
    ap.add_argument("--connect-rate", type=float, default=0, help="per second, 0: no limit")
    ap.add_argument("--max-pending", type=int, default=256)
    ap.add_argument("--warmup", type=int, default=2,
                    help="events published before the measured ones (default 2)")
    ap.add_argument("--rounds", type=int, default=1,
                    help="measure each server this many times, interleaved, and report "
                         "the round in which other processes used the least CPU")
    ap.add_argument("--settle", type=float, default=2.0)
    ap.add_argument("--gap", type=float, default=0.2)
    ap.add_argument("--contentd", default=os.path.join(ROOT, "build-bench/server/contentd"))
    ap.add_argument("--client", default=os.path.join(ROOT, "build-bench/bench/sse_load"))
    ap.add_argument("--nginx", default="/usr/sbin/nginx")
    ap.add_argument("--node", default="node")
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--pgids", default=None)
    ap.add_argument("--results", default=os.path.join(ROOT, "bench/results/sse/latest.txt"))
    a = ap.parse_args()

    def timeouts():
        a.ready_timeout = 30 + a.subscribers / 100.0
        a.message_timeout = 5 + a.subscribers / 1000.0
        a.client_timeout = a.ready_timeout + a.messages * (a.message_timeout + a.gap) + 60

    timeouts()
    a.workdir = a.workdir or tempfile.mkdtemp(prefix="sse-bench-")
    a.pgids = a.pgids or os.path.join(a.workdir, "pgids")

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda s, f: (kill_all(), sys.exit(128 + s)))
    names = a.servers.split(",")
    if "contentd" in names and not os.access(a.contentd, os.X_OK):
        say(f"{a.contentd} is missing: contentd is not measured")
    payloads = [(int(x.split(":")[0]), int(x.split(":")[1]) if ":" in x else a.subscribers)
                for x in a.payloads.split(",")] if a.payloads else [(a.payload, a.subscribers)]
    texts, by_payload, ok = [], [], True
    course_text = ""
    try:
        for payload, subscribers in payloads:
            a.payload, a.subscribers = payload, subscribers
            timeouts()
            rounds = {name: [] for name in names}
            for rnd in range(a.rounds):
                for name in names:
                    if name == "contentd" and not os.access(a.contentd, os.X_OK):
                        rounds[name].append({"name": name, "error": "no contentd binary"})
                        continue
                    if a.rounds > 1:
                        say(f"round {rnd + 1} of {a.rounds}")
                    try:
                        rounds[name].append(measure(a, name))
                    except (RuntimeError, OSError, KeyError, ValueError) as e:
                        say(f"{name}: {e}")
                        rounds[name].append({"name": name, "error": str(e)})
            results = [quietest(rounds[name]) for name in names]
            ok = ok and all("p99" in r for r in results)
            by_payload.append(((payload, subscribers), results))
            text = report(a, results, machine())
            if a.rounds > 1:
                text += "\n" + rounds_table(rounds)
            texts.append(text)
        if a.course_lessons:
            course_text = course_snapshot(a)
    finally:
        kill_all()
    if len(payloads) > 1 or a.payloads:
        texts.append(cost_table(a, by_payload))
    if course_text:
        texts.append(course_text)
    text = "\n\n".join(texts)
    print(text)
    os.makedirs(os.path.dirname(a.results), exist_ok=True)
    with open(a.results, "w") as f:
        f.write(text + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
