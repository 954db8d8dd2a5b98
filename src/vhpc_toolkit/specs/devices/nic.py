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
    """The network adapters among a VM's devices, in the order the guest sees them (see guest_order)."""
    return guest_order(devices)


def is_sriov(device) -> bool:
    from pyVmomi import vim

    return isinstance(device, vim.vm.device.VirtualSriovEthernetCard)


def pci_slot(device) -> int | None:
    slot = getattr(device, "slotInfo", None)
    return getattr(slot, "pciSlotNumber", None)


def guest_order(devices) -> list:
    """A VM's network adapters in the order the guest enumerates them, which is the order guest
    customization applies nicSettingMap in (PCI slot order): emulated adapters (VMXNET3, E1000,
    PVRDMA) before SR-IOV adapters (passthrough devices, on later slots); within each, by
    slotInfo.pciSlotNumber where vSphere has assigned one (at the first power-on), else by device key
    (the order they were added in)."""
    from pyVmomi import vim

    cards = [d for d in devices or [] if isinstance(d, vim.vm.device.VirtualEthernetCard)]
    return sorted(cards, key=lambda d: (is_sriov(d), pci_slot(d) is None, pci_slot(d) or 0, d.key))


def order_known(cards) -> bool:
    """Whether every adapter has its PCI slot: only then is guest_order certain (MACs may be sent)."""
    return all(pci_slot(d) is not None for d in cards)
