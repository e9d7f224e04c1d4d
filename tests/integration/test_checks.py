# SPDX-License-Identifier: MIT
"""The checks (docs/checks.md) as authors meet them: `content check DIR`
offline, and after the summary of `content push` and of each push of
`content push --watch`.

Every check has a small item of its own, written by the test; what is
asserted is the place (path, line), severity and code of each finding that
`content check` prints, and that nothing else is printed.  The examples of
examples/ must be clean.  And the issue's "done when": an item with a
broken lesson link, a missing image, a cover that does not exist and a
task cycle prints exactly those four, with file and line, offline and on a
push.
"""
from __future__ import annotations

import json
import re
import subprocess
import threading
from pathlib import Path

import pytest

from helpers.api import wait_until
from helpers.sample import PNG
from helpers.server import clean_env, content_binary

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(p for p in (REPO / "examples").iterdir() if p.is_dir())
FINDING = re.compile(r"^(?P<path>[^:]+?)(?::(?P<line>\d+))?: (?P<severity>error|warning): "
                     r"(?P<message>.*) \[(?P<code>[a-z-]+)\]$")
JPEG = b"\xff\xd8\xff\xe0" + bytes(64)
OK, FAIL, USAGE = 0, 1, 2


def write(root: Path, files: dict) -> Path:
    for rel, data in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data if isinstance(data, bytes) else data.encode())
    return root


def check(*args, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([str(content_binary()), "check", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, env=clean_env({}),
                          timeout=60)


def findings(text: str) -> list:
    """(path, line, severity, code) of each line; every line must be one."""
    out = []
    for line in text.splitlines():
        m = FINDING.match(line)
        assert m, f"not a finding line: {line!r}"
        out.append((m["path"], int(m["line"] or 0), m["severity"], m["code"]))
    return out


def index(body: str = "", front: str = "") -> str:
    return f"---\nkind: tutorial\nname: t\ntitle: T\n{front}---\n# T\n\n{body}"


# --------------------------------------------------------------------------
# one small item per check: files, extra arguments, the findings expected

CASES = {
    "broken-link": (
        {"index.md": index("Next: [lesson two](02-two.md).\n")}, [],
        [("index.md", 8, "error", "broken-link")]),
    "broken-anchor": (
        {"index.md": index("[a](#t) [b](#nowhere)\n\n[c](l.md#part-one) [d](l.md#part-9)\n"),
         "l.md": "# L\n\n## Part one\n"}, [],
        [("index.md", 8, "error", "broken-anchor"), ("index.md", 10, "error", "broken-anchor")]),
    "missing-asset": (
        {"index.md": index("![a](img/a.png)\n\n[pdf](slides.pdf)\n", "cover: img/cover.png\n")},
        [], [("index.md", 5, "error", "missing-asset"), ("index.md", 9, "error", "missing-asset"),
             ("index.md", 11, "error", "missing-asset")]),
    "unused-asset": (
        {"index.md": index("![a](img/a.png)\n"), "img/a.png": PNG, "img/old.png": PNG}, [],
        [("img/old.png", 0, "warning", "unused-asset")]),
    "file-too-large": (
        {"index.md": index("[data](big.pdf)\n"), "big.pdf": b"%PDF" + bytes(2000)},
        ["--max-file-size", "1K"], [("big.pdf", 0, "warning", "file-too-large")]),
    "image-format-mismatch": (
        {"index.md": index("![a](a.png)\n"), "a.png": JPEG}, [],
        [("a.png", 0, "warning", "image-format-mismatch")]),
    "image-invalid": (
        {"index.md": index("![a](a.svg)\n"), "a.svg": "<html>not an svg</html>"}, [],
        [("a.svg", 0, "error", "image-invalid")]),
    "kind-mismatch": (
        {"index.md": index("[l](l.md)\n"), "l.md": "---\nkind: course\ntitle: L\n---\n"}, [],
        [("l.md", 2, "error", "kind-mismatch")]),
    "kind-mismatch, from --kind": (
        {"index.md": index()}, ["--kind", "course"], [("index.md", 2, "error", "kind-mismatch")]),
    "name-mismatch": (
        {"index.md": index()}, ["--name", "other"], [("index.md", 3, "error", "name-mismatch")]),
    "kind-invalid": (
        {"index.md": "---\nkind: lesson\ntitle: T\n---\n"}, [],
        [("index.md", 2, "error", "kind-invalid")]),
    "missing-title": (
        {"index.md": "---\nkind: tutorial\n---\nno heading\n"}, [],
        [("index.md", 1, "error", "missing-title")]),
    "missing-index": (
        {"lesson.md": "# L\n"}, [], [("index.md", 0, "error", "missing-index")]),
    "frontmatter-invalid": (
        {"index.md": "---\ntitle: T\nbad: a: b\nok: 1\n---\n"}, [],
        [("index.md", 3, "error", "frontmatter-invalid")]),
    "task-unknown-need": (
        {"index.md": index("", "tasks:\n  a:\n    run: x\n  b:\n    needs: [a, c]\n")}, [],
        [("index.md", 9, "error", "task-unknown-need")]),
    "task-cycle": (
        {"index.md": index("", "tasks:\n  - name: a\n    needs: b\n  - name: b\n    needs: [a]\n")},
        [], [("index.md", 6, "error", "task-cycle")]),
    "tasks-invalid": (
        {"index.md": index("", "tasks: [1]\n")}, [], [("index.md", 5, "error", "tasks-invalid")]),
    "unknown-component": (
        {"index.md": index("::note\nok\n::\n\n::nope\nno\n::\n"), "known.txt": "note\n",
         ".contentignore": "known.txt\n"},
        ["--components", "{dir}/known.txt"], [("index.md", 12, "error", "unknown-component")]),
    "unclosed-component": (
        {"index.md": index("::note\nnever closed\n")}, [],
        [("index.md", 8, "warning", "unclosed-component")]),
    "check-skipped": (
        {"index.md": index(">" * 5000 + " [x](gone.md)\n")}, [],
        [("index.md", 0, "warning", "check-skipped")]),
    "unclosed-fence": (
        {"index.md": index("```sh\necho open\n")}, [],
        [("index.md", 8, "warning", "unclosed-fence")]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_check(content_bin, tmp_path, case):
    files, args, want = CASES[case]
    d = write(tmp_path / "item", files)
    p = check(d, *[a.replace("{dir}", str(d)) for a in args])
    assert findings(p.stdout) == want, p.stdout + p.stderr
    errors = any(sev == "error" for _, _, sev, _ in want)
    assert p.returncode == (FAIL if errors else OK), p


def test_a_clean_item_prints_nothing(content_bin, tmp_path):
    d = write(tmp_path / "item", {
        "index.md": index("![pic](img/pic.png)\n\n[one](01.md#part-two)\n", "cover: img/pic.png\n"),
        "01.md": "# One\n\n## Part two\n\n[back](index.md#t)\n",
        "img/pic.png": PNG})
    p = check(d)
    assert (p.returncode, p.stdout, p.stderr) == (OK, "", "")


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_the_examples_are_clean(content_bin, example):
    p = check(example)
    assert (p.returncode, p.stdout, p.stderr) == (OK, "", ""), p


# --------------------------------------------------------------------------
# the "done when"

DONE_WHEN = {
    "index.md": ("---\nkind: challenge\nname: broken\ntitle: Broken\n"
                 "cover: __static__/cover.png\n"
                 "tasks:\n"
                 "  init_cluster:\n    needs: [verify_pod]\n    run: kind create cluster\n"
                 "  verify_pod:\n    needs: [init_cluster]\n    run: kubectl get pod\n"
                 "---\n# Broken\n\nStart with [the first lesson](01-first.md).\n"),
    "01-first.md": "# First\n\n![the diagram](images/diagram.png)\n\nThen [go on](02-second.md).\n",
}
DONE_WHEN_FOUND = [
    ("01-first.md", 3, "error", "missing-asset"),
    ("01-first.md", 5, "error", "broken-link"),
    ("index.md", 5, "error", "missing-asset"),
    ("index.md", 7, "error", "task-cycle"),
]


def test_done_when_offline(content_bin, tmp_path):
    p = check(write(tmp_path / "broken", DONE_WHEN))
    assert p.returncode == FAIL
    assert findings(p.stdout) == DONE_WHEN_FOUND, p.stdout
    assert "02-second.md" in p.stdout and "images/diagram.png" in p.stdout
    assert "__static__/cover.png" in p.stdout and "init_cluster → verify_pod" in p.stdout
    assert p.stderr == "4 errors, 0 warnings\n"


def push(server, *args) -> subprocess.CompletedProcess:
    return subprocess.run([str(content_binary()), "push", *map(str, args)], capture_output=True,
                          text=True, env=clean_env({"CONTENT_SERVER": server.base_url}),
                          timeout=60)


def test_done_when_push_prints_them_after_the_summary(server, api, content_bin, tmp_path):
    d = write(tmp_path / "broken", DONE_WHEN)
    p = push(server, d)
    assert p.returncode == OK, p  # a finding never refuses a push
    assert p.stdout.splitlines()[-1] == "version 1", p.stdout
    lines = [ln for ln in p.stderr.splitlines() if FINDING.match(ln)]
    assert findings("\n".join(lines)) == DONE_WHEN_FOUND, p.stderr
    assert lines == check(d).stdout.splitlines(), "push and check print different findings"
    assert api.item_ok("challenge", "broken")["version"] == 1

    (d / "01-first.md").write_text("# First\n\nEdited: [go on](02-second.md).\n")
    doc = json.loads(push(server, d, "--output", "json").stdout)
    assert doc["version"] == 2
    assert [(f["path"], f["line"], f["severity"], f["code"]) for f in doc["checks"]] == [
        ("01-first.md", 3, "error", "broken-link"),
        ("index.md", 5, "error", "missing-asset"),
        ("index.md", 7, "error", "task-cycle")]
    assert set(doc["checks"][0]) == {"path", "line", "severity", "code", "message"}


def test_push_of_a_clean_item_prints_no_finding(server, content_bin, tmp_path):
    d = write(tmp_path / "clean", {"index.md": "---\nkind: tutorial\nname: clean-push\ntitle: C\n"
                                               "---\n# C\n"})
    p = push(server, d)
    assert p.returncode == OK and p.stderr == "", p
    assert json.loads(push(server, d, "--output", "json").stdout)["checks"] == []


def test_push_watch_prints_the_findings_of_each_push(server, api, content_bin, tmp_path):
    d = write(tmp_path / "watched", {"index.md": "---\nkind: tutorial\nname: watched\n"
                                                 "title: W\n---\n# W\n"})
    proc = subprocess.Popen([str(content_binary()), "push", "--watch", str(d)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, text=True,
                            env=clean_env({"CONTENT_SERVER": server.base_url}))
    err: list = []
    reader = threading.Thread(target=lambda: err.extend(proc.stderr), daemon=True)
    reader.start()
    try:
        wait_until(lambda: (api.get("/api/v1/content/tutorial/watched").status == 200
                            and api.item_ok("tutorial", "watched")["version"] == 1),
                   20, "the first push of the watch")
        (d / "index.md").write_text("---\nkind: tutorial\nname: watched\ntitle: W\n---\n# W\n\n"
                                    "![x](gone.png)\n")
        wait_until(lambda: any("index.md:8: error:" in ln and "[missing-asset]" in ln
                               for ln in err), 20, f"the finding of the second push ({err})")
        assert api.item_ok("tutorial", "watched")["version"] == 2
        assert not [ln for ln in err[:1] if FINDING.match(ln)], err
    finally:
        proc.terminate()
        proc.wait(timeout=20)


# --------------------------------------------------------------------------
# the command line

def test_warnings_alone_exit_0_and_json_output(content_bin, tmp_path):
    d = write(tmp_path / "item", {"index.md": index(), "extra.png": PNG})
    p = check(d)
    assert p.returncode == OK and findings(p.stdout) == [("extra.png", 0, "warning",
                                                          "unused-asset")]
    assert p.stderr == "0 errors, 1 warning\n"
    doc = json.loads(check(d, "--output", "json").stdout)
    assert doc["errors"] == 0 and doc["warnings"] == 1
    assert doc["checks"] == [{"path": "extra.png", "line": 0, "severity": "warning",
                              "code": "unused-asset",
                              "message": doc["checks"][0]["message"]}]
    assert "no document refers to this file" in doc["checks"][0]["message"]


def test_current_folder_is_the_default(content_bin, tmp_path):
    d = write(tmp_path / "item", {"index.md": index("[x](nope.md)\n")})
    p = check(cwd=d)
    assert p.returncode == FAIL and findings(p.stdout) == [("index.md", 8, "error",
                                                            "broken-link")]


def test_max_file_size_0_is_no_limit(content_bin, tmp_path):
    d = write(tmp_path / "item", {"index.md": index("[d](d.pdf)\n"), "d.pdf": bytes(5000)})
    assert findings(check(d, "--max-file-size", "4K").stdout) == [
        ("d.pdf", 0, "warning", "file-too-large")]
    assert check(d, "--max-file-size", "0").stdout == ""
    assert check(d, "--max-file-size=5000").stdout == ""


@pytest.mark.parametrize("args,status,says", [
    (["--max-file-size", "ten"], USAGE, "--max-file-size: 'ten' is not a size"),
    (["--max-file-size", "-1"], USAGE, "is not a size"),
    (["--bogus"], USAGE, "unknown option '--bogus'"),
    (["a", "b"], USAGE, "unexpected argument 'b'"),
    (["--components"], USAGE, "--components"),
    (["--components", "/nonexistent/list"], FAIL, "cannot read the components list"),
    (["/nonexistent/folder"], FAIL, "/nonexistent/folder"),
])
def test_bad_arguments_are_one_line(content_bin, tmp_path, args, status, says):
    write(tmp_path / "item", {"index.md": index()})
    p = check(*args, cwd=tmp_path / "item")
    assert p.returncode == status, p
    lines = p.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("content: check: ") and says in lines[0], p
    assert p.stdout == ""


def test_help(content_bin):
    p = check("--help")
    assert p.returncode == OK and p.stdout.startswith("usage: content check")
    assert "Exit status" in p.stdout


# --------------------------------------------------------------------------
# hostile items: no quadratic blow-up.  Each construct is checked at n and
# 8n; linear work grows about 8x, quadratic 64x.  CPU time of the child,
# best of three, less the cost of checking an empty item; the bound is
# loose on purpose (an algorithmic check, not a speed assertion).

def _chain(n):
    tasks = "".join(f"  t{i}:\n    needs: [t{(i + 1) % n}]\n" for i in range(n))
    return {"index.md": f"---\ntitle: T\ntasks:\n{tasks}---\n"}


HOSTILE = {
    "front matter keys": lambda n: {"index.md": "---\ntitle: T\n" + "".join(
        f"key{i}: value {i}\n" for i in range(n)) + "---\n"},
    "a chain of tasks in a cycle": _chain,
    "links the source search cannot find": lambda n: {"index.md": index("".join(
        f"[x](a&amp;b{i}.md)\n" for i in range(n)))},
    "broken anchors among many headings": lambda n: {"index.md": index(
        "".join(f"## Head {i}\n\n" for i in range(n)) +
        "".join(f"[x](#head{i}-) " for i in range(n)))},
    "unused assets": lambda n: dict({"index.md": index("text " * (n * 50))},
                                    **{f"img/{i}.png": PNG for i in range(n // 10)}),
    "open components": lambda n: {"index.md": index("".join(
        ":" * (2 + i % 60) + f"c{i}\n" for i in range(n)))},
}


def _cpu(d: Path) -> float:
    import resource
    best = None
    for _ in range(3):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        p = subprocess.run([str(content_binary()), "check", str(d)], capture_output=True,
                           env=clean_env({}), timeout=300)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        assert p.returncode in (OK, FAIL), p.stderr[-500:]
        t = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        best = t if best is None else min(best, t)
    return best


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_items_cost_linear_time(content_bin, tmp_path, name):
    base = _cpu(write(tmp_path / "empty", {"index.md": index()}))
    small = _cpu(write(tmp_path / "small", HOSTILE[name](2000)))
    large = _cpu(write(tmp_path / "large", HOSTILE[name](16000)))
    grow = (large - base) / max(small - base, 0.05)
    assert grow <= 12, f"{name}: 8x input took {grow:.1f}x the CPU time ({small:.3f}s, {large:.3f}s)"


def test_docs_list_every_code_the_cases_exercise():
    """docs/checks.md's table names exactly the codes the cases above meet."""
    table = (REPO / "docs" / "checks.md").read_text()
    documented = set(re.findall(r"^\| `([a-z-]+)` \|", table, re.M))
    exercised = {code for _, _, want in CASES.values() for _, _, _, code in want}
    assert documented == exercised, (documented ^ exercised)


def test_push_prints_the_servers_findings_when_the_commit_answer_has_them(content_bin, tmp_path):
    """The contract's commit answer is {"version":N,"checks":[...]}: a push
    shows those (here from a stand-in server) instead of its own."""
    import http.server

    server_finding = {"path": "index.md", "line": 3, "severity": "warning",
                      "code": "from-server", "message": "the server's own finding"}

    class Api(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def answer(self, status, doc):
            body = json.dumps(doc).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            self.answer(200, {"kind": "tutorial", "name": "fake", "version": 1, "files": [],
                              "owner": "local", "visibility": "private"})

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if self.path == "/api/v1/blobs/missing":
                self.answer(200, {"missing": []})
            else:
                self.answer(201, {"version": 2, "checks": [server_finding]})

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Api)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        d = write(tmp_path / "fake", {"index.md": "---\nkind: tutorial\nname: fake\ntitle: F\n"
                                                 "---\n# F\n",
                                      "unused.png": PNG})  # a local finding, not shown
        env = clean_env({"CONTENT_SERVER": f"http://127.0.0.1:{httpd.server_port}"})
        p = subprocess.run([str(content_binary()), "push", str(d)], capture_output=True,
                           text=True, env=env, timeout=60)
        assert p.returncode == OK, p
        assert p.stdout.splitlines()[-1] == "version 2", p.stdout
        lines = [ln for ln in p.stderr.splitlines() if FINDING.match(ln)]
        assert lines == ["index.md:3: warning: the server's own finding [from-server]"], p.stderr
        p = subprocess.run([str(content_binary()), "push", str(d), "--output", "json"],
                           capture_output=True, text=True, env=env, timeout=60)
        assert json.loads(p.stdout)["checks"] == [server_finding]
    finally:
        httpd.shutdown()
