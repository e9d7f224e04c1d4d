# SPDX-License-Identifier: MIT
"""docs/preview.png: the preview page of examples/intro-course, second
lesson, in headless Chromium at 1280 × 1000 (run by scripts/screenshot).

contentd runs on a free loopback port with a temporary data folder; the
example is pushed through the HTTP API; the shot is taken once the page is
live and every image has loaded.  The result depends only on the example
content, the page and Chromium's fonts.
"""
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "integration"))

from helpers import browser as chrome  # noqa: E402
from helpers import server as srv  # noqa: E402
from helpers.api import Client  # noqa: E402

EXAMPLE = ROOT / "examples" / "intro-course"
KIND, NAME, DOC = "course", "intro-course", "02-first-steps.md"
SIZE = (1280, 1000)


def folder_files(root: Path) -> dict:
    return {str(p.relative_to(root)): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file() and not p.name.startswith(".")}


def main() -> int:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "preview.png"
    why = srv.missing_contentd()
    if why:
        sys.exit(f"screenshot: {why}")
    with tempfile.TemporaryDirectory(prefix="contentd-screenshot-") as tmp:
        s = srv.Server(Path(tmp) / "data", Path(tmp) / "contentd.log").start()
        b = None
        try:
            api = Client(s.port)
            api.create_ok(KIND, NAME)
            api.push_ok(KIND, NAME, folder_files(EXAMPLE))
            try:
                b = chrome.start(window=SIZE)
            except chrome.BrowserUnavailable as e:
                sys.exit(f"screenshot: {e}")
            d = b.driver
            d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
                "width": SIZE[0], "height": SIZE[1], "deviceScaleFactor": 1, "mobile": False})
            d.execute_cdp_cmd("Emulation.setEmulatedMedia", {
                "features": [{"name": "prefers-color-scheme", "value": "light"}]})
            d.get(f"{s.base_url}/preview/{KIND}/{NAME}/{DOC}")
            from selenium.webdriver.support.ui import WebDriverWait
            WebDriverWait(d, 15, poll_frequency=0.05).until(lambda d: d.execute_script(
                "return document.querySelector('.cp-conn').dataset.state === 'live'"
                " && document.querySelector('.cp-content h1') !== null"
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
