#!/usr/bin/env bash
# Routed message throughput and latency, end to end: builds (release) if needed, starts ternd on a fresh
# temporary config and data dir, creates 2 x PAIRS accounts with `ternctl adduser-bulk`, runs
# `tern-loadgen message` (both sides of every pair send chat messages to the other's full JID), and stops
# ternd. The loadgen prints the figures (a table and one JSON line per phase), its own CPU share included:
# when it says it used more than 90% of a core, the generator, not ternd, may be the limit.
#
#   scripts/bench/messages.sh [--pairs P] [--duration SECONDS] [--window W | --rate MSGS_PER_S]
#                             [--body-size BYTES] [--transport starttls|plain] [--workers N] [--build DIR]
#
# --window W: every sender keeps W messages in flight (W = 1 measures latency, larger W throughput).
# --rate R: R messages per second in total, spread over the senders (the window is then only a cap).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
build=$root/build-release
pairs=100
duration=10
window=
rate=
body=100
transport=starttls
workers=1

while [[ $# -gt 0 ]]; do
  case $1 in
    --pairs) pairs=$2 ;;
    --duration) duration=$2 ;;
    --window) window=$2 ;;
    --rate) rate=$2 ;;
    --body-size) body=$2 ;;
    --transport) transport=$2 ;;
    --workers) workers=$2 ;;
    --build) build=$2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "messages.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift 2
done
case $transport in
  starttls) transport_flag=() ;;
  plain) transport_flag=(--plain) ;;
  *) echo "messages.sh: --transport is starttls or plain" >&2; exit 2 ;;
esac
pace=()
[[ -n $window ]] && pace+=(--window "$window")
[[ -n $rate ]] && pace+=(--rate "$rate")

source "$root/scripts/bench/common.sh"
bench_build "$root" "$build"

bench_scratch messages
port=$(free_port)
require_tls=true
[[ $transport == plain ]] && require_tls=false
bench_config "$workers" "$require_tls" "$port"

accounts=$((2 * pairs))
bench_banner "$build"
echo "== $pairs pairs ($accounts accounts), workers = $workers, $transport, ${pace[*]:-window 1}, ${body} B bodies, ${duration}s"
echo pw | "$ternctl" --config "$dir/tern.toml" adduser-bulk msg "$accounts" localhost

"$ternd" --config "$dir/tern.toml" 2>"$dir/ternd.log" &
server_pid=$!
bench_wait_listening "$port"
echo "== ternd pid $server_pid; load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"

status=0
"$loadgen" message --port "$port" "${transport_flag[@]}" --users msg --password pw --domain localhost \
  --pairs "$pairs" --duration "$duration" "${pace[@]}" --body-size "$body" --connect-rate 1000 \
  --server-pid "$server_pid" || status=$?
echo "== load average after the run: $(cut -d' ' -f1-3 /proc/loadavg)"

bench_stop_ternd
exit $status
