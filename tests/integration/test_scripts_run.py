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
