# SPDX-License-Identifier: MIT
"""The preview page when it has no document to show, and on a phone, in
headless Chromium (the fixtures and helpers of test_preview.py).

- A mistyped address (`/preview/course/no-such-item`, `/preview/courses/x`,
  `/preview/course/Intro`) gets the page itself, with status 404, and the
  page shows its own "not found" state (with the items the reader can
  open), never a raw JSON error.
- Token needed and reconnecting before the first document: the state takes
  the document's place; neither "Loading…" nor an empty "On this page" or
  "Documents" heading stays on screen.
- At 390 × 844 the top bar stays one row: its parts do not overlap, do not
  wrap, and fit the width; the page does not scroll sideways.

Every wait polls the page with a deadline; nothing sleeps.
"""
from __future__ import annotations

import pytest

from helpers import browser as chrome
from helpers import server as srv
from helpers.api import Client
from test_preview import (COURSE, assert_no_violations, browser, browsers, conn_state,  # noqa: F401
                          content_text, index_doc, js, open_preview, preview_url, push_course,
                          tab, wait_for)

# What the page shows while it has no document: its parts and whether each
# is displayed (an element with display: none, or inside one, has no boxes).
PAGE_PARTS = """
  const shown = (s) => { const e = document.querySelector(s); return !!e && e.getClientRects().length > 0; };
  const panel = document.querySelector('.cp-content .cp-state');
  return {
    state: panel && panel.getAttribute('data-cp-state'),
    title: panel && panel.querySelector('h1').textContent,
    text: document.querySelector('.cp-content').textContent,
    loading: shown('.cp-loading'),
    toc: shown('.cp-toc-title'),
    docs: shown('.cp-docs .cp-side-title'),
    banner: shown('.cp-banner'),
    doctitle: document.title,
  };"""


def parts_when(driver, state: str) -> dict:
    wait_for(driver, lambda d: conn_state(d) == state, f"the page to say {state}")
    wait_for(driver, lambda d: js(d, PAGE_PARTS)["state"] == state, f"the {state} panel")
    return js(driver, PAGE_PARTS)


def assert_no_empty_parts(parts: dict) -> None:
    assert not parts["loading"], "'Loading…' is still on screen"
    assert not parts["toc"], "an empty 'On this page' heading is on screen"
    assert not parts["docs"], "an empty 'Documents' heading is on screen"


# --------------------------------------------------------------------------
# States


def test_mistyped_address_shows_the_pages_not_found_state(server, api, name, tab):
    push_course(api, "course", name, COURSE)
    wrong = f"{name}-typo"
    r = api.get(f"/preview/course/{wrong}")
    assert r.status == 404 and r.media_type == "text/html", r
    assert "default-src 'self'" in (r.header("Content-Security-Policy") or "")
    tab.get(preview_url(server, "course", wrong))
    parts = parts_when(tab, "not-found")
    assert parts["title"] == "Not found" and parts["doctitle"].startswith("Not found")
    assert f"course/{wrong}" in parts["text"]
    assert '"error"' not in js(tab, "return document.body.textContent"), "a raw JSON error"
    assert_no_empty_parts(parts)
    assert not parts["banner"], "the state is said once, in the page, not in a banner too"
    # The items the reader can open, the one they meant among them.
    wait_for(tab, lambda d: js(d, "return [...document.querySelectorAll('.cp-state-items a')]"
                                  ".map((a) => a.getAttribute('href'))").count(
        f"/preview/course/{name}") == 1, "the list of items to open")
    tab.find_element("css selector", f".cp-state-items a[href='/preview/course/{name}']").click()
    wait_for(tab, lambda d: conn_state(d) == "live" and "Intro paragraph" in content_text(d),
             "the item the reader meant")


@pytest.mark.parametrize("address", ["/preview/courses/{name}", "/preview/course/{upper}",
                                     "/preview/course", "/preview/course/{name}_x/index.md"])
def test_malformed_address_shows_the_pages_not_found_state(server, api, name, tab, address):
    """A KIND or NAME that cannot be (a plural, capitals, none at all) is a
    mistyped address too: the page, with 404, not the API's JSON 400."""
    push_course(api, "course", name, COURSE)
    path = address.format(name=name, upper=name.upper())
    r = api.get(path)
    assert r.status == 404 and r.media_type == "text/html", r
    tab.get(server.base_url + path)
    parts = parts_when(tab, "not-found")
    assert parts["title"] == "Not found" and "/preview/KIND/NAME" in parts["text"]
    assert_no_empty_parts(parts)
    wait_for(tab, lambda d: js(d, "return [...document.querySelectorAll('.cp-state-items a')]"
                                  ".map((a) => a.getAttribute('href'))").count(
        f"/preview/course/{name}") == 1, "the list of items to open")
    # The API itself still refuses such a name as malformed.
    assert api.get(path.replace("/preview/", "/api/v1/content/", 1)).status in (400, 404)


def test_token_needed_state_takes_the_documents_place(start_server, browsers, name):
    s = start_server()
    token = srv.create_token(s.data_dir, "alice")
    push_course(Client(s.port, token), "course", name, COURSE)
    b = browsers()
    b.driver.get(preview_url(s, "course", name))
    parts = parts_when(b.driver, "unauthorized")
    assert parts["title"] == "Token needed"
    assert "access_token" in parts["text"] and "contentd token create" in parts["text"]
    assert_no_empty_parts(parts)
    assert_no_violations(b.driver)


# An EventSource that never connects: the browser keeps retrying, as it does
# while a server is unreachable.  (The fallback runs the stream in the page,
# where this replaces the browser's.)
NEVER_CONNECTS = """
window.EventSource = class extends EventTarget {
  static CONNECTING = 0; static OPEN = 1; static CLOSED = 2;
  constructor(url) {
    super();
    this.url = String(url);
    this.readyState = 0;
    this.timer = setInterval(() => this.dispatchEvent(new Event('error')), 200);
  }
  close() { this.readyState = 2; clearInterval(this.timer); }
};
"""


def test_reconnecting_state_takes_the_documents_place(server, api, name, browsers):
    push_course(api, "course", name, COURSE)
    b = browsers(init_scripts=(chrome.NO_SHARED_WORKER, NEVER_CONNECTS))
    b.driver.get(preview_url(server, "course", name))
    parts = parts_when(b.driver, "reconnecting")
    assert parts["title"] == "Connecting…"
    assert "keeps trying" in parts["text"] and f"course/{name}" in parts["text"]
    assert_no_empty_parts(parts)
    assert_no_violations(b.driver)


# --------------------------------------------------------------------------
# A phone

PHONE = (390, 844)

# The bar's box and its displayed parts' boxes, and the page's widths.
BAR_BOXES = """
  const box = (e) => { const r = e.getBoundingClientRect();
                       return {cls: e.className, left: r.left, right: r.right, top: r.top,
                               bottom: r.bottom, height: r.height}; };
  const bar = document.querySelector('.cp-bar');
  const h1 = document.querySelector('.cp-content h1');
  return {
    bar: box(bar),
    parts: [...bar.children].filter((e) => e.getClientRects().length > 0).map(box),
    width: window.innerWidth,
    scrollWidth: document.documentElement.scrollWidth,
    h1top: h1 ? h1.getBoundingClientRect().top : null,
    height: window.innerHeight,
  };"""


def assert_one_row(boxes: dict) -> None:
    bar, parts = boxes["bar"], boxes["parts"]
    assert boxes["width"] == PHONE[0], f"the window is {boxes['width']} px wide"
    assert bar["height"] <= 46, f"the bar is {bar['height']} px high: it wrapped"
    assert boxes["scrollWidth"] <= boxes["width"], "the page scrolls sideways"
    names = [p["cls"] for p in parts]
    assert "cp-item" in names and "cp-conn" in names, names
    for p in parts:
        assert p["top"] >= bar["top"] - 0.5 and p["bottom"] <= bar["bottom"] + 0.5, \
            f"{p['cls']} sticks out of the bar: {p} in {bar}"
        assert p["height"] <= 30, f"{p['cls']} wrapped onto two lines: {p}"
        assert p["left"] >= 0 and p["right"] <= boxes["width"], f"{p['cls']} is cut off: {p}"
    ordered = sorted(parts, key=lambda p: p["left"])
    for a, c in zip(ordered, ordered[1:]):
        assert a["right"] <= c["left"] + 0.5, f"{a['cls']} overlaps {c['cls']}: {a} {c}"


def phone(browsers):
    b = browsers(window=PHONE)
    b.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": PHONE[0], "height": PHONE[1], "deviceScaleFactor": 1, "mobile": True})
    return b


def test_top_bar_stays_one_row_on_a_phone(server, api, name, browsers):
    long_name = (name + "-with-a-name-as-long-as-names-may-be")[:63].rstrip("-")
    push_course(api, "course", long_name, COURSE)
    b = phone(browsers)
    open_preview(b.driver, preview_url(server, "course", long_name))
    boxes = js(b.driver, BAR_BOXES)
    assert_one_row(boxes)
    assert boxes["h1top"] is not None and boxes["h1top"] < boxes["height"] / 2, \
        f"the document starts {boxes['h1top']} px down a {boxes['height']} px screen"
    # A longer state label, on a page with no document.
    b.driver.get(preview_url(server, "course", f"{name}-gone"))
    wait_for(b.driver, lambda d: conn_state(d) == "not-found", "the not-found state")
    assert_one_row(js(b.driver, BAR_BOXES))
    assert_no_violations(b.driver)
