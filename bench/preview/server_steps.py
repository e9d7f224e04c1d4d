# SPDX-License-Identifier: MIT
"""The server's share of each save, from contentd's own debug lines
(CONTENTD_LOG_LEVEL=debug; docs/watch.md, "Diagnosing a save"): the watch's
`msg=save` line (the first inotify event on the wall clock, then when each
step ended) and the hub's `msg="update queued"` line (when the version was
queued to its subscribers), joined to the bench's samples by version.

Each step becomes a time after the save, on the bench's clock (the log's
times are CLOCK_REALTIME like the bench's own), added to the sample.
"""
from __future__ import annotations

import re
from pathlib import Path

SAVE = re.compile(r"mod=watch msg=save .*?status=ok version=(\d+) changed=true .*?"
                  r"event_at=([\d.]+)(.*)$")
QUEUED = re.compile(r'mod=sse msg="update queued" item=\S+ version=(\d+) .*?at=([\d.]+)')
STEP = re.compile(r"(\w+)_ms=([\d.]+)")

# (sample key, the label of its row); in the order of the pipeline
STEPS = (
    ("s_event", "inotify event (the watcher's first event of the batch)"),
    ("s_delivered", "batch delivered by the watcher"),
    ("s_taken", "batch taken by the folder's worker"),
    ("s_item", "item known (index.md's front matter)"),
    ("s_scanned", "folder read and hashed"),
    ("s_stored", "new blobs stored"),
    ("s_committed", "committed (catalog durable)"),
    ("s_queued", "update queued to the subscribers (hub)"),
)


def read(log: Path) -> dict:
    """version → {step: wall-clock ms} from the server's log."""
    out: dict = {}
    try:
        lines = log.read_text(errors="replace").splitlines()
    except OSError:
        return out
    for line in lines:
        m = SAVE.search(line)
        if m:
            at = float(m.group(2))
            steps = {"s_event": at}
            for key, ms in STEP.findall(m.group(3)):
                steps["s_" + key] = at + float(ms)
            out.setdefault(int(m.group(1)), {}).update(steps)
            continue
        m = QUEUED.search(line)
        if m:
            out.setdefault(int(m.group(1)), {})["s_queued"] = float(m.group(2))
    return out


def attach(samples: list, log: Path) -> None:
    """Adds each step (ms after the save) to the samples that name a
    version (sample["version"]) and the save's time (sample["t0"])."""
    by_version = read(log)
    for s in samples:
        steps = by_version.get(s.get("version"))
        if not steps or "t0" not in s:
            continue
        for key, _ in STEPS:
            if key in steps:
                s[key] = steps[key] - s["t0"]
