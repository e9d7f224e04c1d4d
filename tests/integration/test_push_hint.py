# SPDX-License-Identifier: MIT
"""Content-Path on PUT /api/v1/blobs/SHA256 (docs/api.md, "The push
protocol"): a client names the path it uploads a markdown blob for, and
the server renders it and makes its check facts before the commit, which
then finds them ready.  The hint changes nothing a client sees: the answer
of the upload, the AST, the findings, and a client that sends no hint (or
a hint that cannot be read) works as before."""
from urllib.parse import quote

from helpers import metrics
from helpers.api import render_ast, sha256, wait_until

MISSES = "contentd_render_cache_misses_total"
DEADLINE = 10.0  # seconds for a background render on a loaded machine


def rendered(api) -> float:
    r = api.get("/metrics")
    assert r.status == 200, r
    return metrics.total(metrics.parse(r.body.decode())[0], MISSES)


def put(api, data: bytes, path: str | None = None):
    r = api.put_blob(data, headers={"Content-Path": path} if path is not None else None)
    assert r.status == 201, r
    return {"sha256": sha256(data), "size": len(data)}


def test_hinted_document_is_rendered_before_its_commit(api, name):
    api.create_ok("tutorial", name)
    doc = f"---\ntitle: Hinted {name}\n---\n# Hinted\n\n## Part\n\ntext\n".encode()
    before = rendered(api)
    f = put(api, doc, "index.md")
    wait_until(lambda: rendered(api) >= before + 1, DEADLINE, "the hinted document to be rendered")
    ready = rendered(api)
    r = api.commit("tutorial", name, 0, [{"path": "index.md", **f}])
    assert r.status == 201, r
    assert rendered(api) == ready, "the commit rendered again a document made ready at its upload"
    r = api.get(f"/api/v1/content/tutorial/{name}/ast/index.md")
    assert r.status == 200, r
    assert r.json() == render_ast(doc), "the AST made at upload differs from content render's"
    assert api.item_ok("tutorial", name)["title"] == f"Hinted {name}"


def test_only_hinted_markdown_is_made_ready(api, name):
    # Uploads go through the queue in order: once the last (hinted) one is
    # rendered, the ones before it that were to be rendered are too.
    before = rendered(api)
    put(api, f"# No hint {name}\n".encode())                       # a client without the header
    put(api, f"# Not markdown {name}\n".encode(), "img/pic.png")   # not a document
    put(api, f"# Bad escape {name}\n".encode(), "a%zz.md")         # cannot be decoded
    put(api, f"# Too long {name}\n".encode(), "a" * 5000 + ".md")  # past the limit
    put(api, f"# Hinted {name}\n".encode(), quote(f"dir é/{name}.md"))
    wait_until(lambda: rendered(api) >= before + 1, DEADLINE, "the hinted document to be rendered")
    assert rendered(api) == before + 1, "a blob without a readable markdown hint was rendered"


def test_findings_are_those_of_the_committed_path(api, name):
    """The hint is not trusted: facts made for the hinted path serve only a
    version holding the blob at that path."""
    api.create_ok("tutorial", name)
    doc = f"# Links {name}\n\n[next](next.md) and [gone](gone.md)\n".encode()
    nxt = f"# Next {name}\n".encode()
    before = rendered(api)
    f = put(api, doc, "deeper/index.md")  # resolved there, next.md would be deeper/next.md
    g = put(api, nxt, "next.md")
    wait_until(lambda: rendered(api) >= before + 2, DEADLINE, "the hinted documents to be rendered")
    r = api.commit("tutorial", name, 0, [{"path": "index.md", **f}, {"path": "next.md", **g}])
    assert r.status == 201, r
    broken = [(c["path"], c["line"], c["code"]) for c in r.json()["checks"]]
    assert broken == [("index.md", 3, "broken-link")], r.json()["checks"]
    assert "gone.md" in r.json()["checks"][0]["message"]


def test_content_push_names_the_path_of_each_markdown_upload(start_server, tmp_path):
    """`content push` sends Content-Path with every markdown blob it uploads,
    percent-encoded and naming the file's path in the folder, and with no
    other blob; seen by a recording proxy between the client and the server."""
    import subprocess
    from urllib.parse import unquote

    from helpers.server import clean_env, content_binary
    from s3support import Proxy

    s = start_server()
    d = tmp_path / "course"
    (d / "dir é").mkdir(parents=True)
    docs = {
        "index.md": "---\nkind: tutorial\nname: hint-client\n---\n# Course\n\n[p](dir é/page.md)\n",
        "dir é/page.md": "# Page\n\n![pic](../pic.png)\n",
        "NOTES.MD": "# Notes\n",
    }
    for path, text in docs.items():
        (d / path).write_text(text)
    (d / "pic.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    (d / "data.json").write_text('{"a": 1}\n')
    (d / "notes.markdown").write_text("# Not a document here\n")
    proxy = Proxy(s.port).start()
    try:
        p = subprocess.run([str(content_binary()), "push", str(d)], capture_output=True,
                           encoding="utf-8", errors="replace", timeout=120,
                           env=clean_env({"CONTENT_SERVER": proxy.endpoint}))
    finally:
        proxy.stop()
    assert p.returncode == 0, p.stdout + p.stderr
    files = {path: (d / path).read_bytes() for path in [*docs, "pic.png", "data.json", "notes.markdown"]}
    by_sha = {sha256(data): path for path, data in files.items()}
    puts = {c.target.rsplit("/", 1)[1]: c for c in proxy.captured
            if c.method == "PUT" and c.target.startswith("/api/v1/blobs/")}
    assert set(puts) == set(by_sha), (sorted(puts), by_sha)
    for sha, path in by_sha.items():
        hint = puts[sha].header("Content-Path")
        if path.lower().endswith(".md"):  # what the server renders: .md, any case
            assert hint is not None, f"{path} was uploaded without Content-Path"
            assert hint.isascii() and " " not in hint, hint
            assert unquote(hint) == path, (hint, path)
        else:
            assert hint is None, f"{path} (not markdown) was uploaded with Content-Path {hint!r}"
