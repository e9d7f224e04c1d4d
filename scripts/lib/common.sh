# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Shared by scripts/run, scripts/test and bench/markdown/run (sourced, not
# run): install what is missing, keep the node modules of tests/ current,
# configure and build a meson build directory.  Callers set -euo pipefail
# and ROOT (the repository root) before sourcing this file.

# Debian packages that building and running contentd and content need:
# what scripts/run installs on a fresh machine.  A feature whose build or
# service needs one more package adds it here.
CONTENTD_RUN_PACKAGES=(
    meson ninja-build pkg-config gcc libc6-dev python3
    libcmark-gfm-dev libcmark-gfm-extensions-dev
    libgumbo-dev libyaml-dev libsqlite3-dev libssl-dev libutf8proc-dev
    libinotifytools0-dev
    libmicrohttpd-dev libjansson-dev libyajl-dev zlib1g-dev
    libmongoc-dev libbson-dev
    libcurl4-openssl-dev libxml2-dev curl
)

# Debian packages the unit tests, the integration tests, the benchmarks and
# scripts/screenshot need on top of those (scripts/test installs both lists,
# plus Node when it is missing).  A test that needs one more package adds it
# here.
CONTENTD_DEBIAN_PACKAGES=(
    "${CONTENTD_RUN_PACKAGES[@]}"
    # awscli: the S3 tests' independent reader, and bench/push --store rgw's peer
    cmark-gfm python3-bson python3-botocore awscli
    # ceph-* and radosgw: the S3 tests run against a real Ceph RADOS Gateway
    # (tests/integration/helpers/rgw.py).  Never remove them with `apt-get
    # purge`: it tries to remove sudo.  libfaketime: the clock-skew test.
    ceph-mon ceph-osd radosgw ceph-common libfaketime
    libcmocka-dev python3-pytest git clang-format
    # clang and its runtime: the libFuzzer targets of tests/fuzz (scripts/fuzz)
    clang libclang-rt-14-dev
    chromium chromium-driver python3-selenium
    docker-compose nginx
)

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Runs a command as root: directly when we are root, else through sudo.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        die "need root to run: $* (install sudo or run as root)"
    fi
}

# ensure_packages PACKAGE...: installs every PACKAGE that dpkg does not
# already report as installed.  apt-get update runs only when something is
# missing.
ensure_packages() {
    local missing=() p
    for p in "$@"; do
        if [ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null)" != "ii " ]; then
            missing+=("$p")
        fi
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    command -v apt-get >/dev/null 2>&1 || die "missing packages (${missing[*]}) and no apt-get: install them by hand"
    say "installing Debian packages: ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# Installs what building and running need (CONTENTD_RUN_PACKAGES): scripts/run.
ensure_run_packages() {
    ensure_packages "${CONTENTD_RUN_PACKAGES[@]}"
}

# Installs what the tests need too (CONTENTD_DEBIAN_PACKAGES, plus nodejs
# and npm when node is missing): scripts/test and scripts/screenshot.
ensure_debian_packages() {
    local want=("${CONTENTD_DEBIAN_PACKAGES[@]}")
    command -v node >/dev/null 2>&1 || want+=(nodejs)
    command -v npm >/dev/null 2>&1 || want+=(npm)
    ensure_packages "${want[@]}"
}

# Runs `npm ci` in tests/ when the lockfile exists and node_modules is
# missing or older than the lockfile (npm records what it installed in
# node_modules/.package-lock.json).
ensure_npm_modules() {
    local dir="$ROOT/tests"
    [ -f "$dir/package-lock.json" ] || return 0
    local stamp="$dir/node_modules/.package-lock.json"
    if [ -f "$stamp" ] && [ ! "$dir/package-lock.json" -nt "$stamp" ] &&
        [ ! "$dir/package.json" -nt "$stamp" ]; then
        return 0
    fi
    say "installing node modules in tests/ (npm ci)"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    touch "$stamp"
}

# build_dir DIR [MESON_SETUP_ARGS...]: configures DIR once (again from
# scratch if it was left half-configured) and builds it.  Later option
# changes in the arguments are applied with --reconfigure.  Returns non-zero
# on failure (explicitly: callers may run it under `if`, where set -e is off).
build_dir() {
    local dir="$1"
    shift
    local mode=()
    if [ -f "$ROOT/$dir/build.ninja" ]; then
        mode=(--reconfigure)
    elif [ -d "$ROOT/$dir/meson-private" ]; then
        mode=(--wipe)
    fi
    say "configuring $dir ${mode[*]} $*"
    local log
    log="$(mktemp)"
    if ! meson setup "${mode[@]}" "$ROOT/$dir" "$@" >"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        return 1
    fi
    rm -f "$log"
    say "building $dir"
    ninja -C "$ROOT/$dir" >&2 || return 1
}
