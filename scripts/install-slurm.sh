#!/usr/bin/env bash
# Installs Debian's Slurm (slurmctld, slurmd, the client commands) and munge for the tests and the
# benchmark, starting no service: the tests run the daemons from their binaries. Does nothing when
# the binaries are there. Needs root (or sudo).
set -euo pipefail
have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ]; }
if have slurmctld && have slurmd && have munged && have scontrol && have sbatch; then
  exit 0
fi
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
# The packages' install scripts start their daemons through invoke-rc.d unless policy-rc.d forbids
# it; a temporary one (exit 101: "action forbidden") is removed again afterwards.
made_policy=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod 755 /usr/sbin/policy-rc.d
  made_policy=1
fi
cleanup() { [ -z "$made_policy" ] || $SUDO rm -f /usr/sbin/policy-rc.d; }
trap cleanup EXIT
echo "installing Debian packages: slurmctld slurmd slurm-client munge"
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null
