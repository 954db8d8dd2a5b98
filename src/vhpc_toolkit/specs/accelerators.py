"""Pure builders for accelerator VMs: Dynamic DirectPath devices and the advanced options that go
with GPUs (peer-to-peer, NUMA affinity, 1 GB pages).

- Dynamic DirectPath I/O (vSphere 7.0): a ``VirtualPCIPassthrough`` whose
  ``DynamicBackingInfo`` lists the allowed devices by vendor and device id (and, optionally, a
  hardware label the device must carry); the host assigns a free matching device at power-on.
- Multi-GPU VMs: ``pciPassthru.allowP2P`` and ``pciPassthru.RelaxACSforP2P`` let passthrough GPUs
  talk peer-to-peer (vSphere's guidance for machine learning with several GPUs in one VM).
- ``numa.nodeAffinity``: the NUMA node(s) the VM's vCPUs and memory are placed on; the planner sets it
  to the node of the VM's GPUs and SR-IOV adapter.
- ``sched.mem.lpage.enable1GPage``: back guest memory with 1 GB pages (needs all memory reserved).
"""
from __future__ import annotations

from vhpc_toolkit.specs.nic import temp_key

ALLOW_P2P = "pciPassthru.allowP2P"
RELAX_ACS = "pciPassthru.RelaxACSforP2P"
NUMA_AFFINITY = "numa.nodeAffinity"
HUGEPAGES_1G = "sched.mem.lpage.enable1GPage"


def dynamic_passthrough_device(vendor_id: int, device_id: int, label: str | None = None, name: str = ""):
    """A device change adding a Dynamic DirectPath device that takes any free device of that vendor and
    device id (with ``label``: only one carrying that hardware label)."""
    from pyVmomi import vim

    backing = vim.vm.device.VirtualPCIPassthrough.DynamicBackingInfo(
        allowedDevice=[vim.vm.device.VirtualPCIPassthrough.AllowedDevice(vendorId=vendor_id & 0xFFFF,
                                                                           deviceId=device_id & 0xFFFF)],
        customLabel=label or None, deviceName=name or "")
    dev = vim.vm.device.VirtualPCIPassthrough(key=temp_key(), backing=backing)
    return vim.vm.device.VirtualDeviceSpec(operation="add", device=dev)


def dynamic_allowed(device) -> list[tuple[int, int]] | None:
    """(vendor, device) ids a Dynamic DirectPath device allows; None for any other device."""
    from pyVmomi import vim

    backing = getattr(device, "backing", None)
    if not isinstance(backing, vim.vm.device.VirtualPCIPassthrough.DynamicBackingInfo):
        return None
    return [(a.vendorId & 0xFFFF, a.deviceId & 0xFFFF) for a in backing.allowedDevice or []]


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
