"""Standard switches on many hosts (distributed switches: ops/networks/distributed.py).

A host where the switch already exists as asked is left alone and reported so; every
name (hosts, NICs) and every uplink is checked before the first change: a physical NIC
is the uplink of one switch only (vsphere/hostnet.py reads the hosts' switches from
``host.config.network``, the one source view, dvs and the cluster engine use too; ``svs``
takes the standard switches and port groups from the hosts' network systems, one more read).
Standard switches are changed on all hosts concurrently (HostNetworkSystem calls are
synchronous, so a small thread pool does them side by side).
"""
from __future__ import annotations

from typing import Iterable

from vhpc_toolkit.errors import InputError, ValidationFailed, VhpcError, refuse_problems
from vhpc_toolkit.ops.networks import users as switch_users
from vhpc_toolkit.ops.runner import run_calls
from vhpc_toolkit.results import FAILED, HOST, Report, TargetResult
from vhpc_toolkit.vsphere import hostnet
from vhpc_toolkit.vsphere.inventory import Inventory, Obj, read_inventory, read_objects
from vhpc_toolkit.words import plural

HOST_PROPS = hostnet.HOST_PROPS
DEFAULT_MTU = 1500   # a switch's MTU when none is given


def _find_hosts(inv: Inventory, names: Iterable[str], problems: list[str], within: Obj | None = None) -> list[Obj]:
    hosts = []
    for name in dict.fromkeys(names or []):
        try:
            hosts.append(inv.find("HostSystem", name, what="host", within=within))
        except VhpcError as exc:
            problems.append(str(exc))
    return hosts


# --- standard switches ---------------------------------------------------------------------

def _read_svs(session, host_names, users: bool = False):
    props = {"HostSystem": HOST_PROPS}
    if users:   # who uses the switches (ops/networks/users.py), in the same read
        props = {"HostSystem": sorted(set(HOST_PROPS) | set(switch_users.HOST_PROPS)),
                 "VirtualMachine": switch_users.VM_PROPS, "Network": []}
    inv = read_inventory(session, props)
    problems = []
    hosts = _find_hosts(inv, host_names, problems)
    _network_systems_say(session, hosts)
    return inv, hosts, problems


def _network_systems_say(session, hosts: list[Obj]) -> None:
    """Take the hosts' standard switches and port groups from their network systems (``networkInfo``,
    one read for all), where AddVirtualSwitch and AddPortGroup put them, as govc and Ansible read
    them. On vSphere it is the same information as ``config.network``; a server that keeps the two
    apart (govmomi's stock simulator) would otherwise hide the switch ``svs`` made from its removal."""
    systems = {h.moid: h.get("configManager.networkSystem") for h in hosts if h.get("configManager.networkSystem")}
    if not systems:
        return
    said = read_objects(session, list(systems.values()), ["networkInfo.vswitch", "networkInfo.portgroup"])
    for host in hosts:
        info = said.get(systems[host.moid]._moId) if host.moid in systems else None
        if info is not None:
            host.props["config.network.vswitch"] = info.get("networkInfo.vswitch") or []
            host.props["config.network.portgroup"] = info.get("networkInfo.portgroup") or []


def create_svs(session, name: str, hosts: list[str], pnic: str, port_group: str | None,
               concurrency: int = 8, mtu: int | None = None, mark_port_group: str | None = None) -> Report:
    """Standard switch ``name`` bridged to ``pnic`` (with ``port_group``, and ``mtu``) on every host.

    ``mark_port_group``: a port group added with the switch where this call creates it (a cluster's
    ownership mark, marks.py); one that could not be added is a warning of the host's result."""
    from pyVmomi import vim

    if not name or not pnic:
        raise InputError("svs --create needs --name and --pnic")
    inv, found, problems = _read_svs(session, hosts)
    plans = []
    for host in found:
        system = host.get("configManager.networkSystem")
        if system is None:
            problems.append(f"host {host.name} has no network system (is it connected?)")
            continue
        existing = hostnet.standard_switch(host, name)
        if existing is not None and existing.pnics and pnic not in existing.pnics:
            problems.append(f"host {host.name}: switch {name} exists, bridged to {', '.join(existing.pnics)}, "
                            f"not {pnic}; destroy it first")
        elif existing is None:
            problems += hostnet.pnic_problems(host, [pnic], name, "standard")
        if existing is not None and mtu and (existing.mtu or DEFAULT_MTU) != mtu:
            problems.append(f"host {host.name}: switch {name} exists with MTU {existing.mtu or DEFAULT_MTU}, not "
                            f"{mtu}; destroy it first to change its MTU")
        pg_switch = next((s.name for s in hostnet.standard_switches(host) if port_group in s.port_groups), None) \
            if port_group else None
        if pg_switch is not None and pg_switch != name:
            problems.append(f"host {host.name}: port group {port_group} already exists on switch {pg_switch}")
        has_pg = port_group is None or (existing is not None and port_group in existing.port_groups)
        plans.append((host, system, existing is not None, has_pg))
    refuse_problems(problems)

    results, work = [], []
    for host, ns, has_switch, has_pg in plans:
        result = TargetResult(host.name, kind=HOST)
        results.append(result)
        if has_switch and has_pg:
            result.detail = f"switch {name}" + (f" with port group {port_group}" if port_group else "") + \
                " already exists"
            continue
        steps = ([] if has_switch else [f"switch {name} on {pnic}" + (f" (MTU {mtu})" if mtu else "")]) + \
            ([] if has_pg else [f"port group {port_group}"])
        result.detail = "created " + " and ".join(steps)

        def apply(ns=ns, has_switch=has_switch, has_pg=has_pg, result=result):
            if not has_switch:
                ns.AddVirtualSwitch(vswitchName=name, spec=vim.host.VirtualSwitch.Specification(
                    numPorts=128, mtu=mtu, bridge=vim.host.VirtualSwitch.BondBridge(nicDevice=[pnic])))
                if mark_port_group:
                    _add_mark(ns, name, mark_port_group, result)
            if not has_pg:
                ns.AddPortGroup(portgrp=vim.host.PortGroup.Specification(
                    name=port_group, vlanId=0, vswitchName=name, policy=vim.host.NetworkPolicy()))
        work.append((result, apply))
    run_calls(work, concurrency)
    return Report("svs create", results)


def _add_mark(ns, switch: str, mark: str, result: TargetResult) -> None:
    from pyVmomi import vim

    from vhpc_toolkit.vsphere.faults import error_message

    try:
        ns.AddPortGroup(portgrp=vim.host.PortGroup.Specification(
            name=mark, vlanId=0, vswitchName=switch, policy=vim.host.NetworkPolicy()))
    except Exception as exc:   # the switch stands; unmarked, a cluster destroy leaves it
        result.data.setdefault("warnings", []).append(
            f"switch {switch} on {result.name}: ownership mark (port group {mark}) not added "
            f"({error_message(exc)}): cluster --destroy will leave the switch there")


def destroy_svs(session, name: str, hosts: list[str], concurrency: int = 8, force: bool = False) -> Report:
    """Remove switch ``name`` (its port groups first) from every host where it exists.

    A switch that carries a VMkernel adapter or VM adapters is refused on every host before
    any change (ValidationFailed saying what uses it): ESXi would refuse it on those hosts
    anyway. With ``force`` it is destroyed on the hosts where nothing uses it, and reported
    failed (naming what uses it) where something does.
    """
    inv, found, problems = _read_svs(session, hosts, users=True)
    refuse_problems(problems)
    users = {h.name: switch_users.svs_users(inv, h, hostnet.standard_switch(h, name).port_groups)
             for h in found if hostnet.standard_switch(h, name) is not None}
    if any(users.values()) and not force:
        raise ValidationFailed([switch_users.in_use_problem("standard", name, users)])
    results, work = [], []
    for host in found:
        result = TargetResult(host.name, kind=HOST)
        results.append(result)
        switch = hostnet.standard_switch(host, name)
        if switch is None:
            result.detail = f"no switch {name}"
            continue
        if users.get(host.name):   # --force: left where adapters use it (ESXi refuses it there)
            result.status = FAILED
            result.detail = f"left: in use by {', '.join(users[host.name])}; {switch_users.MOVE_OFF}"
            continue
        pgs = switch.port_groups
        result.detail = f"destroyed switch {name}" + (f" and {plural(len(pgs), 'port group')} {', '.join(pgs)}" if pgs else "")
        ns = host.get("configManager.networkSystem")

        def apply(ns=ns, pgs=pgs):
            for pg in pgs:
                ns.RemovePortGroup(pgName=pg)
            ns.RemoveVirtualSwitch(vswitchName=name)
        work.append((result, apply))
    run_calls(work, concurrency)
    return Report("svs destroy", results, unchanged="already absent")
