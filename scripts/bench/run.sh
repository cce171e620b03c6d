#!/usr/bin/env bash
# tern, Prosody and ejabberd side by side: the same tern-loadgen, the same machine, the same run, equivalent
# settings (one ECDSA P-256 certificate, TLS 1.3, SCRAM-SHA-1 with 4096 iterations, the same TURN services
# and secret, no traffic shaping, high descriptor limits, little logging). Writes a markdown report with one
# table per scenario, each server's figure and tern's ratio to each peer.
#
#   scripts/bench/run.sh [options] [login] [idle] [message] [extdisco] [handshake]   (default: all five)
#
#   --out FILE        the report (default docs/benchmarks-side-by-side.md)
#   --servers LIST    comma-separated subset of tern,prosody,ejabberd (default all three)
#   --sessions N      idle: sessions held (default 2000)
#   --logins N        login: full login cycles (default 3000); handshake: TLS handshakes (the same)
#   --storm N         logins on the same process between the "fresh" and the "aged" measurement (default 5000)
#   --duration S      message, extdisco: seconds of sending (default 10)
#   --pairs P         message: session pairs (default 50)
#   --workers W       ternd worker threads (default 1)
#   --generators G    login, storm, handshake: split each run over G tern-loadgen processes at once, each on its
#                     own accounts (--first) and source addresses, and add their figures up (default: one per
#                     CPU the server does not have, so 1 on a 2-core machine; see below)
#   --no-pin          do not pin the server to CPU 1 and tern-loadgen to CPU 0 (they are by default, with
#                     ejabberd on one scheduler, so every server gets one core and the generator the other)
#   --quick           a fast smoke run: 300 sessions, 500 logins, storm 500, 3 s, 20 pairs
#   --build DIR       the release build to use (default build-release; configured if missing)
#   --keep            keep the scratch directory (configs, logs, raw loadgen output) and print its path
#
# One tern-loadgen process may not keep a server busy: the client side of a TLS handshake (verifying the
# server's signature, its own key exchange) costs about as much as the server side, so a generator with one
# core is at 100% before a server with one core is. Each process reports its own CPU share; a row where any
# process was above 90% of its core carries ‡ in the report. More generator processes help only with more
# cores for them: with --generators above 1 they share the CPUs that the server is not pinned to.
#
# Every scenario runs on a freshly started server process ("fresh"), then after a login storm of --storm
# logins on that same process ("aged"). The servers run one after another, never at the same time.
# Prosody and ejabberd come from Debian (installed with apt-get when missing). Everything this script
# starts is stopped when it exits, however it exits.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
out=$root/docs/benchmarks-side-by-side.md
build=$root/build-release
servers=tern,prosody,ejabberd
sessions=2000
logins=3000
storm=5000
duration=10
pairs=50
tern_workers=1
generators=
pin_cpus=1
keep=0
scenarios=()
command_line="scripts/bench/run.sh $*"

while [[ $# -gt 0 ]]; do
  case $1 in
    --out) out=$(realpath -m "$2"); shift ;;
    --servers) servers=$2; shift ;;
    --sessions) sessions=$2; shift ;;
    --logins) logins=$2; shift ;;
    --storm) storm=$2; shift ;;
    --duration) duration=$2; shift ;;
    --pairs) pairs=$2; shift ;;
    --workers) tern_workers=$2; shift ;;
    --build) build=$(realpath -m "$2"); shift ;;
    --no-pin) pin_cpus=0 ;;
    --keep) keep=1 ;;
    --quick) sessions=300 logins=500 storm=500 duration=3 pairs=20 ;;
    login|idle|message|extdisco|handshake) scenarios+=("$1") ;;
    --generators) generators=$2; shift ;;
    -h|--help) sed -n '2,36p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
[[ ${#scenarios[@]} -gt 0 ]] || scenarios=(login idle message extdisco handshake)
IFS=, read -r -a server_list <<<"$servers"
for s in "${server_list[@]}"; do
  [[ $s == tern || $s == prosody || $s == ejabberd ]] || { echo "run.sh: unknown server $s" >&2; exit 2; }
done

source "$root/scripts/bench/common.sh"
source "$root/scripts/bench/peers/servers.sh"

# --- what it needs ---------------------------------------------------------------------------------------
"$root/scripts/install-deps.sh" --with-benchmarks  # gnuplot for the charts
missing=()
[[ ,$servers, != *,prosody,* ]] || command -v prosody >/dev/null || missing+=(prosody)
[[ ,$servers, != *,ejabberd,* ]] || command -v ejabberdctl >/dev/null || missing+=(ejabberd)
command -v taskset >/dev/null || missing+=(util-linux)
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "== installing from Debian: ${missing[*]}"
  timeout 900 apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null
fi
ulimit -n "$(ulimit -Hn)"
echo "== building tern (release) in $build"
bench_build "$root" "$build"

bench_scratch side-by-side
results=$dir/results.jsonl
: >"$results"
run_cleanup() {
  stop_peer
  if [[ $keep == 1 ]]; then echo "== scratch directory kept: $dir"; dir=/nonexistent-kept; fi
  bench_cleanup
}
trap run_cleanup EXIT
trap 'exit 130' INT TERM

server_cpus=
loadgen_pin=()
loadgen_cpus=
ejabberd_schedulers=
if [[ $pin_cpus == 1 && $(nproc) -ge 2 ]]; then
  server_cpus=1
  loadgen_cpus=0
  (($(nproc) > 2)) && loadgen_cpus=0,2-$(($(nproc) - 1))
  loadgen_pin=(taskset -c "$loadgen_cpus")
  ejabberd_schedulers=1
  : "${generators:=$(($(nproc) - 1))}"
fi
: "${generators:=1}"
# How many cores the generators have between them (for the saturation verdict of a split run).
generator_cpus=$(( ${#loadgen_pin[@]} > 0 ? $(nproc) - 1 : $(nproc) ))

cert=$dir/cert.pem
key=$dir/key.pem
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$key" -out "$cert" -days 7 \
  -subj /CN=localhost -addext subjectAltName=DNS:localhost 2>/dev/null
chmod 644 "$key"
turn_secret=$(openssl rand -hex 16)

# --- accounts: u1..uN on every server, password "pw" ----------------------------------------------------
# Logins cycle through 100 accounts: the client's PBKDF2 (4096 iterations) per new account would otherwise make
# tern-loadgen, not the server, the limit.
login_accounts=$((logins < 100 ? logins : 100))
accounts=$login_accounts
for need in "$sessions" $((2 * pairs)) 50; do ((need > accounts)) && accounts=$need; done
storm_accounts=$login_accounts

# --- scenarios -------------------------------------------------------------------------------------------
# scenario_args SCENARIO: sets args to tern-loadgen's arguments and bound to the seconds it may take at most.
scenario_args() {
  case $1 in
    login)
      args=(login --port "$peer_c2s" --users u --password pw --count "${part_count:-$logins}"
        --first "${part_first:-1}" --accounts "${part_accounts:-$login_accounts}" --concurrency "${part_concurrency:-200}")
      bound=$((logins / 50 + 60)) ;;
    idle)
      args=(idle --port "$peer_c2s" --users u --password pw --count "$sessions" --connect-rate 300
        --concurrency 100 --settle 2)
      bound=$((sessions / 50 + 60)) ;;
    message)
      args=(message --port "$peer_c2s" --users u --password pw --pairs "$pairs" --window 10
        --duration "$duration" --connect-rate 300)
      bound=$((duration + pairs / 10 + 60)) ;;
    extdisco1)
      args=(extdisco --port "$peer_c2s" --users u --password pw --connections 1 --window 10 --duration "$duration")
      bound=$((duration + 60)) ;;
    extdisco50)
      args=(extdisco --port "$peer_c2s" --users u --password pw --connections 50 --window 10 --duration "$duration")
      bound=$((duration + 60)) ;;
    handshake)
      args=(handshake --port "$peer_tls" --count "${part_count:-$logins}" --concurrency "${part_concurrency:-200}")
      bound=$((logins / 50 + 60)) ;;
    storm)
      args=(login --port "$peer_c2s" --users u --password pw --count "${part_count:-$storm}"
        --first "${part_first:-1}" --accounts "${part_accounts:-$storm_accounts}" --concurrency "${part_concurrency:-200}")
      bound=$((storm / 20 + 60)) ;;
  esac
  args+=(--server-pid "$peer_pid" --deadline "$bound")
  [[ -n ${part_sources:-} ]] && args+=(--sources "$part_sources")
  return 0
}

# server_cpu_seconds PID: user + system CPU time of the process so far.
server_cpu_seconds() {
  awk -v tck="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); print ($12 + $13) / tck }' "/proc/$1/stat"
}

# measure_split SERVER STATE SCENARIO N: the scenario's cycles, accounts and concurrency split over N tern-loadgen
# processes started at once, each on its own accounts and its own 127.K.0.0/16 source addresses; collect.py
# adds their figures up over the server CPU and wall time measured here around all of them.
measure_split() {
  local server=$1 state=$2 scenario=$3 n=$4 k status=0 total accounts_total cpu_before started
  local raws=() pids=() commands=()
  case $scenario in
    storm) total=$storm accounts_total=$storm_accounts ;;
    *) total=$logins accounts_total=$login_accounts ;;
  esac
  printf '   %-8s %-5s %-10s ' "$server" "$state" "$scenario"
  cpu_before=$(server_cpu_seconds "$peer_pid")
  started=$(date +%s.%N)
  for ((k = 0; k < n; k++)); do
    local part_count=$((total / n + (k < total % n ? 1 : 0)))
    local part_accounts=$((accounts_total / n > 0 ? accounts_total / n : 1))
    local part_first=$((1 + k * part_accounts))
    local part_concurrency=$((200 / n > 0 ? 200 / n : 1))
    local part_sources=127.$((k + 1)).0.1-127.$((k + 1)).255.254
    scenario_args "$scenario"
    raws+=("$dir/$server-$state-$scenario.$k.out")
    local cmd=("${loadgen_pin[@]}" "$loadgen" "${args[@]}")
    commands+=("${cmd[*]//$root\//}")
    timeout -k 5 $((bound + 30)) "${cmd[@]}" >"${raws[k]}" 2>&1 &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid" || status=$?; done
  local seconds cpu
  seconds=$(python3 -c "import sys; print(float(sys.argv[2]) - float(sys.argv[1]))" "$started" "$(date +%s.%N)")
  cpu=$(python3 -c "import sys; print(float(sys.argv[2]) - float(sys.argv[1]))" "$cpu_before" "$(server_cpu_seconds "$peer_pid")")
  local joined
  joined=$(printf ' & %s' "${commands[@]}")
  python3 "$peers_dir/collect.py" "$server" "$state" "$scenario" "$status" "${joined:3}" --parts "$cpu" "$seconds" "$generator_cpus" \
    "${raws[@]}" >>"$results"
  tail -n 1 "$results" | python3 -c 'import json,sys; print(json.load(sys.stdin)["summary"])'
}

# measure SERVER STATE SCENARIO: one tern-loadgen run against the running server; its JSON lines go to
# $results tagged with server, state, scenario and the exact command.
measure() {
  local server=$1 state=$2 scenario=$3 raw status=0
  if [[ $generators -gt 1 && ( $scenario == login || $scenario == storm || $scenario == handshake ) ]]; then
    measure_split "$server" "$state" "$scenario" "$generators"
    kill -0 "$peer_pid" 2>/dev/null || { echo "run.sh: $server exited during $scenario" >&2; return 1; }
    return 0
  fi
  scenario_args "$scenario"
  raw=$dir/$server-$state-$scenario.out
  local cmd=("${loadgen_pin[@]}" "$loadgen" "${args[@]}")
  printf '   %-8s %-5s %-10s ' "$server" "$state" "$scenario"
  timeout -k 5 $((bound + 30)) "${cmd[@]}" >"$raw" 2>&1 || status=$?
  python3 "$peers_dir/collect.py" "$server" "$state" "$scenario" "$status" "${cmd[*]//$root\//}" <"$raw" >>"$results"
  tail -n 1 "$results" | python3 -c 'import json,sys; print(json.load(sys.stdin)["summary"])'
  if ! kill -0 "$peer_pid" 2>/dev/null; then
    echo "run.sh: $server exited during $scenario" >&2
    return 1
  fi
}

# server_session SERVER SCENARIO: fresh process, measure, login storm, measure again, stop.
server_session() {
  local server=$1 scenario=$2 variant
  local variants=("$scenario")
  [[ $scenario == extdisco ]] && variants=(extdisco1 extdisco50)
  if ! start_"$server" "$server" "$dir/$server"; then
    echo "{\"server\":\"$server\",\"scenario\":\"$scenario\",\"state\":\"fresh\",\"failed\":\"did not start\"}" >>"$results"
    return 0
  fi
  for variant in "${variants[@]}"; do measure "$server" fresh "$variant" || { stop_peer; return 0; }; done
  measure "$server" storm storm || { stop_peer; return 0; }
  for variant in "${variants[@]}"; do measure "$server" aged "$variant" || { stop_peer; return 0; }; done
  stop_peer
}

# provision SERVER: the accounts, once, into the server's data directory (kept for every later start).
provision() {
  local start=$SECONDS
  case $1 in
    tern)
      start_tern tern "$dir/tern" && stop_peer  # writes the config and creates the database
      provision_tern u "$accounts" ;;
    *)
      start_"$1" "$1" "$dir/$1" || return 1
      provision_"$1" u "$accounts" || { stop_peer; return 1; }
      stop_peer ;;
  esac
  echo "   $1: $accounts accounts in $((SECONDS - start)) s"
}

bench_banner "$build"
prosody_version=$(dpkg-query -W -f '${Version}' prosody 2>/dev/null || echo 'not installed')
ejabberd_version=$(dpkg-query -W -f '${Version}' ejabberd 2>/dev/null || echo 'not installed')
erlang_version=$(dpkg-query -W -f '${Version}' erlang-base 2>/dev/null || echo '?')
lua_version=$(readlink -f "$(command -v lua5.4 || command -v lua)" | xargs basename 2>/dev/null || echo '?')
echo "== Prosody $prosody_version, ejabberd $ejabberd_version (Erlang $erlang_version)"
echo "== scenarios: ${scenarios[*]}; servers: ${server_list[*]}; sessions $sessions, logins $logins, storm $storm,"
echo "   duration ${duration}s, pairs $pairs; server CPUs: ${server_cpus:-any}; loadgen: ${loadgen_pin[*]:-any CPU}," \
  "$generators process(es) for login, storm and handshake"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
started_at=$(date -u '+%Y-%m-%d %H:%M UTC')

echo "== accounts"
for server in "${server_list[@]}"; do
  provision "$server" || echo "{\"server\":\"$server\",\"scenario\":\"*\",\"state\":\"fresh\",\"failed\":\"provisioning\"}" >>"$results"
done

echo "== measuring (figure: rate; per server CPU-second)"
for scenario in "${scenarios[@]}"; do
  for server in "${server_list[@]}"; do
    grep -q "\"server\": *\"$server\", *\"scenario\": *\"\\*\"" "$results" && continue
    server_session "$server" "$scenario"
  done
done

python3 "$peers_dir/report.py" "$results" --charts "${out%.md}" >"$out" \
  --command "$command_line" --started "$started_at" --load-before "$load_before" \
  --load-after "$(cut -d' ' -f1-3 /proc/loadavg)" \
  --machine "$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(free -g | awk '/Mem:/ {print $2}') GiB RAM, kernel $(uname -r)" \
  --tern "$("$ternd" --version), $(meson introspect --buildoptions "$build" | python3 -c 'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "buildtype"))') build, wolfSSL $(pkg-config --modversion wolfssl) ($(bench_option "$build" wolfssl)), workers = $tern_workers" \
  --prosody "Prosody $prosody_version (Debian), $lua_version, network_backend epoll" \
  --ejabberd "ejabberd $ejabberd_version (Debian), Erlang $erlang_version, ${ejabberd_schedulers:++S $ejabberd_schedulers:$ejabberd_schedulers}" \
  --pinning "${server_cpus:+server on CPU $server_cpus, tern-loadgen on CPU $loadgen_cpus}" \
  --settings "sessions $sessions, logins $logins, storm $storm, duration ${duration}s, pairs $pairs, accounts $accounts, tern-loadgen processes for login, storm and handshake: $generators"
echo "== report: $out"
