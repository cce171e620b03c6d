#!/usr/bin/env bash
# Builds tern with gcc + ASan/UBSan into build-asan/ and runs the unit and integration suites under it.
# The integration tests start the real ternd and ternctl, which inherit the sanitizer options below; every
# sanitizer report (from a test binary, ternd or ternctl) goes to a file under build-asan/sanitizer-reports/,
# and any file there fails the run even when the process that wrote it was killed before it could exit.
# No suppressions: the Asio and wolfSSL reports seen so far were fixed in tern (meson.build, tls/net).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --with-tests
build=build-asan
# The TLS library CI ships by default (the lean one, uninstrumented like Debian's would be): WOLFSSL=system to
# check Debian's instead. An existing build-asan/ configured with the other one is switched.
wolfssl=${WOLFSSL:-lean}
if [[ ! -f $build/build.ninja ]]; then
  CXX=g++ meson setup "$build" --wrap-mode=nodownload -Db_sanitize=address,undefined \
    -Dbuildtype=debugoptimized -Dbenchmarks=disabled -Dwolfssl="$wolfssl"
elif [[ $(scripts/build-option.sh "$build" wolfssl) != "$wolfssl" ]]; then
  meson configure "$build" -Dwolfssl="$wolfssl"
fi
suites=(base xml xmpp crypto sasl tls store config ctl server modules net fuzz integration)
# Only what these suites run (test programs, ternd, ternctl): the load generator and the like stay unbuilt.
mapfile -t targets < <(scripts/suite-targets.sh "$build" "${suites[@]}")
ninja -C "$build" -j"${JOBS:-2}" "${targets[@]}" src/ternd src/ctl/ternctl

reports=$PWD/$build/sanitizer-reports
rm -rf "$reports"
mkdir -p "$reports"
# A smaller quarantine than the default 256 MB: the abuse tests bound ternd's RSS growth.
export ASAN_OPTIONS="halt_on_error=1:exitcode=86:detect_leaks=1:check_initialization_order=1:quarantine_size_mb=16:log_path=$reports/asan"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$reports/ubsan"

status=0
suite_args=()
for s in "${suites[@]}"; do suite_args+=(--suite "$s"); done
meson test -C "$build" --no-rebuild --print-errorlogs --num-processes 2 "${suite_args[@]}" || status=1

if compgen -G "$reports/*" >/dev/null; then
  echo "sanitizer reports:" >&2
  for f in "$reports"/*; do echo "== $f" >&2; cat "$f" >&2; done
  status=1
fi
exit $status
