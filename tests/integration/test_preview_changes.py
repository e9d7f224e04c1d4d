# SPDX-License-Identifier: MIT
"""The preview page's "changes since version N" view (web/changes.js,
docs/preview.md), in headless Chromium: with the view on, the blocks the
diff to the version shown names carry their marks (changed, added, and
where a removed block stood), the changed documents are listed, and when
a new version arrives the marks follow it; the picker turns the view on,
off and to another version.

Every wait polls the page with a deadline; nothing sleeps.  Skips when
Chromium cannot start (see test_preview.py, whose fixtures it uses).
"""
from __future__ import annotations

from test_preview import (browser, browsers, js, open_preview, preview_url,  # noqa: F401
                          push_course, tab, wait_for)

V1 = b"# Guide\n\nFirst.\n\nSecond.\n\n## Next\n\nThird.\n"
V2 = b"# Guide\n\nFirst, edited.\n\nSecond.\n\n## Next\n\nThird.\n\nFourth.\n"
V3 = b"# Guide\n\nFirst, edited.\n\n## Next\n\nThird, edited.\n\nFourth.\n"
LESSON = b"# Lesson\n\nText.\n"


def marks(driver) -> list:
    """[rank among the document's blocks, mark, the block's text] of every
    marked block, in document order."""
    return js(driver, """
      const blocks = [...document.querySelector('.cp-content').childNodes];
      const out = [];
      blocks.forEach((b, i) => {
        if (b.nodeType !== 1) return;
        for (const c of ['cp-diff-added', 'cp-diff-changed', 'cp-diff-removed-before',
                         'cp-diff-removed-after'])
          if (b.classList.contains(c))
            out.push([i, c.slice(8), c.startsWith('cp-diff-removed')
              ? b.getAttribute('data-cp-diff-removed') : b.textContent]);
      });
      return out;""")


def listed(driver) -> list:
    return js(driver, """
      const p = document.querySelector('.cp-changes');
      if (!p || p.hidden) return null;
      return [...p.querySelectorAll('.cp-changes-item')].map((li) =>
        [li.getAttribute('data-status'), li.querySelector('.cp-changes-doc, .cp-changes-path')
          .textContent, li.querySelector('.cp-changes-what').textContent]);""")


def picked(driver) -> str:
    return js(driver, "return document.querySelector('.cp-changes-since').value")


def test_the_view_marks_the_changes_and_follows_new_versions(server, api, name, tab):
    push_course(api, "tutorial", name, {"index.md": V1, "01.md": LESSON})
    v = push_course(api, "tutorial", name, {"index.md": V2, "01.md": LESSON,
                                            "img/a.png": b"\x89PNG\r\n\x1a\nnew"})
    assert v == 2
    open_preview(tab, preview_url(server, "tutorial", name) + "?since=1", 2)
    wait_for(tab, lambda d: marks(d) == [[1, "changed", "First, edited."], [5, "added", "Fourth."]],
             "the changed and the added paragraph marked")
    assert picked(tab) == "1"
    assert listed(tab) == [["changed", "index.md", "1 changed, 1 added"],
                           ["added", "img/a.png", "asset added"]]

    # v3: a paragraph removed, another changed; the marks follow (diff 1→3).
    assert push_course(api, "tutorial", name, {"index.md": V3, "01.md": LESSON}) == 3
    wait_for(tab, lambda d: marks(d) == [
        [1, "changed", "First, edited."], [2, "removed-before", "guide/p-2"],
        [3, "changed", "Third, edited."], [4, "added", "Fourth."]],
        "the marks of the diff from v1 to v3")
    assert listed(tab) == [["changed", "index.md", "2 changed, 1 added, 1 removed"]]

    # Another version picked: the diff from v2 to v3.
    js(tab, """const s = document.querySelector('.cp-changes-since');
               s.value = '2'; s.dispatchEvent(new Event('change'));""")
    wait_for(tab, lambda d: marks(d) == [[2, "removed-before", "guide/p-2"],
                                         [3, "changed", "Third, edited."]],
             "the marks of the diff from v2 to v3")
    assert listed(tab) == [["changed", "index.md", "1 changed, 1 removed"],
                           ["removed", "img/a.png", "asset removed"]]
    assert "since=2" in js(tab, "return location.search")

    # Off: no mark, no list.
    js(tab, """const s = document.querySelector('.cp-changes-since');
               s.value = ''; s.dispatchEvent(new Event('change'));""")
    wait_for(tab, lambda d: marks(d) == [] and listed(d) == [], "the marks gone")
    assert "since" not in js(tab, "return location.search")


def test_the_view_is_off_by_default_and_lists_other_documents(server, api, name, tab):
    push_course(api, "tutorial", name, {"index.md": V1, "01.md": LESSON})
    push_course(api, "tutorial", name, {"index.md": V1, "01.md": b"# Lesson\n\nText, edited.\n",
                                        "02.md": b"# Two\n"})
    open_preview(tab, preview_url(server, "tutorial", name), 2)
    wait_for(tab, lambda d: listed(d) == [], "the picker, with the view off")
    assert marks(tab) == [] and picked(tab) == ""
    js(tab, """const s = document.querySelector('.cp-changes-since');
               s.value = '1'; s.dispatchEvent(new Event('change'));""")
    wait_for(tab, lambda d: listed(d) == [["changed", "01.md", "1 changed"],
                                          ["added", "02.md", "added"]],
             "the changed and the added lesson listed")
    assert marks(tab) == []  # index.md did not change
    # A listed document opens without a reload, with its marks.
    js(tab, "window.__sameDocument = true;"
            "document.querySelector('.cp-changes-doc[data-cp-doc=\"01.md\"]').click();")
    wait_for(tab, lambda d: marks(d) == [[1, "changed", "Text, edited."]],
             "the lesson's changed paragraph marked")
    assert js(tab, "return window.__sameDocument === true")


def test_a_first_version_has_no_picker(server, api, name, tab):
    push_course(api, "tutorial", name, {"index.md": V1})
    open_preview(tab, preview_url(server, "tutorial", name), 1)
    assert listed(tab) is None
