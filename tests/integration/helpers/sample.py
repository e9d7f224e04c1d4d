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


_WORDS = ("container image layer network volume process kernel namespace cgroup socket port "
          "service pod node cluster shell file folder command flag").split()


def course_lesson(i: int, version: int = 1) -> bytes:
    """Lesson i of a generated course (about 6 KB of markdown, 30 KB of AST:
    headings, prose with inline marks, code, a list, a table, a
    component); version changes its text."""
    def prose(k, n):
        return " ".join(" ".join(_WORDS[(k * 7 + j * 3 + s) % len(_WORDS)]
                                 for j in range(6 + (k + s) % 9)).capitalize() + "."
                        for s in range(n))
    steps = "".join(f"## Step {s}\n\n{prose(i + s, 4)} Run `ls -{s}` **now**, *then* `cd`.\n\n"
                    f"```bash [step-{s}.sh] {{1}}\n"
                    f"docker run --rm alpine:3 echo {i}-{s}-{version}\nls -la /proc/self\n```\n\n"
                    + "".join(f"- **{w}** is `{w}` and *{w}*\n" for w in _WORDS[s:s + 6])
                    + f"\n### Check {s}\n\n{prose(i * s, 3)}\n\n" for s in range(1, 7))
    return (f"---\ntitle: Lesson {i} v{version}\n---\n\n# Lesson {i}\n\n{prose(i, 4)}\n\n"
            f"![Diagram {i}](images/lesson-{i:04d}.png)\n\n{steps}"
            f"::note{{type=\"info\"}}\n{prose(i + 1, 2)}\n::\n\n"
            f"| Command | Meaning |\n| --- | --- |\n| `ls` | list files |\n| `cd {i}` | go |\n\n"
            f"## Summary\n\n{prose(i + 2, 2)}\n").encode()


def course(kind: str, name: str, lessons: int, assets_per_lesson: int = 1) -> dict:
    """A generated course: index.md listing the lessons, lessons/NNNN.md,
    and assets_per_lesson small images per lesson."""
    links = "".join(f"- [Lesson {i}](lessons/{i:04d}.md)\n" for i in range(1, lessons + 1))
    files = {"index.md": index_md(kind, name, f"A course of {lessons} lessons", links)}
    for i in range(1, lessons + 1):
        files[f"lessons/{i:04d}.md"] = course_lesson(i)
        for a in range(assets_per_lesson):
            files[f"images/lesson-{i:04d}{'' if not a else f'-{a}'}.png"] = PNG + f"{i}/{a}".encode()
    return files
