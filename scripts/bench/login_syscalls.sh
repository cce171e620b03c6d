#!/usr/bin/env bash
# What callgrind does not see: ternd's user and system CPU per login and per bare TLS handshake (from
# /proc/PID/stat over 2,000 of each, after a warm-up), then the system calls of 200 of each (strace -c -f).
# One worker, 100 accounts, 10 in flight, log_level info (ternd's default).
#
#   scripts/bench/login_syscalls.sh [--build DIR]     (default build-release, configured if missing)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$root/build-release
[[ ${1:-} == --build ]] && build=$(realpath -m "$2")
command -v strace >/dev/null || { echo "login_syscalls.sh: needs strace (apt-get install strace)" >&2; exit 1; }
source "$root/scripts/bench/common.sh"
bench_build "$root" "$build"
bench_scratch syscalls
port=$(free_port); direct_port=$(free_port)
bench_config 1 true "$port" "$direct_port"
sed -i 's/^log_level = .*/log_level = "info"/' "$dir/tern.toml"
echo pw | "$ternctl" --config "$dir/tern.toml" adduser-bulk u 100 localhost >/dev/null
"$ternd" --config "$dir/tern.toml" 2>"$dir/ternd.log" &
server_pid=$!
bench_wait_listening "$direct_port"
tck=$(getconf CLK_TCK)
cpu() { awk -v t="$tck" '{ sub(/^.*\) /, ""); printf "%.2f %.2f\n", $12 / t, $13 / t }' /proc/$server_pid/stat; }
la=(--users u --password pw --accounts 100 --concurrency 10)
"$loadgen" login --port "$port" "${la[@]}" --count 100 --json >/dev/null
for sc in login handshake; do
  read -r u0 s0 < <(cpu)
  if [[ $sc == login ]]; then "$loadgen" login --port "$port" "${la[@]}" --count 2000 --json >/dev/null
  else "$loadgen" handshake --port "$direct_port" --count 2000 --concurrency 10 --json >/dev/null; fi
  read -r u1 s1 < <(cpu)
  python3 -c "import sys; u0,s0,u1,s1=map(float,sys.argv[1:5]); print(f'$sc: user {(u1-u0)/2000*1000:.3f} ms, system {(s1-s0)/2000*1000:.3f} ms per cycle')" $u0 $s0 $u1 $s1
done
for sc in login handshake; do
  strace -c -f -p "$server_pid" -o "$dir/strace-$sc.txt" & st=$!
  sleep 1
  if [[ $sc == login ]]; then "$loadgen" login --port "$port" "${la[@]}" --count 200 --json >/dev/null
  else "$loadgen" handshake --port "$direct_port" --count 200 --concurrency 10 --json >/dev/null; fi
  sleep 0.5; kill -INT $st; wait $st || true
  echo "== strace -c, 200 ${sc}s:"; head -25 "$dir/strace-$sc.txt"
done
bench_stop_ternd >/dev/null
