# SPDX-License-Identifier: MIT
"""content push keeps the hashes of its last push of a folder
(cli/hash_cache.c, docs/client.md): the cache is written, a file changed
since is read again however quickly it changed and whatever its size, and
a cache whose entries do not describe the files on disk is not believed."""
from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

from helpers.api import Client
from helpers.server import clean_env, content_binary


def push(server, folder: Path, cache: Path, **env) -> subprocess.CompletedProcess:
    return subprocess.run([str(content_binary()), "push", str(folder)], capture_output=True,
                          encoding="utf-8", errors="replace", timeout=120,
                          env=clean_env({"CONTENT_SERVER": server.base_url,
                                         "XDG_CACHE_HOME": str(cache), **env}))


def cache_file(cache: Path, folder: Path) -> Path:
    name = hashlib.sha256(str(folder.resolve()).encode()).hexdigest()
    return cache / "content" / "hashes" / name


def make(folder: Path) -> None:
    (folder / "lessons").mkdir(parents=True)
    (folder / "index.md").write_text("---\nkind: course\nname: cached\n---\n# Cached\n")
    for i in range(5):
        (folder / "lessons" / f"{i}.md").write_text(f"# Lesson {i}: aaaa\n")


def test_cache_written_and_changes_always_seen(start_server, tmp_path):
    s = start_server()
    api = Client(s.port)
    src, cache = tmp_path / "course", tmp_path / "cache"
    make(src)
    assert push(s, src, cache).returncode == 0
    lines = cache_file(cache, src).read_text().splitlines()
    assert lines[0].startswith("content-hashes 1 ")
    assert sorted(line.rsplit(" ", 1)[-1] for line in lines[1:]) == \
        ["index.md"] + [f"lessons/{i}.md" for i in range(5)]
    # Rewritten at once with the same size: read again, pushed.
    for n in range(3):
        (src / "lessons" / "2.md").write_text(f"# Lesson 2: bbb{n}\n")
        p = push(s, src, cache)
        assert p.returncode == 0, p.stderr
        assert api.file("course", "cached", "lessons/2.md").body == \
            f"# Lesson 2: bbb{n}\n".encode()


def test_cache_that_does_not_match_is_not_believed(start_server, tmp_path):
    s = start_server()
    api = Client(s.port)
    src, cache = tmp_path / "course", tmp_path / "cache"
    make(src)
    assert push(s, src, cache).returncode == 0
    # Every entry names another inode and a wrong hash: none may be taken.
    f = cache_file(cache, src)
    lines = f.read_text().splitlines()
    bad = [lines[0]]
    for line in lines[1:]:
        sha, size, dev, ino, rest = line.split(" ", 4)
        bad.append(" ".join(["0" * 64, size, dev, str(int(ino) + 1), rest]))
    f.write_text("\n".join(bad) + "\n")
    (src / "lessons" / "3.md").write_text("# Lesson 3: cccc\n")
    p = push(s, src, cache)
    assert p.returncode == 0, p.stderr
    assert api.file("course", "cached", "lessons/3.md").body == b"# Lesson 3: cccc\n"
    files = {x["path"]: x["sha256"] for x in api.item_ok("course", "cached")["files"]}
    assert files["index.md"] == hashlib.sha256((src / "index.md").read_bytes()).hexdigest()
    # A cache in another format is ignored too.
    f.write_text("something else\n")
    (src / "lessons" / "4.md").write_text("# Lesson 4: dddd\n")
    assert push(s, src, cache).returncode == 0
    assert api.file("course", "cached", "lessons/4.md").body == b"# Lesson 4: dddd\n"
    # CONTENT_HASH_CACHE=0: nothing written.
    other = tmp_path / "nocache"
    assert push(s, src, other, CONTENT_HASH_CACHE="0").returncode == 0
    assert not other.exists()
