"""`get_vm_config`: the settings that matter for performance, per VM, from one read.

vCPUs and their layout, memory, reservations, limits and shares, latency sensitivity, CPU and NUMA
affinity, passthrough / Dynamic DirectPath / vGPU / SR-IOV / PVRDMA devices, the 64-bit MMIO window,
firmware and secure boot, hardware version. JSON carries them structured (``config``); text shows
one table of settings per VM.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vhpc_toolkit.ops.networks.portgroups import PROPS as NET_PROPS, portgroup_names_by_key
from vhpc_toolkit.ops.vms.targets import host_of, read_targets
from vhpc_toolkit.results import QueryReport, TargetResult
from vhpc_toolkit.specs import tuning
from vhpc_toolkit.specs.devices.nic import nic_network_name
from vhpc_toolkit.specs.devices.passthrough import MMIO_SIZE_GB, USE_64BIT_MMIO, dynamic_type, passthrough_id
from vhpc_toolkit.specs.devices.sriov import sriov_pf_id
from vhpc_toolkit.specs.devices.vgpu import vgpu_profile
from vhpc_toolkit.words import count

VM_PROPS = ["config.hardware.numCPU", "config.hardware.numCoresPerSocket", "config.hardware.memoryMB",
            "config.cpuAllocation", "config.memoryAllocation", "config.memoryReservationLockedToMax",
            "config.latencySensitivity", "config.cpuAffinity", "config.extraConfig", "config.hardware.device",
            "config.firmware", "config.bootOptions", "config.version", "runtime.powerState", "runtime.host"]
COLUMNS = [("setting", "setting"), ("value", "value")]


@dataclass
class ConfigReport(QueryReport):
    """Per VM its settings: ``config`` in JSON, a table of rows in text (not repeated in JSON)."""

    def to_dict(self) -> dict[str, Any]:
        doc = super().to_dict()
        for r in doc["results"]:
            r.pop(self.rows_key, None)
        return doc


def _alloc(alloc, unit: int = 1) -> dict[str, Any]:
    shares = getattr(alloc, "shares", None)
    limit = getattr(alloc, "limit", None)
    return {"reservation": (getattr(alloc, "reservation", None) or 0) / unit,
            "limit": None if limit in (None, -1) else limit / unit,
            "shares": getattr(shares, "shares", None), "shares_level": getattr(shares, "level", None)}


def _label(dev) -> str | None:
    return dev.deviceInfo.label if getattr(dev, "deviceInfo", None) else None


def devices(vm, pg_names: dict[str, str]) -> dict[str, list[dict[str, Any]]]:
    from pyVmomi import vim

    out: dict[str, list[dict[str, Any]]] = {"passthrough": [], "dynamic_passthrough": [], "vgpu": [],
                                            "sriov": [], "pvrdma": []}
    for dev in vm.get("config.hardware.device") or []:
        if passthrough_id(dev):
            out["passthrough"].append({"id": dev.backing.id, "device": dev.backing.deviceName, "label": _label(dev)})
        elif dynamic_type(dev):
            vendor, device = dynamic_type(dev)
            out["dynamic_passthrough"].append({"vendor_id": f"{vendor:04x}", "device_id": f"{device:04x}",
                                               "assigned_id": getattr(dev.backing, "assignedId", None) or None,
                                               "label": _label(dev)})
        elif vgpu_profile(dev):
            out["vgpu"].append({"profile": vgpu_profile(dev), "label": _label(dev)})
        elif sriov_pf_id(dev):
            out["sriov"].append({"pf": dev.sriovBacking.physicalFunctionBacking.id,
                                 "port_group": nic_network_name(dev, pg_names),
                                 "allow_guest_mtu_change": bool(dev.allowGuestOSMtuChange), "label": _label(dev)})
        elif isinstance(dev, vim.vm.device.VirtualVmxnet3Vrdma):
            out["pvrdma"].append({"port_group": nic_network_name(dev, pg_names), "label": _label(dev)})
    return out


def vm_config(vm, pg_names: dict[str, str]) -> dict[str, Any]:
    """The structured settings of one VM (read with VM_PROPS)."""
    extra = {o.key: str(o.value) for o in vm.get("config.extraConfig") or []}
    latency = vm.get("config.latencySensitivity")
    mmio_size = extra.get(MMIO_SIZE_GB)
    return {
        "power_state": vm.get("runtime.powerState"),
        "cpu": {"vcpus": vm.get("config.hardware.numCPU"),
                "cores_per_socket": vm.get("config.hardware.numCoresPerSocket") or 1,
                **{k + ("_mhz" if k in ("reservation", "limit") else ""): v
                   for k, v in _alloc(vm.get("config.cpuAllocation")).items()},
                "affinity": tuning.cpu_affinity(vm.props)},
        "memory": {"size_gb": (vm.get("config.hardware.memoryMB") or 0) / 1024,
                   **{k + ("_gb" if k in ("reservation", "limit") else ""): v
                      for k, v in _alloc(vm.get("config.memoryAllocation"), 1024).items()},
                   "reservation_locked_to_max": bool(vm.get("config.memoryReservationLockedToMax"))},
        "latency_sensitivity": getattr(latency, "level", None) or "normal",
        "numa_node_affinity": tuning.numa_affinity(vm.props),
        "firmware": vm.get("config.firmware"),
        "secure_boot": tuning.secure_boot(vm.props),
        "hardware_version": vm.get("config.version"),
        "mmio": {"use_64bit": extra.get(USE_64BIT_MMIO, "").upper() == "TRUE",
                 "size_gb": int(mmio_size) if mmio_size and mmio_size.isdigit() else None},
        "devices": devices(vm, pg_names),
    }


def _rows(c: dict[str, Any]) -> list[dict[str, str]]:
    cpu, mem = c["cpu"], c["memory"]

    def shares(a):
        return f"{a['shares']} ({a['shares_level']})" if a["shares"] is not None else "-"

    def limit(v, unit):
        return "unlimited" if v is None else f"{v:g} {unit}"

    sockets = count(cpu["vcpus"] // cpu["cores_per_socket"], "socket") if cpu["vcpus"] else "? sockets"
    rows = [
        ("vCPUs", f"{cpu['vcpus']} ({sockets} "
                  f"of {count(cpu['cores_per_socket'], 'core')})"),
        ("CPU reservation", f"{cpu['reservation_mhz']:g} MHz"), ("CPU limit", limit(cpu["limit_mhz"], "MHz")),
        ("CPU shares", shares(cpu)), ("CPU affinity", tuning.format_affinity(cpu["affinity"])),
        ("memory", f"{mem['size_gb']:g} GB"),
        ("memory reservation", f"{mem['reservation_gb']:g} GB"
                               + (" (locked to max)" if mem["reservation_locked_to_max"] else "")),
        ("memory limit", limit(mem["limit_gb"], "GB")), ("memory shares", shares(mem)),
        ("latency sensitivity", c["latency_sensitivity"]),
        ("NUMA node affinity", tuning.format_affinity(c["numa_node_affinity"])),
        ("firmware", f"{c['firmware'] or '?'}" + (", secure boot" if c["secure_boot"] else "")),
        ("hardware version", c["hardware_version"] or "?"),
        ("64-bit MMIO", f"{c['mmio']['size_gb']} GB" if c["mmio"]["use_64bit"] else "off"),
    ]
    d = c["devices"]
    for p in d["passthrough"]:
        rows.append(("passthrough", f"{p['id']} {p['device'] or ''}".strip()))
    for p in d["dynamic_passthrough"]:
        rows.append(("dynamic passthrough", f"{p['vendor_id']}:{p['device_id']}"
                                            + (f" on {p['assigned_id']}" if p["assigned_id"] else "")))
    for p in d["vgpu"]:
        rows.append(("vGPU", p["profile"]))
    for p in d["sriov"]:
        rows.append(("SR-IOV", f"{p['port_group']} (pf {p['pf']})"))
    for p in d["pvrdma"]:
        rows.append(("PVRDMA", p["port_group"] or "?"))
    return [{"setting": k, "value": str(v)} for k, v in rows]


def get_vm_config(session, targets) -> ConfigReport:
    inv, vms = read_targets(session, targets, VM_PROPS, host_props=[], more={k: list(v) for k, v in NET_PROPS.items()})
    pg_names = portgroup_names_by_key(inv)
    results = []
    for vm in vms:
        host = host_of(inv, vm)
        config = vm_config(vm, pg_names)
        results.append(TargetResult(vm.name, detail=f"{config['cpu']['vcpus']} vCPU, {config['memory']['size_gb']:g} GB, "
                                                    f"{config['power_state']}",
                                    data={"host": host.name if host else None, "config": config,
                                          "settings": _rows(config)}))
    return ConfigReport("get_vm_config", results, rows_key="settings", columns=COLUMNS)
