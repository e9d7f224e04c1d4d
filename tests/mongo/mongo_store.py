# SPDX-License-Identifier: MIT
"""The data side of the MongoDB wire-protocol test server (server.py):
BSON type order and comparison, dotted paths, query matching, and
collections with their unique indexes.  Updates, projections and
aggregation are in mongo_pipeline.py.  Everything here runs under the
server's one lock; nothing here knows about sockets or change streams.
docs/mongo-test-server.md lists exactly what is covered.
"""
from __future__ import annotations

import datetime
import functools
import re

import bson
from bson.int64 import Int64
from bson.objectid import ObjectId
from bson.regex import Regex
from bson.timestamp import Timestamp


class MISSING_T:
    def __repr__(self):
        return "MISSING"


MISSING = MISSING_T()


class CommandError(Exception):
    """A command failure: becomes {ok: 0, code, codeName, errmsg}."""

    def __init__(self, code: int, name: str, msg: str, labels=None, extra=None):
        super().__init__(msg)
        self.code, self.name, self.msg = code, name, msg
        self.labels = labels or []
        self.extra = extra or {}


def bad(msg: str) -> CommandError:
    return CommandError(2, "BadValue", msg)


def refuse(doc: dict, *options):
    """Fails loudly on an option this server does not implement, rather
    than answering as if it had been applied."""
    for o in options:
        if doc.get(o) not in (None, {}, []):
            raise CommandError(2, "BadValue", f"the test server does not support {o!r} "
                                              "(see docs/mongo-test-server.md)")


# Types and comparison ------------------------------------------------------


def is_num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def type_class(v) -> int:
    """MongoDB's canonical type order (for sorting and type bracketing)."""
    if v is MISSING or v is None:
        return 2
    if is_num(v):
        return 3
    if isinstance(v, str):
        return 4
    if isinstance(v, dict):
        return 5
    if isinstance(v, list):
        return 6
    if isinstance(v, (bytes, bson.binary.Binary)):
        return 7
    if isinstance(v, ObjectId):
        return 8
    if isinstance(v, bool):
        return 9
    if isinstance(v, datetime.datetime):
        return 10
    if isinstance(v, Timestamp):
        return 11
    if isinstance(v, (Regex, re.Pattern)):
        return 12
    return 13


def compare(a, b) -> int:
    ca, cb = type_class(a), type_class(b)
    if ca != cb:
        return -1 if ca < cb else 1
    if ca == 2:
        return 0
    if ca == 5:
        return compare(list(a.items()), list(b.items()))
    if ca == 6:
        for x, y in zip(a, b):
            if isinstance(x, tuple):  # (key, value) pairs of a document
                c = compare(x[0], y[0]) or compare(x[1], y[1])
            else:
                c = compare(x, y)
            if c:
                return c
        return (len(a) > len(b)) - (len(a) < len(b))
    if ca == 8:
        a, b = a.binary, b.binary
    elif ca == 11:
        a, b = (a.time, a.inc), (b.time, b.inc)
    elif ca in (7, 12, 13):
        a, b = repr(a), repr(b)
    return (a > b) - (a < b)


def equal(a, b) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a.keys()) == list(b.keys()) and all(equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b))
    return type_class(a) == type_class(b) and compare(a, b) == 0


sort_key = functools.cmp_to_key(compare)


def id_key(v):
    """A hashable key for an _id value (1, Int64(1) and 1.0 are one key)."""
    if is_num(v):
        return ("n", float(v))
    if isinstance(v, str):
        return ("s", v)
    if isinstance(v, ObjectId):
        return ("o", v.binary)
    return ("b", bson.encode({"v": v}))


# Paths ------------------------------------------------------------------------


def path_values(doc, parts) -> list:
    """Every value at a dotted path, MongoDB style: arrays met on the way are
    walked element by element; [MISSING] when nothing is there."""
    if not parts:
        return [doc]
    if isinstance(doc, dict):
        return path_values(doc[parts[0]], parts[1:]) if parts[0] in doc else [MISSING]
    if isinstance(doc, list):
        out = []
        if parts[0].isdigit() and int(parts[0]) < len(doc):
            out += path_values(doc[int(parts[0])], parts[1:])
        for el in doc:
            if isinstance(el, dict):
                out += [v for v in path_values(el, parts) if v is not MISSING]
        return out or [MISSING]
    return [MISSING]


def get_path(doc, path: str):
    """The one value at a dotted path (no array walking), or MISSING."""
    cur = doc
    for p in path.split("."):
        if isinstance(cur, dict) and p in cur:
            cur = cur[p]
        elif isinstance(cur, list) and p.isdigit() and int(p) < len(cur):
            cur = cur[int(p)]
        else:
            return MISSING
    return cur


def set_path(doc: dict, path: str, value, create=True):
    parts = path.split(".")
    cur = doc
    for p in parts[:-1]:
        if isinstance(cur, list):
            cur = cur[int(p)]
            continue
        if p not in cur or not isinstance(cur[p], (dict, list)):
            if not create:
                return
            cur[p] = {}
        cur = cur[p]
    last = parts[-1]
    if isinstance(cur, list):
        i = int(last)
        while len(cur) <= i:
            cur.append(None)
        cur[i] = value
    else:
        cur[last] = value


def unset_path(doc: dict, path: str):
    parts = path.split(".")
    cur = doc
    for p in parts[:-1]:
        cur = cur.get(p) if isinstance(cur, dict) else None
        if cur is None:
            return
    if isinstance(cur, dict):
        cur.pop(parts[-1], None)


# Queries ----------------------------------------------------------------------


def _candidates(values):
    for v in values:
        yield v
        if isinstance(v, list):
            yield from v


def _regex(q):
    if isinstance(q, Regex):
        return q.try_compile()
    return q


def _op_match(op: str, arg, values, opts) -> bool:
    if op == "$eq":
        return any(equal(c, arg) or (c is MISSING and arg is None) for c in _candidates(values))
    if op == "$ne":
        return not _op_match("$eq", arg, values, opts)
    if op in ("$gt", "$gte", "$lt", "$lte"):
        for c in _candidates(values):
            if c is MISSING or type_class(c) != type_class(arg):
                continue
            r = compare(c, arg)
            if (op == "$gt" and r > 0) or (op == "$gte" and r >= 0) or \
               (op == "$lt" and r < 0) or (op == "$lte" and r <= 0):
                return True
        return False
    if op == "$in":
        if not isinstance(arg, list):
            raise bad("$in needs an array")
        return any(_op_match("$regex", a, values, {}) if isinstance(a, (Regex, re.Pattern))
                   else _op_match("$eq", a, values, opts) for a in arg)
    if op == "$nin":
        return not _op_match("$in", arg, values, opts)
    if op == "$exists":
        return any(v is not MISSING for v in values) == bool(arg)
    if op == "$size":
        return any(isinstance(v, list) and len(v) == arg for v in values)
    if op == "$all":
        return all(_op_match("$eq", a, values, opts) for a in arg)
    if op == "$elemMatch":
        for v in values:
            if not isinstance(v, list):
                continue
            for el in v:
                if is_operator_doc(arg):
                    if field_match([el], arg):
                        return True
                elif isinstance(el, dict) and match(el, arg):
                    return True
        return False
    if op == "$not":
        if isinstance(arg, (Regex, re.Pattern)):
            return not _op_match("$regex", arg, values, {})
        return not field_match(values, arg)
    if op == "$regex":
        rx = _regex(arg)
        if isinstance(rx, str):
            flags = 0
            for f in opts.get("$options", ""):
                flags |= {"i": re.I, "m": re.M, "s": re.S, "x": re.X}.get(f, 0)
            rx = re.compile(rx, flags)
        return any(isinstance(c, str) and rx.search(c) for c in _candidates(values))
    if op == "$options":
        return True
    if op == "$type":
        names = {"double": float, "string": str, "object": dict, "array": list,
                 "objectId": ObjectId, "bool": bool, "date": datetime.datetime,
                 "null": type(None), "int": int, "long": Int64}
        want = names.get(arg)
        return any(want is not None and isinstance(c, want) for c in _candidates(values))
    raise bad(f"unknown operator: {op}")


def is_operator_doc(q) -> bool:
    return isinstance(q, dict) and q and all(k.startswith("$") for k in q)


def field_match(values, q) -> bool:
    if is_operator_doc(q):
        return all(_op_match(op, arg, values, q) for op, arg in q.items())
    if isinstance(q, (Regex, re.Pattern)):
        return _op_match("$regex", q, values, {})
    return _op_match("$eq", q, values, {})


def match(doc: dict, query: dict) -> bool:
    """Whether doc matches a find filter."""
    for key, q in (query or {}).items():
        if key == "$and":
            ok = all(match(doc, sub) for sub in q)
        elif key == "$or":
            ok = any(match(doc, sub) for sub in q)
        elif key == "$nor":
            ok = not any(match(doc, sub) for sub in q)
        elif key == "$comment":
            ok = True
        elif key.startswith("$"):
            raise bad(f"unknown top level operator: {key}")
        else:
            ok = field_match(path_values(doc, key.split(".")), q)
        if not ok:
            return False
    return True


# Collections -------------------------------------------------------------------


class Collection:
    """Documents in insertion order, keyed by _id, with their indexes (only
    uniqueness is enforced; every query is a scan)."""

    def __init__(self, db: str, name: str):
        self.db, self.name = db, name
        self.docs: dict = {}
        self.indexes = [{"v": 2, "key": {"_id": 1}, "name": "_id_"}]

    @property
    def ns(self) -> str:
        return f"{self.db}.{self.name}"

    def find(self, query: dict) -> list:
        if query and set(query) == {"_id"} and not isinstance(query["_id"], dict):
            d = self.docs.get(id_key(query["_id"]))
            return [d] if d is not None else []
        return [d for d in self.docs.values() if match(d, query)]

    def _dup_error(self, index: dict, doc: dict) -> CommandError:
        kv = {k: (None if (v := get_path(doc, k)) is MISSING else v) for k in index["key"]}
        shown = ", ".join(f"{k}: {v!r}" for k, v in kv.items())
        return CommandError(11000, "DuplicateKey",
                            f"E11000 duplicate key error collection: {self.ns} index: "
                            f"{index['name']} dup key: {{ {shown} }}",
                            extra={"keyPattern": dict(index["key"]), "keyValue": kv})

    def check_unique(self, doc: dict, replacing=None):
        """Raises DuplicateKey when doc would collide with another document
        (other than `replacing`, the one it replaces)."""
        if "_id" in doc:
            other = self.docs.get(id_key(doc["_id"]))
            if other is not None and other is not replacing:
                raise self._dup_error(self.indexes[0], doc)
        for ix in self.indexes[1:]:
            if not ix.get("unique"):
                continue
            mine = [get_path(doc, k) for k in ix["key"]]
            mine = [None if v is MISSING else v for v in mine]
            for other in self.docs.values():
                if other is replacing:
                    continue
                theirs = [None if (v := get_path(other, k)) is MISSING else v for k in ix["key"]]
                if all(equal(a, b) for a, b in zip(mine, theirs)):
                    raise self._dup_error(ix, doc)

    def insert(self, doc: dict) -> dict:
        if "_id" not in doc:
            doc = {"_id": ObjectId(), **doc}
        elif list(doc)[0] != "_id":
            doc = {"_id": doc["_id"], **{k: v for k, v in doc.items() if k != "_id"}}
        self.check_unique(doc)
        self.docs[id_key(doc["_id"])] = doc
        return doc

    def replace(self, old: dict, new: dict):
        self.check_unique(new, replacing=old)
        self.docs[id_key(old["_id"])] = new

    def remove(self, doc: dict):
        self.docs.pop(id_key(doc["_id"]), None)

    def create_index(self, spec: dict) -> bool:
        """Adds an index; False when one with that name exists already."""
        name = spec.get("name")
        key = spec.get("key")
        if not name or not isinstance(key, dict) or not key:
            raise bad("an index needs a name and a key")
        for ix in self.indexes:
            if ix["name"] == name:
                if not equal(dict(ix["key"]), dict(key)):
                    raise CommandError(86, "IndexKeySpecsConflict",
                                       f"An existing index has the same name {name} with a different key")
                return False
        ix = {"v": 2, "key": dict(key), "name": name}
        if spec.get("unique"):
            ix["unique"] = True
            seen = set()
            for d in self.docs.values():
                k = tuple(id_key(None if (v := get_path(d, f)) is MISSING else v) for f in key)
                if k in seen:
                    raise self._dup_error(ix, d)
                seen.add(k)
        self.indexes.append(ix)
        return True
