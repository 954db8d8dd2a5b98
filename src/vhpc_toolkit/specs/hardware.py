"""Virtual hardware versions: what a VM's version allows, and what a host's ESXi runs.

A VM's version (``config.version``, ``vmx-N``) is set when vCenter creates it and changed only by
``UpgradeVM_Task`` (powered off): ``ConfigSpec.version`` "is used only while creating a new virtual
machine" (API reference), so a clone keeps its template's version whatever its CloneSpec says.
Dynamic DirectPath I/O needs version 17 (vSphere 7.0, "Add a PCI Device to a Virtual Machine"); an
ESXi release runs virtual hardware up to a version of its own (VMware KB 1003746).

Pure code: no vSphere.
"""
from __future__ import annotations

DYNAMIC_DIRECTPATH_MIN = 17

# The newest virtual hardware each ESXi release runs, newest release first.
ESXI_HARDWARE = [("8.0.2", 21), ("8.0.1", 20), ("8.0.0", 20), ("7.0.2", 19), ("7.0.1", 18), ("7.0.0", 17),
                 ("6.7.2", 15), ("6.7.0", 14), ("6.5.0", 13), ("6.0.0", 11), ("5.5.0", 10)]


def hw_version(version: str | None) -> int:
    """The number of ``vmx-N`` (0 when unknown)."""
    try:
        return int(str(version or "").removeprefix("vmx-"))
    except ValueError:
        return 0


def _vkey(version: str) -> tuple:
    return tuple(int(p) if p.isdigit() else 0 for p in (version or "0").split("."))


def esxi_max_hardware(esxi_version: str | None) -> int:
    """The newest hardware version an ESXi release runs (0 when the release is unknown)."""
    if not esxi_version:
        return 0
    return next((hw for esxi, hw in ESXI_HARDWARE if _vkey(esxi_version) >= _vkey(esxi)), 0)


def needs_upgrade(template_version: str | None, wanted: int | None) -> int | None:
    """The version a clone is upgraded to (``hardware_version: wanted``), None when its template's
    version already is (or when nothing is asked or the template's version is unknown)."""
    have = hw_version(template_version)
    return wanted if wanted and have and have < wanted else None


def dynamic_device_spec(change) -> bool:
    """Whether a device change adds a Dynamic DirectPath device (the ones that need version 17)."""
    from pyVmomi import vim

    device = getattr(change, "device", None)
    return isinstance(device, vim.vm.device.VirtualPCIPassthrough) and \
        isinstance(device.backing, vim.vm.device.VirtualPCIPassthrough.DynamicBackingInfo)
