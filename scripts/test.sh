#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test suite (unit, integration, fuzz replay, lint).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --with-tests
scripts/build.sh
meson test -C build --print-errorlogs "$@"
