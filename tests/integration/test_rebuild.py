# SPDX-License-Identifier: MIT
"""`contentd rebuild-catalog` restores each item as it is now: owner, title
and visibility from its latest state (the last manifest, or the item record a
later title or visibility change wrote), never from its first manifest — a
rebuild must not make a private item public.  On the folder store and on S3
(s3rver and Ceph RGW)."""
from __future__ import annotations

import shutil

from helpers import server as srv
from helpers.api import Client
from s3support import ACCESS_KEY, BUCKET, SECRET_KEY, s3peer  # noqa: F401

S3_ENV = {"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY}


def doc(tag: str) -> dict:
    return {"index.md": f"---\ntitle: Title {tag}\n---\n# {tag}\n".encode()}


def make_history(api: Client, name: str, patch_after_last_push: bool) -> None:
    """Created public, v1 pushed, made private (and retitled); then v2 pushed,
    or (patch_after_last_push) the change comes after the last push."""
    api.create_ok("tutorial", name, visibility="public")
    assert api.push_ok("tutorial", name, doc("one")) == 1
    if not patch_after_last_push:
        r = api.patch(f"/api/v1/content/tutorial/{name}", {"visibility": "private"})
        assert r.status == 200, r
        assert api.push_ok("tutorial", name, doc("two")) == 2
    else:
        assert api.push_ok("tutorial", name, doc("two")) == 2
        r = api.patch(f"/api/v1/content/tutorial/{name}",
                      {"visibility": "private", "title": "Renamed"})
        assert r.status == 200, r


def rebuild(data_dir, extra=(), env=None) -> None:
    p = srv.run_contentd(["rebuild-catalog", "--data", str(data_dir), *extra], env=env)
    assert p.returncode == 0, p.stderr.decode("utf-8", "replace")


def check_rebuilt(api: Client) -> None:
    a = api.item_ok("tutorial", "after-push")
    assert (a["visibility"], a["version"], a["title"]) == ("private", 2, "Title two"), a
    b = api.item_ok("tutorial", "after-patch")
    assert (b["visibility"], b["version"], b["title"]) == ("private", 2, "Renamed"), b


def test_rebuild_restores_latest_visibility_and_title_folder(start_server, tmp_path):
    s = start_server()
    api = Client(s.port)
    make_history(api, "after-push", patch_after_last_push=False)
    make_history(api, "after-patch", patch_after_last_push=True)
    s.stop()
    shutil.move(str(s.data_dir / "catalog.db"), str(tmp_path / "old-catalog.db"))
    for extra in ("catalog.db-wal", "catalog.db-shm"):
        if (s.data_dir / extra).exists():
            (s.data_dir / extra).unlink()
    rebuild(s.data_dir)
    s2 = start_server(s.data_dir)
    check_rebuilt(Client(s2.port))


def test_rebuild_restores_latest_visibility_and_title_s3(s3peer, start_server,  # noqa: F811
                                                         tmp_path):
    flags = ["--s3-endpoint", s3peer.endpoint, "--s3-bucket", BUCKET, "--s3-path-style"]
    s = start_server(args=flags, env=S3_ENV)
    api = Client(s.port)
    make_history(api, "after-push", patch_after_last_push=False)
    make_history(api, "after-patch", patch_after_last_push=True)
    s.stop()
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    rebuild(fresh, flags, S3_ENV)
    s2 = start_server(fresh, args=flags, env=S3_ENV)
    check_rebuilt(Client(s2.port))
