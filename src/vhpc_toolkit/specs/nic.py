"""vmxnet3 adapters on standard or distributed port groups."""
from __future__ import annotations

from dataclasses import dataclass

_next_key = [-100]


def temp_key() -> int:
    """Negative device keys identify new devices within one spec (vSphere assigns real ones)."""
    _next_key[0] -= 1
    return _next_key[0]


@dataclass(frozen=True)
class PortGroupRef:
    """A port group as found in the inventory: standard (name) or distributed (switch uuid + key)."""

    name: str
    network: object = None          # the Network / DistributedVirtualPortgroup reference
    dvs_uuid: str | None = None     # set for a distributed port group
    portgroup_key: str | None = None

    @property
    def distributed(self) -> bool:
        return self.dvs_uuid is not None


def nic_backing(pg: PortGroupRef):
    from pyVmomi import vim

    if pg.distributed:
        return vim.vm.device.VirtualEthernetCard.DistributedVirtualPortBackingInfo(
            port=vim.dvs.PortConnection(switchUuid=pg.dvs_uuid, portgroupKey=pg.portgroup_key))
    return vim.vm.device.VirtualEthernetCard.NetworkBackingInfo(deviceName=pg.name, network=pg.network)


def add_nic(pg: PortGroupRef, adapter_cls=None):
    """A device change adding one adapter (vmxnet3 unless another class is given) on ``pg``."""
    from pyVmomi import vim

    cls = adapter_cls or vim.vm.device.VirtualVmxnet3
    dev = cls(key=temp_key(), backing=nic_backing(pg),
              connectable=vim.vm.device.VirtualDevice.ConnectInfo(startConnected=True, allowGuestControl=True,
                                                                  connected=False))
    return vim.vm.device.VirtualDeviceSpec(operation="add", device=dev)


def remove_device(device):
    from pyVmomi import vim

    return vim.vm.device.VirtualDeviceSpec(operation="remove", device=device)


def nic_network_name(device, pg_name_by_key: dict[str, str]) -> str | None:
    """The port group name an existing adapter is on."""
    from pyVmomi import vim

    backing = getattr(device, "backing", None)
    if isinstance(backing, vim.vm.device.VirtualEthernetCard.NetworkBackingInfo):
        return backing.deviceName
    if isinstance(backing, vim.vm.device.VirtualEthernetCard.DistributedVirtualPortBackingInfo):
        return pg_name_by_key.get(backing.port.portgroupKey)
    return None


def ethernet_cards(devices) -> list:
    """The network adapters among a VM's devices, in device key order (the guest's order)."""
    from pyVmomi import vim

    return sorted((d for d in devices or [] if isinstance(d, vim.vm.device.VirtualEthernetCard)),
                  key=lambda d: d.key)
