# SPDX-License-Identifier: MIT
"""Shared machinery of the AST fidelity tests: render with both, normalise, diff.

Used by tests/integration/test_fidelity.py (pytest) and tests/mdc/diff.py (the
command-line report).  It knows where things are, how to run `content render`
and the pinned @nuxtjs/mdc (one batch call to render.mjs), the normalisation
documented in docs/ast-fidelity.md, the deliberate-difference rules of
tests/corpus/deliberate.json, and how to describe a difference in one line.

Standard library only, so it runs with the system python3.
"""
from __future__ import annotations

import copy
import difflib
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

TESTS_DIR = Path(__file__).resolve().parent.parent
REPO_ROOT = TESTS_DIR.parent
CORPUS_DIR = TESTS_DIR / "corpus"
DELIBERATE_FILE = CORPUS_DIR / "deliberate.json"
RENDER_MJS = TESTS_DIR / "mdc" / "render.mjs"
HTML_MJS = TESTS_DIR / "mdc" / "html.mjs"
MDC_PACKAGE = TESTS_DIR / "node_modules" / "@nuxtjs" / "mdc" / "package.json"

INSTALL_HINT = "install the reference renderer with: npm ci --prefix tests"
BUILD_HINT = "build it with: meson setup build && ninja -C build"


# --------------------------------------------------------------------------
# Locating the two renderers


def build_dir() -> Path:
    """The meson build directory: $CONTENTD_BUILD, else <repo>/build."""
    env = os.environ.get("CONTENTD_BUILD")
    return Path(env).resolve() if env else REPO_ROOT / "build"


def content_binary() -> Path:
    return build_dir() / "cli" / "content"


def missing_ours() -> str | None:
    """Why `content render` cannot run, or None when it can."""
    binary = content_binary()
    if not (binary.is_file() and os.access(binary, os.X_OK)):
        return f"{binary} not found ({BUILD_HINT}; or set CONTENTD_BUILD)"
    return None


def missing_mdc() -> str | None:
    """Why the reference renderer cannot run, or None when it can."""
    if shutil.which("node") is None:
        return f"node is not on PATH (install nodejs and npm, then {INSTALL_HINT})"
    if not MDC_PACKAGE.is_file():
        return f"{TESTS_DIR / 'node_modules'} has no @nuxtjs/mdc ({INSTALL_HINT})"
    return None


def missing_renderers() -> str | None:
    """Why one of the two renderers cannot run, or None when both can."""
    return missing_mdc() or missing_ours()


def mdc_version() -> str:
    try:
        return json.loads(MDC_PACKAGE.read_text())["version"]
    except (OSError, ValueError, KeyError):
        return "?"


def corpus_files() -> list[Path]:
    return sorted(CORPUS_DIR.glob("*.md"))


def real_corpus_dir() -> Path:
    """The corpus of real documents (not in the repository):
    $CONTENTD_MDC_CORPUS, else ../shared/mdc-corpus next to the repository."""
    env = os.environ.get("CONTENTD_MDC_CORPUS")
    return Path(env).resolve() if env else REPO_ROOT.parent / "shared" / "mdc-corpus"


def real_corpus_files() -> list[Path]:
    return sorted(real_corpus_dir().glob("*.md"))


# --------------------------------------------------------------------------
# Rendering


def render_mdc(files: list[Path]) -> dict[Path, dict]:
    """Renders every file with @nuxtjs/mdc in one node process.

    Returns {path: {data, body, toc}} or {path: {"error": message}}.
    Raises RuntimeError when node itself fails."""
    if not files:
        return {}
    args = [str(Path(f).resolve()) for f in files]
    proc = subprocess.run(["node", str(RENDER_MJS), *args], capture_output=True,
                          text=True, timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(f"render.mjs exited {proc.returncode}: {proc.stderr.strip()}")
    out = json.loads(proc.stdout)
    return {Path(k): v for k, v in out.items()}


def render_html(docs: dict[str, dict]) -> dict[str, str | dict]:
    """The HTML that @nuxtjs/mdc's MDCRenderer makes of each AST document
    (tests/mdc/html.mjs: components as generic elements printing their
    props and slots, attributes and class/rel tokens sorted), in one node
    process.  Returns {key: html} or {key: {"error": message}}; a document
    that is itself an error stays that error.  Raises RuntimeError when node
    itself fails."""
    payload = {k: {"body": d.get("body"), "data": d.get("data") or {}}
               for k, d in docs.items() if "error" not in d}
    out: dict = {}
    if payload:
        proc = subprocess.run(["node", str(HTML_MJS)], input=json.dumps(payload),
                              capture_output=True, text=True, timeout=900)
        if proc.returncode != 0:
            raise RuntimeError(f"html.mjs exited {proc.returncode}: {proc.stderr.strip()[-2000:]}")
        out = json.loads(proc.stdout)
    for k, d in docs.items():
        if "error" in d:
            out[k] = {"error": d["error"]}
    return out


def render_ours(path: Path) -> dict:
    """Renders one file with `content render`.

    Returns the parsed document, or {"error": message} when the command fails
    or prints something that is not JSON."""
    try:
        proc = subprocess.run([str(content_binary()), "render", str(path)],
                              capture_output=True, timeout=60)
    except subprocess.TimeoutExpired:
        return {"error": "content render timed out after 60 s"}
    if proc.returncode != 0:
        msg = proc.stderr.decode("utf-8", "replace").strip() or "(no message)"
        return {"error": f"content render exited {proc.returncode}: {msg}"}
    try:
        return json.loads(proc.stdout)
    except ValueError as e:
        return {"error": f"content render printed invalid JSON: {e}"}


# --------------------------------------------------------------------------
# Normalisation (docs/ast-fidelity.md, "Normalisation")

# Props whose value is a space-separated token set in HTML.
TOKEN_SET_PROPS = ("className", "rel")


def _is_text(node) -> bool:
    return isinstance(node, dict) and node.get("type") == "text" and set(node) == {"type", "value"}


def _normalise_node(node) -> None:
    if not isinstance(node, dict):
        return
    props = node.get("props")
    if isinstance(props, dict):
        for name in TOKEN_SET_PROPS:
            value = props.get(name)
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                props[name] = sorted(value)
    children = node.get("children")
    if isinstance(children, list):
        merged = []
        for child in children:
            if merged and _is_text(child) and _is_text(merged[-1]) \
                    and isinstance(child["value"], str) and isinstance(merged[-1]["value"], str):
                merged[-1] = {"type": "text", "value": merged[-1]["value"] + child["value"]}
            else:
                merged.append(child)
        node["children"] = merged
        for child in merged:
            _normalise_node(child)


def normalise(doc: dict) -> dict:
    """A normalised deep copy of an AST document (either renderer's).

    1. sort the values of token-set props (className, rel) of every node;
    2. merge adjacent text siblings into one text node.
    Key order needs no step: documents are compared as JSON values."""
    doc = copy.deepcopy(doc)
    for tree in ("body", "excerpt"):
        if isinstance(doc.get(tree), dict):
            _normalise_node(doc[tree])
    return doc


# --------------------------------------------------------------------------
# Paths: body.children[3].props.id, props[":bound"], ...

_IDENT = re.compile(r"^[A-Za-z_$][\w$-]*$")  # printed as .key, else ["key"]
_TOKEN = re.compile(r'\.([A-Za-z_$:@#][\w$:@#-]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]')


def format_path(parts) -> str:
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        elif _IDENT.match(p):
            out += ("." if out else "") + p
        else:
            out += "[" + json.dumps(p, ensure_ascii=False) + "]"
    return out


def parse_path(text: str) -> list:
    s = text if text.startswith(("[", ".")) else "." + text
    parts, pos = [], 0
    while pos < len(s):
        m = _TOKEN.match(s, pos)
        if not m:
            raise ValueError(f"bad path {text!r} at offset {pos}")
        if m.group(1) is not None:
            parts.append(m.group(1))
        elif m.group(2) is not None:
            parts.append(int(m.group(2)))
        else:
            parts.append(json.loads(m.group(3)))
        pos = m.end()
    return parts


def _resolve(doc, parts):
    """(container, key) of the value at parts, or None when it is absent."""
    container = doc
    for i, p in enumerate(parts):
        if isinstance(p, int):
            if not isinstance(container, list) or p >= len(container):
                return None
        elif not isinstance(container, dict) or p not in container:
            return None
        if i == len(parts) - 1:
            return container, p
        container = container[p]
    return None


# --------------------------------------------------------------------------
# Deliberate differences (tests/corpus/deliberate.json)


class _Ignored:
    """Marks a value of MDC's tree that is not compared."""

    def __repr__(self):
        return "<ignored>"

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self


IGNORED = _Ignored()


def load_deliberate(path: Path = DELIBERATE_FILE) -> dict:
    """The deliberate-difference config, validated.  Raises ValueError."""
    cfg = json.loads(path.read_text()) if path.exists() else {}
    cfg.setdefault("exclude", {})
    cfg.setdefault("differences", {})
    for name, entry in cfg["exclude"].items():
        if not isinstance(entry, dict) or not entry.get("reason"):
            raise ValueError(f"deliberate.json: exclude[{name!r}] needs a reason")
    for name, rules in cfg["differences"].items():
        for rule in rules:
            if rule.get("rule") not in ("drop", "ignore", "extra"):
                raise ValueError(f"deliberate.json: {name}: rule must be drop, ignore or extra: {rule}")
            if not rule.get("reason"):
                raise ValueError(f"deliberate.json: {name}: {rule.get('path')}: needs a reason")
            parse_path(rule["path"])
    return cfg


def _delete_all(targets) -> None:
    # List items go from the highest index down so earlier ones stay put.
    targets.sort(key=lambda w: (id(w[0]), -w[1] if isinstance(w[1], int) else 0))
    for container, key in targets:
        del container[key]


def apply_deliberate(mdc: dict, rules: list[dict], ours: dict | None = None):
    """Applies a file's deliberate rules to copies of the normalised trees.

    "drop" and "ignore" paths address MDC's tree, "extra" paths ours, each
    before any rule runs.  "drop" removes the value from MDC's tree (we must
    not have it); "ignore" replaces it with IGNORED (matches anything, or
    absence); "extra" removes it from ours (MDC must not have it).
    Returns (mdc, ours, stale paths); ours is None when not given, and
    "extra" rules are then not checked."""
    mdc = copy.deepcopy(mdc)
    ours = copy.deepcopy(ours)
    stale, drops, extras = [], [], []
    for rule in rules:
        tree = ours if rule["rule"] == "extra" else mdc
        if tree is None:
            continue
        where = _resolve(tree, parse_path(rule["path"]))
        if where is None:
            stale.append(rule["path"])
        elif rule["rule"] == "ignore":
            where[0][where[1]] = IGNORED
        else:
            (extras if rule["rule"] == "extra" else drops).append(where)
    _delete_all(drops)
    _delete_all(extras)
    return mdc, ours, stale


# --------------------------------------------------------------------------
# Comparison


@dataclass
class Difference:
    parts: list       # where, in MDC's tree (for ours_only: where it would go)
    message: str
    oparts: list      # the same place in our tree
    ours_only: bool = False  # a node only we have

    @property
    def path(self) -> str:
        return format_path(self.oparts if self.ours_only else self.parts)

    def __str__(self):
        return f"{self.path}{' (ours)' if self.ours_only else ''}: {self.message}"


def _kind(v) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    return "object"


def _text_of(node, limit=40) -> str:
    out = []

    def walk(n):
        if sum(map(len, out)) > limit:
            return
        if isinstance(n, dict):
            if n.get("type") == "text" and isinstance(n.get("value"), str):
                out.append(n["value"])
            for c in n.get("children") or []:
                walk(c)

    walk(node)
    text = "".join(out)
    return text if len(text) <= limit else text[:limit] + "…"


def summarise(v, limit=60) -> str:
    """A short one-line description of a JSON value, for difference lines."""
    if v is IGNORED:
        return "<ignored>"
    if isinstance(v, dict) and v.get("type") == "element":
        props = v.get("props") or {}
        bits = [str(v.get("tag"))]
        for k in ("id", "className", "href", "src"):
            if k in props:
                val = props[k]
                bits.append(f"{k}={' '.join(map(str, val)) if isinstance(val, list) else val}")
        text = _text_of(v)
        s = "<" + " ".join(bits) + ">" + (" " + json.dumps(text, ensure_ascii=False) if text else "")
    elif isinstance(v, dict) and v.get("type") == "text":
        s = "text " + json.dumps(v.get("value"), ensure_ascii=False)
    else:
        s = json.dumps(v, ensure_ascii=False)
    return s if len(s) <= limit else s[:limit] + "…"


def _string_diff(a: str, b: str, width=24) -> str:
    i = 0
    while i < min(len(a), len(b)) and a[i] == b[i]:
        i += 1
    lo = max(0, i - width)

    def clip(s):
        piece = s[lo:i + width]
        return ("…" if lo else "") + json.dumps(piece, ensure_ascii=False)[1:-1] + ("…" if i + width < len(s) else "")

    return f'"{clip(a)}" != "{clip(b)}" (from char {i})'


# Keys compared first, so the first difference at a node is the most telling.
_KEY_ORDER = {k: i for i, k in enumerate(
    ["error", "type", "tag", "value", "props", "children", "data", "body", "toc"])}


def _is_node(v) -> bool:
    return isinstance(v, dict) and "type" in v


def _signature(v):
    if v is IGNORED:
        return ("ignored",)
    if _is_node(v):
        return (v.get("type"), v.get("tag"))
    return ("json", json.dumps(v, sort_keys=True, default=repr))


def _align(a: list, b: list) -> list[tuple]:
    """SequenceMatcher-style opcodes from a longest common subsequence of a
    and b (SequenceMatcher's longest-block heuristic misaligns repetitive
    sequences such as table, p, table, p)."""
    n, m = len(a), len(b)
    if n * m > 4_000_000:
        return difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    lcs = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        row, below = lcs[i], lcs[i + 1]
        for j in range(m - 1, -1, -1):
            row[j] = below[j + 1] + 1 if a[i] == b[j] else max(below[j], row[j + 1])
    ops, i, j = [], 0, 0
    gap_i, gap_j = 0, 0
    while i < n or j < m:
        if i < n and j < m and a[i] == b[j]:
            if (gap_i, gap_j) != (i, j):
                ops.append(("replace", gap_i, i, gap_j, j))
            ops.append(("equal", i, i + 1, j, j + 1))
            i, j = i + 1, j + 1
            gap_i, gap_j = i, j
        elif i < n and j < m and lcs[i + 1][j + 1] == lcs[i][j]:
            i, j = i + 1, j + 1  # a substitution loses nothing: keep pairs positional
        elif j >= m or (i < n and lcs[i + 1][j] >= lcs[i][j + 1]):
            i += 1
        else:
            j += 1
    if (gap_i, gap_j) != (n, m):
        ops.append(("replace", gap_i, n, gap_j, m))
    return ops


def _diff_children(ours, mdc, parts, oparts, out, limit):
    """Aligns two node lists (an inserted or missing node is reported once,
    not as a cascade of mismatches) and compares aligned pairs.  Paths use
    MDC's indices; a node only we have is reported at our index."""
    opcodes = _align([_signature(v) for v in ours], [_signature(v) for v in mdc])
    for op, o1, o2, m1, m2 in opcodes:
        # Unmatched runs are paired up positionally first (reported as one
        # "<div> != <table>" line each), the surplus as missing/unexpected.
        n = min(o2 - o1, m2 - m1) if op in ("replace", "equal") else 0
        for k in range(n):
            _diff(ours[o1 + k], mdc[m1 + k], parts + [m1 + k], oparts + [o1 + k], out, limit)
            if len(out) >= limit:
                return
        for k in range(m1 + n, m2):
            if mdc[k] is not IGNORED:
                out.append(Difference(parts + [k], f"missing: {summarise(mdc[k])}", oparts))
        for k in range(o1 + n, o2):
            out.append(Difference(parts + [m1 + n], f"unexpected: {summarise(ours[k])}",
                                  oparts + [k], ours_only=True))
        if len(out) >= limit:
            del out[limit:]
            return


def _diff(ours, mdc, parts, oparts, out, limit):
    if len(out) >= limit or mdc is IGNORED:
        return

    def add(where, message):
        out.append(Difference(parts + where, message, oparts + where))

    ko, km = _kind(ours), _kind(mdc)
    if ko != km:
        add([], f"{summarise(ours)} != {summarise(mdc)} ({ko} vs {km})")
        return
    if km == "object":
        if _is_node(ours) and _is_node(mdc) and _signature(ours) != _signature(mdc):
            # A different kind of node: its insides cannot be compared.
            add([], f"{summarise(ours)} != {summarise(mdc)}")
            return
        keys = sorted(set(mdc) | set(ours), key=lambda k: (_KEY_ORDER.get(k, 99), k))
        for k in keys:
            if k not in ours:
                if mdc[k] is not IGNORED:
                    add([k], f"missing (mdc has {summarise(mdc[k])})")
            elif k not in mdc:
                add([k], f"unexpected {summarise(ours[k])} (mdc has no such key)")
            else:
                _diff(ours[k], mdc[k], parts + [k], oparts + [k], out, limit)
            if len(out) >= limit:
                return
    elif km == "array":
        if any(_is_node(v) for v in ours + mdc):
            _diff_children(ours, mdc, parts, oparts, out, limit)
            return
        for i in range(min(len(ours), len(mdc))):
            _diff(ours[i], mdc[i], parts + [i], oparts + [i], out, limit)
            if len(out) >= limit:
                return
        for i in range(len(ours), len(mdc)):
            if mdc[i] is not IGNORED:
                add([i], f"missing (mdc has {summarise(mdc[i])})")
                break
        if len(ours) > len(mdc):
            i = len(mdc)
            add([i], f"unexpected {summarise(ours[i])} (mdc has {len(mdc)} items)")
    elif ours != mdc:
        if km == "string" and (len(ours) > 40 or len(mdc) > 40):
            msg = _string_diff(ours, mdc)
        else:
            msg = f"{json.dumps(ours, ensure_ascii=False)} != {json.dumps(mdc, ensure_ascii=False)}"
        add([], msg)


def differences(ours: dict, mdc: dict, limit: int = 1000) -> list[Difference]:
    """Differences between two prepared documents (ours first, mdc second),
    in document order, at most `limit`.  Lists of nodes are aligned first
    (see _diff_children); a plain array that is longer on one side reports
    its first surplus item only."""
    out: list[Difference] = []
    _diff(ours, mdc, [], [], out, limit)
    return out


def value_at(doc, path: str):
    where = _resolve(doc, parse_path(path)) if path else None
    return where[0][where[1]] if where else None


@dataclass
class Outcome:
    name: str
    status: str  # "match", "differ", "error", "excluded"
    diffs: list[Difference]
    detail: str = ""
    ours: dict | None = None
    mdc: dict | None = None


def compare_file(name: str, ours: dict, mdc: dict, cfg: dict, limit: int = 1000) -> Outcome:
    """Normalises both documents, applies the file's deliberate rules and
    diffs them.  `name` is the corpus file name (deliberate.json key)."""
    if name in cfg["exclude"]:
        return Outcome(name, "excluded", [], cfg["exclude"][name]["reason"])
    if "error" in mdc:
        return Outcome(name, "error", [], f"@nuxtjs/mdc failed: {mdc['error']}")
    if "error" in ours:
        return Outcome(name, "error", [], ours["error"])
    rules = cfg["differences"].get(name, [])
    n_mdc, n_ours, stale = apply_deliberate(normalise(mdc), rules, normalise(ours))
    if stale:
        return Outcome(name, "error", [], "deliberate.json paths that do not resolve: " + ", ".join(stale))
    if rules:  # a dropped node can leave two text nodes side by side
        n_mdc, n_ours = normalise(n_mdc), normalise(n_ours)
    diffs = differences(n_ours, n_mdc, limit)
    return Outcome(name, "differ" if diffs else "match", diffs, "", n_ours, n_mdc)


def _fill_ignored(mdc, ours):
    """MDC's tree with every IGNORED value replaced by ours at the same place
    (removed where ours has nothing), so that it can be rendered."""
    if isinstance(mdc, dict):
        out = {}
        for k, v in mdc.items():
            theirs = ours.get(k, IGNORED) if isinstance(ours, dict) else IGNORED
            if v is IGNORED and theirs is IGNORED:
                continue
            out[k] = theirs if v is IGNORED else _fill_ignored(v, theirs)
        return out
    if isinstance(mdc, list):
        out = []
        for i, v in enumerate(mdc):
            theirs = ours[i] if isinstance(ours, list) and i < len(ours) else IGNORED
            if v is IGNORED and theirs is IGNORED:
                continue
            out.append(theirs if v is IGNORED else _fill_ignored(v, theirs))
        return out
    return mdc


def html_inputs(name: str, ours: dict, mdc: dict, cfg: dict) -> tuple[dict, dict]:
    """The two documents to render at the HTML level: as rendered, or, for a
    file with deliberate rules, the normalised trees with the rules applied
    (an ignored value takes ours)."""
    rules = cfg["differences"].get(name, [])
    if not rules or "error" in ours or "error" in mdc:
        return ours, mdc
    n_mdc, n_ours, _ = apply_deliberate(normalise(mdc), rules, normalise(ours))
    return n_ours, _fill_ignored(n_mdc, n_ours)


def html_difference(ours, mdc) -> str | None:
    """None when both renderings are the same HTML, else one line saying
    where they part (or what failed)."""
    if isinstance(mdc, dict):
        return f"MDCRenderer failed on MDC's tree: {mdc.get('error')}"
    if isinstance(ours, dict):
        return f"ours: {ours.get('error')}"
    if ours == mdc:
        return None
    return "html: " + _string_diff(ours, mdc, width=60)


# --------------------------------------------------------------------------
# Sanitiser smoke checks (files excluded with "sanitiser": true)

FORBIDDEN_TAGS = ("script", "style", "iframe")
URL_PROPS = ("href", "src", "action", "formAction", "poster", "cite", "data",
             "xlinkHref", "background", "srcSet")
_SCHEME_JUNK = re.compile(r"[\x00-\x20\x7f]+")


def sanitiser_violations(doc: dict) -> list[str]:
    """What in our document breaks the CONTRACT's sanitising promise: no
    script/style/iframe element, no event-handler prop (on*, also bound as
    :on*), no javascript:/vbscript:/data: URL except a data: image source."""
    out: list[str] = []

    def walk(node, parts):
        if not isinstance(node, dict):
            return
        where = format_path(parts)
        tag = node.get("tag")
        if node.get("type") == "element" and str(tag).lower() in FORBIDDEN_TAGS:
            out.append(f"{where}: <{tag}> element")
        for name, value in (node.get("props") or {}).items():
            if name.lstrip(":").lower().startswith("on"):
                out.append(f"{where}.props[{json.dumps(name)}]: event handler prop")
            if name in URL_PROPS and isinstance(value, str):
                url = _SCHEME_JUNK.sub("", value).lower()
                if url.startswith(("javascript:", "vbscript:")) or (
                        url.startswith("data:") and not (tag == "img" and name == "src"
                                                         and url.startswith("data:image/"))):
                    out.append(f"{where}.props.{name}: {value[:40]!r}")
        for i, child in enumerate(node.get("children") or []):
            walk(child, parts + ["children", i])

    walk(doc.get("body"), ["body"])
    return out
