#!/usr/bin/env bash
# Prints, one a line, the ninja targets that the given test suites of a configured build directory run (test
# programs and the build outputs they are passed, such as ternd and ternctl), so a build for a few suites
# compiles only those and leaves the load generator and the like unbuilt.
#
# Usage: scripts/suite-targets.sh BUILD SUITE...
set -euo pipefail
build=$1
shift
meson introspect "$build" --tests | python3 -c '
import json, os, sys
build, suites = os.path.abspath(sys.argv[1]), set(sys.argv[2:])
tests = [t for t in json.load(sys.stdin) if suites & {s.split(":")[-1] for s in t["suite"]}]
paths = {os.path.normpath(p) for t in tests for p in t["cmd"]}  # "BUILD/../tests/x.py" is a source file
print("\n".join(sorted(os.path.relpath(p, build) for p in paths if p.startswith(build + "/"))))
' "$build" "$@"
