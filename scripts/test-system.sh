#!/usr/bin/env bash
# The other TLS library: builds tern against Debian's shared libwolfssl (-Dwolfssl=system) into build-system/
# and runs the suites that exercise TLS end to end (tls, net, integration, interop) against it. The default
# build (lean wolfSSL, scripts/test.sh) runs every suite; CI (.ci/run) runs this once besides.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --with-tests
build=build-system
if [[ ! -f $build/build.ninja ]]; then
  meson setup "$build" --wrap-mode=nodownload -Dwolfssl=system -Dbenchmarks=disabled
elif [[ $(scripts/build-option.sh "$build" wolfssl) != system ]]; then
  meson configure "$build" -Dwolfssl=system
fi
suites=(tls net integration interop)
mapfile -t targets < <(scripts/suite-targets.sh "$build" "${suites[@]}")
ninja -C "$build" -j"${JOBS:-2}" "${targets[@]}" src/ternd src/ctl/ternctl
suite_args=()
for s in "${suites[@]}"; do suite_args+=(--suite "$s"); done
meson test -C "$build" --no-rebuild --print-errorlogs "${suite_args[@]}" "$@"
