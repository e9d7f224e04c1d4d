# SPDX-License-Identifier: MIT
"""The preview page of a big course in headless Chromium: a generated
course (300 lessons here; the 2,000-lesson figure is in bench/preview) opens
on one lesson, which the page asked for alone in full (the others are stubs
in its stream: ?documents=), keeps a sidebar of every lesson, follows a link
to a lesson it only had a stub of by fetching that lesson's AST, and
patches only what a push changed: the changed block of the lesson shown,
and the sidebar entry of another lesson that changed.  Its event stream is
gzip-encoded (Chromium asks for it), and its EventSource reads it.

Every wait polls with a deadline; the module skips without Chromium."""
from __future__ import annotations

import re

import pytest

from helpers import browser as chrome
from helpers.api import Client, wait_until
from helpers.sample import course, course_lesson

DEADLINE = 20.0
LESSONS = 300

# Records the URL of every EventSource the page opens (in the tab: with the
# BroadcastChannel fallback the stream is the tab's own).
RECORD_EVENTSOURCE = r"""
(() => {
  const ES = window.EventSource;
  const urls = [];
  Object.defineProperty(window, '__esUrls', {value: urls});
  window.EventSource = class extends ES {
    constructor(u, o) { super(u, o); urls.push(String(u)); }
  };
})();
"""


@pytest.fixture(scope="module")
def big(server):
    api = Client(server.port)
    name = "big-course-preview"
    files = course("course", name, LESSONS, assets_per_lesson=2)
    api.create_ok("course", name)
    api.push_ok("course", name, files)
    return name, files


@pytest.fixture(scope="module")
def browser():
    try:
        b = chrome.start(init_scripts=(chrome.NO_SHARED_WORKER, RECORD_EVENTSOURCE))
    except chrome.BrowserUnavailable as e:
        pytest.skip(f"no headless Chromium: {e}")
    yield b
    b.quit()


def js(d, script, *args):
    return d.execute_script(script, *args)


def wait_for(driver, cond, what, timeout=DEADLINE):
    from selenium.webdriver.support.ui import WebDriverWait
    return WebDriverWait(driver, timeout, poll_frequency=0.02).until(
        lambda d: cond(d), message=f"timed out after {timeout} s waiting for {what}")


def h1(d):
    return js(d, "const e = document.querySelector('.cp-content h1'); return e && e.textContent")


def test_big_course_opens_one_lesson_and_patches_only_what_changed(server, big, browser):
    name, files = big
    api = Client(server.port)
    d = browser.driver
    d.get(f"{server.base_url}/preview/course/{name}/lessons/0150.md")
    wait_for(d, lambda d: h1(d) == "Lesson 150", "lesson 150 on the page")
    # The sidebar lists every document, with the titles of the stubs.
    side = js(d, "return [...document.querySelectorAll('.cp-doc-link')].map("
                 "(a) => [a.getAttribute('data-cp-doc'), a.querySelector('.cp-doc-title').textContent])")
    assert len(side) == LESSONS + 1
    assert dict(side)["lessons/0007.md"] == "Lesson 7 v1"
    # The stream asked for the lesson alone in full.
    urls = js(d, "return window.__esUrls")
    assert urls and all("documents=lessons%2F0150.md" in u for u in urls), urls
    wait_for(d, lambda d: js(d, "return document.querySelector('.cp-conn').dataset.state") == "live",
             "the stream to be live")
    # A push of the lesson shown patches its changed block only; another
    # lesson's change redraws its sidebar entry only.
    js(d, "window.__h1 = document.querySelector('.cp-content h1');"
          "window.__li = [...document.querySelectorAll('.cp-doc-list li')];")
    files["lessons/0150.md"] = course_lesson(150).replace(b"# Lesson 150\n", b"# Lesson 150\n\nA new paragraph.\n")
    files["lessons/0009.md"] = course_lesson(9, version=2)
    api.push_ok("course", name, files)
    wait_for(d, lambda d: "A new paragraph." in js(d, "return document.querySelector('.cp-content').textContent"),
             "the edit on the page")
    kept = js(d, """
      const li = [...document.querySelectorAll('.cp-doc-list li')];
      const same = li.filter((e, i) => e === window.__li[i]).length;
      const nine = li.find((e) => e.querySelector('[data-cp-doc="lessons/0009.md"]'));
      return {h1: window.__h1 === document.querySelector('.cp-content h1'), same, n: li.length,
              nine: nine.textContent, nineNew: !window.__li.includes(nine)};""")
    assert kept["h1"], "the unchanged heading keeps its DOM node"
    assert kept["n"] == LESSONS + 1
    assert kept["same"] == LESSONS, "every sidebar entry but the changed lesson's is kept"
    assert kept["nineNew"] and "Lesson 9 v2" in kept["nine"] and "updated" in kept["nine"]
    # A link to a lesson the page has as a stub: its AST is fetched.
    js(d, "document.querySelector('[data-cp-doc=\"lessons/0009.md\"]').click()")
    wait_for(d, lambda d: h1(d) == "Lesson 9", "lesson 9 after the click")
    assert "echo 9-1-2" in js(d, "return document.querySelector('.cp-content').textContent")
    # The page's stream was gzip-encoded: its log line says so once it ends
    # (the page goes; the next event finds the connection closed).
    d.get("about:blank")
    line = re.compile(rf"path=/api/v1/content/course/{name}/events status=200 .*enc=gzip")
    for i in (10, 11):  # the first write may still be taken by the socket
        files[f"lessons/{i:04d}.md"] = course_lesson(i, version=2)
        api.push_ok("course", name, files)
    wait_until(lambda: line.search(server.log_path.read_text(errors="replace")), DEADLINE,
               "the log line of the page's gzip event stream")
