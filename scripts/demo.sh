#!/usr/bin/env bash
# The demo: start the lab, create a GPU + SR-IOV cluster on it, show it, re-run (nothing to do),
# destroy it, stop the lab.
set -euo pipefail
cd "$(dirname "$0")/.."
CLUSTER=${CLUSTER:-examples/cluster-scripts/cluster-sriov-gpu.conf}
work=$(mktemp -d)
sim/bin/vhpc-sim --listen 127.0.0.1:0 --conf-out "$work/vCenter.conf" --guest-root "$work/guests" \
  >"$work/sim.log" 2>&1 &
sim_pid=$!
trap 'kill $sim_pid 2>/dev/null; wait $sim_pid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 600); do [ -s "$work/vCenter.conf" ] && break; sleep 0.1; done
[ -s "$work/vCenter.conf" ] || { echo "the lab did not start:"; cat "$work/sim.log"; exit 1; }
export COLUMNS=${COLUMNS:-160}
vhpc() { echo; echo "\$ vhpc_toolkit $*"; .venv/bin/vhpc_toolkit --vcenter-conf "$work/vCenter.conf" "$@"; }

echo "== The lab (a vCenter simulator with GPU/SR-IOV hosts) is up: $(grep -E '^(server|port):' "$work/vCenter.conf" | tr -d '"' | tr '\n' ' ')"
vhpc view
vhpc --yes cluster --create --file "$CLUSTER"
vhpc view --networking
vhpc --yes cluster --create --file "$CLUSTER"
vhpc --yes cluster --destroy --file "$CLUSTER"
echo
echo "== Demo done: the cluster of $CLUSTER was created, shown, found up to date, and destroyed."
