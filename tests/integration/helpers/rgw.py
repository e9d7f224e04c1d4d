# SPDX-License-Identifier: MIT
"""A real S3 server for the tests: Ceph RADOS Gateway on a one-host Ceph
16.2 cluster built from Debian's packages (ceph-mon, ceph-osd, radosgw,
ceph-common), started and stopped by the tests themselves.

One monitor, one OSD on the `memstore` object store (nothing on disk but
logs) and radosgw with the beast front end on 127.0.0.1.  Everything lives
in one temporary folder: the configuration, the keyring, the daemons' data,
logs, admin sockets and pid files.  Every command gets `-c CONF`, so
/etc/ceph is never read, and no system service is involved.  The daemons
run in the foreground (`-f`) as our children, so stop() ends exactly the
processes start() began, by PID.

Settings that matter (measured on these machines):
- `auth none` inside the cluster needs `ms_*_mode = crc`: with the default
  "secure" mode the daemons hang at start-up.
- `paxos_propose_interval = 0.05` takes a cold start from ~14 s to 1.3–2.5 s here.
- beast needs `tcp_nodelay=1`, or every request on a kept-alive connection
  waits ~45 ms (Nagle's algorithm against delayed ACKs).
- `rgw_dns_name` makes virtual-host addressing work (BUCKET.s3.localhost;
  *.localhost resolves to loopback in curl and in glibc's myhostname).

Never remove these packages with `apt-get purge`: it tries to remove sudo.
"""
from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from pathlib import Path

from helpers.server import clean_env, free_port, http_answers

PACKAGES = {"ceph-mon": "/usr/bin/ceph-mon", "ceph-osd": "/usr/bin/ceph-osd",
            "radosgw": "/usr/bin/radosgw", "ceph-common": "/usr/bin/radosgw-admin"}
DNS_NAME = "s3.localhost"
START_DEADLINE = 90.0  # seconds from nothing to a gateway that answers
STOP_DEADLINE = 15.0
POLL = 0.05  # seconds between two looks at a condition being waited for


def missing() -> str | None:
    """Why the gateway cannot be started here, or None."""
    lacking = [pkg for pkg, path in PACKAGES.items() if not os.access(path, os.X_OK)]
    if lacking:
        return (f"Debian packages {', '.join(lacking)} are not installed (scripts/test "
                "installs them); the S3 tests against Ceph RGW need them")
    return None


CONF = """\
[global]
fsid = {fsid}
mon host = v2:127.0.0.1:{mon_port}
mon initial members = a
auth cluster required = none
auth service required = none
auth client required = none
auth supported = none
ms bind ipv4 = true
ms bind ipv6 = false
ms cluster mode = crc
ms service mode = crc
ms client mode = crc
ms mon cluster mode = crc
ms mon service mode = crc
ms mon client mode = crc
public addr = 127.0.0.1
paxos propose interval = 0.05
mon allow pool delete = true
mon allow pool size one = true
mon warn on pool no redundancy = false
mon max pg per osd = 1000
mon data avail warn = 1
mon data avail crit = 0
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
osd objectstore = memstore
memstore device bytes = 2147483648
osd data = {dir}/osd-$id
mon data = {dir}/mon-$id
keyring = {dir}/keyring
run dir = {dir}/run
admin socket = {dir}/run/$name.asok
pid file = {dir}/run/$name.pid
log file = {dir}/log/$name.log
mon cluster log file = {dir}/log/cluster.log
crash dir = {dir}/crash
erasure code dir = /usr/lib/x86_64-linux-gnu/ceph/erasure-code
plugin dir = /usr/lib/x86_64-linux-gnu/ceph
log to stderr = false
err to stderr = true
debug ms = 0

[client]
log file = {dir}/log/$name.log

[client.rgw]
rgw frontends = beast endpoint=127.0.0.1:{rgw_port} tcp_nodelay=1
rgw dns name = {dns_name}
rgw data = {dir}/rgw
rgw enable usage log = false
# Deleted objects' data is reclaimed within seconds, not hours: the OSD
# keeps everything in memory, and the tests empty the bucket per module.
rgw gc obj min wait = 0
rgw gc processor period = 10
"""


class RgwError(AssertionError):
    pass


class Rgw:
    """A one-host Ceph cluster with a gateway, in folder `dir`."""

    def __init__(self, dir: Path):
        self.dir = dir
        self.conf = dir / "ceph.conf"
        self.mon_port = free_port()
        self.port = free_port()
        self.procs: dict[str, subprocess.Popen] = {}
        self.fsid = str(uuid.uuid4())

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- running the tools -------------------------------------------------

    def _env(self) -> dict:
        return clean_env({"CEPH_CONF": str(self.conf)})

    def run(self, *argv: str, timeout: float = 30, check: bool = True) -> subprocess.CompletedProcess:
        """Runs a Ceph tool with our configuration; on failure raises with
        its output and the daemons' logs."""
        cmd = [argv[0], "-c", str(self.conf), *argv[1:]]
        try:
            p = subprocess.run(cmd, capture_output=True, env=self._env(), timeout=timeout,
                               stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise RgwError(f"`{' '.join(cmd)}` did not finish within {timeout} s\n{self.logs()}")
        if check and p.returncode != 0:
            raise RgwError(f"`{' '.join(cmd)}` exited {p.returncode}: "
                           f"{p.stderr.decode('utf-8', 'replace').strip()}\n{self.logs()}")
        return p

    def _daemon(self, name: str, *argv: str) -> None:
        log = open(self.dir / "log" / f"{name}.stderr", "ab")
        try:
            self.procs[name] = subprocess.Popen(
                [argv[0], "-c", str(self.conf), "-f", *argv[1:]], stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT, env=self._env())
        finally:
            log.close()

    def _wait(self, what: str, cond, deadline: float) -> None:
        while True:
            for name, p in self.procs.items():
                if p.poll() is not None:
                    raise RgwError(f"{name} exited ({p.returncode}) while waiting for {what}\n"
                                   f"{self.logs()}")
            if cond():
                return
            if time.monotonic() > deadline:
                raise RgwError(f"timed out waiting for {what}\n{self.logs()}")
            time.sleep(POLL)

    # -- start and stop ----------------------------------------------------

    def start(self) -> "Rgw":
        t0 = time.monotonic()
        deadline = t0 + START_DEADLINE
        try:
            self._bootstrap()
            self._start_mon(deadline)
            self._start_osd(deadline)
            self._start_gateway(deadline)
        except BaseException:
            self.stop()
            raise
        self.start_seconds = time.monotonic() - t0
        return self

    def _bootstrap(self) -> None:
        for sub in ("log", "run", "crash", "rgw", "mon-a", "osd-0"):
            (self.dir / sub).mkdir(parents=True, exist_ok=True)
        self.conf.write_text(CONF.format(fsid=self.fsid, mon_port=self.mon_port, rgw_port=self.port,
                                         dir=self.dir, dns_name=DNS_NAME))
        keyring = self.dir / "keyring"
        self.run("ceph-authtool", "--create-keyring", str(keyring), "--gen-key", "-n", "mon.",
                 "--cap", "mon", "allow *")
        monmap = self.dir / "monmap"
        self.run("monmaptool", "--create", "--fsid", self.fsid, "--addv", "a",
                 f"[v2:127.0.0.1:{self.mon_port}]", str(monmap))
        self.run("ceph-mon", "--mkfs", "-i", "a", "--monmap", str(monmap), "--keyring", str(keyring))

    def ceph_json(self, *args: str):
        out = self.run("ceph", "--connect-timeout", "10", *args, "--format", "json").stdout
        return json.loads(out or b"null")

    def _start_mon(self, deadline: float) -> None:
        self._daemon("mon.a", "ceph-mon", "-i", "a")

        def quorum() -> bool:
            p = self.run("ceph", "--connect-timeout", "2", "mon", "stat", check=False, timeout=10)
            return p.returncode == 0
        self._wait("the monitor", quorum, deadline)

    def _start_osd(self, deadline: float) -> None:
        osd_uuid = str(uuid.uuid4())
        osd_id = self.run("ceph", "osd", "new", osd_uuid).stdout.decode().strip()
        if osd_id != "0":
            raise RgwError(f"`ceph osd new` gave id {osd_id!r}, not 0")
        self.run("ceph-osd", "-i", "0", "--mkfs", "--osd-uuid", osd_uuid, timeout=60)
        self._daemon("osd.0", "ceph-osd", "-i", "0")

        def up() -> bool:
            return self.ceph_json("osd", "stat").get("num_up_osds") == 1
        self._wait("the OSD to be up", up, deadline)

    def _start_gateway(self, deadline: float) -> None:
        self._daemon("client.rgw", "radosgw", "-n", "client.rgw")
        self._wait("the gateway to answer HTTP", lambda: http_answers(self.port, timeout=2),
                   deadline)

    def create_user(self, uid: str, access_key: str, secret_key: str) -> None:
        self.run("radosgw-admin", "-n", "client.rgw", "user", "create", f"--uid={uid}",
                 f"--display-name={uid}", f"--access-key={access_key}", f"--secret={secret_key}")

    def logs(self, n: int = 25) -> str:
        out = []
        for f in sorted((self.dir / "log").glob("*")):
            try:
                lines = f.read_text(errors="replace").splitlines()[-n:]
            except OSError:
                continue
            if lines:
                out.append(f"--- {f} (last {len(lines)} lines)\n" + "\n".join(lines))
        return "\n".join(out) or "(no daemon log)"

    def stop(self) -> None:
        """Ends the daemons start() began, by PID, one after the other: the
        gateway and the OSD each say goodbye to the monitor on the way out,
        and wait seconds for it when it is already gone."""
        for name in ("client.rgw", "osd.0", "mon.a"):
            p = self.procs.pop(name, None)
            if p is None:
                continue
            if p.poll() is None:
                p.terminate()
            try:
                p.wait(timeout=STOP_DEADLINE)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=STOP_DEADLINE)
