#!/usr/bin/env bash
# Installs what is missing, builds, and starts ternd on its embedded default configuration
# (domain localhost, STARTTLS on 127.0.0.1:5222, direct TLS on 127.0.0.1:5223, data in ./data).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
exec build/src/ternd "$@"
