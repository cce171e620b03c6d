#!/usr/bin/env bash
# XEP-0215 credential replies per second: starts ternd (one worker thread, a [turn] service, loopback, a
# free port, a temporary directory), creates the account, runs extdisco_bench against it with the given
# arguments, and stops ternd again.
#   bench/extdisco_bench.sh BUILD_DIR [extdisco_bench arguments, e.g. --connections 100 --window 8]
set -euo pipefail
build=${1:?usage: bench/extdisco_bench.sh BUILD_DIR [extdisco_bench arguments]}
shift

dir=$(mktemp -d /tmp/tern-extdisco-bench.XXXXXX)
ternd_pid=
cleanup() {
  if [[ -n $ternd_pid ]]; then
    kill "$ternd_pid" 2>/dev/null || true
    wait "$ternd_pid" 2>/dev/null || true
  fi
  rm -rf "$dir"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$dir/tern.toml" <<TOML
[server]
domains = ["localhost"]
data_dir = "$dir/data"
workers = 1
log_level = "info"
[c2s]
listen = ["127.0.0.1:$port"]
direct_tls = []
[limits]
max_connections_per_ip = 100000
max_resources_per_account = 1000
[turn]
host = "127.0.0.1"
secret = "bench-secret"
TOML

printf 'bench\n' | "$build/src/ctl/ternctl" --config "$dir/tern.toml" adduser bench@localhost >/dev/null
"$build/src/ternd" --config "$dir/tern.toml" 2>"$dir/ternd.log" &
ternd_pid=$!
for _ in $(seq 100); do
  grep -qs 'event=ternd.ready' "$dir/ternd.log" && break
  sleep 0.1
done
grep -qs 'event=ternd.ready' "$dir/ternd.log" || { cat "$dir/ternd.log" >&2; exit 1; }

"$build/bench/extdisco_bench" --port "$port" --user bench --password bench --server-pid "$ternd_pid" "$@"
