# SPDX-License-Identifier: MIT
"""Request limits and the request line as libmicrohttpd parses it.

A NUL byte in the request target is refused with 400 (libmicrohttpd hands
the target over as a C string: unchecked, "files/index.md\\0/../x" would be
read as "files/index.md").  Request headers up to 16 KiB are accepted by
default (browsers send every localhost cookie to every port), the limit is
configurable, and what is over it is answered in the contract's JSON error
shape."""
import socket

import pytest

from helpers.api import Client, assert_error, read_response


def raw_request(port: int, head: bytes, timeout: float = 10.0):
    """Sends head (request line and headers, byte for byte) and parses the reply."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(head)
        return read_response(s, head.split(b" ", 1)[0].decode())


@pytest.fixture
def pushed(api, name):
    api.create_ok("tutorial", name)
    api.push_ok("tutorial", name, {"index.md": b"# Index\n", "x": b"secret x\n"})
    return name


# --------------------------------------------------------------------------
# NUL in the request target

@pytest.mark.parametrize("target", [
    b"/api/v1/content/tutorial/{n}/files/index.md\x00/../x",
    b"/api/v1/content/tutorial/{n}/files/index.md\x00",
    b"/api/v1/content/tutorial/{n}\x00/files/x",
    b"/api/v1/content/tutorial/{n}/files/index.md?version=1\x00",
    b"/healthz\x00",
], ids=["path-then-dotdot", "path-end", "in-name", "in-query", "open-route"])
def test_nul_in_request_target_is_400(server, pushed, target):
    target = target.replace(b"{n}", pushed.encode())
    resp = raw_request(server.port, b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n"
                       b"Connection: close\r\n\r\n")
    err = assert_error(resp, 400, "invalid_request")
    assert "NUL" in err["message"]


def test_same_targets_without_nul_are_served(server, pushed):
    """The control: the truncated form of each target above is a request
    the server answers, so the 400 above is about the NUL byte alone."""
    base = b"/api/v1/content/tutorial/" + pushed.encode()
    for target, status in [(base + b"/files/index.md", 200), (base, 200),
                           (base + b"/files/index.md?version=1", 200), (b"/healthz", 200)]:
        resp = raw_request(server.port, b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n"
                           b"Connection: close\r\n\r\n")
        assert resp.status == status, (target, resp)
