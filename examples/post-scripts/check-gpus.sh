#!/bin/sh
# vHPC toolkit example check: the guest sees its GPUs (NVIDIA driver loaded, every GPU listed).
# Usage (cluster file): check: ../post-scripts/check-gpus.sh [COUNT]
# Healthy (exit 0) when `nvidia-smi -L` lists at least COUNT GPUs (default 1). A check is
# read-only: it looks, it never changes the guest.
want=${1:-1}
gpus() { if [ "$1" = 1 ]; then echo "1 GPU"; else echo "$1 GPUs"; fi; }
if ! command -v nvidia-smi >/dev/null 2>&1; then
    echo "nvidia-smi not found: is the NVIDIA driver installed?"
    exit 2
fi
list=$(nvidia-smi -L 2>&1) || { echo "$list"; echo "nvidia-smi -L failed"; exit 3; }
have=$(printf '%s\n' "$list" | grep -c '^GPU [0-9]')
printf '%s\n' "$list"
if [ "$have" -lt "$want" ]; then
    echo "found $(gpus "$have"), expected $want"
    exit 1
fi
echo "ok: $(gpus "$have")"
