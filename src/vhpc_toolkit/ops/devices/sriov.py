"""`sriov`: the SR-IOV physical functions of the VM's host; add and remove SR-IOV adapters."""
from __future__ import annotations

from vhpc_toolkit.errors import InputError, VhpcError, refuse_problems
from vhpc_toolkit.ops.devices.common import (append_device, devices, full_memory, no_host, query_offers, read,
                                             remove_devices)
from vhpc_toolkit.ops.hosts.offers import check_sriov, host_offers, vfs_in_use
from vhpc_toolkit.ops.networks.portgroups import find_portgroup, portgroup_names_by_key
from vhpc_toolkit.ops.edits.reconfigure import apply_specs, plan_specs
from vhpc_toolkit.results import QueryReport
from vhpc_toolkit.specs import Change
from vhpc_toolkit.specs.devices.nic import nic_network_name
from vhpc_toolkit.specs.devices.passthrough import normalize_id
from vhpc_toolkit.specs.host import sriov_counts
from vhpc_toolkit.specs.devices.sriov import sriov_adapter, sriov_pf_id
from vhpc_toolkit.words import count

COLUMNS = [("PF", "id"), ("device", "device"), ("pnic", "pnic"), ("SR-IOV", "sriov_enabled"),
           ("VFs", "virtual_functions"), ("in use", "in_use"), ("free", "free"), ("on this VM", "on_this_vm")]


def query_sriov(session, targets) -> QueryReport:
    from pyVmomi import vim

    def describe(inv, obj, host, offer):
        targets = offer.sriov_by_id()
        rows = []
        for info in offer.pci_passthru_info:
            if not isinstance(info, vim.host.SriovInfo):
                continue
            pci = normalize_id(info.id)
            used = vfs_in_use(inv, host.moid, pci)
            dev = offer.pci_devices.get(pci)
            total, requested = sriov_counts(info)   # only active functions back adapters
            rows.append({"id": info.id, "device": dev.deviceName if dev else None,
                         "pnic": getattr(targets.get(pci), "pnic", None), "sriov_enabled": bool(info.sriovEnabled),
                         "virtual_functions": total, "requested": requested, "in_use": used,
                         "free": max(0, total - used),
                         "on_this_vm": sum(1 for d in devices(obj) if sriov_pf_id(d) == pci)})
        return count(len(rows), "SR-IOV physical function"), {"pfs": rows}

    return query_offers(session, targets, "sriov query", "pfs", COLUMNS, describe)


def change_sriov(session, targets, port_group: str | None, pf: str | None, add: bool,
                 dvs_name: str | None = None, allow_guest_mtu_change: bool | None = None):
    if not port_group or (add and not pf):
        raise InputError("sriov: --add needs --sriov_port_group PG and --pf ID; --remove needs --sriov_port_group")
    inv, vms, hosts = read(session, targets)
    names_by_key = portgroup_names_by_key(inv)

    def on_pg(dev) -> bool:
        return sriov_pf_id(dev) is not None and nic_network_name(dev, names_by_key) == port_group

    if not add:
        return remove_devices(session, inv, vms, "sriov remove",
                              lambda dev: Change("sriov_adapter", f"{port_group} ({sriov_pf_id(dev)})", None)
                              if on_pg(dev) and (pf is None or sriov_pf_id(dev) == normalize_id(pf)) else None,
                              unchanged=f"has no SR-IOV adapter on {port_group}")

    offers = host_offers(session, inv, hosts.values())
    problems, pgs, taking = [], {}, {}
    for obj in vms:
        host = hosts[obj.moid]
        if host is None:
            problems.append(no_host(obj))
            continue
        try:
            pgs[obj.moid] = find_portgroup(inv, port_group, inv.ancestor(obj, "Datacenter"), dvs_name)
        except VhpcError as exc:
            problems.append(f"VM {obj.name}: {exc}")
            continue
        if any(on_pg(d) and sriov_pf_id(d) == normalize_id(pf) for d in devices(obj)):
            continue  # already there
        used = vfs_in_use(inv, host.moid, pf) + taking.get(host.moid, 0)
        found = check_sriov(obj.name, host.name, offers[host.moid], pf, used)
        problems += found
        if not found:
            taking[host.moid] = taking.get(host.moid, 0) + 1
    refuse_problems(problems)

    def build_add(spec, obj, host):
        changes = []
        if not any(on_pg(d) and sriov_pf_id(d) == normalize_id(pf) for d in devices(obj)):
            append_device(spec, sriov_adapter(offers[host.moid].sriov_by_id()[normalize_id(pf)], pgs[obj.moid],
                                              allow_guest_mtu_change=allow_guest_mtu_change is not False))
            changes.append(Change("sriov_adapter", None, f"{port_group} ({pf})"))
        return changes + full_memory(spec, obj, host)

    return apply_specs(session, "sriov add", plan_specs(inv, vms, build_add),
                       unchanged=f"already has an SR-IOV adapter on {port_group} ({pf}) and full memory reservation")
