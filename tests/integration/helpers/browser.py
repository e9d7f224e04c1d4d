# SPDX-License-Identifier: MIT
"""Headless Chromium for the preview page: its tests, its screenshot and its
benchmark.

Debian's `chromium` and `chromium-driver`, driven by `python3-selenium`
(all three in scripts/lib/common.sh).  Every browser gets a fresh profile
(--user-data-dir in a temporary folder, removed on quit), so no state
(service workers, storage, cache) leaks between runs; the flags keep
Chromium from reaching the network on its own (updates, sync, field
trials), so that the only connections it makes are the page's.

start() raises BrowserUnavailable with the reason when something is
missing or Chromium does not start; callers turn that into a skip.
"""
from __future__ import annotations

import os
import shutil
import tempfile

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
DRIVER_CANDIDATES = ("/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-extensions",
)

# Installed before any script of a page runs (CDP), in every page a test
# opens: collects Content-Security-Policy violations, and records any call
# of alert/confirm/prompt or assignment to window.__xss (what the XSS
# payloads do if they ever run).  An own accessor property on window cannot
# be shadowed by an element whose id is "__xss".
PROBES = r"""
(() => {
  const violations = [];
  const hits = [];
  document.addEventListener('securitypolicyviolation', (e) => {
    violations.push({directive: e.violatedDirective, blocked: e.blockedURI,
                     source: e.sourceFile, line: e.lineNumber, sample: e.sample});
  }, true);
  Object.defineProperty(window, '__cspViolations', {value: violations});
  Object.defineProperty(window, '__xssHits', {value: hits});
  Object.defineProperty(window, '__xss', {
    get: () => (hits.length ? hits.slice() : undefined),
    set: (v) => { hits.push('__xss=' + String(v)); },
  });
  for (const f of ['alert', 'confirm', 'prompt', 'print']) {
    window[f] = (...a) => { hits.push(f + '(' + a.map(String).join(',') + ')'); };
  }
})();
"""

# For the fallback tests: a page that sees no SharedWorker (and, with
# NO_LOCKS, no Web Locks either).
NO_SHARED_WORKER = "delete window.SharedWorker;"
NO_LOCKS = "delete Navigator.prototype.locks;"


class BrowserUnavailable(Exception):
    """Chromium, chromedriver or selenium is missing, or Chromium did not start."""


def _first(paths, env):
    if os.environ.get(env):
        return os.environ[env]
    for p in paths:
        if os.path.isfile(p) and os.access(p, os.X_OK):
            return p
    return None


class Browser:
    """One Chromium process, one fresh profile."""

    def __init__(self, driver, profile: str):
        self.driver = driver
        self.profile = profile

    def add_init_script(self, source: str) -> None:
        """Runs source before the scripts of every document the *current tab*
        loads from now on."""
        self.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": source})

    def new_tab(self, init_scripts=()) -> str:
        """Opens a tab, makes it current, installs the probes and the given
        init scripts in it; returns its window handle."""
        self.driver.switch_to.new_window("tab")
        for s in (PROBES, *init_scripts):
            self.add_init_script(s)
        return self.driver.current_window_handle

    def quit(self) -> None:
        try:
            self.driver.quit()
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)


def start(window=(1280, 900), init_scripts=()) -> Browser:
    """Starts headless Chromium; the first tab has the probes (and
    init_scripts) installed."""
    try:
        from selenium import webdriver
        from selenium.common.exceptions import WebDriverException
        from selenium.webdriver.chrome.service import Service
    except ImportError as e:
        raise BrowserUnavailable(f"python3-selenium is not installed ({e})") from None
    chromium = _first(CHROMIUM_CANDIDATES, "CHROMIUM")
    driver_bin = _first(DRIVER_CANDIDATES, "CHROMEDRIVER")
    if not chromium or not driver_bin:
        raise BrowserUnavailable("chromium and chromium-driver are not installed "
                                 "(apt-get install chromium chromium-driver)")
    profile = tempfile.mkdtemp(prefix="contentd-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for flag in FLAGS:
        opts.add_argument(flag)
    opts.add_argument(f"--user-data-dir={profile}")
    opts.add_argument(f"--window-size={window[0]},{window[1]}")
    try:
        driver = webdriver.Chrome(service=Service(driver_bin), options=opts)
    except WebDriverException as e:
        shutil.rmtree(profile, ignore_errors=True)
        first = (e.msg or str(e)).strip().splitlines()[0] if (e.msg or str(e)).strip() else repr(e)
        raise BrowserUnavailable(f"Chromium did not start: {first}") from None
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(30)
    b = Browser(driver, profile)
    for s in (PROBES, *init_scripts):
        b.add_init_script(s)
    return b
