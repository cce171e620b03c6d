#!/usr/bin/env bash
# Installs the Debian 12 packages tern needs, idempotently: nothing happens when all are present.
# Usage: scripts/install-deps.sh [--with-tests] [--with-benchmarks]  (building; + the test suites; + charts, profiles)
# --no-install-recommends matters: libasio-dev recommends libssl-dev, whose OpenSSL headers would sit
# next to wolfSSL's compatibility headers.
set -euo pipefail

build_packages=(
  g++ meson ninja-build pkg-config cmake
  libasio-dev libwolfssl-dev libpugixml-dev libfmt-dev doctest-dev
  libsqlite3-dev libidn-dev libtomlplusplus-dev libexpected-dev
  autoconf automake libtool dpkg-dev   # the lean wolfSSL (the default), built from Debian's source package
)
test_packages=(
  clang libclang-rt-14-dev   # libFuzzer runs of the fuzz targets
  python3 python3-slixmpp    # interoperability test with a real client library
  openssl                    # certificate inspection in tests
  coturn                     # end-to-end check of XEP-0215 TURN credentials (turnserver, turnutils_uclient)
  sqlite3                    # integrity_check of the stores after kill -9 (crash test)
)
bench_packages=(
  gnuplot-nox                # the charts of docs/benchmarks-side-by-side.md (scripts/bench/peers/report.py)
  valgrind strace             # the login profile in docs/benchmarks.md (profile_login.sh, login_syscalls.sh)
)

packages=("${build_packages[@]}")
for option in "$@"; do
  case $option in
    --with-tests) packages+=("${test_packages[@]}") ;;
    --with-benchmarks) packages+=("${bench_packages[@]}") ;;
    *) echo "install-deps.sh: unknown option $option (--with-tests, --with-benchmarks)" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

sudo=()
[[ $(id -u) -eq 0 ]] || sudo=(sudo)
echo "installing: ${missing[*]}" >&2
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
