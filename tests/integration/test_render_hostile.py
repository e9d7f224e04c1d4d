# SPDX-License-Identifier: MIT
"""`content render` on hostile input: no crash, always valid JSON, and no
quadratic blow-up.  Complexity is checked by scaling the input 8x: a linear
renderer takes about 8x as long, a quadratic one about 64x.  The bound is
deliberately loose (an algorithmic check, not a speed assertion)."""
import json
import subprocess
import sys
import threading
import time

import pytest

N = 100_000


def parse_deep_json(text):
    """json.loads on documents nested 100,000 deep needs a deep stack."""
    result = {}

    def run():
        old = sys.getrecursionlimit()
        sys.setrecursionlimit(10_000_000)
        try:
            result["doc"] = json.loads(text)
        except Exception as e:  # reported below
            result["error"] = e
        finally:
            sys.setrecursionlimit(old)

    threading.stack_size(1 << 30)
    t = threading.Thread(target=run)
    t.start()
    t.join()
    threading.stack_size(0)
    if "error" in result:
        raise result["error"]
    return result["doc"]


def render(content_bin, data: bytes, timeout=60):
    """Runs `content render -`; returns the process and the CPU time it used
    (user + system, from wait4: unlike wall time, other load on the machine
    barely moves it)."""
    import os
    import tempfile
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.TemporaryFile() as inp:
        inp.write(data)
        inp.seek(0)
        p = subprocess.Popen([str(content_bin), "render", "-"], stdin=inp, stdout=out,
                             stderr=err)
        deadline = time.monotonic() + timeout
        while True:
            pid, status, usage = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                p.kill()
                raise TimeoutError("content render took too long")
            time.sleep(0.002)
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        proc = subprocess.CompletedProcess(p.args, p.returncode, out.read(), err.read())
    return proc, usage.ru_utime + usage.ru_stime


HOSTILE = {
    "nested blockquotes": lambda n: b"> " * n + b"x\n",
    "nested list items": lambda n: b"- " * n + b"x\n",
    "nested ordered items": lambda n: b"1. " * n + b"x\n",
    "quotes of lists": lambda n: b"> - " * (n // 2) + b"x\n",
    "component levels": lambda n: b"".join(b"::c%d\n" % i for i in range(n)) + b"::\n" * n,
    "emphasis runs": lambda n: b"*" * n + b"x" + b"*" * n + b"\n",
    "brackets": lambda n: b"[" * n + b"x" + b"]" * n + b"\n",
    "inline components": lambda n: b":a[" * (n // 3) + b"x" + b"]" * (n // 3) + b"\n",
    "html nesting": lambda n: b"<div>" * n + b"x" + b"</div>" * n + b"\n",
    "html nesting in markdown": lambda n: b"<span>\n\n" + b"> " * n + b"<b>x\n",
    "backticks": lambda n: b"`" * n + b"x\n",
    "link definitions": lambda n: b"".join(b"[l%d]: /u%d\n" % (i, i) for i in range(n // 10)) + b"[l1]\n",
    "table columns": lambda n: b"|" + b"a|" * (n // 10) + b"\n|" + b"-|" * (n // 10) + b"\n",
    "headings with the same title": lambda n: b"## Same\n" * (n // 10),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_input_renders_to_valid_json(content_bin, name):
    proc, _ = render(content_bin, HOSTILE[name](N))
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")[-500:]
    doc = parse_deep_json(proc.stdout.decode("utf-8"))
    assert doc["body"]["type"] == "root"
    assert set(doc) >= {"data", "body"}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_input_is_not_quadratic(content_bin, name):
    small, large = N // 16, N // 2
    # warm caches, then take the best of three for each size
    t_small = min(render(content_bin, HOSTILE[name](small))[1] for _ in range(3))
    t_large = min(render(content_bin, HOSTILE[name](large))[1] for _ in range(3))
    # process start-up is a floor that makes tiny inputs look slow: subtract it
    t_base = min(render(content_bin, b"x\n")[1] for _ in range(3))
    grow = (t_large - t_base) / max(t_small - t_base, 0.002)
    assert grow < 30, f"{name}: 8x input took {grow:.1f}x the time"


def test_invalid_utf8_is_replaced(content_bin):
    proc, _ = render(content_bin, b"# Caf\xe9 \xff\n\nok \xc3\x28 \x00 end\n")
    assert proc.returncode == 0
    text = proc.stdout.decode("utf-8")  # must be valid UTF-8
    doc = json.loads(text)
    assert doc["data"]["title"] == "Caf\ufffd \ufffd"
    para = doc["body"]["children"][1]["children"][0]["value"]
    assert para == "ok \ufffd( \ufffd end"


def test_random_bytes_never_crash(content_bin):
    import random
    rng = random.Random(20261127)
    alphabet = b"#>-*_`[](){}:!<>/=\"' \n\t|~\\&;x1aZ\xc3\xa9\xff"
    for _ in range(200):
        data = bytes(rng.choice(alphabet) for _ in range(rng.randint(0, 3000)))
        proc, _ = render(content_bin, data)
        assert proc.returncode in (0, 1), data
        if proc.returncode == 0:
            json.loads(proc.stdout)
        else:  # only a front matter error may fail, with one line
            assert proc.stderr.count(b"\n") == 1 and b"front matter" in proc.stderr
