#!/usr/bin/env bash
# `make lab` / `make lab-stop`: the vCenter lab in the background, for trying the toolkit by hand.
# start: runs sim/bin/vhpc-sim (state in .lab/), writes ./vCenter.conf for it (never over a
# vCenter.conf of your own) and says how to stop it. stop: stops it and removes that file.
set -euo pipefail
cd "$(dirname "$0")/.."
LAB=$PWD/.lab
CONF=$PWD/vCenter.conf
MARK="# vhpc-sim lab vCenter"

running() { [ -f "$LAB/pid" ] && kill -0 "$(cat "$LAB/pid")" 2>/dev/null; }
ours() { [ -f "$CONF" ] && head -1 "$CONF" | grep -q "^$MARK"; }

start() {
  if running; then
    echo "The lab is already running (pid $(cat "$LAB/pid")): $(grep -E '^port:' "$LAB/vCenter.conf")"
  else
    mkdir -p "$LAB"
    rm -f "$LAB/vCenter.conf"
    setsid sim/bin/vhpc-sim --listen 127.0.0.1:0 --conf-out "$LAB/vCenter.conf" --guest-root "$LAB/guests" \
      >"$LAB/sim.log" 2>&1 < /dev/null &
    echo $! >"$LAB/pid"
    for _ in $(seq 1 300); do [ -s "$LAB/vCenter.conf" ] && break; sleep 0.1; done
    [ -s "$LAB/vCenter.conf" ] || { echo "the lab did not start:"; tail -20 "$LAB/sim.log"; exit 1; }
    chmod 600 "$LAB/vCenter.conf"
  fi
  if [ -f "$CONF" ] && ! ours; then
    echo "./vCenter.conf is yours (not the lab's): left as it is. Point the toolkit at the lab with"
    echo "  vhpc_toolkit --vcenter-conf $LAB/vCenter.conf view"
  else
    install -m 600 "$LAB/vCenter.conf" "$CONF"
    echo "The lab (a vCenter simulator with GPU, vGPU and SR-IOV hosts) runs in the background at"
    echo "https://$(sed -n 's/^server: "\(.*\)"/\1/p' "$CONF"):$(sed -n 's/^port: //p' "$CONF") (pid $(cat "$LAB/pid"))."
    echo "./vCenter.conf points at it: run the toolkit from this folder, e.g."
    echo "  . .venv/bin/activate && vhpc_toolkit view"
  fi
  echo "Stop it with: make lab-stop"
}

stop() {
  if running; then
    kill "$(cat "$LAB/pid")" && echo "the lab (pid $(cat "$LAB/pid")) is stopped"
  else
    echo "the lab is not running"
  fi
  rm -f "$LAB/pid"
  if ours; then rm -f "$CONF"; fi
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop"; exit 2 ;;
esac
