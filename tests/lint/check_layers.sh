#!/usr/bin/env bash
# Enforces DESIGN.md's layer rules: each folder under src/ may include only the layers below it, and
# third-party headers only where they belong (Asio in net/ and main; wolfSSL in crypto/ and tls/; never
# OpenSSL headers). Include paths alone cannot enforce this, because all system headers share /usr/include.
set -u
src=${1:-$(dirname "$0")/../../src}

# layer -> project layers it may include (itself is always allowed)
declare -A allowed_layers=(
  [base]=""
  [xml]="base"
  [xmpp]="base xml"
  [crypto]="base"
  [sasl]="base crypto xmpp xml"
  [tls]="base"
  [store]="base crypto xmpp"
  [config]="base xmpp xml"
  [server]="base xml xmpp crypto sasl tls store config"
  [modules]="base xml xmpp crypto config server"
  [net]="base xml xmpp crypto sasl tls store config server modules"
  [ctl]="base xml xmpp crypto sasl tls store config server modules net"
)
# layer -> extended regex of system headers it must not include
declare -A forbidden_system=(
  [base]='^(asio|wolfssl|pugixml|sqlite3|toml\+\+|stringprep|idna)'
  [xml]='^(asio|wolfssl|sqlite3|toml\+\+)'
  [xmpp]='^(asio|wolfssl|sqlite3|toml\+\+)'
  [crypto]='^(asio|pugixml|sqlite3|toml\+\+)'
  [sasl]='^(asio|wolfssl|pugixml|sqlite3|toml\+\+)'
  [tls]='^(asio|pugixml|sqlite3|toml\+\+)'
  [store]='^(asio|wolfssl|pugixml|toml\+\+)'
  [config]='^(asio|wolfssl|pugixml|sqlite3)'
  [server]='^(asio/(?!awaitable\.hpp)|asio\.hpp|wolfssl|sqlite3|toml\+\+)'
  [modules]='^(asio/(?!awaitable\.hpp)|asio\.hpp|wolfssl|sqlite3|toml\+\+)'
  [net]='^(wolfssl|sqlite3|toml\+\+)'
  [ctl]='^(wolfssl|toml\+\+)'
)

violations=0
report() { echo "$1: $2"; violations=$((violations + 1)); }

while IFS= read -r file; do
  rel=${file#"$src"/}
  layer=${rel%%/*}
  [[ "$layer" == "$rel" ]] && layer=main
  while IFS= read -r line; do
    if [[ $line =~ ^[[:space:]]*#[[:space:]]*include[[:space:]]*\<([^>]+)\> ]]; then
      header=${BASH_REMATCH[1]}
      [[ $header == openssl/* ]] && report "$rel" "includes <$header>: use wolfSSL's native API"
      [[ $layer == main ]] && continue
      if printf '%s\n' "$header" | grep -qP "${forbidden_system[$layer]}"; then
        report "$rel" "layer $layer may not include <$header>"
      fi
    elif [[ $line =~ ^[[:space:]]*#[[:space:]]*include[[:space:]]*\"([a-z_]+)/ ]]; then
      target=${BASH_REMATCH[1]}
      [[ $layer == main || $target == "$layer" ]] && continue
      if [[ " ${allowed_layers[$layer]} " != *" $target "* ]]; then
        report "$rel" "layer $layer may not include $target/ (${line#*include })"
      fi
    fi
  done < "$file"
done < <(find "$src" -name '*.hpp' -o -name '*.cpp' | sort)

if [[ $violations -gt 0 ]]; then
  echo "$violations layer violation(s)"
  exit 1
fi
echo "layer rules hold"
