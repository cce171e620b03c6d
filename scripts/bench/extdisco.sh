#!/usr/bin/env bash
# XEP-0215 answers per second from ternd, end to end: builds (release) if needed, starts ternd with one
# worker thread and a [turn] section on a fresh temporary config, creates CONNECTIONS accounts with
# `ternctl adduser-bulk`, runs `tern-loadgen extdisco` (each connection keeps WINDOW requests in flight)
# with the server's pid (server CPU per IQ), and stops ternd. Replaces bench/extdisco_bench.sh.
#
#   scripts/bench/extdisco.sh [--connections C] [--window W] [--duration SECONDS] [--workers N]
#                             [--credentials] [--build DIR]
#
# --credentials: ask for <credentials/> of the TURN service (one HMAC per answer) instead of <services/>.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
build=$root/build-release
connections=1
window=1
duration=10
workers=1
request=()

while [[ $# -gt 0 ]]; do
  case $1 in
    --connections) connections=$2; shift ;;
    --window) window=$2; shift ;;
    --duration) duration=$2; shift ;;
    --workers) workers=$2; shift ;;
    --build) build=$2; shift ;;
    --credentials) request=(--credentials 127.0.0.1 --service-type turns) ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "extdisco.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

source "$root/scripts/bench/common.sh"
bench_build "$root" "$build"
bench_scratch extdisco
port=$(free_port)
bench_config "$workers" true "$port"
cat >>"$dir/tern.toml" <<TOML

[turn]
host = "127.0.0.1"
secret = "bench-secret"
TOML

bench_banner "$build"
echo "== $connections connections x window $window, ${duration}s, workers = $workers ${request[*]}"
echo pw | "$ternctl" --config "$dir/tern.toml" adduser-bulk ext "$connections" localhost

"$ternd" --config "$dir/tern.toml" 2>"$dir/ternd.log" &
server_pid=$!
bench_wait_listening "$port"

status=0
"$loadgen" extdisco --port "$port" --users ext --password pw --domain localhost --connections "$connections" \
  --window "$window" --duration "$duration" "${request[@]}" --connect-rate 1000 --server-pid "$server_pid" || status=$?

bench_stop_ternd
exit $status
