#!/usr/bin/env bash
# Configures (once) and builds tern into build/. Never downloads: wraps are a fallback for other systems.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ! -f build/build.ninja ]]; then
  meson setup build --wrap-mode=nodownload "$@"
fi
ninja -C build
