"""SR-IOV passthrough adapter: a virtual function of a physical function, on a port group."""
from __future__ import annotations

from vhpc_toolkit.specs.devices.nic import PortGroupRef, nic_backing, temp_key
from vhpc_toolkit.specs.devices.passthrough import device_backing, normalize_id


def sriov_adapter(pf_info, pg: PortGroupRef, allow_guest_mtu_change: bool = True):
    """A device change adding an SR-IOV adapter backed by PF ``pf_info`` (a vim.vm.SriovInfo) on ``pg``.

    Guests of HPC fabrics set jumbo MTUs themselves, so MTU changes are allowed by default.
    """
    from pyVmomi import vim

    card = vim.vm.device.VirtualSriovEthernetCard
    dev = card(key=temp_key(), backing=nic_backing(pg),
               allowGuestOSMtuChange=allow_guest_mtu_change,
               sriovBacking=card.SriovBackingInfo(physicalFunctionBacking=device_backing(pf_info)),
               connectable=vim.vm.device.VirtualDevice.ConnectInfo(startConnected=True, allowGuestControl=True,
                                                                   connected=False))
    return vim.vm.device.VirtualDeviceSpec(operation="add", device=dev)


def sriov_pf_id(device) -> str | None:
    """The normalized PF id of an existing SR-IOV adapter, None for any other device."""
    from pyVmomi import vim

    if not isinstance(device, vim.vm.device.VirtualSriovEthernetCard):
        return None
    pf = getattr(device.sriovBacking, "physicalFunctionBacking", None) if device.sriovBacking else None
    return normalize_id(pf.id) if pf is not None and pf.id else None
