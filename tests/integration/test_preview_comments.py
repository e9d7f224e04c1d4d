# SPDX-License-Identifier: MIT
"""The preview page's comments margin (web/comments.js, docs/preview.md), in
headless Chromium: a reviewer comments on a paragraph through the page (the
form beside the block); a second tab of the reviewer and the owner's page
see the comment arrive beside that paragraph, from `event: comment`; a push
that changes the paragraph marks the comment outdated in both; replying and
resolving through the page reach the other page too.  A reader of a public
item gets no margin.

Every wait polls the page with a deadline; nothing sleeps.  Skips when
Chromium cannot start (see test_preview.py, whose fixtures it uses).
"""
from __future__ import annotations

from helpers import server as srv
from helpers.api import Client
from test_preview import (assert_no_violations, browsers, js, open_preview,  # noqa: F401
                          preview_url, wait_for)

DOC = (b"---\ntitle: Margin\n---\n\n# Margin\n\nFirst paragraph.\n\n"
       b"Second paragraph, to be discussed.\n\n## Later\n\nThird paragraph.\n")


def threads(driver) -> list:
    """[first comment's body, index of its block (None: outdated), resolved,
    number of comments in the thread] of every thread in the margin."""
    return js(driver, """
      const m = document.querySelector('.cp-margin');
      if (!m || m.hidden) return null;
      return [...m.querySelectorAll('.cp-thread')].map((t) => [
        t.querySelector('.cp-comment-body').textContent,
        t.hasAttribute('data-outdated') ? null : Number(t.getAttribute('data-index')),
        t.hasAttribute('data-resolved'),
        t.querySelectorAll('.cp-comment').length]);""")


def beside(driver) -> bool:
    """Whether the first thread is shown at the height of the block it is on
    (the commented block marked), within a few pixels."""
    return js(driver, """
      const t = document.querySelector('.cp-threads > .cp-thread');
      const b = document.querySelector('.cp-content > [data-cp-commented]');
      if (!t || !b || t.hidden) return false;
      return Math.abs(t.getBoundingClientRect().top - b.getBoundingClientRect().top) < 4;""")


def test_a_reviewer_comments_on_a_paragraph_and_other_tabs_see_it_live(start_server, browsers,
                                                                        name):
    s = start_server()
    tokens = {u: srv.create_token(s.data_dir, u) for u in ("alice", "carol", "eve")}
    owner = Client(s.port, tokens["alice"])
    owner.create_ok("tutorial", name, visibility="public")
    assert owner.push_ok("tutorial", name, {"index.md": DOC}) == 1
    base = f"/api/v1/content/tutorial/{name}"
    assert owner.send_json("PUT", f"{base}/members/carol", {"role": "reviewer"}).status == 200

    rev = browsers()  # the reviewer, with two tabs
    ob = browsers()  # the owner
    rd, od = rev.driver, ob.driver
    first_tab = rd.current_window_handle
    open_preview(rd, preview_url(s, "tutorial", name, token=tokens["carol"]), 1)
    second_tab = rev.new_tab()
    open_preview(rd, preview_url(s, "tutorial", name, token=tokens["carol"]), 1)
    open_preview(od, preview_url(s, "tutorial", name, token=tokens["alice"]), 1)
    for d in (rd, od):
        wait_for(d, lambda d: threads(d) == [], "an empty margin")

    # In the first tab: the form beside the second paragraph (block 2).
    rd.switch_to.window(first_tab)
    js(rd, """const p = [...document.querySelectorAll('.cp-content > p')][1];
              p.dispatchEvent(new MouseEvent('mouseover', {bubbles: true}));""")
    wait_for(rd, lambda d: js(d, "return !document.querySelector('.cp-add').hidden"),
             "the add button beside the block")
    rd.find_element("css selector", ".cp-add").click()
    rd.find_element("css selector", ".cp-new-comment textarea").send_keys("Why this order?")
    rd.find_element("css selector", ".cp-new-comment .cp-send").click()
    want = [["Why this order?", 2, False, 1]]
    wait_for(rd, lambda d: threads(d) == want, "the comment in the reviewer's margin")
    got = owner.get(base + "/comments").json()["comments"]
    assert [(c["user"], c["block"], c["version"]) for c in got] == [("carol", "margin/p-2", 1)]

    # It arrives in the owner's page and in the reviewer's second tab,
    # beside the paragraph.
    wait_for(od, lambda d: threads(d) == want, "the comment in the owner's margin")
    wait_for(od, beside, "the thread beside its paragraph")
    assert js(od, """return document.querySelector('.cp-content > [data-cp-commented]')
                     .textContent""") == "Second paragraph, to be discussed."
    rd.switch_to.window(second_tab)
    wait_for(rd, lambda d: threads(d) == want, "the comment in the reviewer's second tab")

    # The owner answers and resolves it through the page.  (Clicks in the
    # margin are made in the page, at once: the margin redraws when a
    # comment comes, which would leave a found element stale.)
    js(od, "document.querySelector('.cp-thread .cp-reply-open').click()")
    od.find_element("css selector", ".cp-thread form textarea").send_keys("Kept on purpose.")
    js(od, "document.querySelector('.cp-thread form .cp-send').click()")
    wait_for(rd, lambda d: threads(d) == [["Why this order?", 2, False, 2]],
             "the reply in the reviewer's tab")
    wait_for(od, lambda d: threads(d) == [["Why this order?", 2, False, 2]],
             "the reply in the owner's margin")
    js(od, "document.querySelector('.cp-thread .cp-resolve').click()")
    wait_for(rd, lambda d: threads(d) == [["Why this order?", 2, True, 2]],
             "the thread resolved in the reviewer's tab")

    # A push that changes the paragraph: outdated in both pages.
    owner.push_ok("tutorial", name, {"index.md": DOC.replace(b"to be discussed", b"reworded")})
    for d in (rd, od):
        wait_for(d, lambda d: threads(d) == [["Why this order?", None, True, 2]],
                 "the comment marked outdated")
        assert js(d, "return document.querySelectorAll('.cp-outdated-list .cp-thread').length") == 1
        assert not js(d, "return !!document.querySelector('.cp-content > [data-cp-commented]')")

    # A reply being written stays open while another comment comes.
    js(od, "document.querySelector('.cp-outdated-list .cp-reply-open').click()")
    od.find_element("css selector", ".cp-thread form textarea").send_keys("Half a rep")
    r = Client(s.port, tokens["carol"]).post(base + "/comments", {
        "path": "index.md", "block": "later/p-1", "body": "And this one?"})
    assert r.status == 201, r
    wait_for(od, lambda d: len(threads(d) or []) == 2, "the new comment in the owner's margin")
    assert threads(od)[0] == ["And this one?", 4, False, 1]
    assert js(od, "return document.querySelector('.cp-thread form textarea').value") == "Half a rep"

    # A reader of the public item: the page without a margin.
    reader = ob.new_tab()
    open_preview(od, preview_url(s, "tutorial", name, token=tokens["eve"]), 2)
    wait_for(od, lambda d: js(d, "return document.querySelector('.cp-margin').hidden"),
             "no margin for a reader")
    for d, h in ((rd, first_tab), (rd, second_tab), (od, reader)):
        d.switch_to.window(h)
        assert_no_violations(d)


def test_the_comments_are_fetched_again_after_an_update_is_painted(start_server, browsers, name):
    """A new version fetches the document's comments again (which of them
    are outdated depends on the version), but only once the patch has been
    drawn: neither the request nor the margin's redraw comes before the
    update's frame."""
    s = start_server()
    token = srv.create_token(s.data_dir, "alice")
    owner = Client(s.port, token)
    owner.create_ok("tutorial", name)
    assert owner.push_ok("tutorial", name, {"index.md": DOC}) == 1
    d = browsers().driver
    open_preview(d, preview_url(s, "tutorial", name, token=token), 1)
    wait_for(d, lambda d: threads(d) == [], "an empty margin")
    js(d, """
      const order = window.__order = [];
      const f = window.fetch;
      window.fetch = function (url, ...rest) {
        if (String(url).includes('/comments')) order.push('fetch');
        return f.call(this, url, ...rest);
      };
      const content = document.querySelector('.cp-content');
      new MutationObserver(() => {
        if (order.includes('dom') || !content.textContent.includes('Edited first')) return;
        order.push('dom');
        requestAnimationFrame(() => order.push('frame'));
      }).observe(content, {subtree: true, childList: true, characterData: true});""")
    edited = DOC.replace(b"First paragraph", b"Edited first paragraph")
    assert owner.push_ok("tutorial", name, {"index.md": edited}) == 2
    wait_for(d, lambda d: js(d, "return window.__order.includes('frame') && "
                                "window.__order.includes('fetch')"),
             "the update drawn and the comments fetched")
    order = js(d, "return window.__order")
    assert order.index("dom") < order.index("frame") < order.index("fetch"), order
    wait_for(d, lambda d: threads(d) == [], "the margin drawn again")
    assert_no_violations(d)
