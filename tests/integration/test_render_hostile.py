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


def render(content_bin, data: bytes, timeout=60, args=(), usage_out=None):
    """Runs `content render [ARGS] -`; returns the process and the CPU time it
    used (user + system, from wait4: unlike wall time, other load on the
    machine barely moves it).  usage_out, a list, receives the rusage."""
    import os
    import tempfile
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.TemporaryFile() as inp:
        inp.write(data)
        inp.seek(0)
        p = subprocess.Popen([str(content_bin), "render", *args, "-"], stdin=inp, stdout=out,
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
    if usage_out is not None:
        usage_out.append(usage)
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


# ---- linear time and memory, construct by construct -------------------------
#
# Each generator makes about n bytes of one construct of the grammar, repeated
# (or nested) as an attacker would.  Rendered at 64 KiB and 512 KiB (8x), CPU
# time and peak memory must grow no more than 10x: linear work grows 8x, the
# quadratic patterns this guards against grew 50-100x.  Start-up cost is
# subtracted and small absolute floors (50 ms, 24 MiB) keep tiny figures from
# making the ratios noise: a small input fits in the CPU caches, and the
# peak memory wait4 reports includes the pages of the forking Python.

def _rep(unit: bytes):
    return lambda n: unit * (n // len(unit))


def _lines(fmt: bytes, head=b"", tail=b""):
    def gen(n):
        out, i = [head], 0
        size = len(head) + len(tail)
        while size < n:
            line = fmt % {b"i": str(i).encode()}
            out.append(line)
            size += len(line)
            i += 1
        out.append(tail)
        return b"".join(out)
    return gen


LINEAR = {
    # the four quadratic patterns of issue 10, and pretty output of deep trees
    "bare inline components": _rep(b":a "),
    "inline components with props": _rep(b":a{b=c} "),
    "front matter keys": _lines(b"k%(i)s: v\n", b"---\n", b"---\n"),
    "component props": _lines(b" p%(i)s=v", b"::c{", b"}\nx\n::\n"),
    "pretty nested blockquotes": _rep(b"> "),
    # every other construct of the grammar
    "inline components with content": _rep(b":a[x]{b=c} "),
    "inline components with long props": lambda n: b":a{" + b"b=c " * (n // 4) + b"}\n",
    "spans": _rep(b"[x]{.c} "),
    "bare spans": _rep(b"[x] "),
    "attributes on elements": _rep(b"**b**{.c #d} "),
    "bound props": _lines(b" :p%(i)s='{\"a\":1}'", b"::c{", b"}\nx\n::\n"),
    "class and id props": _rep(b":a{.c .d #e} "),
    "block components": _lines(b"::c%(i)s{a=b}\nx\n::\n"),
    "slots": _lines(b"#s%(i)s\nx\n", b"::c\n", b"::\n"),
    "component yaml props": _lines(b"k%(i)s: v\n", b"::c\n---\n", b"---\nx\n::\n"),
    "front matter dotted keys": _lines(b"k%(i)s.x.y: v\n", b"---\n", b"---\n"),
    "front matter anchors and aliases": _lines(b"a%(i)s: &x%(i)s v\nb%(i)s: *x%(i)s\n",
                                              b"---\n", b"---\n"),
    "front matter duplicate keys": _rep(b"k: " + b"v" * 60 + b"\n"),
    "nested components": lambda n: b"".join(b"::c%d\n" % i for i in range(60)) + \
        b"x\n" * (n // 2) + b"::\n" * 60,
    "nested blockquotes": _rep(b"> "),
    "nested lists": _rep(b"- "),
    "headings": _lines(b"## Heading %(i)s\n"),
    "raw html attributes": _rep(b'<span class="a" title="b" data-x="c">x</span> '),
    "pretty long document": _lines(b"Para %(i)s with *em* and `code`.\n\n"),
}
PRETTY = {"pretty nested blockquotes", "pretty long document"}
SMALL, LARGE = 64 << 10, 512 << 10


def _front_matter_fix(name, data):
    """The front matter patterns above need their --- delimiters."""
    if name == "front matter duplicate keys":
        return b"---\n" + data + b"---\n"
    return data


def _cost(content_bin, data, args):
    """Best of three: (CPU seconds, peak resident KiB)."""
    best_t, best_m = None, None
    for _ in range(3):
        usage = []
        proc, t = render(content_bin, data, timeout=120, args=args, usage_out=usage)
        assert proc.returncode == 0, proc.stderr.decode(errors="replace")[-500:]
        best_t = t if best_t is None else min(best_t, t)
        best_m = usage[0].ru_maxrss if best_m is None else min(best_m, usage[0].ru_maxrss)
    return best_t, best_m


@pytest.fixture(scope="module")
def startup_cost(content_bin):
    return _cost(content_bin, b"x\n", ())


@pytest.mark.parametrize("name", sorted(LINEAR))
def test_construct_costs_linear_time_and_memory(content_bin, startup_cost, name):
    args = ("--pretty",) if name in PRETTY else ()
    small = _front_matter_fix(name, LINEAR[name](SMALL))
    large = _front_matter_fix(name, LINEAR[name](LARGE))
    assert 7 * len(small) <= len(large) <= 9 * len(small), (len(small), len(large))
    t0, m0 = startup_cost
    ts, ms = _cost(content_bin, small, args)
    tl, ml = _cost(content_bin, large, args)
    t_grow = (tl - t0) / max(ts - t0, 0.05)
    m_grow = (ml - m0) / max(ms - m0, 24 << 10)
    assert t_grow <= 10, f"{name}: 8x input took {t_grow:.1f}x the CPU time ({ts:.3f}s, {tl:.3f}s)"
    assert m_grow <= 10, f"{name}: 8x input took {m_grow:.1f}x the memory ({ms} KiB, {ml} KiB)"
    # linear with a sane constant: a cap on work per paragraph (512 spans)
    # once hid a copy of the paragraph's rest per span, 2.7 KB per input byte
    assert (ml - m0) * 1024 <= 512 * len(large), \
        f"{name}: {(ml - m0) * 1024 / len(large):.0f} bytes of memory per input byte"
