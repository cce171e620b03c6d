#!/usr/bin/env bash
# Soak run: hours of `tern-loadgen mixed` against one ternd, sampling the server's RSS, open descriptors,
# event rate and latency every interval into a CSV and a PNG plot, then a verdict that flags growth.
# Builds (release) if needed, starts ternd on a fresh temporary config (with a [turn] section for the
# extdisco share of the mix), creates COUNT accounts with `ternctl adduser-bulk`, stops ternd at the end.
#
#   scripts/bench/soak.sh [--duration MINUTES] [--count SESSIONS] [--rate EVENTS_PER_S] [--out DIR]
#                         [--interval SECONDS] [--workers N] [--build DIR] [--wolfssl system|lean]
#
# --wolfssl: the TLS library (default lean, as for every build; system: Debian's shared libwolfssl).
# Defaults: 30 minutes, 1000 sessions, 200 events/s, one sample a minute, docs/soak/ (soak.csv with the
# columns minute,rss_kib,fds,events_per_s,p50_ms,p99_ms,errors; soak.png; soak.jsonl, the loadgen's raw
# output; verdict.txt). Exit status 1 when the verdict flags growth or errors.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
build=$root/build-release
minutes=30
count=1000
rate=200
interval=60
workers=1
wolfssl=
out=$root/docs/soak

while [[ $# -gt 0 ]]; do
  case $1 in
    --duration) minutes=$2 ;;
    --count) count=$2 ;;
    --rate) rate=$2 ;;
    --interval) interval=$2 ;;
    --workers) workers=$2 ;;
    --out) out=$2 ;;
    --build) build=$2 ;;
    --wolfssl) wolfssl=$2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "soak.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift 2
done

"$root/scripts/install-deps.sh" --with-benchmarks  # gnuplot for the plot

source "$root/scripts/bench/common.sh"
bench_build "$root" "$build" "$wolfssl"
bench_scratch soak
port=$(free_port)
bench_config "$workers" true "$port"
cat >>"$dir/tern.toml" <<TOML

[turn]
host = "127.0.0.1"
secret = "soak-secret"
TOML
mkdir -p "$out"

bench_banner "$build"
echo "== soak: $count sessions, $rate events/s, $minutes minutes, a sample every ${interval}s, workers = $workers, into $out"
echo pw | "$ternctl" --config "$dir/tern.toml" adduser-bulk soak "$count" localhost

"$ternd" --config "$dir/tern.toml" 2>"$dir/ternd.log" &
server_pid=$!
bench_wait_listening "$port"
echo "== ternd pid $server_pid"

# The table goes to the terminal as the run goes; the JSON lines to soak.jsonl.
status=0
"$loadgen" mixed --port "$port" --users soak --password pw --domain localhost --count "$count" --rate "$rate" \
  --duration "$((minutes * 60))" --interval "$interval" --connect-rate 1000 --server-pid "$server_pid" |
  tee "$dir/loadgen.out" | grep --line-buffered -v '^{' || status=$?
grep '^{' "$dir/loadgen.out" >"$out/soak.jsonl" || true

bench_stop_ternd
python3 "$root/scripts/bench/soak_report.py" csv "$out/soak.jsonl" "$out/soak.csv"

gnuplot <<GNUPLOT
set terminal pngcairo size 1000,900 noenhanced
set output "$out/soak.png"
set datafile separator ","
set key autotitle columnhead
set multiplot layout 3,1 title "tern soak: $count sessions, $rate events/s, $minutes min"
set xlabel "minute"
set ylabel "ternd VmRSS (KiB)"
set yrange [0:*]
plot "$out/soak.csv" using 1:2 with linespoints title "RSS"
set ylabel "open descriptors"
plot "$out/soak.csv" using 1:3 with linespoints title "fds"
set ylabel "latency (ms)"
set y2label "events/s"
set y2tics
set y2range [0:*]
plot "$out/soak.csv" using 1:5 with lines title "p50", "" using 1:6 with lines title "p99", \
     "" using 1:4 axes x1y2 with lines title "events/s"
unset multiplot
GNUPLOT

echo "== $out/soak.csv, $out/soak.png"
verdict_status=0
python3 "$root/scripts/bench/soak_report.py" verdict "$out/soak.csv" | tee "$out/verdict.txt" || verdict_status=$?
[[ $status -ne 0 ]] && echo "== tern-loadgen exited with status $status"
[[ $status -ne 0 || $verdict_status -ne 0 ]] && exit 1
exit 0
