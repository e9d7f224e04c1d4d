# SPDX-License-Identifier: MIT
"""No document of the real-world corpus (../shared/mdc-corpus) or of
tests/corpus crashes the renderer: each is rendered by `content render`
of the sanitizer build (build-asan/, which scripts/test builds), where any
memory error is fatal, and must give valid JSON.  The two smallest
reproducers of the cmark_node_get_fenced() crash are checked on both
builds."""
import json
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHARED_CORPUS = ROOT.parent / "shared" / "mdc-corpus"
ASAN_ENV = dict(os.environ, ASAN_OPTIONS="detect_leaks=0:abort_on_error=0",
                UBSAN_OPTIONS="halt_on_error=1")

REPRODUCERS = {
    "fence in component": b"::note\n```\n::\n```\n::\n",
    "nested indented component": b"::a\n  ::b\n    Text.\n  ::\n::\n",
}


def asan_content() -> Path:
    exe = Path(os.environ.get("CONTENTD_BUILD_ASAN", ROOT / "build-asan")) / "cli" / "content"
    if not exe.exists():
        pytest.skip(f"{exe} is not built (scripts/test builds build-asan/)")
    return exe


def corpus_files():
    files = sorted((ROOT / "tests" / "corpus").rglob("*.md"))
    if SHARED_CORPUS.is_dir():
        files += sorted(SHARED_CORPUS.glob("*.md"))
    return files


def render(exe, data: bytes):
    return subprocess.run([str(exe), "render", "-"], input=data, capture_output=True,
                          env=ASAN_ENV, timeout=120)


def check(proc, what):
    err = proc.stderr.decode(errors="replace")
    assert proc.returncode in (0, 1), f"{what}: exit {proc.returncode}\n{err[-2000:]}"
    if proc.returncode == 0:
        doc = json.loads(proc.stdout)
        assert doc["body"]["type"] == "root", what
    else:  # a front matter error: one clear line, no sanitizer report
        assert "front matter" in err and "Sanitizer" not in err, f"{what}: {err[-2000:]}"


@pytest.mark.parametrize("name", sorted(REPRODUCERS))
def test_crash_reproducers_render(content_bin, name):
    for exe in (content_bin, asan_content()):
        check(render(exe, REPRODUCERS[name]), name)


def test_whole_corpus_renders_under_asan():
    if not SHARED_CORPUS.is_dir():
        pytest.skip(f"{SHARED_CORPUS} is missing")
    exe = asan_content()
    files = corpus_files()
    assert len(files) > 100
    for path in files:
        check(render(exe, path.read_bytes()), path.name)
