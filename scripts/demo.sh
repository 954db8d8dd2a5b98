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
echo; echo "== 1/5 the inventory, and what each host can still give"
vhpc view
vhpc view --capacity
echo; echo "== 2/5 the cluster of $CLUSTER, created"
vhpc --yes cluster --create --file "$CLUSTER"
echo; echo "== 3/5 the cluster on the hosts and switches"
vhpc view --networking
echo; echo "== 4/5 the same file again: nothing to do"
vhpc --yes cluster --create --file "$CLUSTER"
echo; echo "== 5/5 the cluster destroyed"
vhpc --yes cluster --destroy --file "$CLUSTER"
echo
echo "== Demo done: the cluster of $CLUSTER was created, shown, found up to date, and destroyed."
