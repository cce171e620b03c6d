#!/usr/bin/env bash
# Bare TLS handshakes per second against ternd's direct-TLS port (no XMPP: connect, full handshake, close),
# the ceiling for logins on this machine: builds (release) if needed, starts ternd on a fresh temporary
# config, runs `tern-loadgen handshake` with the server's pid (server CPU per handshake), stops ternd.
#
#   scripts/bench/handshakes.sh [--count N] [--concurrency C] [--workers N] [--build DIR]
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
build=$root/build-release
count=5000
concurrency=50
workers=1

while [[ $# -gt 0 ]]; do
  case $1 in
    --count) count=$2 ;;
    --concurrency) concurrency=$2 ;;
    --workers) workers=$2 ;;
    --build) build=$2 ;;
    -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
    *) echo "handshakes.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift 2
done

source "$root/scripts/bench/common.sh"
bench_build "$root" "$build"
bench_scratch handshakes
port=$(free_port)
direct_port=$(free_port)
bench_config "$workers" true "$port" "$direct_port"

bench_banner "$build"
echo "== $count handshakes, $concurrency in flight, workers = $workers"
"$ternd" --config "$dir/tern.toml" 2>"$dir/ternd.log" &
server_pid=$!
bench_wait_listening "$direct_port"

status=0
"$loadgen" handshake --port "$direct_port" --count "$count" --concurrency "$concurrency" \
  --server-pid "$server_pid" || status=$?

bench_stop_ternd
exit $status
