# shellcheck shell=bash
# Sourced by scripts/bench/run.sh: start, provision and stop tern, Prosody and ejabberd as our own processes
# on free loopback ports, from the templates next to this file. Every wait is bounded.
#
# Each start_SERVER NAME WORKDIR sets peer_pid (the process to measure: ternd, lua, beam.smp), peer_c2s
# (STARTTLS port) and peer_tls (direct-TLS port). stop_peer stops whatever start_* started last.
# Needs from the caller: $peers_dir, $cert, $key, $turn_secret, $ternd, $ternctl, $tern_workers,
# $server_cpus (a taskset CPU list, or empty).

peers_dir=${peers_dir:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
peer_pid=
peer_launcher=
peer_kind=
peer_dir=

# render TEMPLATE OUT KEY=VALUE...: copies TEMPLATE to OUT with every @KEY@ replaced by VALUE.
render() {
  local template=$1 out=$2
  shift 2
  python3 - "$template" "$out" "$@" <<'PY'
import re, sys
template, out, pairs = sys.argv[1], sys.argv[2], sys.argv[3:]
text = open(template).read()
for pair in pairs:
    key, value = pair.split("=", 1)
    text = text.replace("@" + key + "@", value)
left = sorted(set(re.findall(r"@[A-Z_]+@", text)))
if left:
    sys.exit(f"render: {template}: no value for {' '.join(left)}")
open(out, "w").write(text)
PY
}

# pin_prefix: the taskset command that puts a server on $server_cpus, or nothing (an array: pin).
pin_prefix() {
  pin=()
  [[ -n ${server_cpus:-} ]] && pin=(taskset -c "$server_cpus")
  return 0
}

# exec_bg LOG CMD...: CMD in the background with its output in LOG; peer_launcher = its pid (CMD itself,
# not a subshell, so it is the process to measure).
exec_bg() {
  local log=$1
  shift
  "$@" >"$log" 2>&1 &
  peer_launcher=$!
}

# wait_port PORT SECONDS: until something listens on 127.0.0.1:PORT.
wait_port() {
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    ss -Hltn "sport = :$1" | grep -q . && return 0
    sleep 0.1
  done
  return 1
}

# peer_failed WHAT LOG: says what did not start, shows its log, stops it, fails.
peer_failed() {
  echo "run.sh: $1 did not start; its log:" >&2
  tail -n 40 "$2" >&2 2>/dev/null || true
  stop_peer
  return 1
}

start_tern() {
  peer_kind=tern
  peer_dir=$2
  mkdir -p "$peer_dir"
  peer_c2s=$(free_port)
  peer_tls=$(free_port)
  render "$peers_dir/tern.toml.in" "$peer_dir/tern.toml" DIR="$peer_dir" WORKERS="$tern_workers" \
    C2S_PORT="$peer_c2s" TLS_PORT="$peer_tls" CERT="$cert" KEY="$key" TURN_SECRET="$turn_secret"
  pin_prefix
  exec_bg "$peer_dir/ternd.out" "${pin[@]}" "$ternd" --config "$peer_dir/tern.toml"
  peer_pid=$peer_launcher
  wait_port "$peer_c2s" 15 && wait_port "$peer_tls" 5 || peer_failed ternd "$peer_dir/ternd.out"
}

# provision_tern PREFIX COUNT: accounts PREFIX1..PREFIXCOUNT@localhost with password "pw" (offline: before start).
provision_tern() {
  echo pw | "$ternctl" --config "$peer_dir/tern.toml" adduser-bulk "$1" "$2" localhost >/dev/null
}

start_prosody() {
  peer_kind=prosody
  peer_dir=$2
  mkdir -p "$peer_dir/data"
  peer_c2s=$(free_port)
  peer_tls=$(free_port)
  render "$peers_dir/prosody.cfg.lua.in" "$peer_dir/prosody.cfg.lua" DIR="$peer_dir" \
    C2S_PORT="$peer_c2s" TLS_PORT="$peer_tls" CERT="$cert" KEY="$key" CERT_DIR="$(dirname "$cert")" \
    TURN_SECRET="$turn_secret"
  pin_prefix
  exec_bg "$peer_dir/prosody.out" "${pin[@]}" prosody -F --config "$peer_dir/prosody.cfg.lua"
  peer_pid=$peer_launcher  # /usr/bin/prosody execs lua: the same pid
  wait_port "$peer_c2s" 20 && wait_port "$peer_tls" 5 || peer_failed prosody "$peer_dir/prosody.out"
}

# provision_prosody PREFIX COUNT: the accounts through the admin shell, in one Lua loop (the server must run).
provision_prosody() {
  local out
  out=$(echo "> local um = require 'core.usermanager'; local n = 0; for i = 1, $2 do if um.create_user('$1' .. i, 'pw', 'localhost') then n = n + 1 end end; return n" \
    | timeout 600 prosodyctl --config "$peer_dir/prosody.cfg.lua" shell 2>&1) || true
  if ! grep -qw "$2" <<<"$out"; then
    echo "run.sh: creating $2 Prosody accounts failed: $out" >&2
    return 1
  fi
}

start_ejabberd() {
  peer_kind=ejabberd
  peer_dir=$2
  mkdir -p "$peer_dir/spool" "$peer_dir/log" "$peer_dir/modules.d"
  peer_c2s=$(free_port)
  peer_tls=$(free_port)
  ejabberd_api=$(free_port)
  local erl_extra=
  [[ -n ${ejabberd_schedulers:-} ]] && erl_extra="+S $ejabberd_schedulers:$ejabberd_schedulers"
  render "$peers_dir/ejabberd.yml.in" "$peer_dir/ejabberd.yml" DIR="$peer_dir" C2S_PORT="$peer_c2s" \
    TLS_PORT="$peer_tls" API_PORT="$ejabberd_api" CERT="$cert" KEY="$key" TURN_SECRET="$turn_secret"
  render "$peers_dir/ejabberdctl.cfg.in" "$peer_dir/ejabberdctl.cfg" DIR="$peer_dir" \
    NODE="${ejabberd_node:-ternbench$$}@localhost" DIST_PORT="$(free_port)" ERL_EXTRA="$erl_extra"
  cp /etc/ejabberd/inetrc "$peer_dir/inetrc"
  local cmd=(ejabberdctl -c "$peer_dir/ejabberdctl.cfg" -d "$peer_dir" -f "$peer_dir/ejabberd.yml"
    -s "$peer_dir/spool" -l "$peer_dir/log" foreground)
  [[ -n ${server_cpus:-} ]] && cmd=(taskset -c "$server_cpus" "${cmd[@]}")
  # Its own session, so stop_peer reaches beam.smp and its helper processes (erl_child_setup, inet_gethost).
  setsid "${cmd[@]}" >"$peer_dir/ejabberd.out" 2>&1 &
  peer_launcher=$!
  if ! wait_port "$ejabberd_api" 60 || ! wait_port "$peer_c2s" 5; then
    peer_failed ejabberd "$peer_dir/ejabberd.out"
    return 1
  fi
  peer_pid=$(pgrep -s "$peer_launcher" -x beam.smp | head -n1)
  [[ -n $peer_pid ]] || peer_failed ejabberd "$peer_dir/ejabberd.out"
}

# provision_ejabberd PREFIX COUNT: ejabberd's `register` command over mod_http_api, one keep-alive
# connection (ejabberdctl boots an Erlang node per call, far too slow for thousands).
provision_ejabberd() {
  python3 - "$ejabberd_api" "$1" "$2" <<'PY'
import http.client, json, sys
port, prefix, count = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
for i in range(1, count + 1):
    body = json.dumps({"user": f"{prefix}{i}", "host": "localhost", "password": "pw"})
    conn.request("POST", "/api/register", body, {"Content-Type": "application/json"})
    reply = conn.getresponse()
    text = reply.read()
    if reply.status != 200 and b"already registered" not in text:
        sys.exit(f"register {prefix}{i}: HTTP {reply.status} {text[:200]!r}")
PY
}

# stop_peer: SIGTERM to what start_* started, 20 s for it to go, then SIGKILL (ejabberd: its whole session).
stop_peer() {
  [[ -n $peer_launcher ]] || return 0
  local i
  if [[ $peer_kind == ejabberd ]]; then
    pkill -TERM -s "$peer_launcher" 2>/dev/null || true
    for ((i = 0; i < 200; i++)); do pgrep -s "$peer_launcher" >/dev/null || break; sleep 0.1; done
    pkill -KILL -s "$peer_launcher" 2>/dev/null || true
  else
    kill -TERM "$peer_launcher" 2>/dev/null || true
    for ((i = 0; i < 200; i++)); do kill -0 "$peer_launcher" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$peer_launcher" 2>/dev/null || true
  fi
  wait "$peer_launcher" 2>/dev/null || true
  peer_launcher=
  peer_pid=
}
