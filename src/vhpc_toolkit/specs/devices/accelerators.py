"""Pure builders for accelerator VMs: the advanced options that go
with GPUs (peer-to-peer, NUMA affinity, 1 GB pages).

- Dynamic DirectPath I/O devices are built in specs/devices/passthrough.py (``dynamic_passthrough_device``).
- Multi-GPU VMs: ``pciPassthru.allowP2P`` and ``pciPassthru.RelaxACSforP2P`` let passthrough GPUs
  talk peer-to-peer (vSphere's guidance for machine learning with several GPUs in one VM).
- ``numa.nodeAffinity``: the NUMA node(s) the VM's vCPUs and memory are placed on; the planner sets it
  to the node of the VM's GPUs and SR-IOV adapter.
- ``sched.mem.lpage.enable1GPage``: back guest memory with 1 GB pages (needs all memory reserved).
"""
from __future__ import annotations

ALLOW_P2P = "pciPassthru.allowP2P"
RELAX_ACS = "pciPassthru.RelaxACSforP2P"
NUMA_AFFINITY = "numa.nodeAffinity"
HUGEPAGES_1G = "sched.mem.lpage.enable1GPage"


def accelerator_options(gpus: int = 0, numa_node: int | None = None, hugepages_1g: bool = False) -> list:
    """The extraConfig of a VM with ``gpus`` passthrough GPUs, NUMA affinity and 1 GB pages."""
    from pyVmomi import vim

    out = []
    if gpus >= 2:
        out += [vim.option.OptionValue(key=ALLOW_P2P, value="TRUE"), vim.option.OptionValue(key=RELAX_ACS, value="TRUE")]
    if numa_node is not None:
        out.append(vim.option.OptionValue(key=NUMA_AFFINITY, value=str(numa_node)))
    if hugepages_1g:
        out.append(vim.option.OptionValue(key=HUGEPAGES_1G, value="TRUE"))
    return out
