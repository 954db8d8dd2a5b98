#!/usr/bin/env bash
# The demo: start the lab, run the main job on it, show the result, stop the lab.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
sim/bin/vhpc-sim --listen 127.0.0.1:0 --conf-out "$work/vCenter.conf" >"$work/sim.log" 2>&1 &
sim_pid=$!
trap 'kill $sim_pid 2>/dev/null; wait $sim_pid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 600); do [ -s "$work/vCenter.conf" ] && break; sleep 0.1; done
[ -s "$work/vCenter.conf" ] || { echo "the lab did not start:"; cat "$work/sim.log"; exit 1; }
vhpc() { .venv/bin/vhpc_toolkit --vcenter-conf "$work/vCenter.conf" "$@"; }
echo "== The lab is up: $(grep -E '^(server|port):' "$work/vCenter.conf" | tr '\n' ' ')"
echo "== vhpc_toolkit view --networking"
vhpc view --networking
echo "== vhpc_toolkit cluster --plan --file examples/cluster-scripts/cluster-sriov-gpu.conf"
vhpc cluster --plan --file examples/cluster-scripts/cluster-sriov-gpu.conf || true
