"""Standard switches on many hosts, and distributed switches with host members, uplinks and a port group.

A host (or switch) where the switch already exists as asked is left alone and
reported so; every name (hosts, NICs, datacenter) is checked before the first
change. Standard switches are changed on all hosts concurrently (HostNetworkSystem
calls are synchronous, so a small thread pool does them side by side).
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Iterable

from vhpc_toolkit.errors import InputError, ValidationFailed, VhpcError
from vhpc_toolkit.results import CHANGED, FAILED, HOST, SWITCH, UNCHANGED, Report, TargetResult
from vhpc_toolkit.vsphere.faults import error_message
from vhpc_toolkit.vsphere.inventory import Inventory, Obj, read_inventory, read_objects
from vhpc_toolkit.vsphere.tasks import wait_for_task

HOST_PROPS = ["configManager.networkSystem", "config.network.pnic"]
DEFAULT_MTU = 1500   # a switch's MTU when none is given
DVS_TYPES = ("VmwareDistributedVirtualSwitch", "DistributedVirtualSwitch")


def _network_infos(session, systems: list) -> dict[str, object]:
    """networkInfo of each HostNetworkSystem (moid -> HostNetworkInfo) in one read.

    HostNetworkSystem is not an inventory entity, so the container view of read_inventory
    does not reach it; its networkInfo is what AddVirtualSwitch/AddPortGroup change.
    """
    return {moid: o.get("networkInfo") for moid, o in read_objects(session, systems, ["networkInfo"]).items()}


def _find_hosts(inv: Inventory, names: Iterable[str], problems: list[str], within: Obj | None = None) -> list[Obj]:
    hosts = []
    for name in dict.fromkeys(names or []):
        try:
            hosts.append(inv.find("HostSystem", name, what="host", within=within))
        except VhpcError as exc:
            problems.append(str(exc))
    return hosts


def _pnic_names(host: Obj) -> list[str]:
    return [p.device for p in host.get("config.network.pnic") or []]


def _check_pnics(host: Obj, pnics: Iterable[str], problems: list[str]) -> None:
    have = _pnic_names(host)
    for pnic in pnics:
        if pnic not in have:
            problems.append(f"host {host.name} has no physical NIC {pnic} (it has: {', '.join(have) or 'none'})")


def _raise(problems: list[str]) -> None:
    if problems:
        raise ValidationFailed(problems)


def _run_per_host(work: list[tuple[TargetResult, callable]], concurrency: int) -> None:
    def one(item):
        result, fn = item
        try:
            fn()
            result.status = CHANGED
        except Exception as exc:  # a vSphere fault from a synchronous call
            result.status, result.detail = FAILED, f"{result.detail}: failed: {error_message(exc)}"

    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        list(pool.map(one, work))


# --- standard switches ---------------------------------------------------------------------

def _read_svs(session, host_names):
    inv = read_inventory(session, {"HostSystem": HOST_PROPS})
    problems = []
    hosts = _find_hosts(inv, host_names, problems)
    systems = {h.moid: h.get("configManager.networkSystem") for h in hosts}
    infos = _network_infos(session, [s for s in systems.values() if s is not None])
    return inv, hosts, problems, systems, {m: infos.get(s._moId) if s is not None else None
                                            for m, s in systems.items()}


def _vswitch(info, name: str):
    return next((v for v in getattr(info, "vswitch", None) or [] if v.name == name), None)


def _switch_portgroups(info, switch: str) -> list[str]:
    return [pg.spec.name for pg in getattr(info, "portgroup", None) or [] if pg.spec.vswitchName == switch]


def _bridged(vswitch) -> list[str] | None:
    """The pnics a switch is bridged to; None when the host does not say."""
    bridge = getattr(getattr(vswitch, "spec", None), "bridge", None)
    return list(getattr(bridge, "nicDevice", None) or []) if bridge is not None else None


def create_svs(session, name: str, hosts: list[str], pnic: str, port_group: str | None,
               concurrency: int = 8, mtu: int | None = None) -> Report:
    """Standard switch ``name`` bridged to ``pnic`` (with ``port_group``, and ``mtu``) on every host."""
    from pyVmomi import vim

    if not name or not pnic:
        raise InputError("svs --create needs --name and --pnic")
    inv, found, problems, systems, infos = _read_svs(session, hosts)
    plans = []
    for host in found:
        if systems[host.moid] is None:
            problems.append(f"host {host.name} has no network system (is it connected?)")
            continue
        _check_pnics(host, [pnic], problems)
        info = infos[host.moid]
        existing = _vswitch(info, name)
        bridged = _bridged(existing) if existing is not None else None
        if existing is not None and bridged is not None and pnic not in bridged:
            problems.append(f"host {host.name}: switch {name} exists, bridged to {', '.join(bridged) or 'no NIC'}, "
                            f"not {pnic}; destroy it first")
        for other in getattr(info, "vswitch", None) or []:
            if other.name != name and pnic in (_bridged(other) or []):
                problems.append(f"host {host.name}: {pnic} is already the uplink of switch {other.name}")
        if existing is not None and mtu and (existing.mtu or DEFAULT_MTU) != mtu:
            problems.append(f"host {host.name}: switch {name} exists with MTU {existing.mtu or DEFAULT_MTU}, not "
                            f"{mtu}; destroy it first to change its MTU")
        has_pg = port_group is None or port_group in _switch_portgroups(info, name)
        plans.append((host, existing is not None, has_pg))
    _raise(problems)

    results, work = [], []
    for host, has_switch, has_pg in plans:
        result = TargetResult(host.name, kind=HOST)
        results.append(result)
        if has_switch and has_pg:
            result.detail = f"switch {name}" + (f" with port group {port_group}" if port_group else "") + \
                " already exists"
            continue
        steps = ([] if has_switch else [f"switch {name} on {pnic}" + (f" (MTU {mtu})" if mtu else "")]) + \
            ([] if has_pg else [f"port group {port_group}"])
        result.detail = "created " + " and ".join(steps)
        ns = systems[host.moid]

        def apply(ns=ns, has_switch=has_switch, has_pg=has_pg):
            if not has_switch:
                ns.AddVirtualSwitch(vswitchName=name, spec=vim.host.VirtualSwitch.Specification(
                    numPorts=128, mtu=mtu, bridge=vim.host.VirtualSwitch.BondBridge(nicDevice=[pnic])))
            if not has_pg:
                ns.AddPortGroup(portgrp=vim.host.PortGroup.Specification(
                    name=port_group, vlanId=0, vswitchName=name, policy=vim.host.NetworkPolicy()))
        work.append((result, apply))
    _run_per_host(work, concurrency)
    return Report("svs create", results)


def destroy_svs(session, name: str, hosts: list[str], concurrency: int = 8) -> Report:
    """Remove switch ``name`` (its port groups first) from every host where it exists."""
    inv, found, problems, systems, infos = _read_svs(session, hosts)
    _raise(problems)
    results, work = [], []
    for host in found:
        result = TargetResult(host.name, kind=HOST)
        results.append(result)
        info = infos[host.moid]
        if _vswitch(info, name) is None:
            result.detail = f"no switch {name}"
            continue
        pgs = _switch_portgroups(info, name)
        result.detail = f"destroyed switch {name}" + (f" and port group(s) {', '.join(pgs)}" if pgs else "")
        ns = systems[host.moid]

        def apply(ns=ns, pgs=pgs):
            for pg in pgs:
                ns.RemovePortGroup(pgName=pg)
            ns.RemoveVirtualSwitch(vswitchName=name)
        work.append((result, apply))
    _run_per_host(work, concurrency)
    return Report("svs destroy", results)


# --- distributed switches ------------------------------------------------------------------

DVS_PROPS = {
    "Datacenter": ["networkFolder"],
    "ClusterComputeResource": [], "ComputeResource": [],   # the path from a host up to its datacenter
    "HostSystem": HOST_PROPS,
    "DistributedVirtualSwitch": ["uuid", "summary.hostMember"],
    "DistributedVirtualPortgroup": ["key", "config.distributedVirtualSwitch", "config.uplink"],
}


def _datacenter(inv: Inventory, datacenter: str | None, hosts: list[Obj], problems: list[str]) -> Obj | None:
    if datacenter:
        try:
            return inv.find("Datacenter", datacenter, what="datacenter")
        except VhpcError as exc:
            problems.append(str(exc))
            return None
    dcs = {d.moid: d for d in (inv.ancestor(h, "Datacenter") for h in hosts) if d is not None}
    if len(dcs) > 1:
        problems.append("the hosts are in several datacenters (" + ", ".join(sorted(d.name for d in dcs.values()))
                        + "); a distributed switch spans one: give --datacenter")
        return None
    if dcs:
        return next(iter(dcs.values()))
    all_dcs = sorted(inv.of_type("Datacenter"), key=lambda d: d.name)
    return all_dcs[0] if all_dcs else None


def _find_dvs(inv: Inventory, name: str, dc: Obj | None) -> Obj | None:
    matches = [o for o in inv.of_type(*DVS_TYPES) if o.name == name and (dc is None or inv.is_under(o, dc))]
    return matches[0] if matches else None


def _dvs_portgroups(inv: Inventory, switch: Obj) -> list[Obj]:
    return [o for o in inv.of_type("DistributedVirtualPortgroup")
            if o.get("config.distributedVirtualSwitch") is not None
            and o.get("config.distributedVirtualSwitch")._moId == switch.moid]


def _member_specs(hosts: list[Obj], pnics: list[str]):
    from pyVmomi import vim

    member = vim.dvs.HostMember
    return [vim.dvs.HostMember.ConfigSpec(
        operation="add", host=h.ref,
        backing=member.PnicBacking(pnicSpec=[member.PnicSpec(pnicDevice=p) for p in pnics]))
        for h in hosts]


def _members_of(session, switch_ref) -> tuple[set[str], str | None]:
    """Member host moids and configVersion of one switch, read through the PropertyCollector."""
    found = read_objects(session, [switch_ref], ["summary.hostMember", "config.configVersion"])
    switch = found.get(switch_ref._moId)
    if switch is None:
        return set(), None
    return {r._moId for r in switch.get("summary.hostMember") or []}, switch.get("config.configVersion")


def create_dvs(session, name: str, hosts: list[str], pnics: list[str], port_group: str | None,
               datacenter: str | None = None, mtu: int | None = None) -> Report:
    """Distributed switch ``name`` with the hosts as members (uplinks ``pnics``), ``port_group`` and ``mtu``.

    Already existing: reported, and only what is missing (members, port group) is added.
    """
    from pyVmomi import vim

    if not name or not hosts or not pnics:
        raise InputError("dvs --create needs --name, --host and --pnic")
    inv = read_inventory(session, DVS_PROPS)
    problems = []
    found = _find_hosts(inv, hosts, problems)
    dc = _datacenter(inv, datacenter, found, problems)
    for host in found:
        if dc is not None and not inv.is_under(host, dc):
            problems.append(f"host {host.name} is not in datacenter {dc.name}")
        _check_pnics(host, pnics, problems)
    if dc is None and not problems:
        problems.append("the inventory has no datacenter")
    _raise(problems)

    result = TargetResult(name, kind=SWITCH)
    switch = _find_dvs(inv, name, dc)
    if switch is not None and mtu:
        now = read_objects(session, [switch.ref], ["config.maxMtu"]).get(switch.moid)
        have = (now.get("config.maxMtu") if now else None) or DEFAULT_MTU
        if have != mtu:
            _raise([f"distributed switch {name} exists with MTU {have}, not {mtu}; destroy it first to change "
                    "its MTU"])
    done = []
    try:
        if switch is None:
            spec = vim.DistributedVirtualSwitch.CreateSpec(configSpec=vim.dvs.VmwareDistributedVirtualSwitch.ConfigSpec(
                name=name, host=_member_specs(found, pnics), maxMtu=mtu,
                uplinkPortPolicy=vim.DistributedVirtualSwitch.NameArrayUplinkPortPolicy(
                    uplinkPortName=[f"uplink{i + 1}" for i in range(len(pnics))])))
            folder = dc.get("networkFolder")
            switch_ref = wait_for_task(session, folder.CreateDVS_Task(spec=spec), what=f"creating switch {name}")
            done.append(f"created switch {name} in {dc.name} with host(s) "
                        + ", ".join(h.name for h in found) + f" on {', '.join(pnics)}"
                        + (f" (MTU {mtu})" if mtu else ""))
            pgs = []
        else:
            switch_ref = switch.ref
            pgs = [o.name for o in _dvs_portgroups(inv, switch)]
        # Members the switch lacks (an existing switch, or a creation that did not take them all)
        # are added with one ReconfigureDvs_Task.
        now, version = _members_of(session, switch_ref)
        missing = [h for h in found if h.moid not in now]
        if missing:
            config = vim.dvs.VmwareDistributedVirtualSwitch.ConfigSpec(
                configVersion=version, host=_member_specs(missing, pnics))
            wait_for_task(session, switch_ref.ReconfigureDvs_Task(spec=config), what=f"adding hosts to {name}")
            if switch is not None:
                done.append("added host(s) " + ", ".join(h.name for h in missing))
        if port_group and port_group not in pgs:
            pg_spec = vim.dvs.DistributedVirtualPortgroup.ConfigSpec(name=port_group, type="earlyBinding",
                                                                     numPorts=32)
            wait_for_task(session, switch_ref.AddDVPortgroup_Task(spec=[pg_spec]),
                          what=f"adding port group {port_group}")
            done.append(f"port group {port_group}")
    except VhpcError as exc:
        result.status, result.detail = FAILED, "; ".join(done + [str(exc)])
        return Report("dvs create", [result])
    if done:
        result.status, result.detail = CHANGED, "; ".join(done)
    else:
        result.status, result.detail = UNCHANGED, (f"switch {name} already exists with these hosts"
                                                   + (f" and port group {port_group}" if port_group else ""))
    return Report("dvs create", [result])


def destroy_dvs(session, name: str, datacenter: str | None = None) -> Report:
    """Destroy switch ``name`` (its port groups first); a switch that does not exist is reported, not an error."""
    inv = read_inventory(session, DVS_PROPS)
    problems = []
    dc = None
    if datacenter:
        dc = _datacenter(inv, datacenter, [], problems)
    _raise(problems)
    result = TargetResult(name, kind=SWITCH)
    switch = _find_dvs(inv, name, dc)
    if switch is None:
        result.detail = f"no distributed switch {name}" + (f" in {dc.name}" if dc else "")
        return Report("dvs destroy", [result])
    pgs = [o for o in _dvs_portgroups(inv, switch) if not o.get("config.uplink")
           and "-DVUplinks" not in o.name]
    try:
        for pg in pgs:
            wait_for_task(session, pg.ref.Destroy_Task(), what=f"destroying port group {pg.name}")
        wait_for_task(session, switch.ref.Destroy_Task(), what=f"destroying switch {name}")
    except VhpcError as exc:
        result.status, result.detail = FAILED, str(exc)
        return Report("dvs destroy", [result])
    result.status = CHANGED
    result.detail = f"destroyed switch {name}" + (f" and port group(s) {', '.join(p.name for p in pgs)}"
                                                  if pgs else "")
    return Report("dvs destroy", [result])
