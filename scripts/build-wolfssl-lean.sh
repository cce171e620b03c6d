#!/usr/bin/env bash
# Builds the lean wolfSSL that `meson setup -Dwolfssl=lean` links statically: Debian 12's wolfssl source
# package (upstream 5.5.4 plus all of Debian's patches, security fixes included), configured with only what
# tern uses. Debian's own libwolfssl is built with everything on and costs about 60 KB per TLS connection;
# this one about 5 KB (FACTS.md §7).
#
# Usage: scripts/build-wolfssl-lean.sh [--cflags "FLAGS"] [--flavor NAME] [DIR]
#   DIR      default .deps/wolfssl-lean in the checkout; the source package is fetched into DIR/source once
#   FLAGS    the compiler's optimization and debug flags (default "-O2 -g"); meson.build passes the build's own
#            (buildtype, or -Doptimization/-Ddebug), e.g. "-O3" for a release build
#   NAME     which install this is (default O2-g): DIR/install-NAME/include/wolfssl/*.h and
#            DIR/install-NAME/lib/libwolfssl.a, built in DIR/build-NAME (log: DIR/build-NAME.log)
# Idempotent: returns at once when that install was already built with the current flags. Nothing here is
# committed (.deps/ is gitignored). Prints only its own progress and errors (one line each) on stderr.
#
# Fetches the source with apt-get from the deb-src twin of the system's own Debian sources, using private
# lists and caches under DIR: the system's apt configuration and state are left untouched. Installs autoconf,
# automake, libtool and dpkg-dev from Debian when they are missing.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cflags="-O2 -g"
flavor=O2-g
while [[ $# -gt 0 ]]; do
  case $1 in
    --cflags) cflags=$2; shift 2 ;;
    --flavor) flavor=$2; shift 2 ;;
    -*) echo "build-wolfssl-lean: unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
dir=${1:-$repo/.deps/wolfssl-lean}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

# Everything tern calls and nothing else: TLS 1.2/1.3, SNI, ALPN, tickets, the channel-binding exporter,
# X25519/P-256/P-384, AES-GCM and ChaCha20-Poly1305, SHA-1/256/384/512 for SCRAM and certificates, PBKDF2,
# Base64, certificate generation (ternd makes a self-signed one on first start) and RSA (certificates that
# operators already have; TLS 1.3 then needs RSA-PSS). No OpenSSL compatibility layer and no SESSION_CERTS,
# which are what make Debian's per-connection objects large.
configure_flags=(
  --enable-static --disable-shared --disable-examples --disable-crypttests --disable-benchmark
  --enable-tls13 --enable-tlsv12 --disable-oldtls --disable-tlsv10
  --enable-sni --enable-alpn --enable-session-ticket --enable-keying-material --enable-supportedcurves
  --enable-extended-master
  --enable-ecc --enable-sp --enable-sp-asm --enable-curve25519 --enable-ed25519
  --enable-aesgcm --enable-aesni --enable-intelasm --enable-chacha --enable-poly1305
  --enable-sha --enable-sha384 --enable-sha512 --enable-hkdf --enable-pwdbased --enable-coding
  --enable-base64encode
  --enable-certgen --enable-certext --enable-keygen
  --enable-rsa --enable-rsapss
  --disable-dh --disable-md5 --disable-des3 --disable-arc4 --disable-nullcipher --disable-anon
  --disable-aescbc --disable-sha3 --disable-sha224 --disable-pkcs12 --disable-dsa --disable-psk
  --disable-sessioncerts --disable-opensslextra --disable-opensslall --disable-ocsp --disable-crl
  --disable-sys-ca-certs
)
# tls-unique (RFC 5929) needs the Finished messages, which only the OpenSSL layer keeps otherwise; the client
# sees the server certificate (tls-server-end-point) only in a verify callback that is always called; the
# self-signed certificate lists every hosted domain as a subjectAltName; TLS 1.3 middlebox compatibility
# (RFC 8446 D.4: echo the session id, send the dummy change_cipher_spec) because Erlang/OTP's TLS 1.3 client
# (tsung, ejabberd's outgoing connections) aborts without it (no configure switch for these).
extra_cflags="-DWOLFSSL_HAVE_TLS_UNIQUE -DWOLFSSL_ALWAYS_VERIFY_CB -DWOLFSSL_ALT_NAMES -DWOLFSSL_TLS13_MIDDLEBOX_COMPAT"

install_dir=$dir/install-$flavor
library=$install_dir/lib/libwolfssl.a
stamp=$install_dir/.flags
wanted_stamp="${configure_flags[*]} CFLAGS=$cflags $extra_cflags"

# One build at a time: two build directories may be configured at once.
exec 9>"$dir/.lock"
flock 9

if [[ -f $library && -f $stamp && "$(cat "$stamp")" == "$wanted_stamp" ]]; then
  exit 0
fi

log() { echo "build-wolfssl-lean: $*" >&2; }
# fail MESSAGE: the one line that says what went wrong and what to do, then exit.
fail() { log "$*"; exit 1; }

need=()
for tool_package in autoconf:autoconf automake:automake libtoolize:libtool dpkg-source:dpkg-dev; do
  command -v "${tool_package%%:*}" >/dev/null || need+=("${tool_package#*:}")
done
if [[ ${#need[@]} -gt 0 ]]; then
  sudo=()
  [[ $(id -u) -eq 0 ]] || sudo=(sudo)
  log "installing ${need[*]}"
  { "${sudo[@]}" apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}"; } >&2 ||
    fail "cannot install ${need[*]} from Debian (scripts/install-deps.sh installs them)"
fi

# The source package, fetched once.
source_dir=$dir/source
if [[ ! -f $source_dir/.complete ]]; then
  rm -rf "$source_dir" "$dir/apt" "$dir/download"
  apt_dir=$dir/apt
  mkdir -p "$apt_dir/sources.list.d" "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$dir/download"
  found=0
  for sources in /etc/apt/sources.list.d/*.sources; do
    [[ -f $sources ]] || continue
    sed 's/^Types: deb$/Types: deb-src/' "$sources" >"$apt_dir/sources.list.d/$(basename "$sources")"
    found=1
  done
  if [[ -f /etc/apt/sources.list ]] && grep -q '^deb ' /etc/apt/sources.list; then
    sed -n 's/^deb /deb-src /p' /etc/apt/sources.list >"$apt_dir/sources.list.d/from-sources.list"
    found=1
  fi
  [[ $found -eq 1 ]] || { log "no Debian sources in /etc/apt to derive deb-src entries from"; exit 1; }
  apt_options=(
    -o "Dir::Etc::SourceList=/dev/null" -o "Dir::Etc::SourceParts=$apt_dir/sources.list.d"
    -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache"
    -o "APT::Sandbox::User=root"
  )
  log "fetching the wolfssl source package"
  fetch_log=$dir/fetch.log
  cannot_fetch="cannot fetch Debian's wolfssl source package (deb-src of the Debian sources in /etc/apt; see $fetch_log)"
  cannot_fetch+=": check that the Debian mirror is reachable, or configure with -Dwolfssl=system"
  # The same one line whatever failed, with apt's first complaint (an unreachable mirror shows as
  # "W: Failed to fetch ..." from update, then "E: ..." from source).
  fetch_failed() { fail "$cannot_fetch (apt: $(grep -m1 -E '^[EW]: ' "$fetch_log" || echo 'no message'))"; }
  apt-get "${apt_options[@]}" -q update >"$fetch_log" 2>&1 || fetch_failed
  (cd "$dir/download" && apt-get "${apt_options[@]}" -q source --download-only wolfssl) >>"$fetch_log" 2>&1 ||
    fetch_failed
  compgen -G "$dir/download/wolfssl_*.dsc" >/dev/null || fetch_failed
  dsc=$(ls "$dir"/download/wolfssl_*.dsc | head -n 1)
  # Unpacks the upstream tarball and applies every patch of debian/patches/series, in order.
  dpkg-source --no-check -x "$dsc" "$source_dir" >>"$fetch_log" 2>&1 || fail "cannot unpack $dsc (see $fetch_log)"
  series=$source_dir/debian/patches/series
  if [[ -f $series ]]; then
    expected=$(grep -cv -e '^#' -e '^[[:space:]]*$' "$series" || true)
    applied=$(grep -cv -e '^#' -e '^[[:space:]]*$' "$source_dir/.pc/applied-patches" 2>/dev/null || echo 0)
    [[ $expected -eq $applied ]] || fail "only $applied of $expected Debian patches applied"
    log "applied $applied Debian patches"
  fi
  (cd "$source_dir" && ./autogen.sh) >>"$fetch_log" 2>&1 || fail "autogen.sh failed in $source_dir (see $fetch_log)"
  touch "$source_dir/.complete"
fi

# A VPATH build, redone from scratch whenever the flags change.
build_dir=$dir/build-$flavor
build_log=$dir/build-$flavor.log
rm -rf "$build_dir" "$install_dir"
mkdir -p "$build_dir"
log "configuring and building with CFLAGS $cflags (about a minute on 2 cores; log: $build_log)"
(
  cd "$build_dir"
  "$source_dir/configure" --enable-option-checking=fatal --prefix="$install_dir" "${configure_flags[@]}" \
    CFLAGS="$cflags $extra_cflags"
  make -j"${JOBS:-$(nproc)}"
  make install
) >"$build_log" 2>&1 || { tail -n 20 "$build_log" >&2; fail "configuring or building failed (see $build_log)"; }
echo "$wanted_stamp" >"$stamp"
log "done: $library"
