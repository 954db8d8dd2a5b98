"""NVIDIA vGPU (shared passthrough): a VirtualPCIPassthrough with a vmiop backing naming the profile."""
from __future__ import annotations

from vhpc_toolkit.specs.devices.nic import temp_key


def vgpu_device(profile: str):
    """A device change adding one vGPU of ``profile`` (e.g. grid_v100-8q)."""
    from pyVmomi import vim

    if not profile or not profile.strip():
        raise ValueError("a vGPU needs a profile name, e.g. grid_v100-8q")
    dev = vim.vm.device.VirtualPCIPassthrough(
        key=temp_key(), backing=vim.vm.device.VirtualPCIPassthrough.VmiopBackingInfo(vgpu=profile.strip()))
    return vim.vm.device.VirtualDeviceSpec(operation="add", device=dev)


def vgpu_profile(device) -> str | None:
    """The profile of an existing vGPU device, None for any other device."""
    from pyVmomi import vim

    if isinstance(device, vim.vm.device.VirtualPCIPassthrough) and \
            isinstance(device.backing, vim.vm.device.VirtualPCIPassthrough.VmiopBackingInfo):
        return device.backing.vgpu
    return None
