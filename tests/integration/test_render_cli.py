# SPDX-License-Identifier: MIT
"""`content render FILE [--pretty]`: output, `-` for stdin, and one clear
line on stderr with exit 1 for a bad file or bad YAML, exit 2 for usage."""
import json
import subprocess


def run(content_bin, *args, data=None):
    return subprocess.run([str(content_bin), *args], input=data, capture_output=True)


def test_render_file_and_stdin_agree(content_bin, tmp_path):
    src = b"---\ntitle: T\n---\n# Hello\n\nWorld.\n"
    f = tmp_path / "a.md"
    f.write_bytes(src)
    from_file = run(content_bin, "render", str(f))
    from_stdin = run(content_bin, "render", "-", data=src)
    assert from_file.returncode == 0 and from_stdin.returncode == 0
    assert json.loads(from_file.stdout) == json.loads(from_stdin.stdout)
    doc = json.loads(from_file.stdout)
    assert doc["data"]["title"] == "T" and doc["data"]["description"] == "World."


def test_pretty_is_the_same_document(content_bin, tmp_path):
    f = tmp_path / "a.md"
    f.write_text("# A\n\n- x\n- y\n")
    compact = run(content_bin, "render", str(f)).stdout
    pretty = run(content_bin, "render", str(f), "--pretty").stdout
    assert pretty.count(b"\n") > compact.count(b"\n")
    assert json.loads(pretty) == json.loads(compact)


def test_missing_file_is_one_line_exit_1(content_bin, tmp_path):
    p = run(content_bin, "render", str(tmp_path / "nope.md"))
    assert p.returncode == 1
    lines = p.stderr.decode().splitlines()
    assert len(lines) == 1 and "nope.md" in lines[0] and "No such file" in lines[0]
    assert p.stdout == b""


def test_directory_is_an_error(content_bin, tmp_path):
    p = run(content_bin, "render", str(tmp_path))
    assert p.returncode == 1
    assert len(p.stderr.decode().splitlines()) == 1


def test_bad_yaml_names_the_line(content_bin, tmp_path):
    f = tmp_path / "bad.md"
    f.write_text("---\ntitle: ok\ntags: [a, b\nnext: 1\n---\n# x\n")
    p = run(content_bin, "render", str(f))
    assert p.returncode == 1
    line = p.stderr.decode().strip()
    assert "\n" not in line
    assert line.startswith(f"content: {f}:")
    lineno = int(line.split(":")[2])
    assert 3 <= lineno <= 5, line
    assert "front matter" in line
    assert p.stdout == b""


def test_usage_errors_exit_2(content_bin):
    assert run(content_bin, "render").returncode == 2
    assert run(content_bin, "render", "--bogus", "x").returncode == 2
    assert run(content_bin, "render", "a", "b").returncode == 2
    assert run(content_bin, "frobnicate").returncode == 2
    assert run(content_bin).returncode == 2


def test_help(content_bin):
    p = run(content_bin, "render", "--help")
    assert p.returncode == 0 and b"usage: content render" in p.stdout
    p = run(content_bin, "--help")
    assert p.returncode == 0 and b"render" in p.stdout
