"""What a post script of a Slurm cluster learns from its environment (pure code).

vSphere passes a guest program its environment (``StartProgramInGuest``'s ``envVariables``); the
post scripts of a cluster with a ``[_SLURM_]`` section get the node's part in Slurm, so one script
serves every node and every site (examples/post-scripts/slurm-node.sh):

- ``VHPC_SLURM_CONTROLLER``: HOST:PORT of slurmctld (``controller:``), ``..._HOST`` and ``..._PORT``
- ``VHPC_SLURM_NODENAME``: the node's Slurm name (the VM's name)
- ``VHPC_SLURM_ROLE``: ``login`` or ``compute``
- ``VHPC_SLURM_ELASTIC``: ``yes`` or ``no``
- ``VHPC_SLURM_CLUSTER``: the cluster's name (``[_CLUSTER_] name:``, else the file's name without its extension)
"""
from __future__ import annotations

from typing import Callable

from vhpc_toolkit.clusterfile import ClusterSpec, VMSpec


def slurm_env(spec: ClusterSpec, vm: VMSpec) -> list[str]:
    s = spec.slurm
    if s is None:
        return []
    return [f"VHPC_SLURM_CONTROLLER={s.controller_address}", f"VHPC_SLURM_CONTROLLER_HOST={s.controller}",
            f"VHPC_SLURM_CONTROLLER_PORT={s.controller_port}", f"VHPC_SLURM_NODENAME={vm.name}",
            f"VHPC_SLURM_ROLE={vm.role or 'compute'}", f"VHPC_SLURM_ELASTIC={'yes' if vm.elastic else 'no'}",
            f"VHPC_SLURM_CLUSTER={spec.name}"]


def script_env(spec: ClusterSpec) -> Callable[[VMSpec], list[str]] | None:
    """The environment of each VM's post scripts (None: the file has no [_SLURM_] section)."""
    if spec.slurm is None:
        return None
    return lambda vm: slurm_env(spec, vm)
