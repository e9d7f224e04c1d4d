# SPDX-License-Identifier: MIT
"""scripts/run, the one command of a fresh clone.

What it installs and builds is checked in a copy of scripts/ with fake
dpkg-query, apt-get, meson and ninja first on PATH, which record what they
were asked to do (nothing is installed or built).  How it stops is checked
with the real script and a real contentd (the build under test, passed as
CONTENTD_BUILD, so nothing installs or builds).
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from helpers.server import REPO_ROOT, build_dir, clean_env, free_port, missing_contentd

# What only the tests, benchmarks and screenshots need: never installed by run.
TEST_ONLY = {"chromium", "chromium-driver", "python3-selenium", "nginx", "docker-compose",
             "awscli", "python3-botocore", "python3-bson", "nodejs", "npm", "libcmocka-dev",
             "python3-pytest"}
# What building and running contentd needs.
RUN_NEEDS = {"meson", "ninja-build", "gcc", "pkg-config", "python3", "libmicrohttpd-dev",
             "libjansson-dev", "libcmark-gfm-dev", "libcurl4-openssl-dev", "libsqlite3-dev",
             "libmongoc-dev", "curl"}


def fake_tool(bindir: Path, name: str, body: str) -> None:
    p = bindir / name
    p.write_text("#!/bin/sh\n" + body)
    p.chmod(0o755)


def copy_of_scripts(tmp_path: Path) -> Path:
    """A repository root holding scripts/ and one example item, no build."""
    root = tmp_path / "repo"
    shutil.copytree(REPO_ROOT / "scripts", root / "scripts")
    (root / "examples" / "hello").mkdir(parents=True)
    (root / "examples" / "hello" / "index.md").write_text(
        "---\nkind: tutorial\nname: hello\n---\n# Hello\n")
    return root


def run_with_fakes(root: Path, bindir: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    path = f"{bindir}:{os.environ.get('PATH', '/usr/bin:/bin')}"
    return subprocess.run(["bash", str(root / "scripts" / "run")], cwd=root,
                          env=clean_env({"PATH": path, **(env or {})}),
                          capture_output=True, text=True, timeout=60)


def test_run_installs_only_what_running_needs(tmp_path):
    """On a machine with nothing installed, the packages apt-get is asked
    for are those of the build and the service, none of the tests'."""
    root = copy_of_scripts(tmp_path)
    bindir = tmp_path / "bin"
    bindir.mkdir()
    record = tmp_path / "apt-get.args"
    fake_tool(bindir, "dpkg-query", "exit 1\n")  # nothing is installed
    # `apt-get install` records its packages and fails, which stops the script.
    fake_tool(bindir, "apt-get",
              f'[ "$1" = update ] && exit 0\necho "$@" >> "{record}"\nexit 100\n')
    fake_tool(bindir, "sudo", 'exec "$@"\n')
    p = run_with_fakes(root, bindir)
    assert p.returncode != 0, p.stderr
    assert record.exists(), f"apt-get install was not called:\n{p.stderr}"
    asked = set(record.read_text().split()) - {"install", "-y", "-q", "--no-install-recommends"}
    assert RUN_NEEDS <= asked, f"not installed: {sorted(RUN_NEEDS - asked)}"
    assert not asked & TEST_ONLY, f"installed for the tests only: {sorted(asked & TEST_ONLY)}"


def test_run_builds_without_the_unit_tests_and_benchmarks(tmp_path):
    """With no build yet, run configures one with -Dtests=false -Dbench=false."""
    root = copy_of_scripts(tmp_path)
    bindir = tmp_path / "bin"
    bindir.mkdir()
    meson_rec, ninja_rec = tmp_path / "meson.args", tmp_path / "ninja.args"
    fake_tool(bindir, "dpkg-query", "printf 'ii '\n")  # everything is installed
    fake_tool(bindir, "apt-get", "exit 100\n")
    fake_tool(bindir, "meson", f'echo "$@" >> "{meson_rec}"\n')
    fake_tool(bindir, "ninja", f'echo "$@" >> "{ninja_rec}"\nexit 1\n')  # stops the script
    p = run_with_fakes(root, bindir)
    assert p.returncode != 0
    assert meson_rec.exists(), f"meson was not called:\n{p.stderr}"
    setup = meson_rec.read_text().split()
    assert setup[0] == "setup"
    assert "-Dtests=false" in setup and "-Dbench=false" in setup, setup
    assert ninja_rec.exists(), f"ninja was not called:\n{p.stderr}"
    assert not (root / "build").exists()


def test_run_reuses_a_given_build_for_the_programs_only(tmp_path):
    """CONTENTD_BUILD (or a build/ that scripts/test configured) is used as
    it is: no new configuration, and ninja builds contentd and content only."""
    root = copy_of_scripts(tmp_path)
    bindir = tmp_path / "bin"
    bindir.mkdir()
    given = tmp_path / "given-build"
    given.mkdir()
    (given / "build.ninja").write_text("")
    meson_rec, ninja_rec = tmp_path / "meson.args", tmp_path / "ninja.args"
    fake_tool(bindir, "dpkg-query", "printf 'ii '\n")
    fake_tool(bindir, "apt-get", "exit 100\n")
    fake_tool(bindir, "meson", f'echo "$@" >> "{meson_rec}"\n')
    fake_tool(bindir, "ninja", f'echo "$@" >> "{ninja_rec}"\nexit 1\n')
    p = run_with_fakes(root, bindir, {"CONTENTD_BUILD": str(given)})
    assert p.returncode != 0
    assert not meson_rec.exists(), meson_rec.read_text()
    assert ninja_rec.read_text().split() == ["-C", str(given), "server/contentd", "cli/content"]


def children_named(pid: int, name: str) -> list[int]:
    """The pids of pid's child processes whose command is name."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        comm = text[text.index("(") + 1:text.rindex(")")]
        ppid = int(text[text.rindex(")") + 2:].split()[1])
        if ppid == pid and comm == name:
            found.append(int(stat.parent.name))
    return found


def running(pid: int) -> bool:
    """True while pid exists and is not a zombie."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return text[text.rindex(")") + 2] != "Z"


def poll(cond, deadline_s: float, what: str) -> None:
    deadline = time.monotonic() + deadline_s
    while not cond():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


@pytest.mark.skipif(missing_contentd() is not None, reason=missing_contentd() or "")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_run_stops_itself_and_contentd_on_a_signal(tmp_path, sig):
    """`kill -SIG PID` of scripts/run alone (not its process group) stops
    contentd and then the script."""
    examples = tmp_path / "examples"
    (examples / "hello").mkdir(parents=True)
    (examples / "hello" / "index.md").write_text("---\nkind: tutorial\nname: hello\n---\n# Hi\n")
    port = free_port()
    log = tmp_path / "run.log"
    env = clean_env({"CONTENTD_BUILD": str(build_dir()), "CONTENTD_LISTEN": f"127.0.0.1:{port}",
                     "CONTENTD_DATA": str(tmp_path / "data")})
    with open(log, "w") as out:
        # Its own session: the signal reaches the script only, as `kill PID` does.
        run = subprocess.Popen([str(REPO_ROOT / "scripts" / "run"), str(examples)],
                               stdout=out, stderr=subprocess.STDOUT, env=env,
                               start_new_session=True)
    try:
        poll(lambda: "Ctrl-C stops." in log.read_text() or run.poll() is not None, 120,
             "scripts/run did not get to its running state")
        assert run.poll() is None, log.read_text()
        served = children_named(run.pid, "contentd")
        assert len(served) == 1, f"contentd children of scripts/run: {served}"
        run.send_signal(sig)
        poll(lambda: run.poll() is not None, 20,
             f"scripts/run still runs 20 s after {sig.name}:\n{log.read_text()}")
        poll(lambda: not running(served[0]), 20, f"contentd still runs after {sig.name}")
        assert run.returncode == 128 + sig, log.read_text()
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
            run.wait()
