#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Where does `content render` differ from @nuxtjs/mdc?  One line per file.

usage: tests/mdc/diff.py [-n N] [-q] [--show] [--all] [FILE...]

FILE is a corpus file name (`lists.md` or just `lists`) or the path of any
markdown file; without FILE the whole corpus (tests/corpus/*.md) is compared.
Both trees are normalised and deliberate.json applied exactly as in
tests/integration/test_fidelity.py, so "ok" here means the test passes.

  -n N     differences listed per file (default 3; 0 = only the count)
  -q       only the summary line and the names of files that differ
  --show   also print both subtrees at each file's first difference
  --all    compare the excluded files (deliberate.json "exclude") too

Each difference reads `PATH: OURS != MDC`, with PATH usable as-is in
deliberate.json.  Exit status: 0 when every compared file matches, 1 when one
differs or fails, 2 when a renderer is missing.  CONTENTD_BUILD selects the
build directory (default <repo>/build).
"""
from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fidelity  # noqa: E402


def resolve_inputs(args: list[str]) -> list[tuple[str, Path]]:
    """(name, path) pairs; corpus files are named by file name."""
    if not args:
        return [(p.name, p) for p in fidelity.corpus_files()]
    out = []
    for a in args:
        p = Path(a)
        for cand in (fidelity.CORPUS_DIR / a, fidelity.CORPUS_DIR / (a + ".md")):
            if not p.exists() and cand.is_file():
                p = cand
        if not p.is_file():
            sys.exit(f"diff.py: no such file or corpus entry: {a}")
        in_corpus = p.resolve().parent == fidelity.CORPUS_DIR
        out.append((p.name if in_corpus else str(p), p))
    return out


def subtree_at(doc, parts: list) -> str:
    """The innermost element (or the document) around parts, as short JSON."""
    parts = list(parts)
    while parts:
        v = fidelity.value_at(doc, fidelity.format_path(parts))
        if isinstance(v, dict) and v.get("type") in ("element", "root"):
            break
        parts.pop()
    v = fidelity.value_at(doc, fidelity.format_path(parts)) if parts else doc
    text = json.dumps(v, ensure_ascii=False, default=repr)
    return (fidelity.format_path(parts) or "(document)") + " = " + (text if len(text) <= 600 else text[:600] + "…")


def siblings_at(doc, parts: list) -> str:
    """MDC's nodes around the place where ours has an extra one."""
    siblings = fidelity.value_at(doc, fidelity.format_path(parts[:-1])) or []
    i = parts[-1]
    around = [f"[{j}] {fidelity.summarise(siblings[j], 40)}"
              for j in range(max(0, i - 2), min(len(siblings), i + 2))]
    return f"{fidelity.format_path(parts[:-1])} around [{i}]: " + " | ".join(around)


def main() -> int:
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `diff.py | head` exits quietly
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("files", nargs="*")
    ap.add_argument("-n", type=int, default=3, metavar="N")
    ap.add_argument("-q", action="store_true")
    ap.add_argument("--show", action="store_true")
    ap.add_argument("--all", action="store_true")
    opts = ap.parse_args()

    why = fidelity.missing_renderers()
    if why:
        print(f"diff.py: {why}", file=sys.stderr)
        return 2
    cfg = fidelity.load_deliberate()
    if opts.all:
        cfg = dict(cfg, exclude={})
    inputs = resolve_inputs(opts.files)
    mdc = fidelity.render_mdc([p for _, p in inputs])
    mdc_by_path = {k.resolve(): v for k, v in mdc.items()}

    width = max(len(n) for n, _ in inputs)
    counts = {"match": 0, "differ": 0, "error": 0, "excluded": 0}
    for name, path in inputs:
        ours = fidelity.render_ours(path)
        # Counting every difference of a badly misaligned file is slow and
        # useless; 200 says "a lot".
        res = fidelity.compare_file(name, ours, mdc_by_path[path.resolve()], cfg, limit=200)
        counts[res.status] += 1
        if res.status == "match":
            if not opts.q:
                print(f"ok    {name}")
        elif res.status == "excluded":
            if not opts.q:
                print(f"skip  {name:<{width}}  excluded: {res.detail}")
        elif res.status == "error":
            print(f"FAIL  {name:<{width}}  {res.detail}")
        else:
            n = len(res.diffs)
            print(f"DIFF  {name:<{width}}  {n if n < 200 else '200+'} difference{'s' if n != 1 else ''}")
            if not opts.q:
                for d in res.diffs[:opts.n]:
                    print(f"      {d}")
                if opts.show:
                    first = res.diffs[0]
                    print(f"      ours {subtree_at(res.ours, first.oparts)}")
                    if first.ours_only:
                        print(f"      mdc  {siblings_at(res.mdc, first.parts)}")
                    else:
                        print(f"      mdc  {subtree_at(res.mdc, first.parts)}")
    total = len(inputs) - counts["excluded"]
    print(f"-- {counts['match']}/{total} match, {counts['differ']} differ, "
          f"{counts['error']} failed, {counts['excluded']} excluded "
          f"(ours: {fidelity.content_binary()}, mdc: @nuxtjs/mdc {fidelity.mdc_version()}; "
          f"lines read PATH: OURS != MDC)")
    return 0 if counts["differ"] == 0 and counts["error"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
