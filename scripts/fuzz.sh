#!/usr/bin/env bash
# Builds the fuzz targets with clang + libFuzzer + ASan/UBSan into build-fuzz/ and runs each one for
# SECONDS (default 60) on a scratch copy of its corpus. New crashers are left in build-fuzz/crashes/:
# add them to tests/fuzz/corpus/<target>/ as regression inputs.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}  # CI (.ci/run) passes 60: every target gets at least a minute
scripts/install-deps.sh --with-tests
# The default TLS library (lean), like the other builds; an existing build-fuzz/ with another one is switched.
wolfssl=${WOLFSSL:-lean}
# ASan only: clang 14 cannot compile the coroutine handlers (modules/roster.cpp) with ASan, UBSan and
# fuzzer-no-link together ("Cannot represent a difference across sections"); UBSan runs in sanitize.sh (gcc).
if [[ ! -f build-fuzz/build.ninja ]]; then
  CXX=clang++ meson setup build-fuzz --wrap-mode=nodownload -Dfuzzing_engine=libfuzzer \
    -Db_sanitize=address -Db_lundef=false -Dbuildtype=debugoptimized -Dbenchmarks=disabled \
    -Dwolfssl="$wolfssl"
elif [[ $(scripts/build-option.sh build-fuzz wolfssl) != "$wolfssl" ]]; then
  meson configure build-fuzz -Dwolfssl="$wolfssl"
fi
targets=()
for corpus in tests/fuzz/corpus/*/; do
  name=$(basename "$corpus")
  [[ -f tests/fuzz/${name}_fuzz.cpp ]] && targets+=("$name")
done
ninja -C build-fuzz $(printf 'tests/fuzz/%s_fuzz ' "${targets[@]}")
mkdir -p build-fuzz/crashes
failed=0
for name in "${targets[@]}"; do
  work=$(mktemp -d)
  cp -r "tests/fuzz/corpus/$name/." "$work/"
  echo "fuzzing $name for ${seconds}s" >&2
  if ! UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
      "build-fuzz/tests/fuzz/${name}_fuzz" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix="build-fuzz/crashes/${name}-" -print_final_stats=1 "$work" >"build-fuzz/${name}.log" 2>&1; then
    echo "fuzz target $name failed; see build-fuzz/${name}.log" >&2
    tail -40 "build-fuzz/${name}.log" >&2
    failed=1
  else
    echo "$name: $(grep -E '^stat::number_of_executed_units' "build-fuzz/${name}.log" | awk '{print $2}') executions" >&2
  fi
  rm -rf "$work"
done
exit $failed
