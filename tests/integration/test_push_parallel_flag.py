# SPDX-License-Identifier: MIT
"""content push --parallel N (CONTENT_PUSH_PARALLEL): 1 to 64 uploads in
flight; anything else is a usage error (exit 2) that names the setting,
before anything is sent.  (That every blob arrives at any setting, and
what a failure part-way leaves, is test_s3_known.py's.)"""
from __future__ import annotations

import subprocess

import pytest

from helpers.api import Client
from helpers.server import clean_env, content_binary


def push(server, folder, *args, **env):
    return subprocess.run([str(content_binary()), "push", str(folder), *args],
                          capture_output=True, encoding="utf-8", errors="replace", timeout=120,
                          env=clean_env({"CONTENT_SERVER": server.base_url, **env}))


def folder(tmp_path):
    d = tmp_path / "t"
    d.mkdir()
    (d / "index.md").write_text("---\nkind: tutorial\nname: par-flag\n---\n# P\n")
    for i in range(20):
        (d / f"{i}.md").write_text(f"# {i}\n")
    return d


@pytest.mark.parametrize("args,env,what", [
    (["--parallel", "0"], {}, "--parallel: '0'"),
    (["--parallel", "65"], {}, "--parallel: '65'"),
    (["--parallel", "many"], {}, "--parallel: 'many'"),
    ([], {"CONTENT_PUSH_PARALLEL": "-3"}, "CONTENT_PUSH_PARALLEL: '-3'"),
])
def test_bad_parallel_is_a_usage_error(start_server, tmp_path, args, env, what):
    s = start_server()
    p = push(s, folder(tmp_path), *args, **env)
    assert p.returncode == 2, p.stdout + p.stderr
    assert what in p.stderr and "1..64" in p.stderr, p.stderr
    assert Client(s.port).item("tutorial", "par-flag").status == 404  # nothing sent
