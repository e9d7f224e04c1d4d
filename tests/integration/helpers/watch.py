# SPDX-License-Identifier: MIT
"""Watch-mode helpers: editors' save patterns done the way the editors do
them, the folder as an author sees it, and an item followed both through
the API and through its event stream.

Both watch modes (`contentd serve --watch DIR`, `content push --watch DIR`)
are tested with these: a test changes files the way a tool does, then
`Followed.converge()` polls (with a deadline) until the item's current file
list on the server equals the folder's (path and SHA-256 of every file the
ignore rules keep), and the event stream has delivered that version.  Every
version ever committed is also checked, from the manifests the server
writes into its data folder and from the events: no editor's temporary,
swap or backup file may ever have been published.
"""
from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

from .api import Client, render_ast, wait_until
from .sse import SSEStream

CONVERGE_DEADLINE = 20.0

# The client's built-in ignore rules (ignore/ignore.c), by file name.
BUILTIN_IGNORED = (".*.sw[a-p]", "*~", ".#*", "#*#", "4913", "*.tmp")

# Names editors and tools write for a moment and that must never be
# published: the built-in patterns, sed's temporary file, and the temporary
# names the save helpers below use.
SED_TEMP = re.compile(r"^sed[A-Za-z0-9]{6}$")
TEMP_MARK = ".~save-"
# How long the "slow" atomic save holds its temporary file open: four times
# the default quiet window (50 ms).
SLOW_CLOSE_S = 0.2


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def builtin_ignored(name: str) -> bool:
    return name == ".git" or any(fnmatch.fnmatchcase(name, p) for p in BUILTIN_IGNORED)


# Every temporary name the save helpers below used, in this process.
TEMP_NAMES: set = set()


def transient(path: str) -> bool:
    """Whether path names a temporary, swap or backup file (at any depth)."""
    return any(builtin_ignored(seg) or SED_TEMP.match(seg) or TEMP_MARK in seg
               or seg in TEMP_NAMES for seg in path.split("/"))


def folder_files(root: Path, exclude=None) -> dict:
    """{relative path: sha256} of the files under root that the built-in
    rules keep (and that exclude(relpath) does not reject)."""
    out = {}
    for dirpath, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if not builtin_ignored(d)]
        for n in names:
            if builtin_ignored(n):
                continue
            p = Path(dirpath) / n
            rel = p.relative_to(root).as_posix()
            if exclude and exclude(rel):
                continue
            if p.is_file():
                out[rel] = sha(p.read_bytes())
    return out


# --------------------------------------------------------------------------
# Editors' saves, as the tools do them.

def vim_save(path: Path, data: bytes, keep_swap: bool = False) -> None:
    """What vim does on `:w` with its defaults ('backup' off, 'writebackup'
    on, 'backupcopy' auto = rename): the swap file exists while editing; the
    write-permission probe `4913` is created and removed; the original is
    renamed to `file~`; the new file is written; the backup is removed.
    keep_swap: the editor stays open (the swap file stays)."""
    d = path.parent
    swap = d / f".{path.name}.swp"
    swap.write_bytes(b"b0VIM 9.0" + os.urandom(64))
    probe = d / "4913"
    probe.write_bytes(b"")
    probe.unlink()
    backup = d / f"{path.name}~"
    if path.exists():
        os.rename(path, backup)
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    if backup.exists():
        backup.unlink()
    if not keep_swap:
        swap.unlink()


def real_vim_substitute(path: Path, old: str, new: str) -> None:
    """The real vim (when installed) in batch mode: `:%s/old/new/` then
    `:wq`, with a swap file and a write backup as an author's vim has."""
    subprocess.run(["vim", "-u", "NONE", "-i", "NONE", "-N", "-es",
                    "-c", "set swapfile writebackup backupcopy=auto",
                    "-c", f"%s/{old}/{new}/", "-c", "wq", str(path)],
                   check=True, timeout=30, stdin=subprocess.DEVNULL,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def atomic_save(path: Path, data: bytes, style: str = "hidden") -> None:
    """VS Code / Sublime Text style atomic save: a temporary file beside the
    target, written and synced, then renamed over it.  style names the
    temporary file: "hidden" (.~save-NAME.PID), "tmp" (NAME.tmp, which the
    built-in rules ignore) or "random" (NAME.XXXXXXXX, which no rule
    ignores: only being created and gone within one burst keeps it out) or
    "slow" (a random name, with the close held back past the quiet window,
    as a slow fsync on a loaded disk does)."""
    suffix = os.urandom(4).hex()
    name = {"hidden": f"{TEMP_MARK}{path.name}.{os.getpid()}", "tmp": f"{path.name}.tmp",
            "random": f"{path.name}.{suffix}", "slow": f"{path.name}.{suffix}"}[style]
    TEMP_NAMES.add(name)
    tmp = path.parent / name
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
        if style == "slow":
            time.sleep(SLOW_CLOSE_S)  # shapes the save (a slow fsync), waits for nothing
    os.rename(tmp, path)


def sed_inplace(path: Path, expr: str) -> None:
    """GNU `sed -i`: a sedXXXXXX file in the same folder, renamed over."""
    subprocess.run(["sed", "-i", expr, str(path)], check=True, timeout=30)


def cp_over(src: Path, dst: Path) -> None:
    """`cp src dst`: dst truncated and written in place."""
    subprocess.run(["cp", str(src), str(dst)], check=True, timeout=30)


def mv(src: Path, dst: Path) -> None:
    """`mv` (a rename within the file system)."""
    subprocess.run(["mv", str(src), str(dst)], check=True, timeout=30)


def rm_r(path: Path) -> None:
    subprocess.run(["rm", "-r", str(path)], check=True, timeout=30)


# --------------------------------------------------------------------------
# An item followed through the API, its events and its manifests.

class Followed:
    """The item kind/name that a watch commits from `folder`, on `server`
    (whose data folder holds the manifests).  subscribe() opens its event
    stream; converge() waits until server, stream and folder agree."""

    def __init__(self, server, folder: Path, kind: str, name: str, exclude=None):
        self.server = server
        self.api = Client(server.port)
        self.folder = Path(folder)
        self.kind, self.name = kind, name
        self.exclude = exclude
        self.stream: SSEStream | None = None
        self.seen: dict = {}       # path -> sha256 (assets) or AST (documents), from events
        self.event_versions: list = []
        self.published = set()     # every path any event ever carried
        self._asts = {}            # sha256 -> AST by `content render`

    # -- the server's view ------------------------------------------------
    def item(self) -> dict | None:
        r = self.api.item(self.kind, self.name)
        if r.status == 404:
            return None
        assert r.status == 200, r
        return r.json()

    def version(self) -> int:
        return (self.item() or {}).get("version", 0)

    def server_files(self) -> dict:
        it = self.item() or {}
        return {f["path"]: f["sha256"] for f in it.get("files", [])}

    def local_files(self) -> dict:
        return folder_files(self.folder, self.exclude)

    def manifests(self) -> dict:
        """{version: [paths]} of every version committed, from the manifests
        in the data folder (written before each version exists)."""
        d = self.server.data_dir / "manifests" / self.kind / self.name
        out = {}
        for p in d.glob("*.json") if d.is_dir() else []:
            m = json.loads(p.read_text())
            out[m["version"]] = [f["path"] for f in m["files"]]
        return out

    # -- the event stream -------------------------------------------------
    def subscribe(self) -> None:
        self.stream = SSEStream(self.server.port,
                                f"/api/v1/content/{self.kind}/{self.name}/events")
        assert self.stream.status == 200, self.stream.body
        ev = self.stream.next_event(10.0)
        assert ev.event == "snapshot", ev
        snap = ev.json()
        self.seen = {f["path"]: f["sha256"] for f in snap["files"]}
        self.seen.update(snap.get("documents", {}))
        self.published |= set(self.seen)
        self.event_versions.append(int(ev.id))

    def _apply(self, ev) -> None:
        assert ev.event == "update", f"unexpected event {ev!r}"
        up = ev.json()
        for p, ast in up["documents"].items():
            self.seen[p] = ast
        for a in up["assets"]:
            self.seen[a["path"]] = a["sha256"]
        for p in up["removed"]:
            self.seen.pop(p, None)
        self.published |= set(up["documents"]) | {a["path"] for a in up["assets"]}
        self.event_versions.append(int(ev.id))

    def stream_has(self, version: int, deadline: float) -> None:
        """Reads events until the stream has delivered `version`."""
        end = time.monotonic() + deadline
        while not self.event_versions or self.event_versions[-1] < version:
            self._apply(self.stream.next_event(max(0.01, end - time.monotonic())))

    # -- agreement ----------------------------------------------------------
    def converge(self, deadline: float = CONVERGE_DEADLINE) -> int:
        """Waits until the server's current files equal the folder's; then
        checks that the stream delivered that version with the same paths,
        each asset's SHA-256 and each document's AST.  Returns the version."""
        want = {}

        def agreed():
            nonlocal want
            want = self.local_files()
            return self.server_files() == want

        try:
            wait_until(agreed, deadline, f"{self.kind}/{self.name} to equal {self.folder}")
        except AssertionError:
            raise AssertionError(
                f"server {sorted(self.server_files().items())}\n"
                f"folder {sorted(want.items())}\nversions {self.manifests()}") from None
        v = self.version()
        if self.stream:
            self.stream_has(v, deadline)
            assert set(self.seen) == set(want), (sorted(self.seen), sorted(want))
            for p, h in want.items():
                if p.endswith(".md"):
                    if h not in self._asts:
                        self._asts[h] = render_ast((self.folder / p).read_bytes())
                    assert self.seen[p] == self._asts[h], p
                else:
                    assert self.seen[p] == h, p
        self.assert_nothing_transient()
        return v

    def assert_nothing_transient(self) -> None:
        for v, paths in sorted(self.manifests().items()):
            bad = [p for p in paths if transient(p)]
            assert not bad, f"version {v} published temporary files {bad}"
        bad = sorted(p for p in self.published if transient(p))
        assert not bad, f"events carried temporary files {bad}"

    def close(self) -> None:
        if self.stream:
            self.stream.close()


def write_tree(root: Path, files: dict) -> Path:
    for rel, data in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    return root


def index_md(name: str | None, kind: str | None = "tutorial", title: str = "Watched",
             body: str = "") -> bytes:
    fm = "".join(f"{k}: {v}\n" for k, v in (("kind", kind), ("name", name), ("title", title))
                 if v is not None)
    return f"---\n{fm}---\n\n# {title}\n\n{body}\n".encode()


def git(repo: Path, *args: str) -> str:
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.com",
               GIT_CONFIG_NOSYSTEM="1", HOME=str(repo))
    p = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                       env=env, timeout=120)
    assert p.returncode == 0, f"git {' '.join(args)}: {p.stderr}"
    return p.stdout


def two_branches(repo: Path, n: int = 500) -> None:
    """A git repository in repo whose branches `a` and `b` differ in n files
    (pages/pNNN.md), on branch a."""
    git(repo, "init", "-q", "-b", "a")
    pages = repo / "pages"
    pages.mkdir(exist_ok=True)
    for i in range(n):
        (pages / f"p{i:03}.md").write_bytes(f"# Page {i}\n\nbranch a\n".encode())
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "a")
    git(repo, "checkout", "-q", "-b", "b")
    for i in range(n):
        (pages / f"p{i:03}.md").write_bytes(f"# Page {i}\n\nbranch b, rewritten\n".encode())
    git(repo, "commit", "-q", "-am", "b")
    git(repo, "checkout", "-q", "a")


def has_vim() -> bool:
    return shutil.which("vim") is not None


# The item folder both watch modes' tests start from: an index, a lesson, an
# image and a nested folder.
DOC = {
    "index.md": index_md("doc", body="The first lesson."),
    "lesson.md": b"# Lesson\n\nold text\n",
    "images/a.png": b"\x89PNG\r\n\x1a\n" + bytes(range(64)),
    "sub/lesson-2/index.md": b"# Lesson 2\n",
    "sub/lesson-2/b.txt": b"asset b\n",
}
