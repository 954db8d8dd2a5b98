"""`passthru`: what the VM's host offers for PCI passthrough; add and remove devices."""
from __future__ import annotations

from collections import Counter
from typing import Iterable

from vhpc_toolkit.errors import InputError, refuse_problems
from vhpc_toolkit.ops.devices.common import (append_device, devices, drop_device, full_memory, mmio_changes,
                                             no_host, query_offers, read, remove_devices)
from vhpc_toolkit.ops.edits.hardware import HOST_PROPS as HARDWARE_HOST_PROPS, upgrade_first, version_problems
from vhpc_toolkit.ops.hosts.offers import check_passthrough, device_types, held_id, host_offers, in_use_on
from vhpc_toolkit.ops.edits.reconfigure import apply_specs, plan_specs
from vhpc_toolkit.results import QueryReport, Report
from vhpc_toolkit.specs import Change
from vhpc_toolkit.specs.hardware import DYNAMIC_DIRECTPATH_MIN
from vhpc_toolkit.specs.devices.passthrough import (DEFAULT_MMIO_GB, check_mmio_size, dynamic_passthrough_device,
                                            dynamic_type, efi_warning, large_bar_problem, normalize_id,
                                            passthrough_device, passthrough_id, pci_type)
from vhpc_toolkit.words import count

COLUMNS = [("id", "id"), ("vendor", "vendor"), ("device", "device"), ("status", "status"), ("used by", "used_by")]


def query_passthrough(session, targets) -> QueryReport:
    """Per VM: the passthrough devices its host offers, and whether each is free, in use, or on this VM."""
    def describe(inv, obj, host, offer):
        mine = {held_id(d) for d in devices(obj)} - {None}   # Dynamic DirectPath assignments too
        used = in_use_on(inv, host.moid, except_vm=obj.name)
        rows = []
        for p in offer.passthrough:
            pci = normalize_id(p.pciDevice.id)
            status, user = ("on this VM", None) if pci in mine else \
                (("in use", used[pci]) if pci in used else ("free", None))
            rows.append({"id": p.pciDevice.id, "vendor": p.pciDevice.vendorName, "device": p.pciDevice.deviceName,
                         "status": status, "used_by": user})
        free = sum(r["status"] == "free" for r in rows)
        return f"{count(len(rows), 'passthrough device')}, {free} free", {"devices": rows}

    return query_offers(session, targets, "passthru query", "devices", COLUMNS, describe)


def _dedupe(ids: Iterable[str]) -> list[str]:
    out, seen = [], set()
    for raw in ids:
        if normalize_id(raw) not in seen:
            seen.add(normalize_id(raw))
            out.append(raw)
    return out


def change_passthrough(session, targets, device_ids: list[str], add: bool, mmio_size: int = DEFAULT_MMIO_GB,
                       dynamic: bool = False, hardware_version: int | None = None) -> Report:
    """`passthru --add/--remove --device ID... [--dynamic]`: one ReconfigVM_Task per VM carrying everything."""
    device_ids = (device_ids or []) if dynamic else _dedupe(device_ids or [])
    if not device_ids:
        raise InputError("passthru: give --device ID... with --add or --remove")
    if add:
        try:
            check_mmio_size(mmio_size)
        except ValueError as exc:
            raise InputError(f"passthru: --mmio_size: {exc}") from None
    inv, vms, hosts = read(session, targets, host_props=HARDWARE_HOST_PROPS if dynamic else ())
    if dynamic:
        return change_dynamic(session, inv, vms, hosts, device_ids, add, mmio_size, hardware_version)
    if hardware_version:
        raise InputError("passthru: --hardware_version goes with --dynamic --add (DirectPath I/O needs no upgrade)")

    if not add:
        ids = {normalize_id(d) for d in device_ids}
        return remove_devices(session, inv, vms, "passthru remove",
                              lambda dev: Change("passthrough", dev.backing.id, None)
                              if passthrough_id(dev) in ids else None,
                              unchanged="has none of the devices " + ", ".join(device_ids))

    offers = host_offers(session, inv, hosts.values())
    refuse_problems(_add_problems(inv, vms, hosts, offers, device_ids, mmio_size))

    def build_add(spec, obj, host):
        offer = offers[host.moid]
        mine = {passthrough_id(d) for d in devices(obj)} - {None}
        changes = []
        for d in device_ids:
            if normalize_id(d) not in mine:
                info = offer.passthrough_by_id()[normalize_id(d)]
                append_device(spec, passthrough_device(info))
                changes.append(Change("passthrough", None, info.pciDevice.id))
        return changes + mmio_changes(spec, obj, mmio_size) + full_memory(spec, obj, host)

    planned = plan_specs(inv, vms, build_add)
    for obj, _, result in planned:
        warning = efi_warning(obj.name, obj.get("config.firmware"))
        if warning:
            result.data["warnings"] = [warning]
    return apply_specs(session, "passthru add", planned,
                       unchanged="already has the devices, the MMIO window and full memory reservation")


def _add_problems(inv, vms, hosts, offers, device_ids: list[str], mmio_size: int) -> list[str]:
    """Why the devices cannot be added, every VM checked: not offered, in use, asked twice on one host,
    or too large for the MMIO window."""
    problems, claimed = [], {}
    for obj in vms:
        host = hosts[obj.moid]
        if host is None:
            problems.append(no_host(obj))
            continue
        offer = offers[host.moid]
        mine = {passthrough_id(d) for d in devices(obj)} - {None}
        wanted = [d for d in device_ids if normalize_id(d) not in mine]
        found = check_passthrough(obj.name, host.name, offer, wanted, in_use_on(inv, host.moid, except_vm=obj.name))
        problems += found
        for d in wanted:
            other = claimed.setdefault((host.moid, normalize_id(d)), obj.name)
            if other != obj.name:
                problems.append(f"VM {obj.name} on host {host.name}: device {d} is also asked for VM {other} "
                                "on the same host; only one of them could power on")
        if not found:
            offered = offer.passthrough_by_id()
            final = [offered.get(p) or offer.pci_devices.get(p) for p in mine | {normalize_id(d) for d in wanted}]
            try:
                check_mmio_size(mmio_size, [f for f in final if f is not None])
            except ValueError as exc:
                problems.append(f"VM {obj.name} on host {host.name}: {exc}")
            bios = large_bar_problem(obj.name, obj.get("config.firmware"), [f for f in final if f is not None])
            problems += [bios] if bios else []
    return problems


def change_dynamic(session, inv, vms, hosts, device_ids: list[str], add: bool, mmio_size: int,
                   hardware_version: int | None = None) -> Report:
    """`passthru --dynamic`: Dynamic DirectPath devices, one per --device, of that device's type; the VM
    keeps as many of a type as were asked (adding is idempotent), --remove drops every one of the types.
    Adding needs virtual hardware version 17: ``hardware_version`` upgrades the VMs first (ops/edits/hardware.py)."""
    problems = []
    offers = host_offers(session, inv, hosts.values()) if add else {}
    for obj in vms:
        host = hosts[obj.moid]
        if host is None:
            problems.append(no_host(obj))
            continue
        asked, missing = device_types(host, device_ids)
        problems += [f"VM {obj.name} on host {host.name}: the host has no PCI device {m}" for m in missing]
        if add:
            problems += version_problems(obj, host, DYNAMIC_DIRECTPATH_MIN, "Dynamic DirectPath I/O", hardware_version)
        if add and not missing:
            names = {pci_type(d): d for d in host.get("hardware.pciDevice") or []}
            bios = large_bar_problem(obj.name, obj.get("config.firmware"),
                                     [names[k] for k, n in asked.items() for _ in range(n) if k in names])
            problems += [bios] if bios else []
            enabled = Counter(pci_type(o.pciDevice) for o in offers[host.moid].passthrough)
            for kind, n in asked.items():
                if enabled[kind] < n:
                    problems.append(f"VM {obj.name} on host {host.name}: {count(n, 'device')} of type "
                                    f"{kind[0]:04x}:{kind[1]:04x} asked, the host has {enabled[kind]} enabled "
                                    f"for passthrough")
    refuse_problems(problems)

    def build(spec, obj, host):
        asked, _ = device_types(host, device_ids)
        have = Counter(t for t in (dynamic_type(d) for d in devices(obj)) if t)
        changes = []
        if not add:
            for dev in devices(obj):
                kind = dynamic_type(dev)
                if kind and kind in asked:
                    drop_device(spec, dev)
                    changes.append(Change("dynamic_passthrough", f"{kind[0]:04x}:{kind[1]:04x}", None))
            return changes
        names = {pci_type(d): d.deviceName for d in host.get("hardware.pciDevice") or []}
        for kind, n in asked.items():
            for _ in range(n - have[kind]):
                append_device(spec, dynamic_passthrough_device(kind[0], kind[1]))
                changes.append(Change("dynamic_passthrough", None, f"{kind[0]:04x}:{kind[1]:04x} ({names[kind]})"))
        check_mmio_size(mmio_size, [names[k] for k, n in asked.items() for _ in range(n)])
        return changes + mmio_changes(spec, obj, mmio_size) + full_memory(spec, obj, host)

    what = "add" if add else "remove"
    planned = plan_specs(inv, vms, build)
    failed = upgrade_first(session, planned, hardware_version) if add and hardware_version else []
    report = apply_specs(session, f"passthru {what} (dynamic)", planned,
                         unchanged="already as asked" if add else "has no Dynamic DirectPath device of those types")
    report.results += failed
    return report

