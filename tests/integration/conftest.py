# SPDX-License-Identifier: MIT
"""Shared fixtures of the integration tests: where the corpus, the build and
the reference renderer are, the reference trees rendered once per session,
and real `contentd` servers for the service tests.

The fidelity machinery (paths, rendering, normalisation, diffing) lives in
tests/mdc/fidelity.py so that tests/mdc/diff.py uses exactly the same code;
the service helpers (processes, HTTP, SSE) live in helpers/.
"""
import itertools
import os
import sys
from pathlib import Path

import pytest

# libmongoc, loaded by every contentd process, keeps shared-memory counters
# in /dev/shm/mongoc-PID and leaves that file behind when the process is
# killed (the crash and restart tests kill many); a later process given the
# same PID then warns on stderr ("Falling back to malloc for counters"),
# which the tests reading a command's stderr would take for its own output.
# The counters serve only the driver's statistics tool.
os.environ.setdefault("MONGOC_DISABLE_SHM", "1")

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "mdc"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import fidelity  # noqa: E402
from helpers import server as srv  # noqa: E402
from helpers.api import Client  # noqa: E402
# One Ceph gateway for the whole session, whichever S3 suites run, and the
# per-server peers that s3peer (and fixtures choosing a server) ask for by name.
from s3support import rgw_cluster, rgw_peer, s3rver_peer  # noqa: E402,F401
# The MongoDB wire-protocol test server, one per module that asks for it,
# and `faulty`: a module's `mongo` fixture where faults can be injected.
from mongosupport import faulty, wire_peer  # noqa: E402,F401


@pytest.fixture(scope="session", autouse=True)
def client_cache_home(tmp_path_factory):
    """`content push` keeps the hashes of each folder it pushed under
    $XDG_CACHE_HOME (cli/hash_cache.c): in a folder of the session's, not
    in the home of whoever runs the tests."""
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return fidelity.REPO_ROOT


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    return fidelity.CORPUS_DIR


@pytest.fixture(scope="session")
def build_dir() -> Path:
    """$CONTENTD_BUILD, else <repo>/build."""
    return fidelity.build_dir()


@pytest.fixture(scope="session")
def content_bin() -> Path:
    """The `content` binary; skips the test when it has not been built."""
    why = fidelity.missing_ours()
    if why:
        pytest.skip(why)
    return fidelity.content_binary()


@pytest.fixture(scope="session")
def deliberate() -> dict:
    """tests/corpus/deliberate.json, validated."""
    return fidelity.load_deliberate()


@pytest.fixture(scope="session")
def mdc_trees() -> dict:
    """{corpus file name: MDC's document}, from one batch call to render.mjs.
    Skips when node or tests/node_modules is missing."""
    why = fidelity.missing_mdc()
    if why:
        pytest.skip(why)
    trees = fidelity.render_mdc(fidelity.corpus_files())
    return {path.name: doc for path, doc in trees.items()}


@pytest.fixture
def render_ours(content_bin):
    """render_ours(path) -> our document, or {"error": ...}."""
    return fidelity.render_ours


# --------------------------------------------------------------------------
# The contentd service


@pytest.fixture(scope="session")
def contentd_bin() -> Path:
    """The `contentd` binary; skips the test when it has not been built."""
    why = srv.missing_contentd()
    if why:
        pytest.skip(why)
    return srv.contentd_binary()


class ServerFactory:
    """Starts servers for one test or module and stops them all at teardown."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.servers = []
        self._n = itertools.count(1)

    def data_dir(self) -> Path:
        d = self.tmp / f"data{next(self._n)}"
        d.mkdir(parents=True)
        return d

    def __call__(self, data_dir=None, args=(), env=None, start=True, port=None,
                 flags=True) -> srv.Server:
        data_dir = Path(data_dir) if data_dir else self.data_dir()
        s = srv.Server(data_dir, self.tmp / f"contentd-{next(self._n)}.log", args, env, port, flags)
        self.servers.append(s)
        return s.start() if start else s

    def stop_all(self):
        for s in self.servers:
            s.stop()

    def check_alive(self):
        """Every server no test stopped on purpose still answers /healthz."""
        for s in self.servers:
            if not s.expected_down:
                s.assert_alive()


@pytest.fixture
def start_server(contentd_bin, tmp_path):
    """start_server(data_dir=None, args=(), env=None, ...) -> a running Server.
    At teardown each one must still answer /healthz, unless the test
    stopped it, and then all are stopped."""
    f = ServerFactory(tmp_path)
    try:
        yield f
        f.check_alive()
    finally:
        f.stop_all()


@pytest.fixture(scope="module")
def module_servers(contentd_bin, tmp_path_factory):
    f = ServerFactory(tmp_path_factory.mktemp("contentd"))
    yield f
    f.stop_all()


@pytest.fixture(autouse=True)
def module_servers_still_answer(request):
    """After every test that used the module's servers, they still run and
    answer /healthz (whatever input the test sent them)."""
    yield
    if "module_servers" in request.fixturenames:
        request.getfixturevalue("module_servers").check_alive()


@pytest.fixture(scope="module")
def server(module_servers) -> srv.Server:
    """One server shared by the tests of a module (no tokens: user `local`).
    Tests keep apart by using item names of their own (see `name`)."""
    return module_servers()


@pytest.fixture(scope="module")
def api(server) -> Client:
    return Client(server.port)


_names = itertools.count(1)


@pytest.fixture
def name(request) -> str:
    """An item name no other test uses: t<counter>-<pid>."""
    return f"t{next(_names)}-{os.getpid()}"
