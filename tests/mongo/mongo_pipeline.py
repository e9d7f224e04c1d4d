# SPDX-License-Identifier: MIT
"""How the MongoDB wire-protocol test server computes documents from
documents: update operators and upserts, projections, sorting, the few
aggregation expressions and the aggregation stages.  docs/mongo-test-server.md
lists exactly what is covered.
"""
from __future__ import annotations

import copy
import datetime

from bson.int64 import Int64

from mongo_store import (MISSING, CommandError, bad, compare, equal, field_match, get_path,
                         id_key, is_num, is_operator_doc, match, set_path, sort_key, unset_path)


# Updates ----------------------------------------------------------------------


def is_replacement(update) -> bool:
    return isinstance(update, dict) and not any(k.startswith("$") for k in update)


def _num_add(a, b):
    r = a + b
    if isinstance(a, Int64) or isinstance(b, Int64):
        return Int64(r)
    return r


def _now():
    return datetime.datetime.utcnow().replace(
        microsecond=datetime.datetime.utcnow().microsecond // 1000 * 1000)


def apply_update(doc: dict, update, inserting: bool) -> dict:
    """A new document: doc (not modified) with the update applied."""
    if isinstance(update, list):
        raise CommandError(9, "FailedToParse", "pipeline-style updates are not supported")
    if is_replacement(update):
        new = copy.deepcopy(update)
        if "_id" in doc:
            if "_id" in new and not equal(new["_id"], doc["_id"]):
                raise CommandError(66, "ImmutableField", "the (immutable) field '_id' was altered")
            new = {"_id": doc["_id"], **{k: v for k, v in new.items() if k != "_id"}}
        return new
    new = copy.deepcopy(doc)
    for op, fields in update.items():
        if not isinstance(fields, dict):
            raise CommandError(9, "FailedToParse", f"Modifiers operate on fields but {op} is not")
        for path, arg in fields.items():
            if path == "_id" or path.startswith("_id."):
                if op != "$setOnInsert" and not (op == "$set" and equal(arg, doc.get("_id"))):
                    raise CommandError(66, "ImmutableField",
                                       "Performing an update on the path '_id' would modify the "
                                       "immutable field '_id'")
            _apply_op(new, op, path, arg, inserting)
    return new


def _apply_op(new, op, path, arg, inserting):
    if any(p == "$" or p.startswith("$[") for p in path.split(".")):
        raise CommandError(2, "BadValue", f"positional update paths are not supported: {path}")
    cur = get_path(new, path)
    if op == "$set":
        set_path(new, path, copy.deepcopy(arg))
    elif op == "$setOnInsert":
        if inserting:
            set_path(new, path, copy.deepcopy(arg))
    elif op == "$unset":
        unset_path(new, path)
    elif op == "$inc":
        if cur is MISSING:
            set_path(new, path, arg)
        elif not is_num(cur):
            raise CommandError(14, "TypeMismatch", f"Cannot apply $inc to a non-numeric value ({path})")
        else:
            set_path(new, path, _num_add(cur, arg))
    elif op in ("$min", "$max"):
        if cur is MISSING or (compare(arg, cur) < 0 if op == "$min" else compare(arg, cur) > 0):
            set_path(new, path, copy.deepcopy(arg))
    elif op == "$currentDate":
        set_path(new, path, _now())
    elif op in ("$push", "$addToSet"):
        if isinstance(arg, dict) and any(k.startswith("$") and k != "$each" for k in arg):
            raise CommandError(2, "BadValue", f"{op} modifiers other than $each are not supported")
        items = arg["$each"] if isinstance(arg, dict) and "$each" in arg else [arg]
        lst = [] if cur is MISSING else cur
        if not isinstance(lst, list):
            raise CommandError(14, "TypeMismatch", f"The field '{path}' must be an array")
        lst = list(lst)
        for it in items:
            if op == "$push" or not any(equal(it, x) for x in lst):
                lst.append(copy.deepcopy(it))
        set_path(new, path, lst)
    elif op == "$pull":
        if isinstance(cur, list):
            keep = []
            for x in cur:
                if isinstance(arg, dict) and not is_operator_doc(arg) and isinstance(x, dict):
                    hit = match(x, arg)
                elif is_operator_doc(arg):
                    hit = field_match([x], arg)
                else:
                    hit = equal(x, arg)
                if not hit:
                    keep.append(x)
            set_path(new, path, keep)
    elif op == "$rename":
        if cur is not MISSING:
            unset_path(new, path)
            set_path(new, arg, cur)
    else:
        raise CommandError(9, "FailedToParse", f"Unknown modifier: {op}")


def upsert_seed(query: dict) -> dict:
    """The document an upsert starts from: the query's equality fields."""
    seed = {}
    for k, v in (query or {}).items():
        if k.startswith("$"):
            if k == "$and":
                for sub in v:
                    seed.update(upsert_seed(sub))
            continue
        if is_operator_doc(v):
            if "$eq" in v:
                set_path(seed, k, copy.deepcopy(v["$eq"]))
            continue
        set_path(seed, k, copy.deepcopy(v))
    return seed


# Projection, expressions and sorting -----------------------------------------


def evaluate(expr, doc):
    """The few aggregation expressions supported: "$path", {$literal: x} and
    constants (documents are evaluated field by field)."""
    if isinstance(expr, str) and expr.startswith("$"):
        v = get_path(doc, expr[1:])
        return v
    if isinstance(expr, dict):
        if "$literal" in expr:
            return expr["$literal"]
        if any(k.startswith("$") for k in expr):
            raise bad(f"unsupported expression: {list(expr)[0]}")
        out = {}
        for k, v in expr.items():
            r = evaluate(v, doc)
            if r is not MISSING:
                out[k] = r
        return out
    if isinstance(expr, list):
        return [evaluate(e, doc) for e in expr]
    return expr


def project(doc: dict, spec: dict, allow_expr=False) -> dict:
    """find's projection (and $project): inclusion or exclusion of dotted
    paths; _id is included unless excluded."""
    if not spec:
        return doc
    include_id = True
    incl, excl, exprs = [], [], []
    for k, v in spec.items():
        flag = bool(v) if isinstance(v, bool) or is_num(v) else None
        if k == "_id" and flag is False:
            include_id = False
        elif flag is True:
            incl.append(k)
        elif flag is False:
            excl.append(k)
        elif allow_expr:
            exprs.append((k, v))
        else:
            raise bad(f"unsupported projection for {k}")
    if excl and (incl or exprs):
        raise CommandError(31254, "Location31254", "Cannot do exclusion on a field in an inclusion projection")
    if excl or (not incl and not exprs):
        out = copy.deepcopy(doc)
        for p in excl:
            unset_path(out, p)
        if not include_id:
            out.pop("_id", None)
        return out
    out = {}
    if include_id and "_id" in doc:
        out["_id"] = doc["_id"]
    for p in incl:
        _copy_path(doc, out, p.split("."))
    for k, e in exprs:
        v = evaluate(e, doc)
        if v is not MISSING:
            set_path(out, k, v)
    return out


def _copy_path(src, dst, parts):
    if not isinstance(src, dict) or parts[0] not in src:
        return
    v = src[parts[0]]
    if len(parts) == 1:
        dst[parts[0]] = copy.deepcopy(v)
    elif isinstance(v, dict):
        sub = dst.setdefault(parts[0], {})
        if isinstance(sub, dict):
            _copy_path(v, sub, parts[1:])
    elif isinstance(v, list):
        lst = dst.setdefault(parts[0], [])
        for el in v:
            if isinstance(el, dict):
                d = {}
                _copy_path(el, d, parts[1:])
                lst.append(d)


def sort_docs(docs: list, spec: dict) -> list:
    if not spec:
        return docs
    for field, direction in reversed(list(spec.items())):
        docs = sorted(docs, key=lambda d, f=field: sort_key(get_path(d, f)),
                      reverse=direction in (-1, Int64(-1)) or direction == -1.0)
    return docs


# Aggregation -------------------------------------------------------------------


def _accumulate(acc: str, arg, group: list):
    vals = [evaluate(arg, d) for d in group]
    vals = [v for v in vals if v is not MISSING]
    if acc == "$sum":
        return sum(v for v in vals if is_num(v))
    if acc == "$avg":
        nums = [v for v in vals if is_num(v)]
        return sum(nums) / len(nums) if nums else None
    if acc == "$min":
        return min(vals, key=sort_key) if vals else None
    if acc == "$max":
        return max(vals, key=sort_key) if vals else None
    if acc == "$first":
        return vals[0] if vals else None
    if acc == "$last":
        return vals[-1] if vals else None
    if acc == "$push":
        return vals
    if acc == "$addToSet":
        out = []
        for v in vals:
            if not any(equal(v, x) for x in out):
                out.append(v)
        return out
    raise bad(f"unsupported accumulator {acc}")


def _group(docs: list, spec: dict) -> list:
    if "_id" not in spec:
        raise CommandError(15955, "Location15955", "a group specification must include an _id")
    groups: dict = {}
    order = []
    for d in docs:
        key = evaluate(spec["_id"], d)
        key = None if key is MISSING else key
        k = id_key(key)
        if k not in groups:
            groups[k] = (key, [])
            order.append(k)
        groups[k][1].append(d)
    out = []
    for k in order:
        key, members = groups[k]
        row = {"_id": key}
        for field, accspec in spec.items():
            if field == "_id":
                continue
            (acc, arg), = accspec.items()
            row[field] = _accumulate(acc, arg, members)
        out.append(row)
    return out


def run_stage(docs: list, stage: dict) -> list:
    """Applies one aggregation stage to a list of documents."""
    if len(stage) != 1:
        raise CommandError(40323, "Location40323",
                           "A pipeline stage specification object must contain exactly one field.")
    (name, arg), = stage.items()
    if name == "$match":
        return [d for d in docs if match(d, arg)]
    if name == "$project":
        return [project(d, arg, allow_expr=True) for d in docs]
    if name in ("$addFields", "$set"):
        out = []
        for d in docs:
            n = copy.deepcopy(d)
            for k, e in arg.items():
                set_path(n, k, evaluate(e, d))
            out.append(n)
        return out
    if name == "$unset":
        fields = [arg] if isinstance(arg, str) else arg
        return [project(d, {f: 0 for f in fields}) for d in docs]
    if name == "$sort":
        return sort_docs(docs, arg)
    if name == "$skip":
        return docs[int(arg):]
    if name == "$limit":
        return docs[:int(arg)]
    if name == "$count":
        return [{arg: len(docs)}] if docs else []
    if name == "$group":
        return _group(docs, arg)
    if name == "$replaceRoot":
        return [evaluate(arg["newRoot"], d) for d in docs]
    raise CommandError(40324, "Location40324", f"Unrecognized pipeline stage name: '{name}'")
