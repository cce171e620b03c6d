#!/usr/bin/env bash
# Prints the value of a Meson option in a configured build directory (empty if the option is unknown).
# Usage: scripts/build-option.sh BUILD NAME
set -euo pipefail
meson introspect --buildoptions "$1" | python3 -c '
import json, sys
print(next((o["value"] for o in json.load(sys.stdin) if o["name"] == sys.argv[1]), ""))' "$2"
