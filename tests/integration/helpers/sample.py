# SPDX-License-Identifier: MIT
"""Small content folders ({path: bytes}) for the tests to push."""
from __future__ import annotations

import os

# The first bytes of a PNG file: enough for a test to tell assets apart.
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


def index_md(kind: str, name: str, title: str, body: str = "") -> bytes:
    return (f"---\nkind: {kind}\nname: {name}\ntitle: {title}\n---\n\n"
            f"# {title}\n\nSome *text* with a [link](https://example.com).\n\n"
            f"## Section\n\n- [x] done\n- [ ] todo\n\n{body}\n").encode()


def lesson_md(n: int, extra: str = "") -> bytes:
    return (f"# Lesson {n}\n\n```python [l{n}.py] {{1}}\nprint({n})\n```\n\n"
            f"| a | b |\n|:--|--:|\n| {n} | {extra or 'x'} |\n").encode()


def folder(kind: str, name: str, title: str = "Sample", **extra) -> dict:
    """index.md, one lesson, one image; extra {path: bytes} entries added."""
    files = {
        "index.md": index_md(kind, name, title),
        "01-lesson.md": lesson_md(1),
        "images/pic.png": PNG,
    }
    files.update(extra)
    return files


def random_bytes(n: int) -> bytes:
    return os.urandom(n)
