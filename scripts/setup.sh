#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine lacks and builds the project in
# build/. Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  meson ninja-build pkg-config gcc
  libglib2.0-dev libsoup-3.0-dev libjson-glib-dev libnice-dev
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev
  libgstreamer-plugins-bad1.0-dev
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  gstreamer1.0-plugins-bad gstreamer1.0-nice
  clang libclang-rt-14-dev
  iproute2 openssl libssl-dev ca-certificates glib-networking
  gstreamer1.0-plugins-base-apps python3-gi gir1.2-gstreamer-1.0
  chromium coturn
  janus baresip sip-tester kamailio
  python3-matplotlib
)
# Node comes from NodeSource on some machines, with its own npm that
# Debian's npm package would conflict with
command -v npm >/dev/null || packages+=(nodejs npm)
[ "${WTSP_SETUP_EXTRA:-}" ] && packages+=(${WTSP_SETUP_EXTRA})

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" \
    || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends \
    "${missing[@]}" >/dev/null
fi

# puppeteer-core drives the system's Chromium: never let it download one
browser=tests/e2e/browser
if [ ! -d $browser/node_modules/puppeteer-core ] ||
   [ $browser/package-lock.json -nt $browser/node_modules/.package-lock.json ]; then
  echo "setup: npm ci in $browser"
  (cd $browser && PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund >/dev/null)
fi

if [ ! -f build/build.ninja ]; then
  meson setup build >/dev/null
fi
ninja -C build >/dev/null
echo "setup: built in build/ (plugin: build/gst/libgstwtsp.so)"
