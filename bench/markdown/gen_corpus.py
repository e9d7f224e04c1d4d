#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Writes a deterministic corpus of realistic tutorial markdown for
bench/markdown/run, used when tests/corpus/ has no markdown files.

usage: gen_corpus.py OUTDIR [COUNT]

Each file is a tutorial or lesson the way authors write them: YAML front
matter, prose with inline emphasis, links and code, fenced code with file
names and highlighted lines, tables with alignment, task lists, nested
lists, block quotes, images, footnotes and MDC block components.  Sizes vary
from about 2 KB to 40 KB, like real pages.  The same COUNT always gives the
same bytes (fixed seed), so figures stay comparable between runs.
"""
import os
import random
import sys

WORDS = (
    "the a server request client file folder build test markdown render "
    "content push version module function value return error buffer stream "
    "event browser preview editor change token user cache index node tree "
    "parse output input line table list item code block heading link image "
    "simple fast small clear every each when then first next last only "
    "install configure run check write read open close start stop create "
    "delete update watch commit branch merge deploy replica bucket object"
).split()

LANGS = [("python", "py"), ("javascript", "js"), ("typescript", "ts"),
         ("bash", "sh"), ("c", "c"), ("go", "go"), ("rust", "rs"),
         ("yaml", "yml"), ("json", "json"), ("sql", "sql")]

CODE = {
    "python": ["def {w}(items):", "    total = 0", "    for item in items:",
               "        total += len(item)", "    return total", "",
               "print({w}([\"a\", \"bc\"]))"],
    "javascript": ["export async function {w}(url) {{", "  const res = await fetch(url)",
                   "  if (!res.ok) throw new Error(res.statusText)",
                   "  return res.json()", "}}"],
    "typescript": ["interface Item {{ id: number; name: string }}",
                   "export function {w}(items: Item[]): string[] {{",
                   "  return items.map((i) => i.name)", "}}"],
    "bash": ["set -euo pipefail", "mkdir -p build && cd build",
             "cmake .. -DCMAKE_BUILD_TYPE=Release", "make -j\"$(nproc)\"",
             "./{w} --help"],
    "c": ["#include <stdio.h>", "", "int {w}(const char *s)", "{{",
          "    return printf(\"%s\\n\", s) < 0 ? -1 : 0;", "}}"],
    "go": ["package main", "", "import \"fmt\"", "", "func {w}() {{",
           "\tfmt.Println(\"hello\")", "}}"],
    "rust": ["fn {w}(v: &[u32]) -> u32 {{", "    v.iter().sum()", "}}"],
    "yaml": ["name: {w}", "on: [push]", "jobs:", "  test:",
             "    runs-on: ubuntu-latest", "    steps:", "      - run: make test"],
    "json": ["{{", "  \"name\": \"{w}\",", "  \"version\": \"1.0.0\",",
             "  \"private\": true", "}}"],
    "sql": ["SELECT id, name", "FROM {w}", "WHERE created_at > now() - interval '1 day'",
            "ORDER BY id;"],
}


def words(rng, n):
    return " ".join(rng.choice(WORDS) for _ in range(n))


def sentence(rng):
    parts = words(rng, rng.randint(6, 18)).split()
    for i in rng.sample(range(len(parts)), rng.randint(0, 3)):
        style = rng.random()
        if style < 0.3:
            parts[i] = f"**{parts[i]}**"
        elif style < 0.55:
            parts[i] = f"*{parts[i]}*"
        elif style < 0.8:
            parts[i] = f"`{parts[i]}()`"
        elif style < 0.92:
            parts[i] = f"[{parts[i]}](https://example.com/docs/{parts[i]})"
        else:
            parts[i] = f"~~{parts[i]}~~"
    s = " ".join(parts)
    return s[0].upper() + s[1:] + rng.choice([".", ".", ".", "?", "!"])


def paragraph(rng):
    lines, line = [], []
    for _ in range(rng.randint(2, 6)):
        line.append(sentence(rng))
        if len(" ".join(line)) > 70:
            lines.append(" ".join(line))
            line = []
    if line:
        lines.append(" ".join(line))
    return "\n".join(lines)


def code_block(rng):
    lang, ext = rng.choice(LANGS)
    name = rng.choice(WORDS)
    body = [l.format(w=name) for l in CODE[lang]]
    info = lang
    if rng.random() < 0.6:
        info += f" [{name}.{ext}]"
    if rng.random() < 0.4:
        a = rng.randint(1, len(body))
        info += f" {{{a}}}" if rng.random() < 0.5 else f" {{1,{a}-{len(body)}}}"
    return f"```{info}\n" + "\n".join(body) + "\n```"


def table(rng):
    cols = rng.randint(2, 5)
    aligns = [rng.choice([":--", ":-:", "--:", "---"]) for _ in range(cols)]
    head = [rng.choice(WORDS).capitalize() for _ in range(cols)]
    rows = ["| " + " | ".join(head) + " |", "| " + " | ".join(aligns) + " |"]
    for _ in range(rng.randint(2, 8)):
        cells = [f"`{rng.choice(WORDS)}`" if rng.random() < 0.3 else words(rng, rng.randint(1, 4))
                 for _ in range(cols)]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def task_list(rng):
    return "\n".join(f"- [{'x' if rng.random() < 0.5 else ' '}] {words(rng, rng.randint(2, 7))}"
                     for _ in range(rng.randint(2, 6)))


def nested_list(rng):
    out = []
    ordered = rng.random() < 0.5
    for i in range(rng.randint(2, 5)):
        out.append(f"{i + 1}. " if ordered else "- ")
        out[-1] += sentence(rng)
        for _ in range(rng.randint(0, 3)):
            out.append(f"   - {words(rng, rng.randint(3, 9))}")
    return "\n".join(out)


def component(rng):
    kind = rng.choice(["note", "tip", "warning", "callout", "alert"])
    if kind == "callout":
        return (f"::callout{{type=\"info\" icon=\"i-lucide-info\"}}\n#title\n{words(rng, 3)}\n\n"
                f"#default\n{paragraph(rng)}\n::")
    props = f"{{type=\"{rng.choice(['info', 'success', 'danger'])}\"}}" if rng.random() < 0.5 else ""
    return f"::{kind}{props}\n{paragraph(rng)}\n::"


def section(rng, level, fn_state):
    parts = [f"{'#' * level} {words(rng, rng.randint(2, 6)).capitalize()}", paragraph(rng)]
    for _ in range(rng.randint(2, 6)):
        r = rng.random()
        if r < 0.30:
            parts.append(paragraph(rng))
        elif r < 0.50:
            parts.append(code_block(rng))
        elif r < 0.60:
            parts.append(table(rng))
        elif r < 0.68:
            parts.append(task_list(rng))
        elif r < 0.78:
            parts.append(nested_list(rng))
        elif r < 0.86:
            parts.append(component(rng))
        elif r < 0.92:
            parts.append("> " + paragraph(rng).replace("\n", "\n> "))
        elif r < 0.96:
            w = rng.choice(WORDS)
            parts.append(f"![{words(rng, 3)}](images/{w}.png \"{w}\")")
        else:
            fn_state[0] += 1
            parts.append(f"{sentence(rng)[:-1]}[^{fn_state[0]}].")
    return "\n\n".join(parts)


def document(rng, i):
    kind = rng.choice(["tutorial", "tutorial", "challenge", "course"])
    title = words(rng, rng.randint(3, 7)).capitalize()
    fm = (f"---\nkind: {kind}\nname: {kind}-{i:03d}\ntitle: {title}\n"
          f"description: {words(rng, rng.randint(6, 14)).capitalize()}.\ntags: [{', '.join(rng.sample(WORDS, 3))}]\n"
          f"duration: {rng.randint(5, 90)}\npublished: {'true' if rng.random() < 0.7 else 'false'}\n---")
    fn_state = [0]
    body = [fm, f"# {title}", paragraph(rng)]
    for _ in range(rng.randint(2, 12)):
        body.append(section(rng, 2, fn_state))
        for _ in range(rng.randint(0, 2)):
            body.append(section(rng, 3, fn_state))
    for n in range(1, fn_state[0] + 1):
        body.append(f"[^{n}]: {sentence(rng)}")
    return "\n\n".join(body) + "\n"


def main(argv):
    if len(argv) < 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    out, count = argv[1], int(argv[2]) if len(argv) > 2 else 40
    os.makedirs(out, exist_ok=True)
    rng = random.Random(20240601)
    for i in range(count):
        with open(os.path.join(out, f"doc-{i:03d}.md"), "w", encoding="utf-8") as f:
            f.write(document(rng, i))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
