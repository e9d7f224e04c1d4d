# SPDX-License-Identifier: MIT
"""Cross-origin requests: off by default; with --cors-origin (repeatable) or
CONTENTD_CORS_ORIGINS (comma-separated), a page of an allowed origin may
call the API and open the event streams.  Preflight OPTIONS requests are
answered (methods, headers incl. Authorization, Last-Event-ID and
Content-Type, max-age) without a token; Access-Control-Allow-Origin echoes
only an allowed origin, with Vary: Origin.  The last tests drive headless
Chromium: a page on another origin fetches the API and opens an
EventSource when its origin is allowed, and cannot when it is not."""
import http.server
import subprocess
import threading

import pytest

from helpers import browser as chrome
from helpers import server as srv
from helpers.api import Client, assert_error, request, wait_until

APP = "http://localhost:3000"
OTHER = "http://evil.example"


@pytest.fixture
def cors_server(start_server):
    return start_server(args=["--cors-origin", APP, "--cors-origin", "https://app.example:8443"])


def preflight(port, path, origin, method="GET", headers="authorization"):
    return request(port, "OPTIONS", path, headers={
        "Origin": origin, "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": headers})


def test_off_by_default(start_server, name):
    s = start_server()
    api = Client(s.port, extra_headers={"Origin": APP})
    r = api.get("/api/v1/content")
    assert r.status == 200
    assert r.header("Access-Control-Allow-Origin") is None and r.header("Vary") is None
    p = preflight(s.port, "/api/v1/content", APP)
    assert p.status == 204 and p.header("Access-Control-Allow-Origin") is None
    assert p.header("Access-Control-Allow-Methods") is None


@pytest.mark.parametrize("origin", [APP, "https://app.example:8443"])
def test_allowed_origin_is_echoed(cors_server, origin):
    r = Client(cors_server.port, extra_headers={"Origin": origin}).get("/api/v1/content")
    assert r.status == 200
    assert r.header("Access-Control-Allow-Origin") == origin
    assert r.header("Vary") == "Origin"
    assert "ETag" in r.header("Access-Control-Expose-Headers")
    assert r.header("Access-Control-Allow-Credentials") is None


@pytest.mark.parametrize("origin", [OTHER, "http://localhost:3001", "https://localhost:3000",
                                    "null"])
def test_other_origins_get_no_allow_origin(cors_server, origin):
    r = Client(cors_server.port, extra_headers={"Origin": origin}).get("/api/v1/content")
    assert r.status == 200
    assert r.header("Access-Control-Allow-Origin") is None
    assert r.header("Vary") == "Origin"
    p = preflight(cors_server.port, "/api/v1/content", origin)
    assert p.header("Access-Control-Allow-Origin") is None
    assert p.header("Access-Control-Allow-Methods") is None


def test_no_origin_still_varies(cors_server):
    r = Client(cors_server.port).get("/healthz")
    assert r.header("Vary") == "Origin" and r.header("Access-Control-Allow-Origin") is None


@pytest.mark.parametrize("path,methods", [
    ("/api/v1/content", {"GET", "HEAD", "POST", "OPTIONS"}),
    ("/api/v1/content/tutorial/x", {"GET", "HEAD", "PATCH", "DELETE", "OPTIONS"}),
    ("/api/v1/content/tutorial/x/events", {"GET", "OPTIONS"}),
    ("/api/v1/blobs/" + "a" * 64, {"PUT", "OPTIONS"}),
])
def test_preflight(cors_server, path, methods):
    p = preflight(cors_server.port, path, APP, "POST", "authorization, content-type")
    assert p.status == 204, p
    assert p.header("Access-Control-Allow-Origin") == APP
    assert set(m.strip() for m in p.header("Access-Control-Allow-Methods").split(",")) == methods
    assert set(m.strip() for m in p.header("Allow").split(",")) == methods
    allowed = {h.strip().lower() for h in p.header("Access-Control-Allow-Headers").split(",")}
    assert {"authorization", "last-event-id", "content-type"} <= allowed
    assert int(p.header("Access-Control-Max-Age")) > 0
    assert p.header("Vary") == "Origin"


def test_preflight_needs_no_token(cors_server):
    srv.create_token(cors_server.data_dir, "alice")
    # the catalog's token count is read at start-up: restart to need tokens
    cors_server.stop()
    cors_server.start()
    assert_error(Client(cors_server.port).get("/api/v1/content"), 401)
    p = preflight(cors_server.port, "/api/v1/content", APP)
    assert p.status == 204 and p.header("Access-Control-Allow-Origin") == APP
    # and the 401 itself carries the header, so the page can read it
    r = Client(cors_server.port, extra_headers={"Origin": APP}).get("/api/v1/content")
    assert r.status == 401 and r.header("Access-Control-Allow-Origin") == APP


def test_preflight_of_an_unknown_endpoint_is_404(cors_server):
    assert_error(preflight(cors_server.port, "/api/v1/nope", APP), 404)


def test_event_stream_carries_the_headers(cors_server, name):
    api = Client(cors_server.port)
    api.create_ok("tutorial", name)
    from helpers.api import open_request
    s = open_request(cors_server.port, "GET", f"/api/v1/content/tutorial/{name}/events",
                     {"Origin": APP})
    try:
        head = srv.recv_until(s, b"\r\n\r\n")
    finally:
        s.close()
    assert b"\r\nAccess-Control-Allow-Origin: " + APP.encode() + b"\r\n" in head, head
    assert b"\r\nVary: Origin\r\n" in head, head


def test_environment_list(start_server):
    s = start_server(env={"CONTENTD_CORS_ORIGINS": f" {APP} , https://b.example"})
    for o in (APP, "https://b.example"):
        r = Client(s.port, extra_headers={"Origin": o}).get("/api/v1/content")
        assert r.header("Access-Control-Allow-Origin") == o
    # a flag replaces the environment's list
    t = start_server(args=["--cors-origin", "https://c.example"],
                     env={"CONTENTD_CORS_ORIGINS": APP})
    r = Client(t.port, extra_headers={"Origin": APP}).get("/api/v1/content")
    assert r.header("Access-Control-Allow-Origin") is None
    r = Client(t.port, extra_headers={"Origin": "https://c.example"}).get("/api/v1/content")
    assert r.header("Access-Control-Allow-Origin") == "https://c.example"


@pytest.mark.parametrize("bad", ["localhost:3000", "http://localhost:3000/", "*",
                                 "http://a.example/path", "ftp://a.example"])
def test_bad_origin_is_a_usage_error(contentd_bin, tmp_path, bad):
    p = subprocess.run([str(contentd_bin), "serve", "--data", str(tmp_path), "--cors-origin",
                        bad], capture_output=True, timeout=30)
    assert p.returncode == 2 and b"--cors-origin" in p.stderr, p.stderr
    p = subprocess.run([str(contentd_bin), "serve", "--data", str(tmp_path)],
                       env=srv.clean_env({"CONTENTD_CORS_ORIGINS": f"{APP},{bad}"}),
                       capture_output=True, timeout=30)
    assert p.returncode == 2 and b"CONTENTD_CORS_ORIGINS" in p.stderr, p.stderr


# --------------------------------------------------------------------------
# A real browser on another origin

PAGE = b"""<!doctype html><meta charset="utf-8"><title>app</title>
<script>
window.result = {};
const api = new URLSearchParams(location.search).get('api');
const token = new URLSearchParams(location.search).get('token');
const item = new URLSearchParams(location.search).get('item');
fetch(api + '/api/v1/content/' + item, {headers: {Authorization: 'Bearer ' + token}})
  .then(r => r.json()).then(j => { window.result.fetch = 'ok:' + j.name; })
  .catch(e => { window.result.fetch = 'error:' + e; });
const es = new EventSource(api + '/api/v1/content/' + item + '/events?access_token=' + token);
es.addEventListener('snapshot', e => {
  window.result.events = 'snapshot:' + JSON.parse(e.data).version; es.close(); });
es.onerror = () => { if (es.readyState === EventSource.CLOSED) {
  window.result.events = 'error'; } };
</script>"""


class _Page(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)

    def log_message(self, *a):
        pass


@pytest.fixture(scope="module")
def app_origin():
    """A page server on its own port: an origin other than the API's."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(scope="module")
def chromium():
    try:
        b = chrome.start()
    except chrome.BrowserUnavailable as e:
        pytest.skip(f"no headless Chromium: {e}")
    yield b
    b.quit()


@pytest.mark.parametrize("allowed", [True, False], ids=["allowed", "not-allowed"])
def test_browser_on_another_origin(start_server, chromium, app_origin, name, allowed):
    args = ["--cors-origin", app_origin] if allowed else ["--cors-origin", APP]
    s = start_server(args=args)
    token = srv.create_token(s.data_dir, "alice")
    s.stop()
    s.start()
    api = Client(s.port, token=token)
    api.create_ok("tutorial", name)
    api.push_ok("tutorial", name, {"index.md": b"# Cross\n"})
    d = chromium.driver
    d.get(f"{app_origin}/?api={s.base_url}&token={token}&item=tutorial/{name}")
    res = wait_until(lambda: (lambda r: r if r and len(r) == 2 else None)(
        d.execute_script("return window.result")), 20, "the page's fetch and EventSource")
    if allowed:
        assert res == {"fetch": f"ok:{name}", "events": "snapshot:1"}, res
    else:
        assert res["fetch"].startswith("error:TypeError"), res
        assert res["events"] == "error", res
