#!/usr/bin/env bash
# Runs one of the tsung scenarios here (login.xml, message.xml) against a running server whose accounts
# PREFIX1..PREFIX<COUNT> share one password (as `ternctl adduser-bulk PREFIX COUNT DOMAIN` creates them):
# writes the users CSV, fills in the config's TERN_ placeholders, runs `tsung -f FILE start` with its log
# in OUT_DIR, and prints tsung's last statistics lines (transactions, errors, message latency).
#
#   scripts/bench/tsung/run.sh login|message --port DIRECT_TLS_PORT --users PREFIX --count N [--password PW]
#                              [--rate USERS_PER_S] [--duration SECONDS] [--messages M] [--think SECONDS]
#                              [--out OUT_DIR]
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
scenario=${1:-}
[[ $scenario == login || $scenario == message ]] || { sed -n '2,9p' "$0"; exit 2; }
shift
port=5222 prefix= count= password=pw rate=50 duration=10 messages=10 think=1
out=$(mktemp -d /tmp/tern-tsung-XXXXXX)
while [[ $# -gt 0 ]]; do
  case $1 in
    --port) port=$2 ;;
    --users) prefix=$2 ;;
    --count) count=$2 ;;
    --password) password=$2 ;;
    --rate) rate=$2 ;;
    --duration) duration=$2 ;;
    --messages) messages=$2 ;;
    --think) think=$2 ;;
    --out) out=$2 ;;
    *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift 2
done
[[ -n $prefix && -n $count ]] || { echo "run.sh: --users and --count are required" >&2; exit 2; }
command -v tsung >/dev/null || { echo "run.sh: tsung is not installed (apt-get install tsung)" >&2; exit 2; }

mkdir -p "$out"
seq 1 "$count" | sed "s/.*/$prefix&;$password/" >"$out/users.csv"
sed -e "s|TERN_PORT|$port|" -e "s|TERN_USERS_CSV|$out/users.csv|" -e "s|TERN_DURATION|$duration|g" \
    -e "s|TERN_RATE|$rate|" -e "s|TERN_USERS|$count|" -e "s|TERN_MESSAGES|$messages|" -e "s|TERN_THINK|$think|g" \
    "$here/$scenario.xml" >"$out/$scenario.xml"

echo "== tsung -f $out/$scenario.xml -l $out start"
tsung -f "$out/$scenario.xml" -l "$out" start
log=$(ls -d "$out"/*/ | tail -1)
echo "== tsung's log: $log"
# tsung.log holds a statistics block every 10 s: show the counters of the last one.
awk '/^# stats: dump at/ {block = ""} /^stats: / {block = block $0 "\n"} END {printf "%s", block}' "$log/tsung.log" |
  grep -E "^stats: (tr_|xmpp_msg_latency|error|connect |session |users_count|finish_users_count|request )" || true
