#!/bin/sh
# Runs COMMAND... in a network namespace of its own, with a veth pair
# n0 (10.99.0.1) / n1 (10.99.0.2): libnice gathers no candidates on lo and
# ignores interfaces named veth*, so calls need this. Traffic never leaves
# the namespace. Needs root (unshare -n): otherwise it exits 77, which
# meson and scripts/test.sh count as skipped; the cases that need no
# media also run without it (meson test webrtccall-signaling). See
# docs/testing.md.
if [ "$(id -u)" -ne 0 ]; then
  echo "netns.sh: needs root (unshare -n)" >&2
  exit 77
fi
exec unshare -n sh -c '
  set -e
  ip link set lo up
  ip link add n0 type veth peer name n1
  ip addr add 10.99.0.1/24 dev n0
  ip addr add 10.99.0.2/24 dev n1
  ip link set n0 up
  ip link set n1 up
  exec "$@"' sh "$@"
