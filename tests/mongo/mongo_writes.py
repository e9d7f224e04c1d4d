# SPDX-License-Identifier: MIT
"""The write commands of the MongoDB wire-protocol test server (insert,
update, delete, findAndModify), as a mixin of its MongoServer: each write
is applied to the collection and recorded in the oplog for the change
streams.  Runs under the server's lock.
"""
from __future__ import annotations

from mongo_pipeline import apply_update, is_replacement, project, sort_docs, upsert_seed
from mongo_store import CommandError, Collection, bad, equal, refuse


class DropConnection(Exception):
    """Close the client's connection without a reply."""


class WriteCommands:
    def _record(self, c: Collection, op: str, old, new):
        """Puts a write in the oplog for the change streams."""
        if op == "insert":
            self.oplog.append(c.db, c.name, "insert", new["_id"], full=new)
        elif op == "delete":
            self.oplog.append(c.db, c.name, "delete", old["_id"])
        elif op == "replace":
            self.oplog.append(c.db, c.name, "replace", new["_id"], full=new)
        else:
            upd = {k: v for k, v in new.items() if k not in old or not equal(old[k], v)}
            removed = [k for k in old if k not in new]
            self.oplog.append(c.db, c.name, "update", new["_id"],
                              desc={"updatedFields": upd, "removedFields": removed, "truncatedArrays": []})

    @staticmethod
    def _write_error(i: int, e: CommandError) -> dict:
        return {"index": i, "code": e.code, "errmsg": e.msg, **e.extra}

    def c_insert(self, db, cmd, cid):
        c = self._coll(db, cmd["insert"], create=True)
        n, errors = 0, []
        for i, doc in enumerate(cmd.get("documents", [])):
            try:
                new = c.insert(dict(doc))
                self._record(c, "insert", None, new)
                n += 1
            except CommandError as e:
                errors.append(self._write_error(i, e))
                if cmd.get("ordered", True):
                    break
        reply = {"n": n, "ok": 1.0}
        if errors:
            reply["writeErrors"] = errors
        return reply

    def _update_one_stmt(self, c: Collection, q: dict, u, multi: bool, upsert: bool):
        """One update statement: (matched, modified, upserted _id or None)."""
        docs = c.find(q)
        if not multi:
            docs = docs[:1]
        if multi and is_replacement(u):
            raise CommandError(9, "FailedToParse", "multi update is not supported for replacement-style update")
        modified = 0
        for old in docs:
            new = apply_update(old, u, False)
            if equal(old, new):
                continue
            c.replace(old, new)
            self._record(c, "replace" if is_replacement(u) else "update", old, new)
            modified += 1
        if docs or not upsert:
            return len(docs), modified, None
        seed = upsert_seed(q)
        new = apply_update(seed, u, True)
        if is_replacement(u) and "_id" in seed and "_id" not in new:
            new = {"_id": seed["_id"], **new}
        new = c.insert(new)
        self._record(c, "insert", None, new)
        return 0, 0, new["_id"]

    def c_update(self, db, cmd, cid):
        c = self._coll(db, cmd["update"], create=True)
        n = nmod = 0
        upserted, errors = [], []
        for i, st in enumerate(cmd.get("updates", [])):
            refuse(st, "arrayFilters", "collation")
            try:
                m, mod, uid = self._update_one_stmt(c, st.get("q") or {}, st.get("u"),
                                                    bool(st.get("multi")), bool(st.get("upsert")))
                n += m + (1 if uid is not None else 0)
                nmod += mod
                if uid is not None:
                    upserted.append({"index": i, "_id": uid})
            except CommandError as e:
                errors.append(self._write_error(i, e))
                if cmd.get("ordered", True):
                    break
        reply = {"n": n, "nModified": nmod, "ok": 1.0}
        if upserted:
            reply["upserted"] = upserted
        if errors:
            reply["writeErrors"] = errors
        return reply

    def c_delete(self, db, cmd, cid):
        c = self._coll(db, cmd["delete"])
        n = 0
        for st in cmd.get("deletes", []):
            refuse(st, "collation")
            docs = c.find(st.get("q") or {}) if c else []
            if int(st.get("limit", 0)) == 1:
                docs = docs[:1]
            for d in docs:
                c.remove(d)
                self._record(c, "delete", d, None)
                n += 1
        return {"n": n, "ok": 1.0}

    def c_findAndModify(self, db, cmd, cid):
        refuse(cmd, "arrayFilters", "collation")
        name = cmd["findAndModify"]
        c = self._coll(db, name, create=True)
        docs = sort_docs(c.find(cmd.get("query") or {}), cmd.get("sort") or {})
        old = docs[0] if docs else None
        fields = cmd.get("fields") or {}
        if cmd.get("remove"):
            if old is not None:
                c.remove(old)
                self._record(c, "delete", old, None)
            return {"lastErrorObject": {"n": 1 if old else 0},
                    "value": project(old, fields) if old else None, "ok": 1.0}
        u = cmd.get("update")
        if u is None:
            raise bad("Either an update or remove=true must be specified")
        if old is not None:
            new = apply_update(old, u, False)
            if not equal(old, new):
                c.replace(old, new)
                self._record(c, "replace" if is_replacement(u) else "update", old, new)
            value = new if cmd.get("new") else old
            return {"lastErrorObject": {"n": 1, "updatedExisting": True},
                    "value": project(value, fields), "ok": 1.0}
        if not cmd.get("upsert"):
            return {"lastErrorObject": {"n": 0, "updatedExisting": False}, "value": None, "ok": 1.0}
        seed = upsert_seed(cmd.get("query") or {})
        new = c.insert(apply_update(seed, u, True))
        self._record(c, "insert", None, new)
        return {"lastErrorObject": {"n": 1, "updatedExisting": False, "upserted": new["_id"]},
                "value": project(new, fields) if cmd.get("new") else None, "ok": 1.0}
