# SPDX-License-Identifier: MIT
"""The HTTP control port of the MongoDB wire-protocol test server: how a
test injects faults (mongo_faults.py), takes the server down and up, loses
the change-stream history, runs a command, or reads counters.

    POST /fault {rule} | [rules]    -> {"ids": [...]}
    GET  /faults                    -> {"faults": [rules with what is left]}
    POST /clear                     forget every rule
    POST /down, POST /up            refuse connections (dropping open ones) / listen again
    POST /history-lost {"force": b} trim the oplog (force: fail every open stream too)
    POST /command {"db", "command"} run one command (JSON types only) -> its reply
    POST /reset                     forget every database and cursor
    GET  /stats                     connections, commands, cursors, oplog bounds
"""
from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler

from mongo_writes import DropConnection


def bson_json(v):
    """A document with its BSON-only values (ObjectId, dates...) as strings."""
    if isinstance(v, dict):
        return {k: bson_json(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [bson_json(x) for x in v]
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    return str(v)


def control_handler(srv):
    """The request handler class of the control port of MongoServer srv."""
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def _reply(self, code: int, body):
            data = json.dumps(bson_json(body)).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _body(self):
            n = int(self.headers.get("Content-Length") or 0)
            return json.loads(self.rfile.read(n) or b"{}")

        def do_GET(self):
            if self.path == "/faults":
                return self._reply(200, {"faults": srv.faults.list()})
            if self.path == "/stats":
                with srv.cond:
                    body = {"up": srv.listener is not None, "connections": len(srv.conns),
                            "commands": dict(srv.counts), "cursors": len(srv.cursors),
                            "oplog": {"first": srv.oplog.first_seq, "last": srv.oplog.last_seq}}
                return self._reply(200, body)
            self._reply(404, {"error": "unknown path"})

        def do_POST(self):
            try:
                body = self._body()
            except ValueError:
                return self._reply(400, {"error": "the body is not JSON"})
            if self.path == "/fault":
                rules = body if isinstance(body, list) else [body]
                try:
                    ids = [srv.faults.add(r) for r in rules]
                except ValueError as e:
                    return self._reply(400, {"error": str(e)})
                return self._reply(200, {"ids": ids})
            if self.path == "/command":
                # A command as on the wire ({"db": ..., "command": {...}}, JSON
                # types only): how a test drops a collection, say.
                try:
                    reply = srv.dispatch(body.get("command") or {}, body.get("db", "admin"), 0)
                except DropConnection:
                    reply = {"ok": 0, "errmsg": "a drop fault matched this command"}
                return self._reply(200, reply)
            if self.path == "/clear":
                srv.faults.clear()
            elif self.path == "/down":
                srv.down()
            elif self.path == "/up":
                srv.up()
            elif self.path == "/history-lost":
                with srv.cond:
                    srv._history_lost(bool(body.get("force")))
            elif self.path == "/reset":
                with srv.cond:
                    srv.dbs.clear()
                    srv.cursors.clear()
            else:
                return self._reply(404, {"error": "unknown path"})
            self._reply(200, {"ok": True})

    return Handler
