# SPDX-License-Identifier: MIT
"""Fault rules of the MongoDB wire-protocol test server.  A rule names a
command and what to do to the next matching ones:

    {"action": "drop" | "error" | "delay",
     "command": "getMore",          # a command name, or "*"
     "changeStream": true,          # only getMore/aggregate of change streams (optional)
     "collection": "content",       # only on this collection (optional)
     "when": "before" | "after",    # before running the command, or after it ran
     "skip": 0, "times": 1,         # pass `skip` matches by, then fire `times` times (-1: always)
     "ms": 0,                       # wait this long first (a drop mid-getMore, a slow reply)
     "code": 6, "codeName": "HostUnreachable", "errmsg": "...",
     "labels": ["ResumableChangeStreamError"]}   # for "error"
"""
from __future__ import annotations

import itertools
import threading

ACTIONS = {"drop", "error", "delay"}


class Faults:
    def __init__(self):
        self.lock = threading.Lock()
        self.rules: list[dict] = []
        self.ids = itertools.count(1)

    def add(self, rule: dict) -> int:
        if not isinstance(rule, dict) or rule.get("action") not in ACTIONS:
            raise ValueError(f"a fault rule needs an action among {sorted(ACTIONS)}")
        if not isinstance(rule.get("command"), str):
            raise ValueError("a fault rule needs a command (or \"*\")")
        if rule.get("when", "before") not in ("before", "after"):
            raise ValueError("when is before or after")
        r = {"skip": 0, "times": 1, "when": "before", **rule, "id": next(self.ids), "fired": 0}
        with self.lock:
            self.rules.append(r)
        return r["id"]

    def clear(self):
        with self.lock:
            self.rules.clear()

    def list(self) -> list:
        with self.lock:
            return [dict(r) for r in self.rules]

    @staticmethod
    def _matches(r: dict, name: str, cmd: dict, when: str, change_stream: bool) -> bool:
        if r["when"] != when or r["command"] not in ("*", name):
            return False
        if "changeStream" in r and bool(r["changeStream"]) != change_stream:
            return False
        if "collection" in r:
            coll = cmd.get("collection") if name == "getMore" else cmd.get(name)
            if coll != r["collection"]:
                return False
        return True

    def take(self, name: str, cmd: dict, when: str, change_stream: bool):
        """The first live rule matching this command, counted as fired; None
        when no rule fires."""
        with self.lock:
            for r in self.rules:
                if r["times"] == 0 or not self._matches(r, name, cmd, when, change_stream):
                    continue
                if r["skip"] > 0:
                    r["skip"] -= 1
                    continue
                if r["times"] > 0:
                    r["times"] -= 1
                r["fired"] += 1
                return dict(r)
        return None
