# SPDX-License-Identifier: MIT
"""Shared fixtures of the integration tests: where the corpus, the build and
the reference renderer are, and the reference trees rendered once per session.

The machinery itself (paths, rendering, normalisation, diffing) lives in
tests/mdc/fidelity.py so that tests/mdc/diff.py uses exactly the same code.
"""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "mdc"))
import fidelity  # noqa: E402


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return fidelity.REPO_ROOT


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    return fidelity.CORPUS_DIR


@pytest.fixture(scope="session")
def build_dir() -> Path:
    """$CONTENTD_BUILD, else <repo>/build."""
    return fidelity.build_dir()


@pytest.fixture(scope="session")
def content_bin() -> Path:
    """The `content` binary; skips the test when it has not been built."""
    why = fidelity.missing_ours()
    if why:
        pytest.skip(why)
    return fidelity.content_binary()


@pytest.fixture(scope="session")
def deliberate() -> dict:
    """tests/corpus/deliberate.json, validated."""
    return fidelity.load_deliberate()


@pytest.fixture(scope="session")
def mdc_trees() -> dict:
    """{corpus file name: MDC's document}, from one batch call to render.mjs.
    Skips when node or tests/node_modules is missing."""
    why = fidelity.missing_mdc()
    if why:
        pytest.skip(why)
    trees = fidelity.render_mdc(fidelity.corpus_files())
    return {path.name: doc for path, doc in trees.items()}


@pytest.fixture
def render_ours(content_bin):
    """render_ours(path) -> our document, or {"error": ...}."""
    return fidelity.render_ours
