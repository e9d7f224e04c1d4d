#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes a course of N lessons into OUT for bench/checks/run: index.md
with a `lessons:` list and a cover, and per lesson a document of ~4 KB
(headings, prose, a fenced code block, an MDC component, a table) that
links to the previous and next lessons' headings, shows its own image, and
declares nothing broken: the checks find nothing, so what is measured is
the cost of a clean item, the case of almost every commit.

usage: gen_course.py OUT N
"""
import random
import sys
from pathlib import Path

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
WORDS = ("container image layer network volume process kernel namespace cgroup "
         "socket port service pod node cluster shell file folder command flag").split()


def prose(rng, sentences):
    return " ".join(" ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 14))).capitalize()
                    + "." for _ in range(sentences))


def lesson(rng, i, n):
    prev_link = f"[the previous lesson](lesson-{i - 1:03d}.md#summary)" if i > 1 else \
        "[the course page](index.md#lessons)"
    next_link = f"[the next lesson](lesson-{i + 1:03d}.md#step-1)" if i < n else \
        "[the course page](index.md)"
    steps = []
    for s in range(1, 4):
        steps.append(f"## Step {s}\n\n{prose(rng, 4)}\n\n```bash [step-{s}.sh]\n"
                     f"docker run --rm -it alpine:3 sh -c 'echo {s}'\nls -la /proc/self\n```\n\n"
                     f"{prose(rng, 3)} See [step {s}](#step-{s}) again later.\n")
    return (f"---\ntitle: Lesson {i}\ndescription: {prose(rng, 1)}\n---\n\n# Lesson {i}\n\n"
            f"{prose(rng, 3)} Back to {prev_link}.\n\n![Diagram {i}](images/lesson-{i:03d}.png)\n\n"
            + "\n".join(steps)
            + f"\n::note{{type=\"info\"}}\n{prose(rng, 2)}\n::\n\n"
            f"| Command | Meaning |\n| --- | --- |\n| `ls` | list files |\n| `cd` | change folder |\n\n"
            f"## Summary\n\n{prose(rng, 2)} Go on with {next_link}.\n")


def main():
    out, n = Path(sys.argv[1]), int(sys.argv[2])
    rng = random.Random(16)
    (out / "images").mkdir(parents=True, exist_ok=True)
    lessons = "".join(f"  - lesson-{i:03d}.md\n" for i in range(1, n + 1))
    links = "".join(f"{i}. [Lesson {i}](lesson-{i:03d}.md)\n" for i in range(1, n + 1))
    (out / "index.md").write_text(
        f"---\nkind: course\nname: big-course\ntitle: A course of {n} lessons\n"
        f"cover: images/cover.png\nlessons:\n{lessons}---\n\n# A course of {n} lessons\n\n"
        f"{prose(rng, 3)}\n\n## Lessons\n\n{links}")
    (out / "images" / "cover.png").write_bytes(PNG)
    for i in range(1, n + 1):
        (out / f"lesson-{i:03d}.md").write_text(lesson(rng, i, n))
        (out / "images" / f"lesson-{i:03d}.png").write_bytes(PNG)


if __name__ == "__main__":
    main()
