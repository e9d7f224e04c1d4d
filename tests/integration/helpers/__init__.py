# SPDX-License-Identifier: MIT
"""Black-box helpers of the contentd integration tests: start and stop real
`contentd serve` processes (server), talk HTTP to them over raw sockets
(api), read their server-sent event streams (sse).  Standard library only,
so the suite runs with Debian's /usr/bin/python3 and python3-pytest."""
