# SPDX-License-Identifier: MIT
"""The author's live preview page (`GET /preview/KIND/NAME[/PATH]`, web/),
in a real browser: headless Chromium driven by selenium.

The page renders the item; a change pushed through the HTTP API reaches it
in place (only the changed blocks replaced), with the heading in view kept
where it was; five tabs share one event stream (counted on /metrics), with
the SharedWorker and with the BroadcastChannel fallback; after contentd
restarts the page reconnects and shows what changed while it was down; a
deleted item says so; a token given as ?access_token= leaves the address
bar but keeps working (also for images and after a reload); and a corpus of
XSS payloads never runs script.  Every page carries probes installed before
its own scripts (helpers/browser.py): no test may end with a
Content-Security-Policy violation reported.

Every wait polls the page (WebDriverWait) with a deadline; nothing sleeps.
The module skips when Chromium, chromedriver or selenium is missing or
Chromium does not start.
"""
from __future__ import annotations

import struct
import zlib
from pathlib import Path
from urllib.parse import quote

import pytest

from helpers import browser as chrome
from helpers import metrics
from helpers import server as srv
from helpers.api import Client, wait_until

DEADLINE = 10.0  # seconds for a change to reach the page
RECONNECT_DEADLINE = 30.0  # the server restarts, the browser retries every 2 s
KEEPALIVE = 15.0  # the server's keep-alive period on idle streams
XSS_DIR = Path(__file__).resolve().parent / "preview_xss"
CORPUS_XSS = Path(__file__).resolve().parent.parent / "corpus" / "xss.md"


def png(width: int, height: int, rgb=(31, 111, 235)) -> bytes:
    """A valid PNG of one colour (the browser must be able to decode it)."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data +
                struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    row = b"\x00" + bytes(rgb) * width
    return (b"\x89PNG\r\n\x1a\n" +
            chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(row * height)) + chunk(b"IEND", b""))


def index_doc(title: str, body: str) -> bytes:
    return f"---\ntitle: {title}\n---\n\n# {title}\n\n{body}\n".encode()


COURSE = {
    "index.md": index_doc("Preview course", """
Intro paragraph with a [lesson link](01-lesson.md#run-it) and an
[external link](https://example.com/page).

![A blue square](images/square.png)

## Setup

- [x] installed
- [ ] configured

::card{title="Hello" featured}
Card body with **bold** text.

#footer
Card footer.
::

Inline :badge{label="new"} component.

## Details

| left | right |
|:-----|------:|
| a    | 1     |
"""),
    "01-lesson.md": b"""---
title: First lesson
---

# First lesson

## Run it

```python [hello.py] {2}
import sys
print("hello")
sys.exit(0)
```
""",
    "images/square.png": png(40, 30),
}


# --------------------------------------------------------------------------
# Fixtures and helpers


@pytest.fixture(scope="module")
def browsers():
    """start(**kw) -> a fresh headless Chromium (own profile); all quit at
    the end of the module.  Skips the module when Chromium cannot start."""
    started = []

    def start(**kw):
        try:
            b = chrome.start(**kw)
        except chrome.BrowserUnavailable as e:
            pytest.skip(f"no headless Chromium: {e}")
        started.append(b)
        return b

    yield start
    for b in started:
        b.quit()


@pytest.fixture(scope="module")
def browser(browsers):
    """One browser shared by the module's simpler tests (one tab each)."""
    return browsers()


@pytest.fixture
def tab(browser):
    """A new tab of the shared browser with the probes installed; closed
    after the test, which must leave no CSP violation and no XSS hit."""
    b = browser
    handle = b.new_tab()
    yield b.driver
    try:
        b.driver.switch_to.window(handle)
        assert_no_violations(b.driver)
    finally:
        if len(b.driver.window_handles) > 1:
            b.driver.close()
            b.driver.switch_to.window(b.driver.window_handles[0])


def preview_url(server, kind, name, path=None, token=None) -> str:
    url = f"{server.base_url}/preview/{kind}/{name}" + (f"/{quote(path)}" if path else "")
    return url + (f"?access_token={token}" if token else "")


def wait_for(driver, cond, what, timeout=DEADLINE):
    from selenium.webdriver.support.ui import WebDriverWait
    return WebDriverWait(driver, timeout, poll_frequency=0.02).until(
        lambda d: cond(d), message=f"timed out after {timeout} s waiting for {what}")


def js(driver, script, *args):
    return driver.execute_script(script, *args)


def conn_state(driver) -> str:
    return js(driver, "return document.querySelector('.cp-conn').getAttribute('data-state')")


def version(driver) -> int:
    v = js(driver, "return document.querySelector('.cp-version').getAttribute('data-version')")
    return int(v) if v is not None else -1


def content_text(driver) -> str:
    return js(driver, "return document.querySelector('.cp-content').textContent")


def open_preview(driver, url, want_version=None):
    """Loads the page and waits until it is live and shows a document (of
    version want_version, when given)."""
    driver.get(url)
    wait_for(driver, lambda d: conn_state(d) == "live", "the page to go live")
    wait_for(driver, lambda d: version(d) >= (want_version or 1), "the item's document")


def wait_text(driver, text, timeout=DEADLINE):
    wait_for(driver, lambda d: text in content_text(d), f"{text!r} on the page", timeout)


def assert_no_violations(driver):
    v = js(driver, "return window.__cspViolations || []")
    hits = js(driver, "return window.__xssHits || []")
    assert not hits, f"script ran in the page: {hits}"
    assert not v, f"Content-Security-Policy violations: {v}"


def item_subscribers(server) -> float:
    r = Client(server.port).get("/metrics")
    assert r.status == 200, r
    samples, _ = metrics.parse(r.body.decode())
    return metrics.total(samples, "contentd_sse_subscribers", stream="item")


def push_course(api, kind, name, files):
    if api.item(kind, name).status == 404:
        api.create_ok(kind, name)
    return api.push_ok(kind, name, files)


# --------------------------------------------------------------------------
# Serving


def test_shell_and_assets_carry_a_strict_policy(server, api, name):
    push_course(api, "course", name, COURSE)
    csp = None
    for path in (f"/preview/course/{name}", f"/preview/course/{name}/01-lesson.md",
                 "/preview/_assets/main.js", "/preview/_assets/worker.js",
                 "/preview/_assets/preview.css"):
        r = api.get(path)
        assert r.status == 200, f"{path}: {r!r}"
        assert r.header("X-Content-Type-Options") == "nosniff", path
        csp = r.header("Content-Security-Policy") or ""
        for directive in ("default-src 'self'", "script-src 'self'", "style-src 'self'",
                          "img-src 'self' data:", "connect-src 'self'", "worker-src 'self'",
                          "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"):
            assert directive in csp, f"{path}: {directive!r} missing from {csp!r}"
        assert "unsafe" not in csp, csp
    assert api.get("/preview/_assets/main.js").media_type == "text/javascript"
    assert api.get("/preview/_assets/preview.css").media_type == "text/css"
    shell = api.get(f"/preview/course/{name}").body.decode()
    assert "<script" in shell and "<script>" not in shell, "the shell must have no inline script"
    assert "<style" not in shell and "style=" not in shell, "the shell must have no inline style"
    etag = api.get("/preview/_assets/main.js").header("ETag")
    assert api.get("/preview/_assets/main.js", {"If-None-Match": etag}).status == 304
    assert api.get("/preview/_assets/nope.js").status == 404
    assert api.get(f"/preview/course/{name}-x").status == 404


# --------------------------------------------------------------------------
# Rendering


def test_page_renders_the_item(server, api, name, tab):
    push_course(api, "course", name, COURSE)
    open_preview(tab, preview_url(server, "course", name))
    page = js(tab, """
      const q = (s) => document.querySelector(s);
      const all = (s) => [...document.querySelectorAll(s)];
      const img = q('.cp-content img');
      return {
        h1: q('.cp-content h1').textContent,
        title: document.title,
        docs: all('.cp-doc-link .cp-doc-path').map((e) => e.textContent),
        current: q('.cp-doc-link[aria-current=page] .cp-doc-path').textContent,
        toc: all('.cp-toc a').map((a) => [a.textContent, a.getAttribute('href')]),
        tasks: all('.cp-content input[type=checkbox]').map((i) => [i.checked, i.disabled]),
        comps: all('.cp-content .cp-comp-name').map((e) => e.textContent),
        props: all('.cp-content .cp-comp-prop').map((e) => e.textContent),
        slots: all('.cp-content .cp-slot-name').map((e) => e.textContent),
        inline: all('.cp-content .cp-comp-inline .cp-comp-name').map((e) => e.textContent),
        align: all('.cp-content td').map((e) => e.getAttribute('align')),
        img: img && {src: img.getAttribute('src'), alt: img.alt, w: img.naturalWidth,
                     complete: img.complete},
        lesson: q('.cp-content a[data-cp-doc]').getAttribute('href'),
        external: [...all('.cp-content a')].filter((a) => a.href.startsWith('https://'))
                    .map((a) => [a.getAttribute('target'), a.getAttribute('rel')]),
        meta: all('.cp-data dt').map((e) => e.textContent),
      };""")
    assert page["h1"] == "Preview course"
    assert page["title"].startswith("Preview course")
    assert page["docs"] == ["index.md", "01-lesson.md"], "index.md first, then the lessons"
    assert page["current"] == "index.md"
    assert ["Setup", "#setup"] in page["toc"] and ["Details", "#details"] in page["toc"]
    assert page["tasks"] == [[True, True], [False, True]]
    assert page["comps"] == ["card", "badge"]
    assert any(p.startswith("title") and "Hello" in p for p in page["props"]), page["props"]
    assert page["slots"] == ["#footer"]
    assert page["inline"] == ["badge"]
    assert page["align"] == ["left", "right"]
    assert page["img"]["src"].startswith(f"/api/v1/content/course/{name}/files/images/square.png")
    assert page["img"]["alt"] == "A blue square"
    wait_for(tab, lambda d: js(d, "const i = document.querySelector('.cp-content img');"
                                  "return i.complete && i.naturalWidth === 40"), "the image to load")
    assert page["lesson"] == f"/preview/course/{name}/01-lesson.md#run-it"
    assert page["external"] == [["_blank", "noopener noreferrer nofollow"]]
    assert "title" in page["meta"]


def test_sidebar_and_links_navigate_without_a_reload(server, api, name, tab):
    push_course(api, "course", name, COURSE)
    open_preview(tab, preview_url(server, "course", name))
    js(tab, "window.__sameDocument = 'yes'")
    tab.find_element("css selector", ".cp-content a[data-cp-doc]").click()
    wait_for(tab, lambda d: "First lesson" in content_text(d), "the lesson")
    code = js(tab, """
      const fig = document.querySelector('.cp-content .cp-code');
      return {file: fig.querySelector('.cp-code-file').textContent,
              lang: fig.querySelector('.cp-code-lang').textContent,
              lines: [...fig.querySelectorAll('.cp-line')].map((l) => [l.textContent,
                       l.classList.contains('cp-hl')]),
              path: location.pathname, hash: location.hash, same: window.__sameDocument};""")
    assert code["same"] == "yes", "following a link to a document reloaded the page"
    assert code["path"] == f"/preview/course/{name}/01-lesson.md" and code["hash"] == "#run-it"
    assert code["file"] == "hello.py" and code["lang"] == "python"
    assert code["lines"] == [["import sys", False], ['print("hello")', True], ["sys.exit(0)", False]]
    tab.back()
    wait_for(tab, lambda d: "Intro paragraph" in content_text(d), "the index after Back")
    assert js(tab, "return window.__sameDocument") == "yes"


# --------------------------------------------------------------------------
# Live updates


def test_pushed_change_patches_the_page_in_place(server, api, name, tab):
    push_course(api, "course", name, COURSE)
    v = api.item_ok("course", name)["version"]
    open_preview(tab, preview_url(server, "course", name), v)
    js(tab, "window.__keep = document.querySelector('.cp-content h1');"
            "window.__keepTable = document.querySelector('.cp-content table');")
    files = dict(COURSE)
    files["index.md"] = COURSE["index.md"].replace(b"Intro paragraph", b"Edited intro paragraph")
    api.push_ok("course", name, files)
    wait_text(tab, "Edited intro paragraph")
    after = js(tab, """
      const p = [...document.querySelectorAll('.cp-content p')]
        .find((e) => e.textContent.startsWith('Edited intro'));
      return {h1: window.__keep === document.querySelector('.cp-content h1'),
              table: window.__keepTable === document.querySelector('.cp-content table'),
              changed: p.classList.contains('cp-changed'),
              version: document.querySelector('.cp-version').getAttribute('data-version')};""")
    assert after["h1"] and after["table"], "unchanged blocks must keep their DOM nodes"
    assert after["changed"], "the changed block is highlighted"
    assert int(after["version"]) == v + 1
    # A change to another document marks it in the sidebar, not in the text.
    files["01-lesson.md"] = COURSE["01-lesson.md"].replace(b"Run it", b"Run it now")
    api.push_ok("course", name, files)
    wait_for(tab, lambda d: js(d, "return !!document.querySelector('.cp-doc-changed')"),
             "the sidebar to mark the changed lesson")
    assert_no_violations(tab)


def test_a_patched_page_is_at_rest_while_its_marks_hold(server, api, name, tab):
    """The highlight of a change is a static mark, not an animation: a page
    with a running animation is drawn at every frame, so the next save's
    patch waits for a frame before it is painted.  Only the short fade at
    the end of a mark runs as a transition; then the page is at rest again."""
    push_course(api, "course", name, COURSE)
    v = api.item_ok("course", name)["version"]
    open_preview(tab, preview_url(server, "course", name), v)
    files = dict(COURSE)
    files["index.md"] = COURSE["index.md"].replace(b"Intro paragraph", b"Marked intro paragraph")
    api.push_ok("course", name, files)
    wait_text(tab, "Marked intro paragraph")
    state = js(tab, """
      const p = [...document.querySelectorAll('.cp-content p')]
        .find((e) => e.textContent.startsWith('Marked intro'));
      return {marked: p.classList.contains('cp-changed'),
              version: document.querySelector('.cp-version').classList.contains('cp-changed'),
              running: document.getAnimations().map((a) => a.animationName || a.transitionProperty)};""")
    assert state["marked"] and state["version"], "the changed block and the version are marked"
    assert state["running"] == [], f"nothing animates while the marks hold: {state['running']}"
    wait_for(tab, lambda d: js(d, "return !document.querySelector('.cp-changed, .cp-removed-above')"
                                  " && document.getAnimations().length === 0"),
             "the marks to fade and the page to be at rest", timeout=10)
    assert js(tab, "return document.querySelectorAll('.cp-changed-fade').length") == 2
    assert_no_violations(tab)


def test_scroll_position_is_kept_across_an_update(server, api, name, tab):
    sections = "\n".join(f"## Section {i}\n\n" + "Filler text of the section. " * 40 + "\n"
                         for i in range(1, 41))
    files = {"index.md": index_doc("Long document", sections)}
    push_course(api, "tutorial", name, files)
    open_preview(tab, preview_url(server, "tutorial", name))
    top = js(tab, """
      const h = document.getElementById('section-25');
      window.scrollTo(0, h.getBoundingClientRect().top + window.scrollY - 200);
      return h.getBoundingClientRect().top;""")
    assert 150 < top < 250, top
    inserted = "\n".join(f"Inserted paragraph {i}. " + "More words. " * 30 for i in range(30))
    files["index.md"] = index_doc("Long document", inserted + "\n\n" + sections)
    api.push_ok("tutorial", name, files)
    wait_text(tab, "Inserted paragraph 29")
    now = js(tab, "return document.getElementById('section-25').getBoundingClientRect().top")
    assert abs(now - top) <= 2, f"the heading in view moved from {top} to {now} px"
    # A change below the reader does not move them either.
    files["index.md"] = index_doc("Long document", inserted + "\n\n" + sections + "\nThe end.\n")
    api.push_ok("tutorial", name, files)
    wait_text(tab, "The end.")
    again = js(tab, "return document.getElementById('section-25').getBoundingClientRect().top")
    assert abs(again - top) <= 2, f"the heading in view moved from {top} to {again} px"


def test_deleted_item_says_so(server, api, name, tab):
    push_course(api, "tutorial", name, {"index.md": index_doc("Soon gone", "Text.")})
    open_preview(tab, preview_url(server, "tutorial", name))
    assert api.delete(f"/api/v1/content/tutorial/{name}").status == 204
    wait_for(tab, lambda d: conn_state(d) == "deleted", "the page to say deleted")
    banner = js(tab, "const b = document.querySelector('.cp-banner');"
                     "return b.hidden ? '' : b.textContent")
    assert "deleted" in banner
    assert "Text." in content_text(tab), "the last version stays readable"


# --------------------------------------------------------------------------
# One stream per browser


def open_tabs(b, url, n, init_scripts=()):
    handles = []
    for _ in range(n):
        handles.append(b.new_tab(init_scripts))
        open_preview(b.driver, url)
    return handles


def each_tab(b, handles, check, what):
    for h in handles:
        b.driver.switch_to.window(h)
        wait_for(b.driver, check, what)


@pytest.mark.parametrize("mode", ["shared-worker", "broadcast-locks", "broadcast-lease"])
def test_five_tabs_share_one_event_stream(start_server, browsers, name, mode):
    s = start_server()
    api = Client(s.port)
    push_course(api, "course", name, COURSE)
    scripts = {"shared-worker": (), "broadcast-locks": (chrome.NO_SHARED_WORKER,),
               "broadcast-lease": (chrome.NO_SHARED_WORKER, chrome.NO_LOCKS)}[mode]
    b = browsers()
    url = preview_url(s, "course", name)
    tabs = open_tabs(b, url, 5, scripts)
    for h in tabs:
        b.driver.switch_to.window(h)
        got = js(b.driver, "return document.querySelector('.cp-conn').getAttribute('data-transport')")
        assert got == mode
    wait_until(lambda: item_subscribers(s) == 1, DEADLINE, "one event stream for five tabs")
    assert item_subscribers(s) == 1
    files = dict(COURSE)
    files["index.md"] = COURSE["index.md"].replace(b"Intro paragraph", b"Seen by every tab")
    api.push_ok("course", name, files)
    each_tab(b, tabs, lambda d: "Seen by every tab" in content_text(d), "the change in every tab")
    # The tab that holds the stream goes (the first one, for the fallback);
    # another takes over and the remaining tabs still follow the item.
    b.driver.switch_to.window(tabs[0])
    b.driver.close()
    rest = tabs[1:]
    b.driver.switch_to.window(rest[0])
    files["index.md"] = COURSE["index.md"].replace(b"Intro paragraph", b"After the first tab left")
    api.push_ok("course", name, files)
    each_tab(b, rest, lambda d: "After the first tab left" in content_text(d),
             "the change after the first tab left")
    # With the fallback the leader's stream went with its tab and a new
    # leader opened one.  The server counts a closed stream until its next
    # write fails (the keep-alive, at most 15 s later), so the gauge may read
    # 2 for that long.
    wait_until(lambda: item_subscribers(s) == 1, KEEPALIVE + DEADLINE,
               "one stream once the closed one is noticed")
    for h in rest:
        b.driver.switch_to.window(h)
        assert_no_violations(b.driver)


# --------------------------------------------------------------------------
# Reconnection


def test_restart_reconnects_and_shows_edits_made_while_down(start_server, browsers, name):
    s = start_server()
    api = Client(s.port)
    files = {"index.md": index_doc("Restart", "Before the restart.\n\n## Kept\n\nKept text.")}
    push_course(api, "tutorial", name, files)
    b = browsers()
    b.new_tab()
    d = b.driver
    open_preview(d, preview_url(s, "tutorial", name))
    js(d, "window.__kept = document.getElementById('kept')")
    s.stop()
    wait_for(d, lambda d: conn_state(d) in ("reconnecting", "offline"), "the page to notice")
    # While the page's server is down, another contentd on the same data
    # folder takes an edit; then the first one comes back on its port.
    other = start_server(data_dir=s.data_dir)
    files["index.md"] = index_doc("Restart", "Edited while the page was disconnected.\n\n"
                                             "## Kept\n\nKept text.")
    Client(other.port).push_ok("tutorial", name, files)
    other.stop()
    back = start_server(data_dir=s.data_dir, port=s.port)
    assert back.port == s.port
    wait_text(d, "Edited while the page was disconnected.", RECONNECT_DEADLINE)
    wait_for(d, lambda d: conn_state(d) == "live", "the page to be live again")
    assert js(d, "return window.__kept === document.getElementById('kept')"), \
        "catching up must patch the page, not rebuild it"
    assert version(d) == 2
    assert_no_violations(d)


# --------------------------------------------------------------------------
# Tokens


def test_access_token_leaves_the_address_bar_and_keeps_working(start_server, browsers, name):
    s = start_server()
    token = srv.create_token(s.data_dir, "alice")
    api = Client(s.port, token)
    push_course(api, "course", name, COURSE)
    bare = Client(s.port).get(f"/preview/course/{name}")
    assert bare.status == 401 and bare.media_type == "text/html", \
        "without a token the shell still comes, with 401, so that a reload can start"
    assert Client(s.port).get(f"/preview/course/{name}?access_token=wrong").status == 401
    b = browsers()
    d = b.driver
    open_preview(d, preview_url(s, "course", name, token=token))
    assert "access_token" not in d.current_url
    assert d.current_url == preview_url(s, "course", name)
    wait_for(d, lambda d: js(d, "const i = document.querySelector('.cp-content img');"
                                "return i.complete && i.naturalWidth === 40"),
             "the image, fetched with ?access_token=")
    # A reload presents no token; the page finds it in the tab's session.
    d.refresh()
    wait_for(d, lambda d: conn_state(d) == "live" and "Intro paragraph" in content_text(d),
             "the page after a reload")
    files = dict(COURSE)
    files["index.md"] = COURSE["index.md"].replace(b"Intro paragraph", b"Token still works")
    api.push_ok("course", name, files)
    wait_text(d, "Token still works")
    assert_no_violations(d)
    # Another browser, no token: the page says what is missing.
    other = browsers()
    other.driver.get(preview_url(s, "course", name))
    wait_for(other.driver, lambda d: conn_state(d) == "unauthorized", "the page to ask for a token")
    # (No document on screen: the page says so in the document's place.)
    assert "token" in content_text(other.driver)


# --------------------------------------------------------------------------
# Safety

FORBIDDEN = "script, iframe, frame, frameset, object, embed, applet, base, meta, link, style, portal"


def dom_problems(driver) -> list:
    return js(driver, """
      const out = [];
      for (const e of document.body.querySelectorAll(arguments[0])) out.push('element ' + e.tagName);
      for (const e of document.querySelectorAll('*')) {
        for (const a of e.attributes) {
          if (/^on/i.test(a.name)) out.push(e.tagName + ' has ' + a.name);
          if (a.name === 'style' || a.name === 'srcdoc' || a.name === 'formaction')
            out.push(e.tagName + ' has ' + a.name);
          if (/^(href|src|action|poster|xlink:href|srcset)$/i.test(a.name)) {
            const v = a.value.replace(/[\\u0000-\\u0020]/g, '').toLowerCase();
            if (/^(javascript|vbscript|livescript):/.test(v) ||
                (v.startsWith('data:') && !(e.tagName === 'IMG' && v.startsWith('data:image/'))))
              out.push(e.tagName + ' ' + a.name + '=' + a.value);
          }
        }
      }
      for (const e of document.querySelectorAll('.cp-content :is(.cp-bar, .cp-conn, .cp-banner)'))
        out.push('content borrowed a class of the page: ' + e.className);
      return out;""", FORBIDDEN)


def xss_item() -> dict:
    files = {p.name: p.read_bytes() for p in XSS_DIR.glob("*.md") if p.name != "README.md"}
    files["corpus-xss.md"] = CORPUS_XSS.read_bytes()
    files["<img src=x onerror=window.__xss='filename'>.md"] = (
        b"---\ntitle: \"<svg onload=window.__xss='doc-title'>\"\n---\n\n# Named payload\n")
    return files


def check_page_is_inert(driver, url_before):
    # Let every image settle (an onerror payload would fire on a broken one).
    wait_for(driver, lambda d: js(d, "return [...document.images].every((i) => i.complete)"),
             "the images to load or fail")
    assert dom_problems(driver) == []
    assert driver.current_url == url_before, "a payload navigated the page"
    assert_no_violations(driver)


def test_xss_corpus_never_runs_script(start_server, browsers, name):
    s = start_server()
    api = Client(s.port)
    files = xss_item()
    docs = sorted(p for p in files if p.endswith(".md"))
    # First as an update of a harmless page (the patch path) ...
    push_course(api, "tutorial", name, {"index.md": index_doc("Harmless", "Nothing here.")})
    b = browsers()
    d = b.driver
    url = preview_url(s, "tutorial", name)
    open_preview(d, url)
    api.push_ok("tutorial", name, files)
    wait_text(d, "Markdown payloads")
    check_page_is_inert(d, url)
    # ... then every document from a fresh load (the snapshot path), moving
    # between them through the sidebar as an author would.
    for path in docs:
        doc_url = preview_url(s, "tutorial", name, None if path == "index.md" else path)
        b.new_tab()
        d.get(doc_url)
        wait_for(d, lambda d: conn_state(d) == "live" and version(d) == 2, f"{path} to load")
        wait_for(d, lambda d: js(d, "return document.querySelector('.cp-content h1') !== null"),
                 f"{path} to render")
        check_page_is_inert(d, d.current_url)
    # The sidebar shows the hostile file name and titles as text.
    titles = js(d, "return [...document.querySelectorAll('.cp-doc-link')].map((a) => a.textContent)")
    assert any("onerror=window.__xss='filename'" in t for t in titles), titles
    assert js(d, "return document.querySelectorAll('.cp-docs img, .cp-docs svg').length") == 0


def el(tag, props=None, *children):
    return {"type": "element", "tag": tag, "props": props or {}, "children": list(children)}


def txt(value):
    return {"type": "text", "value": value}


JS_URLS = ["javascript:window.__xss='a'", " JaVaScRiPt:window.__xss='b'", "java\tscript:window.__xss='c'",
           "\u0001javascript:window.__xss='d'", "vbscript:msgbox(1)", "livescript:x",
           "data:text/html,<script>top.__xss='e'</script>", "DATA:text/html;base64,PHNjcmlwdD4="]

# Trees the server never sends (its allow-list removes all of this): the
# page must be safe on its own.
HOSTILE_AST = [
    el("script", {}, txt("window.__xss='script'")),
    el("iframe", {"src": "javascript:top.__xss='iframe'", "srcdoc": "<script>parent.__xss=1</script>"}),
    el("object", {"data": "javascript:window.__xss='object'"}),
    el("embed", {"src": "javascript:window.__xss='embed'"}),
    el("style", {}, txt("body{display:none}")),
    el("base", {"href": "https://evil.example.com/"}),
    el("meta", {"httpEquiv": "refresh", "content": "0;url=/away"}),
    el("link", {"rel": ["stylesheet"], "href": "https://evil.example.com/x.css"}),
    el("img", {"src": "x", "onError": "window.__xss='img'", "onerror": "window.__xss='img2'",
               "style": "x", "name": "createElement", "srcset": "javascript:x 1x"}),
    el("p", {"onClick": "window.__xss='p'", "onmouseover": "window.__xss='p2'", "style": "color:red",
             "className": ["cp-bar", "ok"], "dataCpDoc": "index.md", "formAction": "javascript:x"},
       txt("paragraph")),
    el("form", {"action": "javascript:window.__xss='form'"},
       el("button", {"formAction": "javascript:window.__xss='button'", "type": "submit"}, txt("go"))),
    el("input", {"type": "text", "autoFocus": True, "onFocus": "window.__xss='input'"}),
    el("details", {"open": True, "onToggle": "window.__xss='details'"}, txt("d")),
    el("video", {"src": "javascript:x", "poster": "javascript:y", "onError": "window.__xss='video'"},
       el("source", {"src": "javascript:z"})),
    el("svg", {"onLoad": "window.__xss='svg'", "viewBox": "0 0 10 10"},
       el("script", {}, txt("window.__xss='svg-script'")),
       el("a", {"href": "javascript:window.__xss='svg-a'", "xlinkHref": "javascript:x"}, txt("a")),
       el("animate", {"attributeName": "href", "to": "javascript:window.__xss='animate'"}),
       el("foreignObject", {}, el("img", {"src": "x", "onerror": "window.__xss='foreign'"})),
       el("use", {"href": "data:image/svg+xml,<svg onload='top.__xss=1'/>#x"}),
       el("circle", {"r": 5, "onClick": "window.__xss='circle'", "fill": "url(javascript:x)"})),
    el("card", {"onclick": "window.__xss='comp'", "href": "javascript:x", ":onload": "window.__xss=1"},
       el("template", {"v-slot:footer": ""}, el("img", {"src": "x", "onerror": "window.__xss='slot'"}))),
    # The components with a look of their own (web/components.js).
    el("tabs", {"onclick": "window.__xss='tabs'"},
       el("tabs-item", {"label": "<img src=x onerror=\"window.__xss='label'\">",
                        "onClick": "window.__xss='tab'"},
          el("a", {"href": "javascript:window.__xss='tab-a'"}, txt("tab link"))),
       el("template", {"v-slot:<img src=x onerror=window.__xss=1>": ""}, txt("slot tab"))),
    el("code-group", {},
       el("pre", {"code": "x\n", "filename": "<script>window.__xss='file'</script>",
                  "language": "js", "onmouseover": "window.__xss='pre'"})),
    el("callout", {"title": "<img src=x onerror=window.__xss='title'>", "className": ["cp-bar"],
                   "color": "javascript:x"}, txt("callout")),
    el("collapsible", {"summary": "<b onclick=window.__xss=1>s</b>", "open": "javascript:x"},
       el("template", {"#summary": ""}, el("img", {"src": "x", "onerror": "window.__xss='sum'"}))),
    *[el("a", {"href": u}, txt("link " + str(i))) for i, u in enumerate(JS_URLS)],
    *[el("img", {"src": u, "alt": "img " + str(i)}) for i, u in enumerate(JS_URLS)],
    el("a", {"href": "https://example.com/", "target": "_self", "rel": ["opener"], "ping": "/p"},
       txt("external")),
    el("img", {"src": "data:image/png;base64,iVBORw0KGgo=", "alt": "data image is allowed"}),
]


def test_renderer_is_safe_without_the_servers_allow_list(server, api, name, tab):
    push_course(api, "tutorial", name, {"index.md": index_doc("Renderer", "Text.")})
    open_preview(tab, preview_url(server, "tutorial", name))
    url = tab.current_url
    out = tab.execute_async_script("""
      const [nodes, done] = arguments;
      import('/preview/_assets/render.js').then((m) => {
        const ctx = {item: {kind: 'tutorial', name: 'x'}, docPath: 'index.md', token: '',
                     docs: new Set(['index.md']), files: new Map(), images: new WeakMap()};
        const box = document.querySelector('.cp-content');
        for (const n of nodes) box.append(m.renderBlock(n, ctx));
        done({links: [...box.querySelectorAll('a')].map((a) => [a.getAttribute('href'),
                a.getAttribute('target'), a.getAttribute('rel'), a.getAttribute('ping')]),
              imgs: [...box.querySelectorAll('img')].map((i) => i.getAttribute('src')),
              comps: [...box.querySelectorAll('.cp-comp-name')].map((e) => e.textContent),
              p: box.querySelector('p:last-of-type') && null});
      }).catch((e) => done({error: String(e)}));""", HOSTILE_AST)
    assert "error" not in out, out
    check_page_is_inert(tab, url)
    hrefs = [h for h, _, _, _ in out["links"] if h]
    assert hrefs == ["https://example.com/"], hrefs
    assert [l for l in out["links"] if l[0]] == [
        ["https://example.com/", "_blank", "noopener noreferrer", None]]
    assert [s for s in out["imgs"] if s and not s.startswith("/api/")] == [
        "data:image/png;base64,iVBORw0KGgo="]
    # Tags the page does not know are shown as component boxes, not created.
    for tag in ("script", "iframe", "object", "embed", "style", "base", "meta", "link", "form", "card"):
        assert tag in out["comps"], (tag, out["comps"])
    assert js(tab, "return document.querySelector('.cp-content [data-cp-doc=\"index.md\"]')") is None


def test_a_share_link_shows_its_version_without_an_account(start_server, browsers, name):
    """A share link (docs/review.md) opens the preview of its version in a
    browser with no token: the address bar loses the secret, the image
    loads through it, a later push changes nothing on the page, and once the
    link is revoked the page loses its stream and says "not found" (while
    still showing what it had)."""
    s = start_server()
    token = srv.create_token(s.data_dir, "alice")
    api = Client(s.port, token)
    push_course(api, "course", name, COURSE)
    base = f"/api/v1/content/course/{name}"
    link = api.post(f"{base}/links", {"version": 1, "expires_in": 600}).json()
    d = browsers().driver
    open_preview(d, f"{s.base_url}/preview/course/{name}?link={link['token']}")
    assert "link=" not in d.current_url and link["token"] not in d.current_url
    wait_for(d, lambda d: js(d, "const i = document.querySelector('.cp-content img');"
                                "return i.complete && i.naturalWidth === 40"),
             "the image, fetched with the link")
    wait_text(d, "Intro paragraph")
    files = dict(COURSE)
    files["index.md"] = COURSE["index.md"].replace(b"Intro paragraph", b"A later draft")
    api.push_ok("course", name, files)
    # the owner's page gets the draft; by then the link's page would have too
    owner = browsers().driver
    open_preview(owner, preview_url(s, "course", name, token=token))
    wait_text(owner, "A later draft")
    assert "Intro paragraph" in content_text(d) and "A later draft" not in content_text(d)
    assert api.delete(f"{base}/links/{link['id']}").status == 204
    # The page asks why its stream ended with the link itself, which may
    # read no item endpoint: the answer is "not found", not "token needed".
    wait_for(d, lambda d: conn_state(d) == "not-found", "the revoked link's page to say not found",
             timeout=RECONNECT_DEADLINE)
    banner = js(d, "const b = document.querySelector('.cp-banner');"
                   "return b && !b.hidden ? [b.getAttribute('data-kind'), b.textContent] : null")
    assert banner and banner[0] == "not-found", banner
    assert "Intro paragraph" in content_text(d)
    assert_no_violations(d)
