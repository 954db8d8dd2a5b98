#!/bin/sh
# vHPC toolkit example check: the guest's RDMA fabric is up (SR-IOV InfiniBand/RoCE or PVRDMA).
# Usage (cluster file): check: ../post-scripts/check-infiniband.sh [PORTS]
# Healthy (exit 0) when `ibv_devinfo` (rdma-core) shows at least PORTS ports in state
# PORT_ACTIVE (default 1). A check is read-only: it looks, it never changes the guest.
want=${1:-1}
ports() { if [ "$1" = 1 ]; then echo "1 active port"; else echo "$1 active ports"; fi; }
if ! command -v ibv_devinfo >/dev/null 2>&1; then
    echo "ibv_devinfo not found: install rdma-core (libibverbs-utils / ibverbs-utils)"
    exit 2
fi
info=$(ibv_devinfo 2>&1) || { echo "$info"; exit 3; }
active=$(printf '%s\n' "$info" | grep -c 'state:[[:space:]]*PORT_ACTIVE')
printf '%s\n' "$info" | grep -E 'hca_id|state:|link_layer'
if [ "$active" -lt "$want" ]; then
    echo "found $(ports "$active"), expected $want"
    exit 1
fi
echo "ok: $(ports "$active")"
