# SPDX-License-Identifier: MIT
"""A MongoDB wire-protocol server for the tests: the primary of a one-member
replica set (`rs0`) that keeps its data in memory, so that the real libmongoc
(unmodified) can run contentd's MongoDB catalog and change streams on
machines with no MongoDB.  Test faults are injected through an HTTP control
port (or the `contentdTestFault` command).

    /usr/bin/python3 tests/mongo/server.py --port PORT [--control-port PORT]

prints `ready` on its first line once it listens.  docs/mongo-test-server.md
lists what it covers and what it does not.
"""
from __future__ import annotations

import argparse
import collections
import datetime
import itertools
import json
import os
import random
import socket
import struct
import sys
import threading
import time
from http.server import ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bson  # noqa: E402
from bson.int64 import Int64  # noqa: E402
from bson.objectid import ObjectId  # noqa: E402

from mongo_changes import ChangeStream, Oplog, lookup_in  # noqa: E402
from mongo_faults import Faults  # noqa: E402
from mongo_control import bson_json, control_handler  # noqa: E402
from mongo_pipeline import project, run_stage, sort_docs  # noqa: E402
from mongo_store import CommandError, Collection, bad, match, refuse  # noqa: E402
from mongo_writes import DropConnection, WriteCommands  # noqa: E402

OP_REPLY, OP_QUERY, OP_MSG, OP_COMPRESSED = 1, 2004, 2013, 2012
MAX_WIRE_VERSION = 13  # MongoDB 5.0
ELECTION_ID = ObjectId("7fffffff0000000000000001")


class PlainCursor:
    def __init__(self, ns: str, docs: list):
        self.ns, self.docs = ns, docs
        self.last_used = time.monotonic()


class MongoServer(WriteCommands):
    def __init__(self, args):
        self.host, self.port = args.host, args.port
        self.me = f"{args.host}:{args.port}"
        self.set_name = None if args.standalone else args.set_name
        self.verbose = args.verbose
        self.cond = threading.Condition()
        self.dbs: dict[str, dict[str, Collection]] = {}
        self.oplog = Oplog(self.cond, args.oplog_size)
        self.cursors: dict[int, object] = {}
        self.retried: collections.OrderedDict = collections.OrderedDict()
        self.faults = Faults()
        self.counts: collections.Counter = collections.Counter()
        self.conns: dict[int, socket.socket] = {}
        self.conn_ids = itertools.count(1)
        self.listener = None
        self.generation = 0  # bumped when the server goes down
        self.lookup = lookup_in(self.dbs)

    # Listening, up and down ---------------------------------------------------

    def listen(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((self.host, self.port))
        s.listen(128)
        self.listener = s
        threading.Thread(target=self._accept_loop, args=(s,), daemon=True).start()

    def _accept_loop(self, lsock):
        while True:
            try:
                sock, _ = lsock.accept()
            except OSError:
                return
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            cid = next(self.conn_ids)
            with self.cond:
                self.conns[cid] = sock
            threading.Thread(target=self._serve, args=(sock, cid), daemon=True).start()

    def down(self):
        """Refuses connections and drops every open one, until up()."""
        with self.cond:
            if self.listener is None:
                return
            lsock, self.listener = self.listener, None
            self.generation += 1
            socks = list(self.conns.values())
            self.cond.notify_all()
        try:
            lsock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        lsock.close()
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def up(self):
        with self.cond:
            if self.listener is not None:
                return
        self.listen()

    # The wire protocol -----------------------------------------------------

    @staticmethod
    def _recv(sock, n: int) -> bytes:
        buf = bytearray()
        while len(buf) < n:
            chunk = sock.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("closed")
            buf += chunk
        return bytes(buf)

    def _serve(self, sock, cid: int):
        try:
            while True:
                length, req_id, _, opcode = struct.unpack("<iiii", self._recv(sock, 16))
                if length < 16 or length > 48_000_000:
                    return
                body = self._recv(sock, length - 16)
                if opcode == OP_MSG:
                    flags, cmd = self._parse_msg(body)
                    reply = self.dispatch(cmd, cmd.get("$db", "admin"), cid)
                    if not flags & 2:  # moreToCome: no reply wanted
                        self._send(sock, req_id, OP_MSG, struct.pack("<IB", 0, 0) + bson.encode(reply))
                elif opcode == OP_QUERY:
                    db, cmd = self._parse_query(body)
                    reply = self.dispatch(cmd, db, cid)
                    payload = struct.pack("<iqii", 0, 0, 0, 1) + bson.encode(reply)
                    self._send(sock, req_id, OP_REPLY, payload)
                else:
                    return  # OP_COMPRESSED and the legacy CRUD opcodes are not spoken
        except (ConnectionError, OSError, DropConnection, struct.error):
            pass
        finally:
            with self.cond:
                self.conns.pop(cid, None)
            try:
                sock.close()
            except OSError:
                pass

    @staticmethod
    def _send(sock, req_id: int, opcode: int, payload: bytes):
        sock.sendall(struct.pack("<iiii", 16 + len(payload), random.getrandbits(31), req_id, opcode)
                     + payload)

    @staticmethod
    def _parse_msg(body: bytes):
        flags = struct.unpack_from("<I", body)[0]
        end = len(body) - (4 if flags & 1 else 0)
        pos, cmd, seqs = 4, None, {}
        while pos < end:
            kind = body[pos]
            pos += 1
            if kind == 0:
                size = struct.unpack_from("<i", body, pos)[0]
                cmd = bson.decode(body[pos:pos + size])
                pos += size
            else:
                size = struct.unpack_from("<i", body, pos)[0]
                sec_end = pos + size
                nul = body.index(b"\0", pos + 4)
                ident = body[pos + 4:nul].decode()
                docs = bson.decode_all(body[nul + 1:sec_end])
                seqs.setdefault(ident, []).extend(docs)
                pos = sec_end
        cmd = cmd or {}
        for ident, docs in seqs.items():
            cmd.setdefault(ident, [])
            cmd[ident] = list(cmd[ident]) + docs
        return flags, cmd

    @staticmethod
    def _parse_query(body: bytes):
        nul = body.index(b"\0", 4)
        ns = body[4:nul].decode()
        pos = nul + 1 + 8
        size = struct.unpack_from("<i", body, pos)[0]
        q = bson.decode(body[pos:pos + size])
        if "$query" in q:
            q = q["$query"]
        return ns.split(".", 1)[0], q

    # Dispatch ---------------------------------------------------------------

    def dispatch(self, cmd: dict, db: str, cid: int) -> dict:
        if not cmd:
            return self._error(CommandError(9, "FailedToParse", "empty command"))
        name = next(iter(cmd))
        canon = "hello" if name.lower() == "ismaster" else name
        self.counts[canon] += 1
        if self.verbose:
            print(f"conn={cid} db={db} {json.dumps(bson_json(cmd))[:400]}", file=sys.stderr, flush=True)
        handler = getattr(self, "c_" + canon, None)
        if handler is None:
            return self._error(CommandError(59, "CommandNotFound", f"no such command: '{name}'"))
        is_cs = self._is_change_stream(canon, cmd)
        rule = self.faults.take(canon, cmd, "before", is_cs)
        if rule is not None:
            reply = self._fault(rule)
            if reply is not None:
                return reply
        try:
            key = self._retry_key(canon, cmd)
            with self.cond:
                if key is not None and key in self.retried:
                    reply = self.retried[key]
                else:
                    reply = handler(db, cmd, cid) if canon != "hello" else self.c_hello(db, cmd, cid, name)
                    if key is not None and reply.get("ok"):
                        self.retried[key] = reply
                        while len(self.retried) > 10000:
                            self.retried.popitem(last=False)
        except CommandError as e:
            return self._error(e)
        rule = self.faults.take(canon, cmd, "after", is_cs)
        if rule is not None:
            after = self._fault(rule)
            if after is not None:
                return after
        return reply

    def _is_change_stream(self, name: str, cmd: dict) -> bool:
        if name == "getMore":
            return isinstance(self.cursors.get(int(cmd.get("getMore", 0))), ChangeStream)
        if name == "aggregate":
            p = cmd.get("pipeline") or [{}]
            return isinstance(p[0], dict) and "$changeStream" in p[0]
        return False

    def _fault(self, rule: dict):
        """Acts a fault rule out: None to go on with the command."""
        if rule.get("ms"):
            time.sleep(rule["ms"] / 1000)
        action = rule["action"]
        if action == "drop":
            raise DropConnection()
        if action == "error":
            return self._error(CommandError(rule.get("code", 1), rule.get("codeName", "InternalError"),
                                            rule.get("errmsg", "injected by the test"),
                                            labels=rule.get("labels")))
        return None  # delay

    @staticmethod
    def _retry_key(name: str, cmd: dict):
        if name not in ("insert", "update", "delete", "findAndModify") or "txnNumber" not in cmd:
            return None
        lsid = cmd.get("lsid", {}).get("id")
        return (repr(lsid), int(cmd["txnNumber"]))

    @staticmethod
    def _error(e: CommandError) -> dict:
        doc = {"ok": 0.0, "errmsg": e.msg, "code": e.code, "codeName": e.name}
        if e.labels:
            doc["errorLabels"] = list(e.labels)
        doc.update(e.extra)
        return doc

    # Helpers ----------------------------------------------------------------

    def _coll(self, db: str, name, create=False):
        if not isinstance(name, str) or not name:
            raise CommandError(73, "InvalidNamespace", f"invalid collection name: {name!r}")
        colls = self.dbs.get(db)
        if colls is None:
            if not create:
                return None
            colls = self.dbs[db] = {}
        c = colls.get(name)
        if c is None and create:
            c = colls[name] = Collection(db, name)
        return c

    def _cursor_reply(self, ns: str, docs: list, batch: int, single: bool, extra=None) -> dict:
        first, rest = docs[:batch], docs[batch:]
        cid = 0
        if rest and not single:
            cid = self._new_cursor(PlainCursor(ns, rest))
        cursor = {"firstBatch": first, "id": Int64(cid), "ns": ns}
        cursor.update(extra or {})
        return {"cursor": cursor, "ok": 1.0}

    def _new_cursor(self, cur) -> int:
        now = time.monotonic()
        for cid in [c for c, v in self.cursors.items() if now - v.last_used > 600]:
            del self.cursors[cid]
        cid = random.getrandbits(62) + 1
        self.cursors[cid] = cur
        return cid

    @staticmethod
    def _batch_size(cmd: dict, default=101) -> int:
        b = cmd.get("batchSize")
        if b is None:
            b = (cmd.get("cursor") or {}).get("batchSize", default)
        return int(b) if int(b) > 0 else (0 if b == 0 else default)

    # Commands: handshake and administration ------------------------------------

    def c_hello(self, db, cmd, cid, name="hello"):
        key = "isWritablePrimary" if name == "hello" else "ismaster"
        # No topologyVersion: the driver's monitors poll instead of streaming.
        doc = {key: True}
        if cmd.get("helloOk"):
            doc["helloOk"] = True
        if self.set_name:
            doc.update({"hosts": [self.me], "setName": self.set_name, "setVersion": 1,
                        "secondary": False, "primary": self.me, "me": self.me,
                        "electionId": ELECTION_ID})
        doc.update({
            "maxBsonObjectSize": 16 * 1024 * 1024, "maxMessageSizeBytes": 48_000_000,
            "maxWriteBatchSize": 100_000, "localTime": datetime.datetime.utcnow(),
            "logicalSessionTimeoutMinutes": 30, "connectionId": cid,
            "minWireVersion": 0, "maxWireVersion": MAX_WIRE_VERSION, "readOnly": False, "ok": 1.0})
        return doc

    def c_ping(self, db, cmd, cid):
        return {"ok": 1.0}

    def c_buildInfo(self, db, cmd, cid):
        return {"version": "5.0.0", "gitVersion": "contentd-test-server", "versionArray": [5, 0, 0, 0],
                "bits": 64, "maxBsonObjectSize": 16 * 1024 * 1024, "ok": 1.0}

    c_buildinfo = c_buildInfo

    def c_serverStatus(self, db, cmd, cid):
        return {"host": self.me, "version": "5.0.0", "process": "mongod", "ok": 1.0}

    def c_endSessions(self, db, cmd, cid):
        return {"ok": 1.0}

    def c_contentdTestFault(self, db, cmd, cid):
        """The fault API over the wire: {contentdTestFault: <rule or verb>}."""
        arg = cmd["contentdTestFault"]
        if isinstance(arg, dict):
            return {"id": self.faults.add(arg), "ok": 1.0}
        if arg == "clear":
            self.faults.clear()
        elif arg == "historyLost":
            self._history_lost(bool(cmd.get("force")))
        elif arg == "down":
            ms = int(cmd.get("forMs", 1000))
            threading.Thread(target=self._down_for, args=(ms,), daemon=True).start()
        else:
            raise bad(f"unknown contentdTestFault verb {arg!r}")
        return {"ok": 1.0}

    def _down_for(self, ms: int):
        time.sleep(0.05)
        self.down()
        time.sleep(ms / 1000)
        self.up()

    def _history_lost(self, force: bool):
        """Trims the oplog; with force, every open change stream also fails
        on its next getMore, caught up or not."""
        self.oplog.trim()
        for cur in self.cursors.values():
            if isinstance(cur, ChangeStream) and (force or cur.pos < self.oplog.last_seq):
                cur.lost = True
        self.cond.notify_all()

    def c_create(self, db, cmd, cid):
        if self._coll(db, cmd["create"]) is not None:
            raise CommandError(48, "NamespaceExists", f"Collection {db}.{cmd['create']} already exists.")
        self._coll(db, cmd["create"], create=True)
        return {"ok": 1.0}

    def c_drop(self, db, cmd, cid):
        c = self._coll(db, cmd["drop"])
        if c is None:
            raise CommandError(26, "NamespaceNotFound", "ns not found")
        del self.dbs[db][c.name]
        self.oplog.append(db, c.name, "drop")
        return {"ns": c.ns, "nIndexesWas": len(c.indexes), "ok": 1.0}

    def c_dropDatabase(self, db, cmd, cid):
        for name in list(self.dbs.get(db, {})):
            del self.dbs[db][name]
            self.oplog.append(db, name, "drop")
        self.dbs.pop(db, None)
        self.oplog.append(db, None, "dropDatabase")
        return {"dropped": db, "ok": 1.0}

    def c_listCollections(self, db, cmd, cid):
        rows = [{"name": n, "type": "collection", "options": {}, "info": {"readOnly": False},
                 "idIndex": {"v": 2, "key": {"_id": 1}, "name": "_id_"}}
                for n in self.dbs.get(db, {})]
        rows = [r for r in rows if match(r, cmd.get("filter") or {})]
        return self._cursor_reply(f"{db}.$cmd.listCollections", rows, self._batch_size(cmd), False)

    def c_createIndexes(self, db, cmd, cid):
        existed = self._coll(db, cmd["createIndexes"]) is not None
        c = self._coll(db, cmd["createIndexes"], create=True)
        before = len(c.indexes)
        for spec in cmd.get("indexes", []):
            c.create_index(spec)
        return {"createdCollectionAutomatically": not existed, "numIndexesBefore": before,
                "numIndexesAfter": len(c.indexes), "ok": 1.0}

    def c_listIndexes(self, db, cmd, cid):
        c = self._coll(db, cmd["listIndexes"])
        if c is None:
            raise CommandError(26, "NamespaceNotFound", f"ns does not exist: {db}.{cmd['listIndexes']}")
        return self._cursor_reply(c.ns, [dict(ix) for ix in c.indexes], self._batch_size(cmd), False)

    # Commands: cursors ---------------------------------------------------------

    def c_getMore(self, db, cmd, cid):
        cur_id = int(cmd["getMore"])
        cur = self.cursors.get(cur_id)
        if cur is None:
            raise CommandError(43, "CursorNotFound", f"cursor id {cur_id} not found")
        if isinstance(cur, PlainCursor):
            cur.last_used = time.monotonic()
            n = int(cmd.get("batchSize") or len(cur.docs))
            batch, cur.docs = cur.docs[:n], cur.docs[n:]
            if not cur.docs:
                del self.cursors[cur_id]
                cur_id = 0
            return {"cursor": {"nextBatch": batch, "id": Int64(cur_id), "ns": cur.ns}, "ok": 1.0}
        return self._change_stream_more(cur_id, cur, cmd)

    def _change_stream_more(self, cur_id: int, cs: ChangeStream, cmd: dict) -> dict:
        limit = int(cmd.get("batchSize") or 1000)
        wait = float(cmd.get("maxTimeMS", 1000)) / 1000
        deadline = time.monotonic() + wait
        gen = self.generation
        while True:
            try:
                batch = cs.collect(limit, self.lookup)
            except CommandError:
                self.cursors.pop(cur_id, None)
                raise
            left = deadline - time.monotonic()
            if batch or cs.closed or left <= 0:
                break
            self.cond.wait(left)
            if self.generation != gen:
                raise DropConnection()
        if cs.closed:
            self.cursors.pop(cur_id, None)
            cur_id = 0
        ns = f"{cs.db}.{cs.coll}" if cs.coll else f"{cs.db}.$cmd.aggregate"
        return {"cursor": {"nextBatch": batch, "postBatchResumeToken": cs.resume_token(),
                           "id": Int64(cur_id), "ns": ns},
                "operationTime": self.oplog.cluster_time(self.oplog.last_seq), "ok": 1.0}

    def c_killCursors(self, db, cmd, cid):
        killed, missing = [], []
        for c in cmd.get("cursors", []):
            (killed if self.cursors.pop(int(c), None) is not None else missing).append(c)
        return {"cursorsKilled": killed, "cursorsNotFound": missing, "cursorsAlive": [],
                "cursorsUnknown": [], "ok": 1.0}

    # Commands: reads --------------------------------------------------------------

    def c_find(self, db, cmd, cid):
        refuse(cmd, "collation", "min", "max", "tailable", "awaitData")
        c = self._coll(db, cmd["find"])
        docs = c.find(cmd.get("filter") or {}) if c else []
        docs = sort_docs(docs, cmd.get("sort") or {})
        docs = docs[int(cmd.get("skip", 0)):]
        limit = int(cmd.get("limit", 0))
        single = bool(cmd.get("singleBatch")) or limit < 0
        if limit:
            docs = docs[:abs(limit)]
        docs = [project(d, cmd.get("projection") or {}) for d in docs]
        return self._cursor_reply(f"{db}.{cmd['find']}", docs, self._batch_size(cmd), single)

    def c_count(self, db, cmd, cid):
        c = self._coll(db, cmd["count"])
        docs = c.find(cmd.get("query") or {}) if c else []
        return {"n": len(docs), "ok": 1.0}

    def c_aggregate(self, db, cmd, cid):
        refuse(cmd, "collation")
        target = cmd["aggregate"]
        pipeline = cmd.get("pipeline")
        if not isinstance(pipeline, list):
            raise bad("'pipeline' must be an array")
        if "cursor" not in cmd and not cmd.get("explain"):
            raise CommandError(9, "FailedToParse", "The 'cursor' option is required")
        if pipeline and isinstance(pipeline[0], dict) and "$changeStream" in pipeline[0]:
            return self._open_change_stream(db, target, pipeline, cmd)
        if not isinstance(target, str):
            raise bad("aggregate: 1 is only supported with $changeStream")
        c = self._coll(db, target)
        docs = list(c.docs.values()) if c else []
        for stage in pipeline:
            if not isinstance(stage, dict):
                raise bad("a pipeline stage must be a document")
            if next(iter(stage), None) == "$changeStream":
                raise CommandError(40602, "Location40602", "$changeStream is only valid as the first stage")
            docs = run_stage(docs, stage)
        return self._cursor_reply(f"{db}.{target}", docs, self._batch_size(cmd), False)

    def _open_change_stream(self, db, target, pipeline, cmd):
        spec = pipeline[0]["$changeStream"] or {}
        if spec.get("allChangesForCluster"):
            if db != "admin":
                raise bad("allChangesForCluster is only valid on the admin database")
            sdb, scoll = None, None
        else:
            sdb, scoll = db, (target if isinstance(target, str) else None)
        cs = ChangeStream(self.oplog, sdb, scoll, spec, pipeline[1:])
        batch = cs.collect(self._batch_size(cmd), self.lookup)
        cur_id = 0 if cs.closed else self._new_cursor(cs)
        ns = f"{db}.{target}" if isinstance(target, str) else f"{db}.$cmd.aggregate"
        return {"cursor": {"firstBatch": batch, "postBatchResumeToken": cs.resume_token(),
                           "id": Int64(cur_id), "ns": ns},
                "operationTime": self.oplog.cluster_time(self.oplog.last_seq), "ok": 1.0}

    # Commands: writes --------------------------------------------------------------

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="MongoDB wire-protocol server for contentd's tests")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=27017)
    ap.add_argument("--control-port", type=int, default=None,
                    help="HTTP port for fault injection (none by default)")
    ap.add_argument("--set-name", default="rs0", help="replica set name (default rs0)")
    ap.add_argument("--standalone", action="store_true",
                    help="answer hello as a standalone server, not a replica set member")
    ap.add_argument("--oplog-size", type=int, default=100_000,
                    help="change events kept for resuming (default 100000)")
    ap.add_argument("--verbose", action="store_true", help="log every command to stderr")
    args = ap.parse_args(argv)
    srv = MongoServer(args)
    try:
        srv.listen()
        if args.control_port is not None:
            http = ThreadingHTTPServer((args.host, args.control_port), control_handler(srv))
            http.daemon_threads = True
            threading.Thread(target=http.serve_forever, daemon=True).start()
    except OSError as e:
        print(f"error: cannot listen on {args.host}: {e.strerror}", file=sys.stderr)
        return 1
    print("ready", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
