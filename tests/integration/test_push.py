# SPDX-License-Identifier: MIT
"""The push protocol of CONTRACT.md: POST blobs/missing, PUT blobs/SHA
(hashed while streaming, nothing stored on a digest mismatch or past
--max-blob-size), and the atomic commit against base_version (201 N+1,
409 version_conflict, 422 missing_blobs, no version for an unchanged list).
What is stored is checked through the API and in the data folder's
documented layout (blobs/<sha[0:2]>/<sha>)."""
import threading

import pytest

from helpers.api import Client, assert_error, request, sha256
from helpers.sample import PNG, folder, random_bytes


def blob_file(server, sha):
    return server.data_dir / "blobs" / sha[:2] / sha


def named_blob_file(api, server, name, data):
    """The file of blob `data` once a version names it.  An uploaded blob is
    stored at once (readable, not missing) but moved into blobs/ when the
    commit that names it makes it durable (docs/operations.md, "What is
    synced when")."""
    api.create_ok("tutorial", name)
    api.push_ok("tutorial", name, {"index.md": b"# Stored\n", "data.bin": data})
    return blob_file(server, sha256(data))


def missing_of(api, shas):
    r = api.missing(shas)
    assert r.status == 200, r
    doc = r.json()
    assert set(doc) == {"missing"}, doc
    return doc["missing"]


def version_of(api, kind, name):
    return api.item_ok(kind, name)["version"]


def history(api, kind, name):
    r = api.get(f"/api/v1/content/{kind}/{name}/versions")
    assert r.status == 200, r
    return sorted(h["version"] for h in r.json())


# --------------------------------------------------------------------------
# blobs/missing and PUT blobs


def test_missing_lists_only_what_the_server_lacks(api, server, name):
    have, lack = random_bytes(300), random_bytes(301)
    r = api.put_blob(have)
    assert 200 <= r.status < 300, r
    assert missing_of(api, [sha256(have), sha256(lack)]) == [sha256(lack)]
    assert missing_of(api, []) == []
    assert missing_of(api, [sha256(have)]) == []
    assert named_blob_file(api, server, name, have).read_bytes() == have, \
        "the stored blob is not at blobs/<sha[0:2]>/<sha> with the uploaded bytes"
    assert missing_of(api, [sha256(have), sha256(lack)]) == [sha256(lack)]


@pytest.mark.parametrize("body", [
    {"sha256": ["abc"]},
    {"sha256": ["A" * 64]},
    {"sha256": ["g" * 64]},
    {"sha256": "0" * 64},
    {"sha256": [1]},
    {},
])
def test_missing_bad_input_is_400(api, body):
    assert_error(api.post("/api/v1/blobs/missing", body), 400)


def test_put_blob_is_idempotent(api, server, name):
    data = random_bytes(1000)
    for _ in range(2):
        r = api.put_blob(data)
        assert 200 <= r.status < 300, r
    assert named_blob_file(api, server, name, data).read_bytes() == data
    r = api.put_blob(data)  # and again once it is in place
    assert 200 <= r.status < 300, r
    assert blob_file(server, sha256(data)).read_bytes() == data


def test_put_blob_chunked(api, server, name):
    data = random_bytes(300_000)
    r = api.req("PUT", f"/api/v1/blobs/{sha256(data)}", [data[:1000], data[1000:]],
                content_type="application/octet-stream", chunked=True)
    assert 200 <= r.status < 300, r
    assert missing_of(api, [sha256(data)]) == []
    assert named_blob_file(api, server, name, data).read_bytes() == data


def test_put_empty_blob(api):
    r = api.put_blob(b"")
    assert 200 <= r.status < 300, r
    assert missing_of(api, [sha256(b"")]) == []


def test_digest_mismatch_is_400_and_stores_nothing(api, server):
    claimed, sent = random_bytes(5000), random_bytes(5000)
    r = api.put_blob(sent, sha=sha256(claimed))
    assert_error(r, 400, "digest_mismatch")
    both = sorted([sha256(claimed), sha256(sent)])
    assert sorted(missing_of(api, both)) == both
    assert not blob_file(server, sha256(claimed)).exists()
    assert not blob_file(server, sha256(sent)).exists()


def test_digest_mismatch_one_flipped_byte_of_large_blob(api, server):
    good = random_bytes(3 * 1024 * 1024)
    bad = bytearray(good)
    bad[-1] ^= 1
    assert_error(api.put_blob(bytes(bad), sha=sha256(good)), 400, "digest_mismatch")
    assert missing_of(api, [sha256(good)]) == [sha256(good)]
    assert not blob_file(server, sha256(good)).exists()


@pytest.mark.parametrize("sha", ["abc", "A" * 64, "z" * 64, "0" * 63, "0" * 65, "..%2f" + "0" * 60])
def test_put_blob_bad_name_is_400(api, sha):
    assert_error(api.req("PUT", f"/api/v1/blobs/{sha}", b"x",
                         content_type="application/octet-stream"), 400)


@pytest.fixture
def small_server(start_server):
    return start_server(args=["--max-blob-size", "1024"])


def test_blob_at_the_limit_is_accepted(small_server):
    api = Client(small_server.port)
    data = random_bytes(1024)
    r = api.put_blob(data)
    assert 200 <= r.status < 300, r
    assert missing_of(api, [sha256(data)]) == []


def test_oversize_blob_is_413_and_stores_nothing(small_server):
    api = Client(small_server.port)
    data = random_bytes(1025)
    assert_error(api.put_blob(data), 413)
    assert missing_of(api, [sha256(data)]) == [sha256(data)]
    assert not blob_file(small_server, sha256(data)).exists()
    small_server.assert_alive()


def test_oversize_chunked_blob_is_413_while_streaming(small_server):
    """No Content-Length: the server can only find out while receiving."""
    api = Client(small_server.port)
    data = random_bytes(64 * 1024)
    r = api.req("PUT", f"/api/v1/blobs/{sha256(data)}", data,
                content_type="application/octet-stream", chunked=True)
    assert_error(r, 413)
    assert missing_of(api, [sha256(data)]) == [sha256(data)]
    assert not blob_file(small_server, sha256(data)).exists()
    small_server.assert_alive()


def test_oversize_declared_length_is_refused_before_the_body(small_server):
    """A Content-Length of 1 GiB is refused without reading a GiB."""
    sha = "ab" * 32
    pieces = (b"\0" * (1 << 20) for _ in range(1024))
    r = request(small_server.port, "PUT", f"/api/v1/blobs/{sha}", pieces,
                {"Content-Type": "application/octet-stream", "Content-Length": str(1 << 30)},
                timeout=10)
    assert_error(r, 413)
    assert r.sent < 256 << 20, f"the server read {r.sent} bytes before refusing"
    small_server.assert_alive()


def test_oversize_commit_of_a_small_limit_server(small_server, name):
    """With a small limit the rest of the protocol still works."""
    api = Client(small_server.port)
    api.create_ok("tutorial", name)
    assert api.push_ok("tutorial", name, {"index.md": b"# small\n"}) == 1


# --------------------------------------------------------------------------
# Commits


def test_first_push_is_version_1_then_n_plus_1(api, name):
    api.create_ok("course", name)
    r = api.push("course", name, folder("course", name, "One"), base=0)
    assert r.status == 201, r
    assert r.json() == {"version": 1} or r.json()["version"] == 1
    r = api.push("course", name, folder("course", name, "Two"), base=1)
    assert r.status == 201 and r.json()["version"] == 2, r
    assert version_of(api, "course", name) == 2
    assert history(api, "course", name) == [1, 2]


def test_stale_base_is_409_and_changes_nothing(api, name):
    api.create_ok("tutorial", name)
    api.push_ok("tutorial", name, {"index.md": b"# 1\n"})
    api.push_ok("tutorial", name, {"index.md": b"# 2\n"})
    for base in (0, 1, 3, 100):
        r = api.push("tutorial", name, {"index.md": b"# stale %d\n" % base}, base=base)
        assert_error(r, 409, "version_conflict")
    assert version_of(api, "tutorial", name) == 2
    assert api.file("tutorial", name, "index.md").body == b"# 2\n"


def test_missing_blobs_is_422_listing_exactly_them(api, name):
    api.create_ok("tutorial", name)
    present = random_bytes(100)
    api.put_blob(present)
    lack1, lack2 = random_bytes(100), random_bytes(101)
    files = [{"path": "index.md", "sha256": sha256(present), "size": len(present)},
             {"path": "a.bin", "sha256": sha256(lack1), "size": len(lack1)},
             {"path": "b.bin", "sha256": sha256(lack2), "size": len(lack2)}]
    r = api.commit("tutorial", name, 0, files)
    err = assert_error(r, 422, "missing_blobs")
    lists = [v for v in err.values() if isinstance(v, list)]
    assert lists, f"the error does not list the missing blobs: {err}"
    assert sorted(lists[0]) == sorted([sha256(lack1), sha256(lack2)]), err
    assert version_of(api, "tutorial", name) == 0
    # once uploaded, the same commit succeeds
    api.put_blob(lack1)
    api.put_blob(lack2)
    r = api.commit("tutorial", name, 0, files)
    assert r.status == 201 and r.json()["version"] == 1, r


def test_unchanged_file_list_creates_no_version(api, name):
    files = folder("tutorial", name, "Same")
    api.create_ok("tutorial", name)
    api.push_ok("tutorial", name, files)
    r = api.push("tutorial", name, files, base=1)
    assert r.status in (200, 201), r
    assert r.json()["version"] == 1, f"an unchanged push must not make version 2: {r!r}"
    shuffled = dict(reversed(list(files.items())))
    r = api.push("tutorial", name, shuffled, base=1)
    assert r.status in (200, 201) and r.json()["version"] == 1, r
    assert version_of(api, "tutorial", name) == 1
    assert history(api, "tutorial", name) == [1]


def test_commit_can_remove_and_rename(api, name):
    api.create_ok("tutorial", name)
    api.push_ok("tutorial", name, {"index.md": b"# i\n", "old/name.png": PNG, "gone.md": b"# g\n"})
    api.push_ok("tutorial", name, {"index.md": b"# i\n", "new/name.png": PNG})
    paths = {f["path"] for f in api.item_ok("tutorial", name)["files"]}
    assert paths == {"index.md", "new/name.png"}
    assert api.file("tutorial", name, "new/name.png").body == PNG
    assert_error(api.file("tutorial", name, "old/name.png"), 404)


@pytest.mark.parametrize("fix", ["wrong_size", "duplicate_path", "bad_sha", "negative_size"])
def test_inconsistent_file_list_is_refused(api, name, fix):
    api.create_ok("tutorial", name)
    data = b"# body\n"
    api.put_blob(data)
    entry = {"path": "index.md", "sha256": sha256(data), "size": len(data)}
    files = {
        "wrong_size": [dict(entry, size=len(data) + 1)],
        "duplicate_path": [entry, dict(entry)],
        "bad_sha": [dict(entry, sha256="xyz")],
        "negative_size": [dict(entry, size=-1)],
    }[fix]
    r = api.commit("tutorial", name, 0, files)
    assert r.status in (400, 422), f"{fix}: {r!r}"
    assert_error(r, r.status)
    assert version_of(api, "tutorial", name) == 0


@pytest.mark.parametrize("body", [
    {"files": []},
    {"base_version": "0", "files": []},
    {"base_version": 0},
    {"base_version": 0, "files": {}},
    {"base_version": 0, "files": [{"path": "index.md"}]},
    {"base_version": 0, "files": ["index.md"]},
    {"base_version": -1, "files": []},
])
def test_commit_malformed_body_is_400(api, name, body):
    api.create_ok("tutorial", name)
    assert_error(api.post(f"/api/v1/content/tutorial/{name}/versions", body), 400)
    assert version_of(api, "tutorial", name) == 0


def test_commit_to_unknown_item_is_404(api, name):
    data = b"# orphan\n"
    api.put_blob(data)
    r = api.commit("tutorial", name, 0, [{"path": "index.md", "sha256": sha256(data),
                                           "size": len(data)}])
    assert_error(r, 404)


def test_concurrent_commits_same_base_one_wins(api, name):
    """Two pushes race from the same base: exactly one 201 and one 409, and
    the loser's retry on the new base lands: nothing is lost."""
    api.create_ok("tutorial", name)
    api.push_ok("tutorial", name, {"index.md": b"# base\n"})
    for round_ in range(12):
        base = version_of(api, "tutorial", name)
        lists = [api.upload({"index.md": b"# round %d writer %d\n" % (round_, w),
                             f"w{w}.txt": b"%d" % round_}) for w in (0, 1)]
        results = [None, None]
        barrier = threading.Barrier(2)

        def commit(w):
            c = Client(api.port)
            barrier.wait()
            results[w] = c.commit("tutorial", name, base, lists[w])

        threads = [threading.Thread(target=commit, args=(w,)) for w in (0, 1)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        statuses = sorted(r.status for r in results)
        assert statuses == [201, 409], f"round {round_}: {results}"
        winner = 0 if results[0].status == 201 else 1
        loser = 1 - winner
        assert results[winner].json()["version"] == base + 1
        assert_error(results[loser], 409, "version_conflict")
        item = api.item_ok("tutorial", name)
        assert item["version"] == base + 1
        assert {f["path"]: f["sha256"] for f in item["files"]} == \
            {f["path"]: f["sha256"] for f in lists[winner]}, "the current version mixes both pushes"
        r = api.commit("tutorial", name, base + 1, lists[loser])
        assert r.status == 201 and r.json()["version"] == base + 2, r
        for v, w in ((base + 1, winner), (base + 2, loser)):
            for f in lists[w]:
                got = api.file("tutorial", name, f["path"], version=v)
                assert got.status == 200 and sha256(got.body) == f["sha256"], (v, f, got)
    assert history(api, "tutorial", name) == list(range(1, 2 + 2 * 12))
