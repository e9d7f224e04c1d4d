#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Writes the seed inputs of the fuzz targets that do not take markdown
files as they are (scripts/fuzz runs this into build-fuzz/fuzz-seeds/):

  frontmatter  the front matter blocks of tests/corpus and ../shared/mdc-corpus
  path         the repository's file paths, and root/path pairs
  ignore       .gitignore-style rules of the repository with paths to match
  s3_xml       the XML bodies the S3 unit tests feed the client

usage: make_seeds.py REPO_ROOT OUT_DIR
"""
import hashlib
import re
import subprocess
import sys
from pathlib import Path


def write(out: Path, data: bytes):
    out.mkdir(parents=True, exist_ok=True)
    (out / hashlib.sha1(data).hexdigest()).write_bytes(data)


def markdown_files(root: Path):
    files = sorted((root / "tests" / "corpus").rglob("*.md"))
    shared = root.parent / "shared" / "mdc-corpus"
    if shared.is_dir():
        files += sorted(shared.glob("*.md"))
    return files


def main(root: Path, out: Path):
    for f in markdown_files(root):
        text = f.read_bytes().replace(b"\r\n", b"\n")
        if text.startswith(b"---\n"):
            end = text.find(b"\n---", 4)
            if end > 4:
                write(out / "frontmatter", text[4:end])
    paths = subprocess.run(["git", "-C", str(root), "ls-files"], capture_output=True,
                           check=False).stdout.splitlines()
    for p in paths[:400]:
        write(out / "path", p)
        write(out / "path", b"/srv/items/a\n/srv/items/a/" + p)
    rules = (root / ".gitignore").read_bytes() if (root / ".gitignore").exists() else b""
    rules += b"*.tmp\n!keep.tmp\n/build/\n**/node_modules\ndocs/**/*.png\n\\#x\n"
    for i in range(0, min(len(paths), 400), 40):
        write(out / "ignore", rules + b"\n@@\n" + b"\n".join(paths[i:i + 40]))
    s3_test = root / "tests" / "unit" / "s3" / "test_s3.c"
    if s3_test.exists():
        src = s3_test.read_text(errors="replace")
        # adjacent C string literals make one body; keep those that are XML
        for m in re.finditer(r'((?:"(?:[^"\\\n]|\\.)*"\s*)+)', src):
            body = "".join(re.findall(r'"((?:[^"\\\n]|\\.)*)"', m.group(1)))
            if body.lstrip().startswith("<"):
                write(out / "s3_xml", body.encode().decode("unicode_escape").encode())
    for t in ("frontmatter", "path", "ignore", "s3_xml"):
        (out / t).mkdir(parents=True, exist_ok=True)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__.strip(), file=sys.stderr)
        sys.exit(2)
    main(Path(sys.argv[1]), Path(sys.argv[2]))
