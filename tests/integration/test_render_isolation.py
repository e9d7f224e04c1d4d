# SPDX-License-Identifier: MIT
"""A document that makes the renderer crash, run out of memory or run past
its time budget costs only that document (docs/operations.md, "Rendering
in worker processes"): the push is accepted, the document's AST is the
failure document of docs/ast.md (empty body, "error" with code and
message), every other document of the push renders, and the server keeps
answering.  The budgets are set small through the environment; the inputs
are genuine (no test hook): one needs more memory than the budget, one more
time.

Also: the item's title comes from the renderer's own result, never from
parsing the AST JSON again (which lost it behind deep nesting or a NUL)."""
import pytest

from helpers import server as srv
from helpers.api import Client


def ast(api, kind, name, path):
    r = api.get(f"/api/v1/content/{kind}/{name}/ast/{path}")
    assert r.status == 200, r
    return r.json()


def assert_failed(doc, code):
    assert doc["body"] == {"type": "root", "children": []}, doc["body"]
    assert doc["data"] == {"title": "", "description": ""}
    assert doc["error"]["code"] == code, doc["error"]
    assert doc["error"]["message"]


def push_one_bad(api, name, bad: bytes):
    api.create_ok("tutorial", name)
    files = {"index.md": b"# Still here\n\nRendered.\n", "bad.md": bad,
             "other.md": b"## Other\n"}
    r = api.push("tutorial", name, files)
    assert r.status == 201, r
    return r.json()["version"]


def test_document_past_the_memory_budget_costs_only_itself(start_server, name):
    s = start_server(env={"CONTENTD_RENDER_MEMORY": "256MiB", "CONTENTD_RENDER_WORKERS": "1"})
    api = Client(s.port)
    # ~350 bytes of tree per input byte: gigabytes for 8 MiB, past 256 MiB
    push_one_bad(api, name, b":a " * ((8 << 20) // 3))
    assert_failed(ast(api, "tutorial", name, "bad.md"), "render_crashed")
    assert ast(api, "tutorial", name, "index.md")["data"]["title"] == "Still here"
    assert ast(api, "tutorial", name, "other.md")["body"]["children"][0]["tag"] == "h2"
    assert api.item_ok("tutorial", name)["title"] == "Still here"
    s.assert_alive()
    # the replaced worker renders the next push
    api.push_ok("tutorial", name, {"index.md": b"# Next\n"})
    assert ast(api, "tutorial", name, "index.md")["data"]["title"] == "Next"


def test_document_past_the_time_budget_costs_only_itself(start_server, name):
    s = start_server(env={"CONTENTD_RENDER_TIMEOUT_MS": "300", "CONTENTD_RENDER_WORKERS": "1"})
    api = Client(s.port)
    # plain paragraphs: linear, but 12 MiB of them take more than a second
    push_one_bad(api, name, b"Some *text* with [a link](/x) and `code`.\n\n" * ((12 << 20) // 44))
    doc = ast(api, "tutorial", name, "bad.md")
    assert_failed(doc, "render_timeout")
    assert "300 ms" in doc["error"]["message"]
    assert ast(api, "tutorial", name, "index.md")["data"]["title"] == "Still here"
    s.assert_alive()


@pytest.mark.parametrize("env", [{"CONTENTD_RENDER_TIMEOUT_MS": "0"},
                                 {"CONTENTD_RENDER_MEMORY": "1MiB"},
                                 {"CONTENTD_RENDER_WORKERS": "x"}], ids=lambda e: list(e)[0])
def test_bad_budget_settings_are_refused(contentd_bin, tmp_path, env):
    p = srv.run_contentd(["serve", "--data", str(tmp_path), "--listen", "127.0.0.1:0"], env=env,
                         timeout=15)
    assert p.returncode == 2, p
    assert list(env)[0] in p.stderr.decode()


@pytest.mark.parametrize("front,title", [
    # jansson refuses JSON nested deeper than 2048 and \u0000 in strings
    (b"---\ntitle: Deep\n---\n" + b"> " * 2100 + b"x\n", "Deep"),
    (b'---\ntitle: "A\\u0000B"\n---\n', "A\ufffdB"),
], ids=["deep nesting", "NUL in the title"])
def test_item_title_comes_from_the_renderer(api, name, front, title):
    api.create_ok("tutorial", name, title="before")
    api.push_ok("tutorial", name, {"index.md": front})
    assert api.item_ok("tutorial", name)["title"] == title
