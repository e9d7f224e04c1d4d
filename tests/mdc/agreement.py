#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Agreement figures with @nuxtjs/mdc, at both levels, per corpus.

usage: tests/mdc/agreement.py [-v] [--json] [DIR...]

DIR is a folder of markdown files (default: tests/corpus and the real
corpus, ../shared/mdc-corpus or $CONTENTD_MDC_CORPUS).  For every file:

  AST   strict equality of `content render` with MDC's parseMarkdown after
        the normalisation of docs/ast-fidelity.md (and, for tests/corpus,
        the deliberate differences of tests/corpus/deliberate.json);
  HTML  equality of the HTML that MDC's MDCRenderer (under
        @vue/server-renderer) makes of our tree and of MDC's tree
        (tests/mdc/html.mjs).

Prints one line per corpus, `-v` adds every file that differs with its first
difference at each level; `--json` prints the figures and those differences
as one JSON list instead.  Files excluded in deliberate.json are not counted.
Exit status: 0 when the figures could be computed, 2 when a renderer is
missing.
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fidelity  # noqa: E402


@dataclass
class Figures:
    corpus: str
    files: int = 0
    ast_equal: int = 0
    html_equal: int = 0
    differ: dict = field(default_factory=dict)  # name -> (ast line | None, html line | None)

    def line(self) -> str:
        def pct(n):
            return f"{n}/{self.files} ({100.0 * n / self.files:.1f} %)" if self.files else "0/0"
        return f"{self.corpus}: AST strict {pct(self.ast_equal)}, HTML {pct(self.html_equal)}"


def measure(folder: Path, cfg: dict) -> Figures:
    """Both levels for every *.md of folder.  cfg is deliberate.json's for
    tests/corpus, and empty rules for any other folder."""
    files = sorted(folder.glob("*.md"))
    in_corpus = folder.resolve() == fidelity.CORPUS_DIR
    rules = cfg if in_corpus else {"exclude": {}, "differences": {}}
    files = [f for f in files if f.name not in rules["exclude"]]
    trees = fidelity.render_mdc(files)
    mdc = {f.name: trees[f.resolve()] for f in files}
    ours = {f.name: fidelity.render_ours(f) for f in files}
    fig = Figures(str(folder), files=len(files))
    to_render = {}
    ast_lines = {}
    for f in files:
        res = fidelity.compare_file(f.name, ours[f.name], mdc[f.name], rules)
        if res.status == "match":
            fig.ast_equal += 1
        else:
            ast_lines[f.name] = str(res.diffs[0]) if res.diffs else res.detail
        o, m = fidelity.html_inputs(f.name, ours[f.name], mdc[f.name], rules)
        to_render["ours:" + f.name], to_render["mdc:" + f.name] = o, m
    html = fidelity.render_html(to_render)
    for f in files:
        hline = fidelity.html_difference(html["ours:" + f.name], html["mdc:" + f.name])
        if hline is None:
            fig.html_equal += 1
        if hline is not None or f.name in ast_lines:
            fig.differ[f.name] = (ast_lines.get(f.name), hline)
    return fig


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dirs", nargs="*", type=Path)
    ap.add_argument("-v", action="store_true")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    why = fidelity.missing_renderers()
    if why:
        print(f"agreement.py: {why}", file=sys.stderr)
        return 2
    dirs = args.dirs or [fidelity.CORPUS_DIR, fidelity.real_corpus_dir()]
    cfg = fidelity.load_deliberate()
    results = []
    for d in dirs:
        if not d.is_dir():
            print(f"agreement.py: no such folder: {d}", file=sys.stderr)
            return 2
        fig = measure(d, cfg)
        results.append(fig)
        if not args.json:
            print(fig.line())
            if args.v:
                for name, (a, h) in sorted(fig.differ.items()):
                    print(f"  {name}")
                    if a:
                        print(f"      ast:  {a}")
                    if h:
                        print(f"      {h}")
    if args.json:
        print(json.dumps([{"corpus": f.corpus, "files": f.files, "ast_equal": f.ast_equal,
                           "html_equal": f.html_equal,
                           "differ": {n: {"ast": a, "html": h} for n, (a, h) in f.differ.items()}}
                          for f in results]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
