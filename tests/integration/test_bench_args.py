# SPDX-License-Identifier: MIT
"""The command line of the benchmarks that time one folder (bench_checks,
bench_diff; bench/common/bench_args.c): a mistyped option or a bad
--seconds is a usage error (exit 2, with the usage line), never taken for
the folder; a good command line runs."""
import subprocess

import pytest

BENCHES = ["bench_checks", "bench_diff"]


def bench(build_dir, name):
    exe = build_dir / "bench" / name
    if not exe.exists():
        pytest.skip(f"{exe} is not built (the build was configured with -Dbench=false)")
    return exe


def run(exe, *args):
    return subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("name", BENCHES)
@pytest.mark.parametrize(
    "args, why",
    [
        (["--seconds"], "missing the value of '--seconds'"),
        (["DIR", "--seconds"], "missing the value of '--seconds'"),
        (["DIR", "--seconds", "soon"], "--seconds needs a number > 0, not 'soon'"),
        (["DIR", "--seconds", "0"], "--seconds needs a number > 0, not '0'"),
        (["DIR", "--secs", "1"], "unknown option '--secs'"),
        (["DIR", "OTHER"], "a second DIR 'OTHER'"),
    ],
)
def test_bad_command_line_is_a_usage_error(build_dir, tmp_path, name, args, why):
    exe = bench(build_dir, name)
    args = [str(tmp_path) if a == "DIR" else a for a in args]
    r = run(exe, *args)
    assert r.returncode == 2, r
    assert why in r.stderr, r.stderr
    assert f"usage: {name} DIR [--seconds S]" in r.stderr, r.stderr
    assert r.stdout == ""


@pytest.mark.parametrize("name", BENCHES)
def test_no_dir_is_a_usage_error(build_dir, name):
    r = run(bench(build_dir, name))
    assert r.returncode == 2, r
    assert r.stderr == f"usage: {name} DIR [--seconds S]\n"


@pytest.mark.parametrize("name", BENCHES)
def test_folder_and_seconds_run(build_dir, tmp_path, name):
    (tmp_path / "index.md").write_text("# Title\n\nA paragraph.\n")
    (tmp_path / "lesson.md").write_text("# Lesson\n\nAnother paragraph.\n")
    r = run(bench(build_dir, name), "--seconds", "0.01", str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert "median_ms=" in r.stdout, r.stdout
