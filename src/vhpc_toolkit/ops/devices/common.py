"""What every device command shares: one inventory read, each VM's host, and spec edits.

The commands (passthrough.py, vgpu.py, sriov.py, pvrdma.py) read once, check every VM
against its host's offer (ops/host_offers.py) before the first change, then send one
ReconfigVM_Task per VM (ops/reconfigure.py).
"""
from __future__ import annotations

from vhpc_toolkit.errors import ValidationFailed
from vhpc_toolkit.ops.host_offers import HOST_PROPS, MORE_PROPS, VM_PROPS
from vhpc_toolkit.ops.portgroups import PROPS as NET_PROPS
from vhpc_toolkit.ops.targets import host_of, read_targets
from vhpc_toolkit.specs import compute
from vhpc_toolkit.specs.compute import ComputeRequest, apply_compute
from vhpc_toolkit.specs.nic import remove_device
from vhpc_toolkit.vsphere.inventory import Inventory, Obj


def read(session, targets, host_props=()) -> tuple[Inventory, list[Obj], dict[str, Obj | None]]:
    """One inventory read with what every device command needs (plus ``host_props``); the VMs and each VM's host."""
    more = {k: list(v) for k, v in NET_PROPS.items()}
    more["DistributedVirtualSwitch"] = sorted(set(more.get("DistributedVirtualSwitch", [])) |
                                              {"uuid", "summary.hostMember"})
    more.update(MORE_PROPS)
    vm_props = set(VM_PROPS) | set(compute.VM_PROPS) | {"config.firmware", "config.extraConfig", "config.version"}
    inv, vms = read_targets(session, targets, vm_props, host_props=sorted(set(HOST_PROPS) | set(host_props)), more=more)
    return inv, vms, {vm.moid: host_of(inv, vm) for vm in vms}


def no_host(vm: Obj) -> str:
    return f"VM {vm.name} is not on any host (is it registered and connected?)"


def validated(problems: list[str]) -> None:
    if problems:
        raise ValidationFailed(problems)


def full_memory(spec, vm: Obj, host: Obj | None) -> list:
    """Full memory reservation (every passthrough-class device needs it)."""
    return apply_compute(spec, vm.props, ComputeRequest(memory_reservation=True),
                         host.get("summary.hardware.cpuMhz") if host else None)


def devices(vm: Obj) -> list:
    return list(vm.get("config.hardware.device") or [])


def drop_device(spec, device) -> None:
    spec.deviceChange = (spec.deviceChange or []) + [remove_device(device)]


def append_device(spec, change) -> None:
    spec.deviceChange = (spec.deviceChange or []) + [change]
