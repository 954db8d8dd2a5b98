"""PCI DirectPath I/O: the device backing and the 64-bit MMIO window large-BAR devices need."""
from __future__ import annotations

import re
from typing import Iterable

from vhpc_toolkit.specs.devices.nic import temp_key
from vhpc_toolkit.words import count

USE_64BIT_MMIO = "pciPassthru.use64bitMMIO"
MMIO_SIZE_GB = "pciPassthru.64bitMMIOSizeGB"
DEFAULT_MMIO_GB = 256

_MEMORY_IN_NAME = re.compile(r"(\d+)\s*GB\b", re.IGNORECASE)


def normalize_id(pci_id: str) -> str:
    """PCI ids compare case-insensitively: `0000:3B:00.0` is `0000:3b:00.0`."""
    return pci_id.strip().lower()


def device_id_hex(device_id: int) -> str:
    """vSphere's deviceId: hex of the 16-bit id (the API's signed short, e.g. -8780 -> '1db4')."""
    return format(device_id & 0xFFFF, "x")


def device_backing(info):
    """The DeviceBackingInfo of a ``vim.vm.PciPassthroughInfo`` (or SriovInfo) config-target entry."""
    from pyVmomi import vim

    dev = info.pciDevice
    return vim.vm.device.VirtualPCIPassthrough.DeviceBackingInfo(
        id=dev.id, deviceId=device_id_hex(dev.deviceId), systemId=info.systemId,
        vendorId=dev.vendorId, deviceName=dev.deviceName)


def passthrough_device(info):
    """A device change adding the PCI device of config-target entry ``info`` in passthrough mode."""
    from pyVmomi import vim

    dev = vim.vm.device.VirtualPCIPassthrough(key=temp_key(), backing=device_backing(info))
    return vim.vm.device.VirtualDeviceSpec(operation="add", device=dev)


def dynamic_passthrough_device(vendor_id: int, device_id: int, label: str | None = None, name: str = ""):
    """A device change adding a Dynamic DirectPath I/O device (vSphere 7.0+): any free device of the
    host with this vendor and device id (with ``label``: only one carrying that hardware label),
    chosen at power-on (``assignedId`` then says which)."""
    from pyVmomi import vim

    pci = vim.vm.device.VirtualPCIPassthrough
    backing = pci.DynamicBackingInfo(
        allowedDevice=[pci.AllowedDevice(vendorId=vendor_id & 0xFFFF, deviceId=device_id & 0xFFFF)],
        customLabel=label or None, deviceName=name or "")
    return vim.vm.device.VirtualDeviceSpec(operation="add", device=pci(key=temp_key(), backing=backing))


def dynamic_type(device) -> tuple[int, int] | None:
    """(vendor id, device id) an existing Dynamic DirectPath device allows, None for any other device."""
    from pyVmomi import vim

    if not isinstance(device, vim.vm.device.VirtualPCIPassthrough) or \
            not isinstance(device.backing, vim.vm.device.VirtualPCIPassthrough.DynamicBackingInfo):
        return None
    allowed = device.backing.allowedDevice or []
    return (allowed[0].vendorId & 0xFFFF, allowed[0].deviceId & 0xFFFF) if allowed else (0, 0)


def assigned_id(device) -> str | None:
    """The host device a Dynamic DirectPath device was given at power-on (normalized), else None."""
    if dynamic_type(device) is None:
        return None
    assigned = getattr(device.backing, "assignedId", None)
    return normalize_id(assigned) if assigned else None


def pci_type(dev) -> tuple[int, int]:
    """(vendor id, device id) of a vim.host.PciDevice, as unsigned 16-bit numbers."""
    return dev.vendorId & 0xFFFF, dev.deviceId & 0xFFFF


def passthrough_id(device) -> str | None:
    """The normalized PCI id of an existing VirtualPCIPassthrough (None for vGPU and other devices)."""
    from pyVmomi import vim

    if not isinstance(device, vim.vm.device.VirtualPCIPassthrough):
        return None
    backing = device.backing
    if isinstance(backing, vim.vm.device.VirtualPCIPassthrough.DeviceBackingInfo) and backing.id:
        return normalize_id(backing.id)
    return None


def is_power_of_two(n: int) -> bool:
    return isinstance(n, int) and n > 0 and n & (n - 1) == 0


def next_power_of_two(n: int) -> int:
    return 1 if n <= 1 else 1 << (int(n) - 1).bit_length()


def _device_name(device) -> str:
    if isinstance(device, str):
        return device
    pci = getattr(device, "pciDevice", None)
    return getattr(pci if pci is not None else device, "deviceName", "") or ""


def device_mmio_gb(device) -> int:
    """The 64-bit MMIO one device needs, estimated from the memory its name states.

    Rule: a GPU's large BAR is as big as its memory and must be naturally
    aligned next to the device's other BARs, so one device needs twice its
    memory, rounded up to a power of two (V100 32GB -> 64 GB, 16GB -> 32 GB).
    A device whose name states no memory size counts 0 (no estimate).
    """
    match = _MEMORY_IN_NAME.search(_device_name(device))
    return next_power_of_two(2 * int(match.group(1))) if match else 0


def required_mmio_gb(devices: Iterable) -> int:
    """The sum of the devices' needs rounded up to a power of two (0 when nothing is known)."""
    total = sum(device_mmio_gb(d) for d in devices)
    return next_power_of_two(total) if total else 0


def check_mmio_size(size_gb: int, devices: Iterable = ()) -> None:
    """ValueError when ``size_gb`` is not a power of two or is too small for ``devices``.

    ``devices``: device names, config-target entries (PciPassthroughInfo) or HostPciDevice objects.
    """
    if not is_power_of_two(size_gb):
        raise ValueError(f"MMIO size must be a power of two in GB (e.g. 64, 128, 256), not {size_gb}")
    devices = list(devices)
    need = required_mmio_gb(devices)
    if need > size_gb:
        raise ValueError(f"MMIO size {size_gb} GB is too small for {count(len(devices), 'device')} "
                         f"({', '.join(_device_name(d) or '?' for d in devices)}): they need at least {need} GB")


LARGE_BAR_GB = 16   # devices mapping more than this (V100, P100, A100...) need EFI and a 64-bit MMIO window


def efi_warning(vm_name: str, firmware: str | None) -> str | None:
    """The warning for a passthrough VM whose firmware is not EFI (None when it is), for devices whose
    size is not known (a large-BAR one is refused: :func:`large_bar_problem`)."""
    if (firmware or "bios") == "efi":
        return None
    return (f"VM {vm_name} firmware is {firmware or 'bios'}, not EFI: large-BAR devices "
            "with a 64-bit MMIO window need EFI firmware to boot")


def large_bar_problem(vm_name: str, firmware: str | None, devices: Iterable) -> str | None:
    """Why a BIOS VM cannot use these devices: they map more than 16 GB (a 32 GB V100 needs a 64 GB 64-bit
    MMIO window), which only EFI firmware places. vSphere powers such a VM on; its guest cannot use the
    GPU (VMware: "How to Enable Nvidia V100 GPU in Passthrough mode on vSphere"). None when it can."""
    if (firmware or "bios") == "efi":
        return None
    devices = list(devices)
    need = required_mmio_gb(devices)
    if need <= LARGE_BAR_GB:
        return None
    names = ", ".join(sorted({_device_name(d) or "?" for d in devices}))
    return (f"VM {vm_name} boots with {(firmware or 'bios').upper()} firmware: its device(s) ({names}) need a "
            f"{need} GB 64-bit MMIO window, which only EFI firmware maps (a BIOS guest powers on but cannot use "
            "them): use an EFI template, or an EFI VM")


def mmio_extra_config(size_gb: int) -> list:
    """extraConfig enabling a 64-bit MMIO window of ``size_gb`` GB."""
    from pyVmomi import vim

    if not is_power_of_two(size_gb):
        raise ValueError(f"MMIO size must be a power of two in GB, not {size_gb}")
    return [vim.option.OptionValue(key=USE_64BIT_MMIO, value="TRUE"),
            vim.option.OptionValue(key=MMIO_SIZE_GB, value=str(size_gb))]
