# SPDX-License-Identifier: MIT
"""`content push --watch DIR`: every save reaches the server.  Many saves of
index.md in a row, each an in-place rewrite (`open(path, "w")`, as the
preview bench does), at an author's pace and in quick pairs; after each one
the item's current files must equal the folder's (polled with a deadline)
and the event stream must have delivered that version."""
from __future__ import annotations

import random
import time

from helpers.watch import index_md

from test_watch_client import ClientWatch

SAVES = 80
DEADLINE = 10.0


def test_every_rapid_save_reaches_the_server(start_server, tmp_path, content_bin,
                                             contentd_bin):
    cw = ClientWatch(start_server, tmp_path)
    try:
        index = cw.doc / "index.md"
        rnd = random.Random(17)
        for i in range(SAVES):
            # A pair of saves close together now and then: the second one
            # must win even when it lands while the first is being pushed.
            for j in range(2 if rnd.random() < 0.3 else 1):
                with open(index, "w", encoding="utf-8") as f:
                    f.write(index_md("doc", body=f"Edit {i}.{j}: " + "x" * rnd.randrange(40))
                            .decode())
            cw.item.converge(DEADLINE)
    finally:
        cw.close()


def test_a_save_written_slowly_after_its_truncation_reaches_the_server(start_server, tmp_path,
                                                                      content_bin, contentd_bin):
    """A loaded machine can put more than the quiet window between the
    truncation of open(path, "w") and the write: the watch then pushes the
    empty (or partial) file first; the write that follows must still win."""
    cw = ClientWatch(start_server, tmp_path)
    try:
        index = cw.doc / "index.md"
        for i in range(6):
            with open(index, "w", encoding="utf-8") as f:
                f.flush()
                # A descheduled writer (the delay is the writer's, not a wait
                # for a result): past the window, the empty file goes first.
                time.sleep(0.15 + 0.1 * (i % 3))
                f.write(index_md("doc", body=f"Slow edit {i}.").decode())
            cw.item.converge(DEADLINE)
    finally:
        cw.close()
