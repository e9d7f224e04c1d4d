# SPDX-License-Identifier: MIT
"""The preview page's problems panel (web/problems.js, docs/preview.md), in
headless Chromium: the findings of the version shown (from the stream's
snapshot and update events) are listed with file and line, each a link to
its place in the page; the block each one is about carries a mark, the
changed block of an update included; a clean version shows no panel.
Where a line lands (placeOf) is checked on its own, as data.

Every wait polls the page with a deadline; nothing sleeps.  Skips when
Chromium cannot start (see test_preview.py, whose fixtures it uses).
"""
from __future__ import annotations

from test_preview import (assert_no_violations, browser, browsers, js, open_preview,  # noqa: F401
                          preview_url, push_course, tab, wait_for)


def item(name: str) -> dict:
    """The issue's "done when" item: a broken lesson link, a missing image,
    a cover that does not exist and a task cycle."""
    return {
        "index.md": (f"---\nkind: challenge\nname: {name}\ntitle: Broken\n"
                     "cover: __static__/cover.png\n"
                     "tasks:\n"
                     "  init_cluster:\n    needs: [verify_pod]\n    run: kind create cluster\n"
                     "  verify_pod:\n    needs: [init_cluster]\n    run: kubectl get pod\n"
                     "---\n# Broken\n\nStart with [the first lesson](01-first.md).\n\n"
                     "## More\n\nSome text.\n").encode(),
        "01-first.md": (b"# First\n\n![the diagram](images/diagram.png)\n\n## Next\n\n"
                        b"Intro.\n\nThen [go on](02-second.md).\n"),
    }


def problems(driver) -> list:
    return js(driver, """
      const p = document.querySelector('.cp-problems');
      if (!p || p.hidden) return [];
      return [...p.querySelectorAll('.cp-problem')].map((li) => [
        li.querySelector('.cp-problem-sev').textContent,
        li.querySelector('.cp-problem-where').textContent,
        li.querySelector('.cp-problem-code').textContent]);""")


def marks(driver) -> list:
    """[tag, rank among the document's blocks (-1: outside it), severity]
    of every marked element."""
    return js(driver, """
      const blocks = [...document.querySelector('.cp-content').children];
      return [...document.querySelectorAll('[data-cp-problem]')].map((e) => [
        e.tagName.toLowerCase(), blocks.indexOf(e), e.getAttribute('data-cp-problem')]);""")


FOUND = [
    ["error", "01-first.md:3", "[missing-asset]"],
    ["error", "01-first.md:9", "[broken-link]"],
    ["error", "index.md:5", "[missing-asset]"],
    ["error", "index.md:7", "[task-cycle]"],
]


def test_panel_lists_the_findings_and_marks_their_blocks(server, api, name, tab):
    files = item(name)
    v = push_course(api, "challenge", name, files)
    open_preview(tab, preview_url(server, "challenge", name), v)
    wait_for(tab, lambda d: problems(d) == FOUND, "the four findings in the panel")
    assert "4 errors" in js(tab, "return document.querySelector('.cp-problems-title').textContent")
    # index.md's findings are in its front matter: the front-matter panel.
    wait_for(tab, lambda d: marks(d) == [["details", -1, "error"]],
             "the mark on the front matter")

    # A finding of another document: the link opens it at the block.
    js(tab, """[...document.querySelectorAll('.cp-problem-link')]
               .find((a) => a.textContent === '01-first.md:9').click();""")
    wait_for(tab, lambda d: js(d, "return location.pathname").endswith("/01-first.md"),
             "the lesson to open")
    # Its blocks: h1, the image's p, h2, "Intro.", the link's p.
    wait_for(tab, lambda d: sorted(marks(d)) == [["p", 1, "error"], ["p", 4, "error"]],
             "the marks on the image's and the link's blocks")
    wait_for(tab, lambda d: js(d, "return !!document.querySelector('.cp-problem-here')"),
             "the linked block to be pointed out")
    assert_no_violations(tab)


def test_update_marks_the_changed_block_and_a_clean_version_has_no_panel(server, api, name, tab):
    files = item(name)
    v = push_course(api, "challenge", name, files)
    open_preview(tab, preview_url(server, "challenge", name), v)
    wait_for(tab, lambda d: len(problems(d)) == 4, "the findings")
    # The edit adds a paragraph and breaks a link in the next one: the
    # changed block with the broken link is highlighted as changed and
    # marked (placed through the new version's source, not the old one's).
    files["index.md"] = files["index.md"].replace(b"Some text.",
                                                  b"Added.\n\nSee [the end](#the-end).")
    api.push_ok("challenge", name, files)
    wait_for(tab, lambda d: [p[2] for p in problems(d)].count("[broken-anchor]") == 1,
             "the new finding in the panel")
    wait_for(tab, lambda d: js(d, """
      const p = [...document.querySelectorAll('.cp-content p')]
        .find((e) => e.textContent.startsWith('See the end'));
      return !!p && p.getAttribute('data-cp-problem') === 'error';"""),
             "the mark on the changed block")
    assert [m for m in marks(tab) if m[1] >= 0] == [["p", 4, "error"]]  # h1 p h2 Added See

    clean = {"index.md": f"---\nkind: challenge\nname: {name}\ntitle: Clean\n---\n# Clean\n\n"
                         "Nothing wrong.\n".encode()}
    api.push_ok("challenge", name, clean)
    wait_for(tab, lambda d: js(d, "return document.querySelector('.cp-problems').hidden")
             and marks(d) == [], "the panel and the marks to go")
    assert_no_violations(tab)


# Where a line lands: (source, line) -> placeOf's answer.
PLACES = [
    ("---\ntitle: T\n---\n# A\n", 2, {"front": True}),
    ("---\ntitle: T\n---\n# A\n", 3, {"front": True}),
    ("# A\n\npara\n", 1, {"heading": 0, "offset": 0}),
    ("# A\n\npara\n", 3, {"heading": 0, "offset": 1}),
    ("intro\n\n# A\n", 1, {"heading": -1, "offset": 1}),
    ("# A\n\n```\n# not a heading\n\nx\n```\n\nafter\n", 9, {"heading": 0, "offset": 2}),
    ("# A\n\n- a\n\n- b\n  more\n\nafter\n", 8, {"heading": 0, "offset": 2}),
    ("# A\n\n::note\n## inside\n\nx\n::\n\nafter\n", 9, {"heading": 0, "offset": 2}),
    ("para\n\nTitle\n=====\n\nx\n", 3, {"heading": 0, "offset": 0}),
    ("para\n\nTitle\n=====\n\nx\n", 6, {"heading": 0, "offset": 1}),
    ("a\n\n---\n\nb\n", 5, {"heading": -1, "offset": 3}),
]


def test_place_of_a_line(server, api, name, tab):
    v = push_course(api, "tutorial", name, {"index.md": b"# P\n"})
    open_preview(tab, preview_url(server, "tutorial", name), v)
    got = tab.execute_async_script("""
      const [cases, done] = [arguments[0], arguments[arguments.length - 1]];
      import('/preview/_assets/problems.js')
        .then((m) => done(cases.map(([src, line]) => m.placeOf(src, line))))
        .catch((e) => done(String(e)));""", [[src, line] for src, line, _ in PLACES])
    assert got == [want for _, _, want in PLACES]
