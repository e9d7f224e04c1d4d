# SPDX-License-Identifier: MIT
"""The HTTP API of CONTRACT.md, endpoint by endpoint, with each error path:
status, `Content-Type: application/json` and the error shape
{"error": {"code", "message"}}.  One server for the module (no tokens, so
every request acts as the local user `local`); each test uses item names of
its own.  The push protocol is in test_push.py, SSE in test_sse.py, auth in
test_auth.py, hostile input in test_robustness.py."""

import pytest

from helpers import metrics
from helpers.api import JSON, assert_error, render_ast, sha256
from helpers.sample import PNG, folder, index_md, lesson_md

KINDS = ["tutorial", "challenge", "course", "skill-path", "roadmap"]
ITEM_FIELDS = {"kind", "name", "owner", "title", "visibility", "version", "updated_at"}


def files_by_path(item):
    return {f["path"]: f for f in item["files"]}


# --------------------------------------------------------------------------
# Operations endpoints


def test_healthz(api):
    r = api.get("/healthz")
    assert r.status == 200, r


def test_readyz_when_storage_answers(api):
    r = api.get("/readyz")
    assert r.status == 200, r


def test_unknown_route_is_404_with_error_shape(api):
    assert_error(api.get("/api/v1/no-such-endpoint"), 404)
    assert_error(api.get("/no/such/page"), 404)


# --------------------------------------------------------------------------
# Items: create, get, list, patch, delete


@pytest.mark.parametrize("kind", KINDS)
def test_create_returns_201_item_owned_by_local(api, name, kind):
    r = api.create(kind, name, title="My title")
    assert r.status == 201, r
    assert r.media_type == JSON
    item = r.json()
    assert ITEM_FIELDS <= set(item), f"item lacks {ITEM_FIELDS - set(item)}: {item}"
    assert (item["kind"], item["name"]) == (kind, name)
    assert item["owner"] == "local"
    assert item["title"] == "My title"
    assert item["visibility"] == "private", "visibility must default to private"
    assert item["version"] == 0, "an item has version 0 until its first push"


def test_create_public(api, name):
    item = api.create_ok("tutorial", name, visibility="public")
    assert item["visibility"] == "public"
    assert api.item_ok("tutorial", name)["visibility"] == "public"


def test_create_existing_is_409(api, name):
    api.create_ok("tutorial", name, title="first")
    assert_error(api.create("tutorial", name, title="second"), 409)
    assert api.item_ok("tutorial", name)["title"] == "first", "a refused create changed the item"


def test_same_name_in_another_kind_is_another_item(api, name):
    api.create_ok("tutorial", name)
    api.create_ok("course", name)
    assert api.item_ok("course", name)["kind"] == "course"


@pytest.mark.parametrize("body", [
    {"kind": "tutorial", "name": "x", "visibility": "secret"},
    {"kind": "tutorial", "name": "x", "visibility": 1},
    {"kind": "tutorial", "name": "x", "title": 42},
    {"kind": "tutorial"},
    {"name": "x"},
    {},
])
def test_create_bad_fields_is_400(api, name, body):
    body = dict(body)
    if body.get("name") == "x":
        body["name"] = name
    assert_error(api.post("/api/v1/content", body), 400)
    if "kind" in body and "name" in body:
        assert_error(api.item(body["kind"], name), 404)


def test_get_unknown_item_is_404(api, name):
    assert_error(api.item("tutorial", name), 404)


def test_get_item_lists_current_files(api, name):
    api.create_ok("course", name)
    files = folder("course", name, "Files", **{"data/table.json": b'{"a":1}\n'})
    api.push_ok("course", name, files)
    item = api.item_ok("course", name)
    assert ITEM_FIELDS <= set(item)
    assert item["version"] == 1
    got = files_by_path(item)
    assert set(got) == set(files)
    for path, data in files.items():
        f = got[path]
        assert f["sha256"] == sha256(data), path
        assert f["size"] == len(data), path
        assert isinstance(f["content_type"], str) and f["content_type"], path
    assert got["images/pic.png"]["content_type"].split(";")[0] == "image/png"
    assert got["index.md"]["content_type"].split(";")[0] == "text/markdown"
    assert got["data/table.json"]["content_type"].split(";")[0] == "application/json"


def test_title_follows_index_front_matter(api, name):
    api.create_ok("tutorial", name, title="Created title")
    api.push_ok("tutorial", name, {"index.md": index_md("tutorial", name, "Pushed title")})
    assert api.item_ok("tutorial", name)["title"] == "Pushed title"
    listed = [i for i in api.get("/api/v1/content").json()["items"] if i["name"] == name]
    assert [i["title"] for i in listed] == ["Pushed title"]


def test_list_items_and_filter_by_kind(api, name):
    api.create_ok("tutorial", name, title="T")
    api.create_ok("course", name, title="C")
    api.push_ok("course", name, {"index.md": index_md("course", name, "C")})
    r = api.get("/api/v1/content")
    assert r.status == 200 and r.media_type == JSON, r
    doc = r.json()
    assert set(doc) == {"items"}, doc.keys()
    mine = {(i["kind"], i["name"]): i for i in doc["items"] if i["name"] == name}
    assert set(mine) == {("tutorial", name), ("course", name)}
    for item in mine.values():
        assert ITEM_FIELDS <= set(item), item
        assert item["owner"] == "local"
    assert mine[("course", name)]["version"] == 1
    assert mine[("tutorial", name)]["version"] == 0
    r = api.get("/api/v1/content?kind=course")
    assert r.status == 200, r
    kinds = {i["kind"] for i in r.json()["items"]}
    assert kinds == {"course"}, f"?kind=course listed kinds {kinds}"
    assert name in {i["name"] for i in r.json()["items"]}


@pytest.mark.parametrize("kind", ["bogus", "Tutorial", "tutorials", ""])
def test_list_with_bad_kind_is_400(api, kind):
    assert_error(api.get(f"/api/v1/content?kind={kind}"), 400)


def test_patch_title_and_visibility(api, name):
    api.create_ok("tutorial", name, title="Old")
    r = api.patch(f"/api/v1/content/tutorial/{name}", {"title": "New"})
    assert r.status == 200, r
    assert r.json()["title"] == "New"
    r = api.patch(f"/api/v1/content/tutorial/{name}", {"visibility": "public"})
    assert r.status == 200, r
    item = api.item_ok("tutorial", name)
    assert (item["title"], item["visibility"]) == ("New", "public")
    r = api.patch(f"/api/v1/content/tutorial/{name}", {"visibility": "private"})
    assert r.status == 200 and api.item_ok("tutorial", name)["visibility"] == "private", r


@pytest.mark.parametrize("body", [{"visibility": "hidden"}, {"title": 7}, {"visibility": None}])
def test_patch_bad_value_is_400_and_changes_nothing(api, name, body):
    api.create_ok("tutorial", name, title="Keep")
    assert_error(api.patch(f"/api/v1/content/tutorial/{name}", body), 400)
    item = api.item_ok("tutorial", name)
    assert (item["title"], item["visibility"]) == ("Keep", "private")


def test_patch_unknown_item_is_404(api, name):
    assert_error(api.patch(f"/api/v1/content/tutorial/{name}", {"title": "x"}), 404)


def test_delete_item(api, name):
    api.create_ok("tutorial", name)
    api.push_ok("tutorial", name, folder("tutorial", name))
    r = api.delete(f"/api/v1/content/tutorial/{name}")
    assert r.status == 204, r
    assert r.body == b"", "204 must have no body"
    assert_error(api.item("tutorial", name), 404)
    assert_error(api.file("tutorial", name, "index.md"), 404)
    assert_error(api.get(f"/api/v1/content/tutorial/{name}/versions"), 404)
    assert name not in {i["name"] for i in api.get("/api/v1/content").json()["items"]}
    assert_error(api.delete(f"/api/v1/content/tutorial/{name}"), 404)


def test_delete_then_create_starts_again_at_version_0(api, name):
    api.create_ok("tutorial", name)
    api.push_ok("tutorial", name, {"index.md": b"# one\n"})
    assert api.delete(f"/api/v1/content/tutorial/{name}").status == 204
    item = api.create_ok("tutorial", name)
    assert item["version"] == 0
    assert api.item_ok("tutorial", name)["files"] == []


# --------------------------------------------------------------------------
# Files


@pytest.mark.parametrize("path,media", [
    ("index.md", "text/markdown"),
    ("images/pic.png", "image/png"),
    ("notes.txt", "text/plain"),
    ("style.css", "text/css"),
    ("data/table.json", "application/json"),
    ("figure.svg", "image/svg+xml"),
    ("photo.jpg", "image/jpeg"),
    ("archive.bin", "application/octet-stream"),
])
def test_file_content_type_by_extension(api, name, path, media):
    data = {"index.md": b"# Hi\n", "images/pic.png": PNG}.get(path, b"content of " + path.encode())
    api.create_ok("tutorial", name)
    api.push_ok("tutorial", name, {path: data})
    r = api.file("tutorial", name, path)
    assert r.status == 200, r
    assert r.body == data
    assert r.media_type == media, f"{path}: Content-Type {r.header('Content-Type')!r}"


def test_file_etag_and_304(api, name):
    data = lesson_md(3)
    api.create_ok("course", name)
    api.push_ok("course", name, {"index.md": index_md("course", name, "E"), "l.md": data})
    r = api.file("course", name, "l.md")
    assert r.status == 200 and r.body == data, r
    etag = f'"{sha256(data)}"'
    assert r.header("ETag") == etag
    r = api.file("course", name, "l.md", headers={"If-None-Match": etag})
    assert r.status == 304, r
    assert r.body == b""
    r = api.file("course", name, "l.md", headers={"If-None-Match": f'"{sha256(b"other")}"'})
    assert r.status == 200 and r.body == data, r
    r = api.file("course", name, "l.md", headers={"If-None-Match": f'W/"x", {etag}'})
    assert r.status == 304, f"an ETag inside an If-None-Match list must match: {r!r}"


def test_file_older_version(api, name):
    api.create_ok("tutorial", name)
    v1 = {"index.md": b"# Version one\n", "gone.txt": b"only in v1\n"}
    v2 = {"index.md": b"# Version two\n"}
    assert api.push_ok("tutorial", name, v1) == 1
    assert api.push_ok("tutorial", name, v2) == 2
    assert api.file("tutorial", name, "index.md").body == v2["index.md"]
    r = api.file("tutorial", name, "index.md", version=1)
    assert r.status == 200 and r.body == v1["index.md"], r
    assert r.header("ETag") == f'"{sha256(v1["index.md"])}"'
    r = api.file("tutorial", name, "gone.txt", version=1)
    assert r.status == 200 and r.body == v1["gone.txt"], r
    assert_error(api.file("tutorial", name, "gone.txt"), 404)
    assert api.file("tutorial", name, "index.md", version=2).body == v2["index.md"]


@pytest.mark.parametrize("version,statuses", [
    (3, (404,)), (99, (404,)), ("abc", (400,)), ("-1", (400,)), ("1.5", (400,)),
    (0, (400, 404)),  # no version 0 exists; calling it bad input is as fair as "not found"
])
def test_file_bad_version(api, name, version, statuses):
    api.create_ok("tutorial", name)
    api.push_ok("tutorial", name, {"index.md": b"# v1\n"})
    api.push_ok("tutorial", name, {"index.md": b"# v2\n"})
    r = api.file("tutorial", name, "index.md", version=version)
    assert r.status in statuses, r
    assert_error(r, r.status)


def test_file_unknown_path_and_item_are_404(api, name):
    api.create_ok("tutorial", name)
    api.push_ok("tutorial", name, {"index.md": b"# x\n"})
    assert_error(api.file("tutorial", name, "nope.md"), 404)
    assert_error(api.file("tutorial", name, "index.md/more"), 404)
    assert_error(api.file("tutorial", name + "-other", "index.md"), 404)


def test_file_of_item_never_pushed_is_404(api, name):
    api.create_ok("tutorial", name)
    assert_error(api.file("tutorial", name, "index.md"), 404)


# --------------------------------------------------------------------------
# AST


def test_ast_equals_content_render_of_the_same_bytes(api, name, content_bin, repo_root):
    files = {}
    for md in sorted((repo_root / "examples").rglob("*.md")):
        files[str(md.relative_to(repo_root / "examples")).replace("/", "-")] = md.read_bytes()
    files["index.md"] = index_md("course", name, "AST check", body="::note\nhi\n::\n")
    api.create_ok("course", name)
    api.push_ok("course", name, files)
    for path, data in files.items():
        r = api.get(f"/api/v1/content/course/{name}/ast/{path}")
        assert r.status == 200, f"{path}: {r!r}"
        assert r.media_type == JSON
        assert r.json() == render_ast(data), f"{path}: the server's AST differs from content render"


def test_ast_of_older_version_is_not_served_for_current(api, name, content_bin):
    api.create_ok("tutorial", name)
    api.push_ok("tutorial", name, {"index.md": b"# First\n"})
    api.push_ok("tutorial", name, {"index.md": b"# Second\n\nchanged\n"})
    r = api.get(f"/api/v1/content/tutorial/{name}/ast/index.md")
    assert r.status == 200, r
    assert r.json() == render_ast(b"# Second\n\nchanged\n")


def test_ast_of_asset_or_unknown_path(api, name):
    api.create_ok("tutorial", name)
    api.push_ok("tutorial", name, {"index.md": b"# x\n", "images/pic.png": PNG})
    r = api.get(f"/api/v1/content/tutorial/{name}/ast/images/pic.png")
    assert 400 <= r.status < 500, f"the AST of a PNG: {r!r}"
    assert_error(r, r.status)
    assert_error(api.get(f"/api/v1/content/tutorial/{name}/ast/nope.md"), 404)
    assert_error(api.get(f"/api/v1/content/tutorial/{name}-x/ast/index.md"), 404)


# --------------------------------------------------------------------------
# Version history


def test_version_history(api, name):
    api.create_ok("course", name)
    v1 = {"index.md": b"# a\n", "01.md": b"# one\n", "img.png": PNG}
    v2 = dict(v1, **{"01.md": b"# one, edited\n"})                   # 1 changed
    v3 = {"index.md": b"# a\n", "02.md": b"# two\n", "img.png": PNG + b"x"}  # -01 +02 ~img
    for files in (v1, v2, v3):
        api.push_ok("course", name, files)
    r = api.get(f"/api/v1/content/course/{name}/versions")
    assert r.status == 200 and r.media_type == JSON, r
    history = r.json()
    assert isinstance(history, list), f"version history must be a JSON array: {history!r}"
    by_version = {h["version"]: h for h in history}
    assert sorted(by_version) == [1, 2, 3], history
    for h in history:
        assert {"version", "updated_at", "files_changed"} <= set(h), h
    assert by_version[1]["files_changed"] == 3
    assert by_version[2]["files_changed"] == 1
    assert by_version[3]["files_changed"] == 3


def test_version_history_of_unpushed_and_unknown_items(api, name):
    api.create_ok("tutorial", name)
    r = api.get(f"/api/v1/content/tutorial/{name}/versions")
    assert r.status == 200 and r.json() == [], r
    assert_error(api.get(f"/api/v1/content/tutorial/{name}-x/versions"), 404)


# --------------------------------------------------------------------------
# Preview


def test_preview_page(api, name):
    api.create_ok("course", name)
    api.push_ok("course", name, folder("course", name, "Preview"))
    for path in (f"/preview/course/{name}", f"/preview/course/{name}/01-lesson.md"):
        r = api.get(path)
        assert r.status == 200, f"{path}: {r!r}"
        assert r.media_type == "text/html", f"{path}: {r.header('Content-Type')}"
        assert b"<" in r.body
    r = api.get(f"/preview/course/{name}-x")
    assert r.status == 404, r


# --------------------------------------------------------------------------
# Metrics

# The metric families the project documents for requests by route and
# status, SSE subscribers, events sent and push bytes.
REQUESTS = "contentd_http_requests_total"
SUBSCRIBERS = "contentd_sse_subscribers"
EVENTS_SENT = "contentd_sse_events_sent_total"
PUSH_BYTES = "contentd_push_bytes_total"


def scrape(api):
    r = api.get("/metrics")
    assert r.status == 200, r
    assert r.media_type == "text/plain", r.header("Content-Type")
    return metrics.parse(r.body.decode())


def test_metrics_names_and_counters_move(api, server, name):
    from helpers.sse import SSEStream
    before, types = scrape(api)
    req, subs, sent, pushed = REQUESTS, SUBSCRIBERS, EVENTS_SENT, PUSH_BYTES
    have = metrics.names(before)
    assert {req, subs, sent, pushed} <= have, f"/metrics lacks {sorted({req, subs, sent, pushed} - have)}"
    labelled = [lab for n, lab, _ in before if n == req]
    assert labelled and all({"route", "status"} <= set(lab) for lab in labelled), \
        f"{req} must be labelled by route and status: {labelled[:5]}"

    api.create_ok("tutorial", name)
    stream = SSEStream(server.port, f"/api/v1/content/tutorial/{name}/events")
    try:
        stream.next_event()  # the snapshot
        blob = b"# metrics\n" + b"x" * 5000
        api.push_ok("tutorial", name, {"index.md": blob})
        stream.wait_event(lambda e: e.event == "update")
        during, _ = scrape(api)
        assert metrics.total(during, subs) >= metrics.total(before, subs) + 1, \
            "the SSE subscriber gauge did not count an open stream"
    finally:
        stream.close()
    assert metrics.total(during, sent) >= metrics.total(before, sent) + 2, \
        "events sent did not count the snapshot and the update"
    assert metrics.total(during, pushed) >= metrics.total(before, pushed) + len(blob), \
        "push bytes did not count the uploaded blob"
    assert metrics.total(during, req) > metrics.total(before, req), "request count did not move"
    assert types.get(req) == "counter", f"{req} has TYPE {types.get(req)}"
    assert types.get(subs) == "gauge", f"{subs} has TYPE {types.get(subs)}"
