"""PVRDMA: a paravirtual RDMA adapter, which only sits on a distributed port group."""
from __future__ import annotations

from vhpc_toolkit.specs.devices.nic import PortGroupRef, add_nic


def pvrdma_adapter(pg: PortGroupRef):
    """A device change adding a VirtualVmxnet3Vrdma on distributed port group ``pg``."""
    from pyVmomi import vim

    if not pg.distributed:
        raise ValueError(f"PVRDMA needs a distributed port group; {pg.name} is a standard port group")
    return add_nic(pg, vim.vm.device.VirtualVmxnet3Vrdma)
