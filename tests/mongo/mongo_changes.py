# SPDX-License-Identifier: MIT
"""Change streams for the MongoDB wire-protocol test server: an in-memory
oplog of every write and the `$changeStream` cursors that read it.

Resume tokens are {_data: "<16 hex digits of the oplog sequence number>"}
(an invalidate event's token carries the suffix "01"); clusterTime is
Timestamp(<server start, seconds>, <sequence number>).  The oplog keeps the
last `max_events` entries; a stream whose resume point has fallen off it
fails with ChangeStreamHistoryLost (286), as on a real replica set.
"""
from __future__ import annotations

import collections
import datetime
import time

from bson.timestamp import Timestamp

from mongo_pipeline import run_stage
from mongo_store import CommandError, id_key

HISTORY_LOST = CommandError(
    286, "ChangeStreamHistoryLost",
    "Resume of change stream was not possible, as the resume point may no longer be in the oplog.")

STAGES_ALLOWED = {"$match", "$project", "$addFields", "$set", "$unset", "$replaceRoot"}


def token(seq: int, invalidate=False) -> dict:
    return {"_data": "%016X" % seq + ("01" if invalidate else "")}


def parse_token(tok) -> tuple[int, bool]:
    """(sequence number, is an invalidate token)."""
    data = tok.get("_data") if isinstance(tok, dict) else None
    try:
        if not isinstance(data, str) or len(data) not in (16, 18):
            raise ValueError
        return int(data[:16], 16), len(data) == 18
    except ValueError:
        raise CommandError(260, "InvalidResumeToken", f"invalid resume token: {tok!r}") from None


class Oplog:
    """Every write, in order, for the change streams.  Runs under the
    server's lock; append() wakes the waiting getMores."""

    def __init__(self, cond, max_events: int):
        self.cond = cond
        self.max_events = max_events
        self.events: collections.deque = collections.deque()
        self.first_seq = 1  # the oldest sequence number still kept
        self.last_seq = 0
        self.epoch = int(time.time())

    def cluster_time(self, seq: int) -> Timestamp:
        return Timestamp(self.epoch, seq)

    def append(self, db: str, coll: str, op: str, key=None, full=None, desc=None) -> int:
        self.last_seq += 1
        self.events.append((self.last_seq, {
            "db": db, "coll": coll, "op": op, "key": key, "full": full, "desc": desc,
            "wall": datetime.datetime.utcnow()}))
        while len(self.events) > self.max_events:
            self.events.popleft()
            self.first_seq = self.events[0][0]
        self.cond.notify_all()
        return self.last_seq

    def trim(self):
        """Forgets every entry: no resume point before now is valid."""
        self.events.clear()
        self.first_seq = self.last_seq + 1

    def lost(self, after_seq: int) -> bool:
        return after_seq < self.first_seq - 1

    def since(self, after_seq: int):
        start = max(0, after_seq + 1 - self.first_seq)
        for i in range(start, len(self.events)):
            yield self.events[i]

    def start_point(self, spec: dict) -> tuple[int, bool]:
        """The sequence number a new stream starts after, from the options of
        its $changeStream stage, and whether it came from startAfter."""
        given = [k for k in ("resumeAfter", "startAfter", "startAtOperationTime") if k in spec]
        if len(given) > 1:
            raise CommandError(40674, "Location40674",
                               "Only one type of resume option is allowed, but multiple were found.")
        if not given:
            return self.last_seq, False
        arg = spec[given[0]]
        if given[0] == "startAtOperationTime":
            if not isinstance(arg, Timestamp):
                raise CommandError(14, "TypeMismatch", "startAtOperationTime must be a timestamp")
            seq = arg.inc - 1 if arg.time == self.epoch else (-1 if arg.time < self.epoch else self.last_seq)
            after = max(seq, -1)
        else:
            after, inval = parse_token(arg)
            if inval and given[0] == "resumeAfter":
                raise CommandError(260, "InvalidResumeToken",
                                   "Attempting to resume a change stream using 'resumeAfter' is not "
                                   "allowed from an invalidate notification.")
        if after > self.last_seq:
            raise CommandError(280, "ChangeStreamFatalError",
                               "cannot resume stream; the resume token was not found.")
        if self.lost(after):
            raise HISTORY_LOST
        return after, given[0] == "startAfter"


class ChangeStream:
    """One $changeStream cursor: its namespace, its position in the oplog and
    the rest of its pipeline."""

    def __init__(self, oplog: Oplog, db: str, coll, spec: dict, pipeline: list):
        self.oplog = oplog
        self.db, self.coll = db, coll  # coll None: the whole database (db None: the cluster)
        self.full_document = spec.get("fullDocument", "default")
        if self.full_document not in ("default", "updateLookup", "whenAvailable", "required"):
            raise CommandError(2, "BadValue", f"unsupported fullDocument: {self.full_document}")
        for stage in pipeline:
            name = next(iter(stage), None)
            if name not in STAGES_ALLOWED:
                raise CommandError(20, "IllegalOperation",
                                   f"{name} is not permitted in a $changeStream pipeline")
        self.pipeline = pipeline
        self.pos, _ = oplog.start_point(spec)
        self.lost = False
        self.closed = False
        self.last_used = time.monotonic()

    def _concerns(self, ev: dict) -> bool:
        if self.db is not None and ev["db"] != self.db:
            return False
        if self.coll is not None and ev["op"] not in ("dropDatabase",) and ev["coll"] != self.coll:
            return False
        return True

    def _event(self, seq: int, ev: dict, lookup) -> dict:
        doc = {"_id": token(seq), "operationType": ev["op"],
               "clusterTime": self.oplog.cluster_time(seq), "wallTime": ev["wall"]}
        if ev["op"] in ("insert", "replace"):
            doc["fullDocument"] = ev["full"]
        elif ev["op"] == "update" and self.full_document != "default":
            doc["fullDocument"] = lookup(ev["db"], ev["coll"], ev["key"])
        doc["ns"] = {"db": ev["db"]} if ev["op"] == "dropDatabase" else {"db": ev["db"], "coll": ev["coll"]}
        if ev["key"] is not None:
            doc["documentKey"] = {"_id": ev["key"]}
        if ev["op"] == "update":
            doc["updateDescription"] = ev["desc"]
        return doc

    def _invalidates(self, ev: dict) -> bool:
        if self.coll is not None:
            return ev["op"] in ("drop", "dropDatabase")
        return self.db is not None and ev["op"] == "dropDatabase"

    def collect(self, limit: int, lookup) -> list:
        """Up to `limit` events past the current position, through the
        pipeline; raises ChangeStreamHistoryLost if the position fell off
        the oplog."""
        self.last_used = time.monotonic()
        if self.lost or self.oplog.lost(self.pos):
            self.lost = True
            raise HISTORY_LOST
        out = []
        for seq, ev in self.oplog.since(self.pos):
            if len(out) >= limit or self.closed:
                break
            self.pos = seq
            if not self._concerns(ev):
                continue
            docs = [self._event(seq, ev, lookup)]
            for stage in self.pipeline:
                docs = run_stage(docs, stage)
            for d in docs:
                if d.get("_id") != token(seq):
                    raise CommandError(280, "ChangeStreamFatalError",
                                       "Encountered an event whose _id field, which contains the "
                                       "resume token, was modified by the pipeline.")
            out += docs
            if self._invalidates(ev):
                out.append({"_id": token(seq, invalidate=True), "operationType": "invalidate",
                            "clusterTime": self.oplog.cluster_time(seq), "wallTime": ev["wall"]})
                self.closed = True
        return out

    def resume_token(self) -> dict:
        return token(self.pos)


def lookup_in(dbs: dict):
    """The updateLookup function over the server's databases."""
    def lookup(db, coll, key):
        c = dbs.get(db, {}).get(coll)
        return c.docs.get(id_key(key)) if c is not None else None
    return lookup
