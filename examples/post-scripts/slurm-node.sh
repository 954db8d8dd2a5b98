#!/bin/sh
# vHPC toolkit example post script: make this VM a node of its Slurm cluster.
#
# vhpc_toolkit runs it with the node's part in Slurm in its environment (docs/slurm.md):
#   VHPC_SLURM_CONTROLLER  HOST:PORT of slurmctld (the file's [_SLURM_] controller:)
#   VHPC_SLURM_NODENAME    the node's name in Slurm (the VM's name)
#   VHPC_SLURM_ROLE        compute or login
# The template carries munge, with the site's key in /etc/munge/munge.key, and slurmd and the Slurm
# client commands (Debian: munge, slurmd, slurm-client). A compute node runs slurmd "configless": it
# fetches slurm.conf from slurmctld. A login node gets a client configuration that names slurmctld.
# Both are enabled in /etc/rc.local, which runs at every boot, and started now.
set -eu
: "${VHPC_SLURM_CONTROLLER:?run by vhpc_toolkit for a cluster file with a [_SLURM_] section}"
role=${VHPC_SLURM_ROLE:-compute}
node=${VHPC_SLURM_NODENAME:-$(hostname -s)}
if [ ! -s /etc/munge/munge.key ]; then
  echo "no /etc/munge/munge.key: the template needs munge with the site's key" >&2
  exit 1
fi

mkdir -p /etc/vhpc
{
  echo '#!/bin/sh'
  echo '# Slurm at boot (written by slurm-node.sh, a vhpc_toolkit post script).'
  echo 'mkdir -p /run/munge /var/lib/munge /var/log/munge /var/spool/slurmd /var/log/slurm /run/slurm'
  echo 'chmod 0700 /var/lib/munge /var/log/munge; chmod 0755 /run/munge'
  echo 'munged || exit 1'
  if [ "$role" = compute ]; then
    echo "exec slurmd --conf-server $VHPC_SLURM_CONTROLLER -N $node"
  fi
} > /etc/vhpc/slurm-boot.sh
chmod 0755 /etc/vhpc/slurm-boot.sh

if [ "$role" = login ]; then
  # Client commands (sbatch, squeue, sinfo) find slurmctld here.
  host=${VHPC_SLURM_CONTROLLER%:*}
  port=${VHPC_SLURM_CONTROLLER##*:}
  mkdir -p /etc/slurm
  printf 'ClusterName=%s\nSlurmctldHost=%s\nSlurmctldPort=%s\nAuthType=auth/munge\n' \
    "${VHPC_SLURM_CLUSTER:-cluster}" "$host" "$port" > /etc/slurm/slurm.conf
fi

# Enabled at every boot: one line in /etc/rc.local.
[ -f /etc/rc.local ] || printf '#!/bin/sh\n' > /etc/rc.local
grep -q '/etc/vhpc/slurm-boot.sh' /etc/rc.local || echo '/etc/vhpc/slurm-boot.sh &' >> /etc/rc.local
chmod 0755 /etc/rc.local

# And now, for this boot.
mkdir -p /var/log
/etc/vhpc/slurm-boot.sh </dev/null >/var/log/slurm-boot.log 2>&1 &
echo "slurm $role node $node: enabled at boot, started (controller $VHPC_SLURM_CONTROLLER)"
