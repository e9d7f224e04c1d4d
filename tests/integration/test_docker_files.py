# SPDX-License-Identifier: MIT
"""docker/ without a Docker engine (none runs on the machines that build
contentd): the compose file passes Debian's `docker-compose config` and
has the production shape of docs/deploy.md; nginx.conf passes `nginx -t`
(on a copy whose upstream host names, which only Docker's network
resolves, are replaced by 127.0.0.1) and keeps event streams flowing; the
Dockerfile's runtime stage installs every library the built binaries link
against, and its build stage every -dev package the build uses."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from helpers.server import REPO_ROOT, build_dir, clean_env

DOCKER = REPO_ROOT / "docker"
COMPOSE = DOCKER / "docker-compose.yml"
SECRETS = {"MINIO_ROOT_PASSWORD": "test-password-1", "CONTENTD_S3_SECRET": "test-password-2"}


def compose_config(env: dict | None = None) -> subprocess.CompletedProcess:
    exe = shutil.which("docker-compose")
    if not exe:
        pytest.skip("docker-compose is not installed (scripts/test installs Debian's "
                    "docker-compose); it validates docker/docker-compose.yml")
    # No Docker variables from the caller's environment (DOCKER_HOST, a
    # COMPOSE_FILE, a project name) may change what is checked.
    base = {k: v for k, v in clean_env().items() if not k.startswith(("DOCKER_", "COMPOSE_"))}
    base.update(env or {})
    return subprocess.run([exe, "--project-directory", str(DOCKER), "-f", str(COMPOSE), "config"],
                          capture_output=True, text=True, env=base, timeout=60)


@pytest.fixture(scope="module")
def compose() -> dict:
    p = compose_config(SECRETS)
    assert p.returncode == 0, p.stderr
    yaml = pytest.importorskip("yaml", reason="python3-yaml (a dependency of docker-compose)")
    return yaml.safe_load(p.stdout)


def test_compose_file_validates(compose):
    services = compose["services"]
    assert set(services) == {"mongo1", "mongo2", "mongo3", "mongo-init", "minio", "minio-init",
                             "token-init", "contentd-a", "contentd-b", "nginx"}
    assert set(compose["volumes"]) >= {"mongo1", "mongo2", "mongo3", "minio", "secrets"}


def test_compose_needs_its_secrets():
    p = compose_config()
    assert p.returncode != 0
    assert "set MINIO_ROOT_PASSWORD in docker/.env" in p.stderr or \
        "set CONTENTD_S3_SECRET in docker/.env" in p.stderr, p.stderr


def test_compose_mongodb_replica_set(compose):
    s = compose["services"]
    members = ["mongo1", "mongo2", "mongo3"]
    for m in members:
        assert s[m]["image"].startswith("mongo:")
        assert s[m]["command"][:3] == ["mongod", "--replSet", "rs0"]
        assert "healthcheck" in s[m]
    init = s["mongo-init"]
    assert init["restart"] == "no"
    assert {k: v["condition"] for k, v in init["depends_on"].items()} == \
        dict.fromkeys(members, "service_healthy")
    script = init["command"][-1]
    assert "rs.initiate(" in script and "_id: 'rs0'" in script
    assert all(f"host: '{m}:27017'" in script for m in members)


def test_compose_minio_bucket(compose):
    s = compose["services"]
    init = s["minio-init"]
    assert init["image"].startswith("minio/mc")
    assert init["depends_on"]["minio"]["condition"] == "service_healthy"
    script = init["command"][-1]
    assert 'mc mb --ignore-existing "local/$$BUCKET"' in script
    assert init["environment"]["BUCKET"] == "contentd"


def test_compose_contentd_replicas(compose):
    s = compose["services"]
    for name in ("contentd-a", "contentd-b"):
        c = s[name]
        assert c["build"]["dockerfile"] == "docker/Dockerfile"
        assert Path(c["build"]["context"]).resolve() == REPO_ROOT
        env = c["environment"]
        assert env["MONGODB_URI"] == \
            "mongodb://mongo1:27017,mongo2:27017,mongo3:27017/?replicaSet=rs0"
        assert env["AWS_ACCESS_KEY_ID"] and env["AWS_SECRET_ACCESS_KEY"] == "test-password-2"
        cmd = c["command"]
        assert cmd[0] == "serve" and "--s3-path-style" in cmd
        assert cmd[cmd.index("--s3-endpoint") + 1] == "http://minio:9000"
        assert cmd[cmd.index("--s3-bucket") + 1] == "contentd"
        assert cmd[cmd.index("--listen") + 1] == "0.0.0.0:8080"
        assert {k: v["condition"] for k, v in c["depends_on"].items()} == {
            "token-init": "service_completed_successfully",
            "minio-init": "service_completed_successfully"}
    tok = s["token-init"]
    assert "contentd token create admin" in tok["command"][-1]
    assert tok["depends_on"]["mongo-init"]["condition"] == "service_completed_successfully"
    assert tok["environment"]["MONGODB_URI"] == s["contentd-a"]["environment"]["MONGODB_URI"]


def test_compose_nginx_in_front(compose):
    n = compose["services"]["nginx"]
    assert n["image"].startswith("nginx:")
    assert {k: v["condition"] for k, v in n["depends_on"].items()} == {
        "contentd-a": "service_healthy", "contentd-b": "service_healthy"}
    (vol,) = n["volumes"]
    src = vol["source"] if isinstance(vol, dict) else vol.split(":")[0]
    target = vol["target"] if isinstance(vol, dict) else vol.split(":")[1]
    assert Path(src).resolve() == DOCKER / "nginx.conf" and target == "/etc/nginx/nginx.conf"
    (port,) = n["ports"]
    assert str(port.get("target") if isinstance(port, dict) else port).endswith("80")
    # Only nginx is published: every request goes through it.
    assert [k for k, v in compose["services"].items() if v.get("ports")] == ["nginx"]


# --------------------------------------------------------------------------
# nginx


def nginx_directives(text: str) -> list[tuple[str, str]]:
    """(name, arguments) of every simple directive, comments removed."""
    text = re.sub(r"#[^\n]*", "", text)
    return [(m.group(1), m.group(2).strip()) for m in
            re.finditer(r"([a-z_0-9]+)\s+([^;{}]*);", text)]


def test_nginx_conf_validates(tmp_path):
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists()
                                      else None)
    if not nginx:
        pytest.skip("nginx is not installed (scripts/test installs Debian's nginx); "
                    "it validates docker/nginx.conf")
    text = (DOCKER / "nginx.conf").read_text()
    hosts = re.findall(r"server\s+(contentd-[a-z]+):8080", text)
    assert sorted(hosts) == ["contentd-a", "contentd-b"]
    port = iter(range(18081, 18100))
    copy = re.sub(r"server\s+contentd-[a-z]+:8080", lambda m: f"server 127.0.0.1:{next(port)}",
                  text)
    # Temporary files under the prefix, so that any user can run the check.
    temps = "".join(f"    {d}_temp_path {tmp_path}/{d};\n"
                    for d in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    copy = copy.replace("http {\n", "http {\n" + temps, 1)
    conf = tmp_path / "nginx.conf"
    conf.write_text(copy)
    p = subprocess.run([nginx, "-t", "-p", str(tmp_path), "-c", str(conf),
                        "-g", f"pid {tmp_path}/nginx.pid;"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    assert "test is successful" in p.stderr


def test_nginx_conf_is_sse_safe():
    d = dict(nginx_directives((DOCKER / "nginx.conf").read_text()))
    assert d["proxy_buffering"] == "off"
    assert d["proxy_cache"] == "off"
    assert d["proxy_http_version"] == "1.1"
    headers = [a for n, a in nginx_directives((DOCKER / "nginx.conf").read_text())
               if n == "proxy_set_header"]
    assert 'Connection ""' in headers
    m = re.fullmatch(r"(\d+)([smhd]?)", d["proxy_read_timeout"])
    seconds = int(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]
    assert seconds >= 3600, "an idle event stream gets a keep-alive every 15 s only"
    assert d["proxy_pass"] == "http://contentd"


# --------------------------------------------------------------------------
# Dockerfile


def dockerfile_stages() -> list[dict]:
    """[{from, name, text}] of docker/Dockerfile, continuation lines joined."""
    text = (DOCKER / "Dockerfile").read_text().replace("\\\n", " ")
    stages = []
    for line in text.splitlines():
        m = re.match(r"FROM\s+(\S+)(?:\s+AS\s+(\S+))?", line.strip(), re.I)
        if m:
            stages.append({"from": m.group(1), "name": m.group(2), "text": ""})
        elif stages:
            stages[-1]["text"] += line + "\n"
    return stages


def apt_packages(stage_text: str) -> set[str]:
    pkgs = set()
    for m in re.finditer(r"apt-get install ([^&]*)", stage_text):
        pkgs |= {w for w in m.group(1).split() if not w.startswith("-")}
    return pkgs


def test_dockerfile_stages():
    build, runtime = dockerfile_stages()
    assert build["from"] == "debian:12" and runtime["from"] == "debian:12-slim"
    assert "meson setup" in build["text"] and "ninja -C" in build["text"]
    rt = runtime["text"]
    assert re.search(r"^USER\s+(?!root\b|0\b)\S+", rt, re.M), "the runtime must not run as root"
    assert re.search(r"^HEALTHCHECK .*CMD .*/healthz", rt, re.M)
    assert "curl" in apt_packages(rt)
    assert re.search(r"COPY --from=build ", rt)
    assert not any(p.endswith("-dev") for p in apt_packages(rt))


def common_sh_packages(var: str = "CONTENTD_DEBIAN_PACKAGES") -> list[str]:
    """A package list of scripts/lib/common.sh (all of them by default;
    CONTENTD_RUN_PACKAGES: what building and running need), as bash sees it."""
    lib = REPO_ROOT / "scripts" / "lib" / "common.sh"
    out = subprocess.run(["bash", "-c", f'. "$1"; printf "%s\\n" "${{{var}[@]}}"', "-", str(lib)],
                         capture_output=True, text=True, check=True).stdout
    return out.split()


def test_dockerfile_build_stage_has_the_build_dependencies():
    build, _ = dockerfile_stages()
    have = apt_packages(build["text"])
    # The -dev packages of building contentd; those only the tests use
    # (cmocka, clang's fuzzing runtime) are not built into the image.
    want = {p for p in common_sh_packages("CONTENTD_RUN_PACKAGES") if p.endswith("-dev")}
    assert want <= have, f"missing from the build stage: {sorted(want - have)}"
    assert {"meson", "ninja-build", "pkg-config", "gcc", "python3"} <= have


def test_common_sh_installs_the_validators():
    pkgs = common_sh_packages()
    assert "docker-compose" in pkgs and "nginx" in pkgs


def linked_packages(binary: Path) -> set[str]:
    """The Debian packages of the shared libraries binary names (DT_NEEDED)."""
    dyn = subprocess.run(["readelf", "-d", str(binary)], capture_output=True, text=True,
                         check=True).stdout
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", dyn)
    ldd = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, check=True).stdout
    where = dict(re.findall(r"^\s*(\S+) => (/\S+)", ldd, re.M))
    # The dynamic loader is listed by its path alone.
    where.update((Path(p).name, p) for p in re.findall(r"^\s*(/\S+) \(", ldd, re.M))
    pkgs = set()
    for so in needed:
        path = Path(where[so]).resolve()
        for candidate in (str(path), str(path).removeprefix("/usr")):
            q = subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True)
            if q.returncode == 0:
                pkgs.add(q.stdout.split(":")[0])
                break
        else:
            raise AssertionError(f"no Debian package owns {path} ({so} of {binary})")
    return pkgs


def test_dockerfile_runtime_stage_has_every_linked_library():
    if not (shutil.which("readelf") and shutil.which("dpkg")):
        pytest.skip("readelf and dpkg are needed to list the libraries the binaries use")
    _, runtime = dockerfile_stages()
    have = apt_packages(runtime["text"])
    for binary in (build_dir() / "server" / "contentd", build_dir() / "cli" / "content"):
        if not binary.exists():
            pytest.skip(f"{binary} is not built (meson setup build && ninja -C build)")
        need = linked_packages(binary) - {"libc6", "libgcc-s1"}  # in every Debian image
        assert need <= have, (f"{binary.name} links against packages the runtime stage does "
                              f"not install: {sorted(need - have)}")
