# SPDX-License-Identifier: MIT
"""The MDC components authors use most, in the preview page (headless
Chromium; the fixtures and helpers of test_preview.py): callouts (note, tip,
warning, caution, important, alert and callout with a type or colour),
collapsibles (collapsible, details with a summary prop), tabs and code
groups get a readable look of their own, and their tabs switch in the page,
with the mouse and the keyboard, and stay chosen across a patch; every
other component stays a labelled box.  The page keeps its policy: no
Content-Security-Policy violation (checked after each test), and its
scripts never parse HTML.
"""
from __future__ import annotations

import re
from pathlib import Path

from test_preview import (browser, browsers, content_text, index_doc, js, open_preview,  # noqa: F401
                          preview_url, push_course, tab, wait_for, wait_text)

WEB = Path(__file__).resolve().parents[2] / "web"

BODY = """
::note
A plain note.
::

::alert{type="warning"}
An alert of type warning.
::

::callout{color="error"}
#title
Slot **title**
#default
Callout body.
::

::tip
A tip.
::

::caution
Careful.
::

::important
Important words.
::

::collapsible{name="the answer"}
Hidden text.
::

::details{summary="More"}
Inside details.
::

::tabs
:::tabs-item{label="npm"}
npm install
:::
:::tabs-item{label="yarn"}
yarn add
:::
::

::code-group
```bash [npm]
npm i
```
```bash [pnpm]
pnpm i
```
::

::quiz{question="Which one?"}
Quiz body.
::
"""

CALLOUTS = """
  return [...document.querySelectorAll('.cp-content .cp-callout')].map((c) => {
    const s = getComputedStyle(c);
    return {cls: c.className, role: c.getAttribute('role'),
            title: c.querySelector('.cp-callout-title').textContent,
            name: c.querySelector('.cp-known-name').textContent,
            body: c.querySelector('.cp-callout-body').textContent.trim(),
            edge: s.borderLeftColor, style: s.borderLeftStyle, bg: s.backgroundColor};
  });"""


def visible(driver, text: str) -> bool:
    """Whether an element of the document whose own text is `text` is displayed
    (checkVisibility: also false inside a closed details element)."""
    return js(driver, """
      const want = arguments[0];
      const all = [...document.querySelectorAll('.cp-content *')];
      const el = all.find((e) => [...e.childNodes].some((c) => c.nodeType === 3 && c.textContent.trim() === want));
      return !!el && el.checkVisibility({visibilityProperty: true}) && el.getClientRects().length > 0;""",
              text)


def tab_state(driver, strip: int) -> list:
    return js(driver, """
      const strip = document.querySelectorAll('.cp-content .cp-tabs')[arguments[0]];
      return [...strip.querySelectorAll('[role=tab]')].map((b) => [b.textContent, b.getAttribute('aria-selected')]);""",
              strip)


def click_tab(driver, strip: int, label: str) -> None:
    buttons = driver.find_elements("css selector", ".cp-content .cp-tabs")[strip] \
        .find_elements("css selector", "[role=tab]")
    next(b for b in buttons if b.text == label).click()


def test_common_components_get_a_readable_look(server, api, name, tab):
    push_course(api, "tutorial", name, {"index.md": index_doc("Components", BODY)})
    open_preview(tab, preview_url(server, "tutorial", name))
    callouts = js(tab, CALLOUTS)
    got = [(re.sub(r"^cp-callout cp-callout-", "", c["cls"]), c["title"], c["name"]) for c in callouts]
    assert got == [("note", "Note", "note"), ("warning", "Warning", "alert"),
                   ("danger", "Slot title", "callout"), ("tip", "Tip", "tip"),
                   ("caution", "Caution", "caution"), ("important", "Important", "important")]
    assert [c["body"] for c in callouts] == ["A plain note.", "An alert of type warning.",
                                             "Callout body.", "A tip.", "Careful.",
                                             "Important words."]
    assert all(c["role"] == "note" and c["style"] == "solid" for c in callouts)
    # Each kind its own colour, not the dashed box of an unknown component.
    assert len({c["edge"] for c in callouts}) >= 4, [c["edge"] for c in callouts]
    # None of them is a labelled box; the unknown one still is.
    boxes = js(tab, "return [...document.querySelectorAll('.cp-content .cp-comp-name')]"
                    ".map((e) => e.textContent)")
    assert boxes == ["quiz"]


def test_collapsibles_open_and_close(server, api, name, tab):
    push_course(api, "tutorial", name, {"index.md": index_doc("Components", BODY)})
    open_preview(tab, preview_url(server, "tutorial", name))
    summaries = js(tab, "return [...document.querySelectorAll('.cp-content details > summary')]"
                        ".map((s) => [s.firstChild.textContent, s.parentElement.open])")
    assert summaries == [["the answer", False], ["More", False]]
    assert not visible(tab, "Hidden text.") and not visible(tab, "Inside details.")
    tab.find_elements("css selector", ".cp-content details > summary")[0].click()
    wait_for(tab, lambda d: visible(d, "Hidden text."), "the collapsible to open")
    assert not visible(tab, "Inside details.")


def test_tabs_and_code_groups_switch_and_keep_the_choice(server, api, name, tab):
    push_course(api, "tutorial", name, {"index.md": index_doc("Components", BODY)})
    open_preview(tab, preview_url(server, "tutorial", name))
    assert tab_state(tab, 0) == [["npm", "true"], ["yarn", "false"]]
    assert tab_state(tab, 1) == [["npm", "true"], ["pnpm", "false"]]
    assert visible(tab, "npm install") and not visible(tab, "yarn add")
    click_tab(tab, 0, "yarn")
    wait_for(tab, lambda d: visible(d, "yarn add") and not visible(d, "npm install"),
             "the second tab's panel")
    assert tab_state(tab, 0) == [["npm", "false"], ["yarn", "true"]]
    click_tab(tab, 1, "pnpm")
    wait_for(tab, lambda d: visible(d, "pnpm i") and not visible(d, "npm i"), "the pnpm code")
    # The keyboard: arrows move between tabs (and wrap around).
    from selenium.webdriver.common.keys import Keys
    focused = tab.switch_to.active_element
    assert focused.text == "pnpm"
    focused.send_keys(Keys.ARROW_RIGHT)
    wait_for(tab, lambda d: visible(d, "npm i") and not visible(d, "pnpm i"), "the arrow key")
    # An edit of the tabs block renders it again; the reader's tab stays chosen.
    api.push_ok("tutorial", name, {"index.md": index_doc("Components",
                                                         BODY.replace("yarn add", "yarn add -D"))})
    wait_text(tab, "yarn add -D")
    assert tab_state(tab, 0) == [["npm", "false"], ["yarn", "true"]]
    assert visible(tab, "yarn add -D") and not visible(tab, "npm install")
    assert "Quiz body." in content_text(tab)


def test_page_scripts_never_parse_html():
    """The tab strips and callouts are built like everything else: no
    HTML parsing anywhere in the page (its policy forbids inline handlers
    anyway; this keeps the code honest about it)."""
    found = []
    for f in sorted(WEB.glob("*.js")):
        for i, line in enumerate(f.read_text().splitlines(), 1):
            if re.search(r"\b(innerHTML|outerHTML|insertAdjacentHTML|document\.write|"
                         r"createContextualFragment|DOMParser)\b|\bon[a-z]+\s*=", line):
                found.append(f"{f.name}:{i}: {line.strip()}")
    assert not found, found
