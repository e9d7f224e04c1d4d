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

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
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


class ContentdPublisher:
    """Publishing = one new version through the push protocol."""

    def __init__(self, port):
        self.http = Http(port)
        self.version = 0
        self.rev = 0
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
        doc = DOC.format(rev=self.rev).encode()
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
    pub = ContentdPublisher(port)
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


def client_cpu(client):
    """The client's CPU seconds so far (it answers between two events)."""
    client.command("status")
    return float(kv(client.wait_for(r"status ", 10)).get("cpu_s", "nan"))


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
                cpu.append(client_cpu(client))
                t_busy, busy0, ours0 = time.monotonic(), busy_ticks(), ours()
            marker, t0, t1 = pub.publish()
            if i >= a.warmup:
                sent[marker] = (t0, t1)
            if client.wait_for(rf"complete marker={marker} ", a.message_timeout) is None:
                timeouts += 1
            time.sleep(a.gap)
        cpu.append(client_cpu(client))
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
    p(f"SSE fan-out: {a.subscribers} subscribers, {a.messages} events, one at a time "
      f"({a.gap * 1000:.0f} ms apart once all have the previous one)"
      + (f"; per server the quietest of {a.rounds} rounds" if a.rounds > 1 else ""))
    p(f"machine: {machine}")
    p("")
    p("| server | held | connect s | event B | p50 ms | p99 ms | max ms | last p50 ms "
      "| last max ms | missing | publish RTT p50 ms | RSS idle MiB | RSS/sub KiB | idle CPU % "
      "| client CPU ms/event | others' CPU % |")
    p("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
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
          f"| {fmt(r['other_cpu_pct'], '.0f')} |")
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


def machine_line():
    model = "unknown CPU"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} CPUs ({model}), Linux {os.uname().release}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--subscribers", type=int, default=10000)
    ap.add_argument("--messages", type=int, default=20)
    ap.add_argument("--payload", type=int, default=2048,
                    help="bytes of each nchan/Node event's data (default 2048)")
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
    a.ready_timeout = 30 + a.subscribers / 100.0
    a.message_timeout = 5 + a.subscribers / 1000.0
    a.client_timeout = a.ready_timeout + a.messages * (a.message_timeout + a.gap) + 60
    a.workdir = a.workdir or tempfile.mkdtemp(prefix="sse-bench-")
    a.pgids = a.pgids or os.path.join(a.workdir, "pgids")

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda s, f: (kill_all(), sys.exit(128 + s)))
    names = a.servers.split(",")
    if "contentd" in names and not os.access(a.contentd, os.X_OK):
        say(f"{a.contentd} is missing: contentd is not measured")
    rounds = {name: [] for name in names}
    try:
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
    finally:
        kill_all()
    results = [quietest(rounds[name]) for name in names]
    text = report(a, results, machine_line())
    if a.rounds > 1:
        text += "\n" + rounds_table(rounds)
    print(text)
    os.makedirs(os.path.dirname(a.results), exist_ok=True)
    with open(a.results, "w") as f:
        f.write(text + "\n")
    return 0 if all("p99" in r for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
