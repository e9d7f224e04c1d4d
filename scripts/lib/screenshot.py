# SPDX-License-Identifier: MIT
"""docs/preview.png: the preview page of examples/intro-course, second
lesson, in headless Chromium at 1280 × 1000 (run by scripts/screenshot).

contentd runs on a free loopback port with a temporary data folder; every
example of examples/ is pushed through the HTTP API; the shot is taken once
the page shows a document or one of its states (not found, ...) and every
image has loaded.  The result depends only on the example content, the
page and Chromium's fonts.

usage: screenshot.py [--size WxH] [--page KIND/NAME[/PATH]] [--dark] [OUTPUT.png]
  --size 390x844 --page course/no-such-item   e.g. a phone, a mistyped address
"""
import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "integration"))

from helpers import browser as chrome  # noqa: E402
from helpers import server as srv  # noqa: E402
from helpers.api import Client  # noqa: E402

EXAMPLES = ROOT / "examples"
PAGE = "course/intro-course/02-first-steps.md"
SIZE = "1280x1000"


def folder_files(root: Path) -> dict:
    return {str(p.relative_to(root)): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file() and not p.name.startswith(".")}


def push_examples(api: Client) -> None:
    """Every folder of examples/ as the item its index.md names."""
    for folder in sorted(p for p in EXAMPLES.iterdir() if (p / "index.md").is_file()):
        head = (folder / "index.md").read_text().split("---")[1]
        meta = dict(line.split(":", 1) for line in head.strip().splitlines() if ":" in line)
        kind, name = meta["kind"].strip(), meta["name"].strip()
        api.create_ok(kind, name)
        api.push_ok(kind, name, folder_files(folder))


def main() -> int:
    ap = argparse.ArgumentParser(prog="scripts/screenshot")
    ap.add_argument("--size", default=SIZE, help="the window, WIDTHxHEIGHT (default %(default)s)")
    ap.add_argument("--page", default=PAGE, help="KIND/NAME[/PATH] (default %(default)s)")
    ap.add_argument("--dark", action="store_true", help="prefers-color-scheme: dark")
    ap.add_argument("output", nargs="?", default=str(ROOT / "docs" / "preview.png"))
    args = ap.parse_args()
    out = Path(args.output)
    width, height = (int(x) for x in args.size.lower().split("x"))
    why = srv.missing_contentd()
    if why:
        sys.exit(f"screenshot: {why}")
    with tempfile.TemporaryDirectory(prefix="contentd-screenshot-") as tmp:
        s = srv.Server(Path(tmp) / "data", Path(tmp) / "contentd.log").start()
        b = None
        try:
            push_examples(Client(s.port))
            try:
                b = chrome.start(window=(width, height))
            except chrome.BrowserUnavailable as e:
                sys.exit(f"screenshot: {e}")
            d = b.driver
            d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
                "width": width, "height": height, "deviceScaleFactor": 1,
                "mobile": width < 600})
            d.execute_cdp_cmd("Emulation.setEmulatedMedia", {
                "features": [{"name": "prefers-color-scheme",
                              "value": "dark" if args.dark else "light"}]})
            d.get(f"{s.base_url}/preview/{args.page}")
            from selenium.webdriver.support.ui import WebDriverWait
            WebDriverWait(d, 30, poll_frequency=0.05).until(lambda d: d.execute_script(
                "const c = document.querySelector('.cp-content');"
                "return ((document.querySelector('.cp-conn').dataset.state === 'live'"
                "         && c.querySelector('h1') !== null) || c.querySelector('.cp-state'))"
                " && [...document.images].every((i) => i.complete)"
                " && document.fonts.status === 'loaded'"))
            violations = d.execute_script("return window.__cspViolations")
            if violations:
                sys.exit(f"screenshot: the page reported CSP violations: {violations}")
            png = d.execute_cdp_cmd("Page.captureScreenshot", {"format": "png"})["data"]
            import base64
            out.write_bytes(base64.b64decode(png))
            print(f"wrote {out} ({out.stat().st_size} bytes)")
        finally:
            if b:
                b.quit()
            s.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
