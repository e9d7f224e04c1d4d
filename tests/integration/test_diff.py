# SPDX-License-Identifier: MIT
"""The diff between two versions (CONTRACT "Review and sharing",
`GET …/versions/N/diff?to=M`), on both catalogs — SQLite and MongoDB:

- per document, its status and the blocks added, removed or changed, each
  with its key and its index in the AST it belongs to (checked against the
  AST the server serves); a block that only moved is no change; assets by
  SHA-256;
- who may diff: the owner and every role any version, a stranger of a
  private item and a share link nothing (404), a reader of a published
  item the versions up to the published one only;
- bad versions are JSON errors;
- `content diff KIND/NAME N [M]`: readable lines, colour on a terminal
  only, `--output json` the API's answer.
"""
from __future__ import annotations

import os
import pty
import subprocess

import pytest

from helpers.api import Client, assert_error
# The servers and users of the review tests, on both catalogs.
from helpers import server as srv
from test_review import (content, env, make_link, name, ok_json, publish,  # noqa: F401
                         put_role, team)

V1 = {
    "index.md": b"---\ntitle: T\n---\n\n# Intro\n\nOne.\n\nTwo.\n\n## Setup\n\nRun it.\n",
    "old.md": b"# Old\n\nGone soon.\n",
    "same.md": b"# Same\n\nKept.\n",
    "img/a.png": b"\x89PNG\r\n\x1a\none",
    "style.css": b"p { color: red }\n",
}
V2 = {
    "index.md": b"---\ntitle: T\n---\n\n# Intro\n\nOne, edited.\n\nTwo.\n\n## Setup\n\nRun it.\n\n"
                b"Then look.\n",
    "new.md": b"# New\n",
    "same.md": V1["same.md"],
    "img/a.png": b"\x89PNG\r\n\x1a\ntwo",
    "img/b.png": b"\x89PNG\r\n\x1a\nthree",
    "style.css": V1["style.css"],
}


def pushed(e, name, *versions, by="alice", **create):
    e.alice.create_ok("tutorial", name, **create)
    for k, files in enumerate(versions, 1):
        assert getattr(e, by).push_ok("tutorial", name, files) == k
    return f"/api/v1/content/tutorial/{name}"


def diff(c: Client, base: str, n, to=None):
    return c.get(f"{base}/versions/{n}/diff" + ("" if to is None else f"?to={to}"))


def ast_children(c: Client, base: str, path: str, version: int) -> list:
    r = c.get(f"{base}/ast/{path}?version={version}")
    assert r.status == 200, r
    return r.json()["body"]["children"]


def text_of(node) -> str:
    if node.get("type") == "text":
        return node["value"]
    return "".join(text_of(c) for c in node.get("children", []))


def test_a_diff_names_the_blocks_and_assets_that_changed(env, name):
    base = pushed(env, name, V1, V2)
    r = diff(env.alice, base, 1, 2)
    assert r.status == 200 and r.media_type == "application/json", r
    assert r.json() == {
        "from": 1, "to": 2,
        "documents": {
            "index.md": {"status": "changed", "blocks": [
                {"op": "changed", "key": "intro/p-1", "index": 1},
                {"op": "added", "key": "setup/p-2", "index": 5}]},
            "new.md": {"status": "added", "blocks": [{"op": "added", "key": "new", "index": 0}]},
            "old.md": {"status": "removed", "blocks": [
                {"op": "removed", "key": "old", "index": 0},
                {"op": "removed", "key": "old/p-1", "index": 1}]},
            "same.md": {"status": "unchanged", "blocks": []},
        },
        "assets": {"added": ["img/b.png"], "removed": [], "changed": ["img/a.png"]},
    }
    # the indexes point into the ASTs the server serves for those versions
    v2 = ast_children(env.alice, base, "index.md", 2)
    assert text_of(v2[1]) == "One, edited." and text_of(v2[5]) == "Then look."


def test_to_defaults_to_the_latest_and_a_reverse_diff_indexes_the_older(env, name):
    base = pushed(env, name, V1, V2)
    assert diff(env.alice, base, 1).json() == diff(env.alice, base, 1, 2).json()
    back = diff(env.alice, base, 2, 1).json()
    assert back["from"] == 2 and back["to"] == 1
    assert back["documents"]["index.md"]["blocks"] == [
        {"op": "changed", "key": "intro/p-1", "index": 1},
        {"op": "removed", "key": "setup/p-2", "index": 5, "at": 5}]
    assert back["assets"] == {"added": [], "removed": ["img/b.png"], "changed": ["img/a.png"]}
    same = diff(env.alice, base, 2, 2).json()
    assert {p: d["status"] for p, d in same["documents"].items()} == {
        "index.md": "unchanged", "new.md": "unchanged", "same.md": "unchanged"}
    assert same["assets"] == {"added": [], "removed": [], "changed": []}


def test_a_removed_block_says_where_it_stood(env, name):
    v1 = {"index.md": b"# A\n\nOne.\n\nTwo.\n\nThree.\n"}
    v2 = {"index.md": b"# A\n\nOne.\n\nThree.\n"}
    base = pushed(env, name, v1, v2)
    assert diff(env.alice, base, 1).json()["documents"]["index.md"]["blocks"] == [
        {"op": "removed", "key": "a/p-2", "index": 2, "at": 2}]
    # at: the block it stood before, in the newer version's AST
    assert text_of(ast_children(env.alice, base, "index.md", 2)[2]) == "Three."
    assert text_of(ast_children(env.alice, base, "index.md", 1)[2]) == "Two."


def test_a_block_that_only_moved_is_unchanged(env, name):
    v1 = {"index.md": b"# A\n\nOne.\n\nTwo.\n\n## B\n\nThree.\n"}
    v2 = {"index.md": b"# A\n\nZero.\n\nOne.\n\nTwo.\n\n## B\n\nThree.\n"}
    base = pushed(env, name, v1, v2)
    assert diff(env.alice, base, 1).json()["documents"]["index.md"] == {
        "status": "changed", "blocks": [{"op": "added", "key": "a/p-1", "index": 1}]}


@pytest.mark.parametrize("user,status", [("alice", 200), ("bob", 200), ("carol", 200),
                                         ("dave", 200), ("eve", 404)])
def test_who_may_diff_a_private_item(team, user, status):
    e, base, name = team
    e.alice.push_ok("course", name, {"index.md": b"---\ntitle: T\n---\n\n# v2\n"})
    r = diff(getattr(e, user), base, 1, 2)
    if status == 200:
        assert r.status == 200 and r.json()["documents"]["index.md"]["status"] == "changed", r
    else:
        assert_error(r, 404, "not_found")


def test_a_share_link_may_not_diff(team):
    e, base, name = team
    link = make_link(e, base, None).json()
    assert_error(Client(e.port).get(f"{base}/versions/1/diff?link={link['token']}"), 404)
    assert_error(Client(e.port, link["token"]).get(f"{base}/versions/1/diff"), 404)
    # while the same link does read the preview's AST
    assert Client(e.port).get(f"{base}/ast/index.md?link={link['token']}").status == 200


def test_a_reader_diffs_within_the_published_version_only(env, name):
    v3 = {"index.md": b"# A\n\nDraft.\n"}
    base = pushed(env, name, V1, V2, v3, visibility="public")
    assert publish(env, base, 2).status == 200
    r = diff(env.eve, base, 1)
    assert r.status == 200 and r.json()["to"] == 2, r
    assert diff(env.eve, base, 2, 1).status == 200
    assert_error(diff(env.eve, base, 1, 3), 404, "not_found")
    assert_error(diff(env.eve, base, 3, 1), 404, "not_found")
    assert diff(env.alice, base, 1).json()["to"] == 3
    assert put_role(env, base, "eve", "viewer").status == 200
    assert diff(env.eve, base, 1, 3).status == 200


def test_bad_versions_are_json_errors(env, name):
    base = pushed(env, name, V1)
    for path in ("versions/0/diff", "versions/x/diff", "versions/1/diff?to=0",
                 "versions/1/diff?to=x", "versions/1/diff?to=-1", "versions/1/diff?to="):
        assert_error(env.alice.get(f"{base}/{path}"), 400, "invalid_version")
    assert_error(diff(env.alice, base, 2), 404, "not_found")
    assert_error(diff(env.alice, base, 1, 2), 404, "not_found")
    assert_error(diff(env.alice, "/api/v1/content/tutorial/nothing-here", 1), 404, "not_found")
    empty = f"{name}-empty"
    env.alice.create_ok("tutorial", empty)
    assert_error(diff(env.alice, f"/api/v1/content/tutorial/{empty}", 1), 404, "not_found")


# ---- content diff -----------------------------------------------------------

DIFF_TEXT = """tutorial/{name}: from version 1 to version 2
~ index.md (changed)
    ~ intro/p-1
    + setup/p-2
+ new.md (added, 1 block)
- old.md (removed, 2 blocks)
+ img/b.png (asset added)
~ img/a.png (asset changed)
"""


def test_client_diff_prints_blocks_and_assets(env, name):
    base = pushed(env, name, V1, V2)
    p = content(env, "alice", "diff", f"tutorial/{name}", 1, 2)
    assert p.returncode == 0, p
    assert p.stdout == DIFF_TEXT.format(name=name)
    assert "\033" not in p.stdout  # no colour when stdout is not a terminal
    assert content(env, "alice", "diff", f"tutorial/{name}", 1).stdout == p.stdout
    assert ok_json(content(env, "alice", "diff", f"tutorial/{name}", 1, "--output", "json")) \
        == diff(env.alice, base, 1, 2).json()
    same = content(env, "alice", "diff", f"tutorial/{name}", 2, 2)
    assert same.returncode == 0 and same.stdout.endswith("no changes\n"), same


def test_client_diff_colours_a_terminal(env, name):
    pushed(env, name, V1, V2)
    master, slave = pty.openpty()
    try:
        env_vars = srv.clean_env({"CONTENT_SERVER": env.server.base_url,
                                  "CONTENT_TOKEN": env.tokens["alice"]})
        p = subprocess.Popen([str(srv.content_binary()), "diff", f"tutorial/{name}", "1", "2"],
                             stdout=slave, stderr=subprocess.PIPE, env=env_vars)
        os.close(slave)
        slave = -1
        out = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the terminal's other end closed
                break
            if not chunk:
                break
            out += chunk
        assert p.wait(timeout=60) == 0, p.stderr.read()
    finally:
        os.close(master)
        if slave >= 0:
            os.close(slave)
    text = out.decode().replace("\r\n", "\n")
    assert "\033[33m~\033[0m index.md (changed)" in text, text
    assert "    \033[32m+\033[0m setup/p-2" in text, text
    assert "\033[31m-\033[0m old.md (removed, 2 blocks)" in text, text


@pytest.mark.parametrize("args", [("diff", "tutorial/x"), ("diff", "tutorial/x", "0"),
                                  ("diff", "tutorial/x", "1", "two"), ("diff", "nokind/x", "1"),
                                  ("diff", "tutorial/x", "1", "2", "3")])
def test_client_diff_usage_errors_exit_2(env, args):
    p = content(env, "alice", *args)
    assert p.returncode == 2 and p.stderr.count("\n") == 1, p


def test_client_diff_refusals_exit_1_with_the_servers_reason(env, name):
    pushed(env, name, V1)
    p = content(env, "alice", "diff", f"tutorial/{name}", 1, 9)
    assert p.returncode == 1 and p.stderr.count("\n") == 1 and "no version 9" in p.stderr, p
    p = content(env, "eve", "diff", f"tutorial/{name}", 1)
    assert p.returncode == 1 and "no content item" in p.stderr.lower(), p
