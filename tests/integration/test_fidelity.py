# SPDX-License-Identifier: MIT
"""AST fidelity: `content render` must produce the tree @nuxtjs/mdc 0.17.4's
parseMarkdown produces, for every file of tests/corpus, after the
normalisation of docs/ast-fidelity.md and the deliberate differences listed in
tests/corpus/deliberate.json; and MDC's own MDCRenderer must make the same
HTML of both trees.  On the corpus of real documents (../shared/mdc-corpus,
not in the repository) the agreement must reach the thresholds below.

Run:  /usr/bin/python3 -m pytest tests/integration/test_fidelity.py
Needs node and `npm ci --prefix tests`; skipped otherwise.  For a compact
report of every file, run tests/mdc/diff.py.
"""
import json
import subprocess
import sys

import pytest

import fidelity

CORPUS = [p.name for p in fidelity.corpus_files()]
try:
    _CFG = fidelity.load_deliberate()
except ValueError:
    _CFG = {"exclude": {}, "differences": {}}  # test_deliberate_config reports it
EQUALITY_SET = [n for n in CORPUS if n not in _CFG["exclude"]]
SANITISER_SET = [n for n, e in _CFG["exclude"].items() if e.get("sanitiser")]
SHOWN = 8  # differences listed in a failure message
AGREEMENT = fidelity.TESTS_DIR / "mdc" / "agreement.py"

# Real documents (docs/ast-fidelity.md, "Agreement on real documents").
REAL_AST_MIN = 0.95   # share of files whose AST is strictly equal
REAL_HTML_MIN = 0.97  # share of files MDCRenderer renders to the same HTML


@pytest.mark.parametrize("name", EQUALITY_SET)
def test_matches_mdc(name, corpus_dir, mdc_trees, render_ours, deliberate):
    mdc = mdc_trees[name]
    assert "error" not in mdc, f"@nuxtjs/mdc cannot render {name}: {mdc.get('error')}"
    ours = render_ours(corpus_dir / name)
    assert "error" not in ours, ours.get("error")
    res = fidelity.compare_file(name, ours, mdc, deliberate)
    assert res.status != "error", res.detail
    if res.diffs:
        lines = [f"{name}: {len(res.diffs)} difference(s) (ours != mdc), first:"]
        lines += [f"  {d}" for d in res.diffs[:SHOWN]]
        lines.append(f"  (run: tests/mdc/diff.py --show -n 20 {name})")
        pytest.fail("\n".join(lines), pytrace=False)


@pytest.mark.parametrize("name", SANITISER_SET)
def test_sanitiser_smoke(name, corpus_dir, render_ours):
    """Excluded hostile files: our output keeps none of what the CONTRACT
    forbids.  The full sanitiser tests live with the sanitiser."""
    ours = render_ours(corpus_dir / name)
    assert "error" not in ours, ours.get("error")
    bad = fidelity.sanitiser_violations(ours)
    assert not bad, f"{name}: unsafe output:\n  " + "\n  ".join(bad[:SHOWN])


def test_deliberate_config(mdc_trees):
    """deliberate.json is valid, names only corpus files, gives every rule a
    reason, and every path still resolves in MDC's tree."""
    cfg = fidelity.load_deliberate()
    for name in list(cfg["exclude"]) + list(cfg["differences"]):
        assert name in CORPUS, f"deliberate.json names {name}, which is not in tests/corpus"
    for name, rules in cfg["differences"].items():
        assert name not in cfg["exclude"], f"{name} is both excluded and has rules"
        _, _, stale = fidelity.apply_deliberate(fidelity.normalise(mdc_trees[name]), rules)
        assert not stale, f"{name}: rules whose path is not in MDC's tree: {stale}"


def test_corpus_renders_with_mdc(mdc_trees):
    """Every corpus file is one MDC can parse (a file it throws on tests nothing)."""
    failed = {n: d["error"] for n, d in mdc_trees.items() if "error" in d}
    assert not failed, json.dumps(failed, indent=1)


@pytest.fixture(scope="module")
def corpus_html(corpus_dir, mdc_trees, content_bin, deliberate):
    """{name: (our HTML, MDC's HTML)} for the equality set, both trees
    rendered by MDC's MDCRenderer (tests/mdc/html.mjs) in one node process."""
    docs = {}
    for name in EQUALITY_SET:
        ours, mdc = fidelity.html_inputs(name, fidelity.render_ours(corpus_dir / name),
                                         mdc_trees[name], deliberate)
        docs["ours:" + name], docs["mdc:" + name] = ours, mdc
    html = fidelity.render_html(docs)
    return {n: (html["ours:" + n], html["mdc:" + n]) for n in EQUALITY_SET}


@pytest.mark.parametrize("name", EQUALITY_SET)
def test_html_matches_mdc(name, corpus_html):
    """What the Nuxt front end shows: MDCRenderer makes the same HTML of our
    tree as of MDC's (components print their props and slots)."""
    ours, mdc = corpus_html[name]
    diff = fidelity.html_difference(ours, mdc)
    assert diff is None, f"{name}: {diff}"


def test_real_corpus_agreement(content_bin, mdc_trees):
    """Real documents nobody here wrote: no file fails to render, and the
    strict-AST and HTML agreement reach REAL_AST_MIN and REAL_HTML_MIN.
    Measured by tests/mdc/agreement.py in a process of its own: holding 185
    documents' trees would grow this one, and the peak memory other tests
    read from wait4() includes what a child inherits at fork."""
    folder = fidelity.real_corpus_dir()
    if not fidelity.real_corpus_files():
        pytest.skip(f"no real corpus at {folder} (set CONTENTD_MDC_CORPUS to a folder of *.md)")
    proc = subprocess.run([sys.executable, str(AGREEMENT), "--json", str(folder)],
                          capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stderr[-2000:]
    fig = json.loads(proc.stdout)[0]
    n, ast, html = fig["files"], fig["ast_equal"], fig["html_equal"]
    line = (f"{folder}: AST strict {ast}/{n} ({100 * ast / n:.1f} %), "
            f"HTML {html}/{n} ({100 * html / n:.1f} %)")
    print(line)
    failed = [name for name, d in fig["differ"].items()
              if d["ast"] and ("content render" in d["ast"] or "timed out" in d["ast"])]
    assert not failed, f"content render failed on: {failed}"
    listing = "\n".join(f"  {name}: {d['ast'] or d['html']}"
                        for name, d in sorted(fig["differ"].items())[:40])
    assert ast >= REAL_AST_MIN * n and html >= REAL_HTML_MIN * n, \
        f"{line}; needs AST >= {REAL_AST_MIN:.0%} and HTML >= {REAL_HTML_MIN:.0%}; differing:\n{listing}"
