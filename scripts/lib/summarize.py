#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Counts test results from machine-readable logs and prints scripts/test's
last line: "N passed, N failed[, N skipped]".

usage: summarize.py [--meson BUILDDIR RC] [--pytest JUNIT_XML RC] [--junit JUNIT_XML RC]
                    [--step NAME RC]
                    [--failed-step NAME]...

--meson reads BUILDDIR/meson-logs/testlog.json (one entry per test program)
and testlog.junit.xml (one entry per TAP subtest, i.e. per cmocka case).
A TAP program counts as its subtests; any other program counts as one test.
--pytest reads pytest's --junitxml file; every <testcase> counts once.
--junit reads any other JUnit file the same way (scripts/fuzz --junit: one
case per fuzz target).
In both, a run that failed as a whole (non-zero status) without any single
failure to show for it (a sanitizer abort after the last case, a collection
error, a crash) counts as one more failure, so a broken run never reads as
"0 failed".  pytest's status 5 (no tests collected) is not a failure.
--step counts a check that is one test (the formatting of the C sources):
passed when RC is 0, else failed.
--failed-step counts a step that stopped the tests from running (a build).
"""
import json
import os
import sys
import xml.etree.ElementTree as ET

OK_RESULTS = {"OK", "EXPECTEDFAIL"}
SKIP_RESULTS = {"SKIP"}


def case_outcome(case):
    if case.find("failure") is not None or case.find("error") is not None:
        return "failed"
    if case.find("skipped") is not None:
        return "skipped"
    return "passed"


def meson_counts(builddir, rc):
    c = {"passed": 0, "failed": 0, "skipped": 0}
    logs = os.path.join(builddir, "meson-logs")
    suites = {}
    junit = os.path.join(logs, "testlog.junit.xml")
    if os.path.exists(junit):
        for suite in ET.parse(junit).getroot().iter("testsuite"):
            name = suite.get("name") or ""
            if "." in name:  # "<project>.<test name>": a program's subtests
                suites[name.split(".", 1)[1]] = suite
    entries = []
    path = os.path.join(logs, "testlog.json")
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            entries = [json.loads(line) for line in f if line.strip()]
    for e in entries:
        result = e.get("result")
        suite = suites.get(e["name"])
        cases = list(suite.iter("testcase")) if suite is not None else []
        if cases:
            counted_failure = False
            for case in cases:
                k = case_outcome(case)
                c[k] += 1
                counted_failure |= k == "failed"
            if result not in OK_RESULTS | SKIP_RESULTS and not counted_failure:
                c["failed"] += 1
        elif result in OK_RESULTS:
            c["passed"] += 1
        elif result in SKIP_RESULTS:
            c["skipped"] += 1
        else:
            c["failed"] += 1
    if rc != 0 and c["failed"] == 0:
        c["failed"] += 1  # meson test itself failed (e.g. a rebuild error)
    return c


def pytest_counts(xml_path, rc):
    c = {"passed": 0, "failed": 0, "skipped": 0}
    if os.path.exists(xml_path):
        for case in ET.parse(xml_path).getroot().iter("testcase"):
            c[case_outcome(case)] += 1
    if rc not in (0, 5) and c["failed"] == 0:
        c["failed"] += 1
    return c


def main(argv):
    total = {"passed": 0, "failed": 0, "skipped": 0}
    i = 0
    while i < len(argv):
        if argv[i] == "--meson":
            part = meson_counts(argv[i + 1], int(argv[i + 2]))
            i += 3
        elif argv[i] in ("--pytest", "--junit"):
            part = pytest_counts(argv[i + 1], int(argv[i + 2]))
            i += 3
        elif argv[i] == "--step":
            part = {"passed": 1} if int(argv[i + 2]) == 0 else {"failed": 1}
            i += 3
        elif argv[i] == "--failed-step":
            part = {"failed": 1}
            i += 2
        else:
            print(__doc__.strip(), file=sys.stderr)
            return 2
        for k, v in part.items():
            total[k] += v
    line = f"{total['passed']} passed, {total['failed']} failed"
    if total["skipped"]:
        line += f", {total['skipped']} skipped"
    print(line)
    return 1 if total["failed"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
