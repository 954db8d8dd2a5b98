"""What every device command shares: one inventory read, each VM's host, and spec edits.

The commands (passthrough.py, vgpu.py, sriov.py, pvrdma.py) read once, check every VM
against its host's offer (ops/hosts/offers.py) before the first change, then send one
ReconfigVM_Task per VM (ops/edits/reconfigure.py).
"""
from __future__ import annotations

from typing import Callable

from vhpc_toolkit.ops.hosts.offers import HOST_PROPS, MORE_PROPS, VM_PROPS, host_offers
from vhpc_toolkit.ops.networks.portgroups import PROPS as NET_PROPS
from vhpc_toolkit.ops.edits.reconfigure import apply_specs, plan_specs
from vhpc_toolkit.ops.vms.targets import host_of, read_targets
from vhpc_toolkit.results import QueryReport, Report, TargetResult
from vhpc_toolkit.specs import Change, compute
from vhpc_toolkit.specs.compute import ComputeRequest, apply_compute
from vhpc_toolkit.specs.devices.nic import remove_device
from vhpc_toolkit.specs.devices.passthrough import mmio_extra_config
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


def query_offers(session, targets, operation: str, rows_key: str, columns, describe: Callable) -> QueryReport:
    """`--query`: per VM, what its host offers. ``describe(inv, vm, host, offer)`` returns the detail
    (after "host NAME: ") and the result's data (``rows_key`` and more)."""
    inv, vms, hosts = read(session, targets)
    offers = host_offers(session, inv, hosts.values())
    results = []
    for obj in vms:
        host = hosts[obj.moid]
        if host is None:
            results.append(TargetResult(obj.name, detail=no_host(obj), data={"host": None, rows_key: []}))
            continue
        detail, data = describe(inv, obj, host, offers[host.moid])
        results.append(TargetResult(obj.name, detail=f"host {host.name}: {detail}", data={"host": host.name, **data}))
    return QueryReport(operation, results, rows_key=rows_key, columns=columns)


def remove_devices(session, inv, vms, operation: str, change_of: Callable, unchanged: str) -> Report:
    """`--remove`: drop every device for which ``change_of(device)`` gives a Change (None: keep it);
    one ReconfigVM_Task per VM that has any."""
    def build(spec, obj, host):
        changes = []
        for dev in devices(obj):
            change = change_of(dev)
            if change is not None:
                drop_device(spec, dev)
                changes.append(change)
        return changes

    return apply_specs(session, operation, plan_specs(inv, vms, build), unchanged=unchanged)


def mmio_changes(spec, vm: Obj, mmio_size: int) -> list:
    """The 64-bit MMIO settings a VM with passthrough GPUs needs, where the VM lacks them."""
    current = {o.key: o.value for o in vm.get("config.extraConfig") or []}
    changes = []
    for opt in mmio_extra_config(mmio_size):
        if str(current.get(opt.key, "")).upper() != str(opt.value).upper():
            spec.extraConfig = (spec.extraConfig or []) + [opt]
            changes.append(Change(opt.key, current.get(opt.key), opt.value))
    return changes
