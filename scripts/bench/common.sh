# Sourced by the benchmark scripts: a release build, a scratch directory that is removed on exit (with the
# ternd it started), a one-domain config on free loopback ports, and starting and stopping ternd.

# bench_build ROOT BUILD [WOLFSSL]: configure (once) and build ternd, ternctl and tern-loadgen; sets their
# paths. WOLFSSL (system or lean, the Meson option; default lean, the project's default) also reconfigures an
# existing BUILD that differs.
bench_build() {
  local root=$1 build=$2 wolfssl=${3:-lean} built
  if [[ ! -f $build/build.ninja ]]; then
    meson setup "$build" "$root" --wrap-mode=nodownload -Dbuildtype=release "-Dwolfssl=$wolfssl" >/dev/null
  elif [[ $(bench_option "$build" wolfssl) != "$wolfssl" ]]; then
    meson configure "$build" "-Dwolfssl=$wolfssl" >/dev/null
  fi
  if ! built=$(ninja -C "$build" src/ternd src/ctl/ternctl tools/loadgen/tern-loadgen 2>&1); then
    echo "$built" >&2
    exit 1
  fi
  ternd=$build/src/ternd
  ternctl=$build/src/ctl/ternctl
  loadgen=$build/tools/loadgen/tern-loadgen
}

# bench_scratch NAME: sets dir to a new temporary directory; on exit, ternd is killed and dir removed.
bench_scratch() {
  dir=$(mktemp -d "/tmp/tern-$1-XXXXXX")
  server_pid=
  trap bench_cleanup EXIT
}

bench_cleanup() {
  if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -KILL "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$dir"
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# bench_config WORKERS REQUIRE_TLS PORT [DIRECT_TLS_PORT]: writes $dir/tern.toml.
bench_config() {
  local direct=()
  [[ -n ${4:-} ]] && direct=("direct_tls = [\"127.0.0.1:$4\"]") || direct=("direct_tls = []")
  cat >"$dir/tern.toml" <<TOML
[server]
domains = ["localhost"]
data_dir = "$dir/data"
workers = $1
log_level = "warn"

[c2s]
listen = ["127.0.0.1:$3"]
${direct[0]}
require_tls = $2

[limits]
max_connections_per_ip = 100000
max_unauthenticated_per_ip = 100000
idle_timeout = 3600
TOML
}

# bench_option BUILD NAME: the value of a Meson option in BUILD (empty if the option is unknown).
bench_option() {
  "$(dirname "${BASH_SOURCE[0]}")/../build-option.sh" "$@"
}

# bench_banner BUILD: the machine and build the figures come from.
bench_banner() {
  echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(uname -r)"
  echo "== ternd: $("$ternd" --version), buildtype $(bench_option "$1" buildtype), wolfSSL $(pkg-config --modversion wolfssl) ($(bench_option "$1" wolfssl))"
}

# bench_wait_listening PORT: until ternd accepts on PORT (10 s at most), else print its log and exit.
bench_wait_listening() {
  for _ in $(seq 100); do
    ss -Hltn "sport = :$1" | grep -q . && return 0
    sleep 0.1
  done
  echo "ternd did not start:"
  cat "$dir/ternd.log"
  exit 1
}

# bench_stop_ternd: SIGTERM, wait up to 10 s, then show what ternd logged (warnings and errors).
bench_stop_ternd() {
  kill -TERM "$server_pid" 2>/dev/null || true
  for _ in $(seq 100); do
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  if [[ -s $dir/ternd.log ]]; then
    echo "== ternd log (warnings and errors):"
    cat "$dir/ternd.log"
  fi
}
