#!/usr/bin/env bash
# Memory per idle authenticated session, end to end: builds (release) if needed, starts ternd on a fresh
# temporary config and data dir, creates the accounts with `ternctl adduser-bulk`, holds the sessions with
# `tern-loadgen idle`, and stops ternd. The loadgen prints the figures (a table and one JSON line per phase).
#
#   scripts/bench/idle_rss.sh [--count N] [--workers W] [--transport starttls|direct-tls|plain]
#                             [--mechanism M] [--rate R] [--hold SECONDS] [--build DIR] [--heaptrack FILE]
#                             [--wolfssl system|lean]
#
# --wolfssl sets the Meson option of that name in the build dir (default lean: wolfSSL built from Debian's
# source with only what tern uses; system: Debian's shared libwolfssl; use a separate --build DIR per value to avoid rebuilding).
# --transport plain runs the same sessions without TLS (the server gets c2s.require_tls = false), so the
# difference to starttls is what TLS costs per session. --heaptrack FILE runs ternd under heaptrack and
# kills it (SIGKILL) right after the idle sample, so everything heaptrack reports as leaked in FILE.zst is
# exactly what the idle sessions held: `heaptrack_print --print-leaks 1 -f FILE.zst`. (heaptrack's own
# bookkeeping inflates RSS in that mode: use it for the breakdown, not for the RSS figure.)
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
build=$root/build-release
count=10000
workers=1
transport=starttls
mechanism=SCRAM-SHA-1
rate=500
hold=10
heaptrack_out=
wolfssl=

while [[ $# -gt 0 ]]; do
  case $1 in
    --count) count=$2 ;;
    --workers) workers=$2 ;;
    --transport) transport=$2 ;;
    --mechanism) mechanism=$2 ;;
    --rate) rate=$2 ;;
    --hold) hold=$2 ;;
    --build) build=$2 ;;
    --heaptrack) heaptrack_out=$2 ;;
    --wolfssl) wolfssl=$2 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "idle_rss.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift 2
done
case $transport in
  starttls) transport_flag=() ;;
  direct-tls) transport_flag=(--direct-tls) ;;
  plain) transport_flag=(--plain) ;;
  *) echo "idle_rss.sh: --transport is starttls, direct-tls or plain" >&2; exit 2 ;;
esac

source "$root/scripts/bench/common.sh"
bench_build "$root" "$build" "$wolfssl"

bench_scratch idle-rss
port=$(free_port)
tls_port=$(free_port)
require_tls=true
[[ $transport == plain ]] && require_tls=false
bench_config "$workers" "$require_tls" "$port" "$tls_port"

bench_banner "$build"
echo "== $count accounts, workers = $workers, $transport, $mechanism, $rate connections/s, hold ${hold}s"
start=$(date +%s.%N)
echo pw | "$ternctl" --config "$dir/tern.toml" adduser-bulk load "$count" localhost
printf '   (created in %.1f s)\n' "$(echo "$(date +%s.%N) - $start" | bc)"

if [[ -n $heaptrack_out ]]; then
  heaptrack -o "$heaptrack_out" "$ternd" --config "$dir/tern.toml" 2>"$dir/ternd.log" >/dev/null &
  launcher=$!
  for _ in $(seq 100); do
    server_pid=$(pgrep -P "$launcher" -x ternd || true)
    [[ -n $server_pid ]] && break
    sleep 0.1
  done
else
  "$ternd" --config "$dir/tern.toml" 2>"$dir/ternd.log" &
  server_pid=$!
fi
bench_wait_listening "$port"
echo "== ternd pid $server_pid, open files limit $(awk '/Max open files/ {print $4}' "/proc/$server_pid/limits")"

status=0
loadgen_args=(idle --port "$port" "${transport_flag[@]}" --users load --password pw --domain localhost
  --count "$count" --connect-rate "$rate" --hold "$hold" --server-pid "$server_pid" --mechanism "$mechanism")
if [[ -z $heaptrack_out ]]; then
  "$loadgen" "${loadgen_args[@]}" || status=$?
else
  "$loadgen" "${loadgen_args[@]}" >"$dir/loadgen.out" &
  loadgen_pid=$!
  until grep -q '"phase":"idle"' "$dir/loadgen.out" 2>/dev/null || ! kill -0 "$loadgen_pid" 2>/dev/null; do sleep 0.2; done
  kill -KILL "$server_pid"
  wait "$loadgen_pid" || true
  cat "$dir/loadgen.out"
  echo "== ternd killed after the idle sample: heaptrack_print --print-leaks 1 -f $heaptrack_out.zst"
fi

bench_stop_ternd
[[ -n $heaptrack_out ]] && wait "$launcher" 2>/dev/null || true
exit $status
