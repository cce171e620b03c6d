#!/usr/bin/env bash
# Where a login's server CPU goes: ternd (release optimization with symbols) under valgrind's callgrind, which
# counts the instructions ternd executes in user space, while tern-loadgen runs COUNT logins (STARTTLS, SCRAM,
# bind, close), and in another run COUNT bare TLS 1.3 handshakes on the direct-TLS port for the ceiling. Each
# run starts ternd, warms it up (every account logs in once), measures, and stops it; a third run does only
# the start, warm-up and stop, and is subtracted from the other two function by function (callgrind_control
# cannot reach a ternd blocked in epoll_wait, so the counters are not zeroed in place).
# scripts/bench/profile_breakdown.py then splits what is left into TLS, SCRAM, stream restarts and XML, the
# account store, logging and the rest (instructions per login and % of the login's total). Kernel time
# (sockets, epoll) is not counted: callgrind sees user space only.
#
#   scripts/bench/profile_login.sh [--count N] [--accounts M] [--log-level L] [--build DIR] [--keep DIR]
#
# Defaults: 300 logins over 100 accounts, 10 in flight, log_level info (ternd's default), build-prof
# (configured -Dbuildtype=release -Ddebug=true if missing: -O3 -g, lean wolfSSL with the same flags).
# --keep DIR copies the callgrind dumps there (callgrind_annotate --inclusive=yes DIR/login.out).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
count=300
accounts=100
log_level=info
build=$root/build-prof
keep=
while [[ $# -gt 0 ]]; do
  case $1 in
    --count) count=$2 ;;
    --accounts) accounts=$2 ;;
    --log-level) log_level=$2 ;;
    --build) build=$(realpath -m "$2") ;;
    --keep) keep=$(realpath -m "$2") ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "profile_login.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift 2
done
command -v valgrind >/dev/null || { echo "profile_login.sh: needs valgrind (apt-get install valgrind)" >&2; exit 1; }

source "$root/scripts/bench/common.sh"
if [[ ! -f $build/build.ninja ]]; then
  meson setup "$build" "$root" --wrap-mode=nodownload -Dbuildtype=release -Ddebug=true -Dtests=disabled \
    -Dbenchmarks=disabled >/dev/null
fi
bench_build "$root" "$build"
bench_scratch profile
port=$(free_port)
direct_port=$(free_port)
bench_config 1 true "$port" "$direct_port"
sed -i "s/^log_level = .*/log_level = \"$log_level\"/" "$dir/tern.toml"
echo pw | "$ternctl" --config "$dir/tern.toml" adduser-bulk u "$accounts" localhost >/dev/null

bench_banner "$build"
echo "== callgrind: $count logins over $accounts accounts, $count bare handshakes, each in its own ternd run;" \
  "log_level $log_level"
loadgen_args=(--users u --password pw --accounts "$accounts" --concurrency 10 --timeout 120)

# run NAME [LOADGEN-ARGS...]: ternd under callgrind, the warm-up (every account logged in once: the
# generator's SCRAM keys cached, ternd's allocator and SQLite page cache warm), then the scenario if given,
# then SIGTERM; the dump is $dir/NAME.out.
run() {
  local name=$1
  shift
  valgrind --tool=callgrind --callgrind-out-file="$dir/$name.out" "$ternd" --config "$dir/tern.toml" \
    2>"$dir/ternd.log" &
  server_pid=$!
  for _ in $(seq 600); do
    ss -Hltn "sport = :$direct_port" | grep -q . && break
    sleep 0.1
  done
  ss -Hltn "sport = :$direct_port" | grep -q . || { echo "ternd did not start:"; cat "$dir/ternd.log"; exit 1; }
  "$loadgen" login --port "$port" "${loadgen_args[@]}" --count "$accounts" --json >"$dir/$name-warmup.json"
  if [[ $# -gt 0 ]]; then "$loadgen" "$@" --json >"$dir/$name.json"; fi
  kill -TERM "$server_pid"
  wait "$server_pid" || true
  server_pid=
  echo "   $name: done"
}
# One start outside valgrind first: it generates the self-signed certificate, which the baseline run would
# otherwise pay for alone.
"$ternd" --config "$dir/tern.toml" 2>"$dir/ternd.log" &
server_pid=$!
bench_wait_listening "$direct_port"
bench_stop_ternd >/dev/null
server_pid=
run baseline
run login login --port "$port" "${loadgen_args[@]}" --count "$count"
run handshake handshake --port "$direct_port" --count "$count" --concurrency 10 --timeout 120

python3 "$root/scripts/bench/profile_breakdown.py" --cycles "$count" --baseline "$dir/baseline.out" \
  "$dir/login.out" "$dir/handshake.out"
if [[ -n $keep ]]; then
  mkdir -p "$keep"
  cp "$dir"/*.out "$dir"/*.json "$keep/"
  echo "== callgrind dumps kept in $keep"
fi
