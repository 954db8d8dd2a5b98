"""Distributed switches: host members and their uplinks, a version every member runs, an elastic
port group, and (``pvrdma=True``) the members prepared for PVRDMA (ops/hosts/pvrdma.py).

Everything is checked before the first change: hosts, datacenter, every uplink (a physical NIC is
the uplink of one switch: vsphere/hostnet.py), the members' ESXi versions against the switch's,
and for PVRDMA the single RDMA-capable uplink. A switch that exists is completed (missing members,
port group, preparation) and reported so.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vhpc_toolkit.errors import InputError, ValidationFailed, VhpcError, refuse_problems
from vhpc_toolkit.ops.hosts import pvrdma as pvrdma_hosts
from vhpc_toolkit.ops.networks import users as switch_users
from vhpc_toolkit.ops.networks.standard import DEFAULT_MTU, _find_hosts
from vhpc_toolkit.results import CHANGED, FAILED, SWITCH, UNCHANGED, Report, TargetResult
from vhpc_toolkit.vsphere import hostnet
from vhpc_toolkit.vsphere.inventory import Inventory, Obj, read_inventory, read_objects
from vhpc_toolkit.vsphere.tasks import wait_for_task
from vhpc_toolkit.words import count, plural

DVS_TYPES = ("VmwareDistributedVirtualSwitch", "DistributedVirtualSwitch")
DEFAULT_PORTS = 8   # vSphere's default; elastic port groups grow by sets of this size

DVS_PROPS = {
    "Datacenter": ["networkFolder"],
    "ClusterComputeResource": [], "ComputeResource": [],   # the path from a host up to its datacenter
    "HostSystem": sorted(set(hostnet.HOST_PROPS) | set(pvrdma_hosts.HOST_PROPS)),
    "DistributedVirtualSwitch": ["uuid", "summary.hostMember", "summary.productInfo", "config.description"],
    "DistributedVirtualPortgroup": ["key", "config.distributedVirtualSwitch", "config.uplink"],
}

# The oldest ESXi that can be a member of a switch of each version (vSphere's compatibility table).
DVS_MIN_ESXI = [("8.0.3", "8.0.3"), ("8.0.0", "8.0.0"), ("7.0.3", "7.0.3"), ("7.0.2", "7.0.2"),
                ("7.0.0", "7.0.0"), ("6.6.0", "6.7.0"), ("6.5.0", "6.5.0"), ("6.0.0", "6.0.0")]


def _vkey(version: str) -> tuple:
    return tuple(int(p) if p.isdigit() else 0 for p in (version or "0").split("."))


def dvs_version_for(esxi_versions: list[str], vcenter_version: str | None = None,
                    available: list[str] | None = None) -> str | None:
    """The newest switch version every host supports: the lowest member wins. ``available``: the
    versions vCenter creates (QueryAvailableDvsSpec); without it, vCenter's own version caps it."""
    if available is not None:
        floor = min((_vkey(v) for v in esxi_versions if v), default=None)
        if floor is None:
            return max(available, key=_vkey, default=None)
        return max((v for v in available if _vkey(min_esxi(v) or v) <= floor), key=_vkey, default=None)
    floor = min((_vkey(v) for v in esxi_versions + ([vcenter_version] if vcenter_version else []) if v),
                default=None)
    if floor is None:
        return None
    return next((dvs for dvs, esxi in DVS_MIN_ESXI if _vkey(esxi) <= floor), None)


def available_versions(session) -> list[str] | None:
    """The switch versions this vCenter creates (DistributedVirtualSwitchManager.QueryAvailableDvsSpec,
    one call); None when the server cannot say (no such manager or method)."""
    from pyVmomi import vmodl

    manager = getattr(session.content, "dvSwitchManager", None)
    if manager is None:
        return None
    try:
        return [s.version for s in manager.QueryAvailableDvsSpec() or [] if s.version]
    except vmodl.MethodFault:   # MethodNotFound, ManagedObjectNotFound: fall back on vCenter's version
        return None


def min_esxi(dvs_version: str) -> str | None:
    """The oldest ESXi that joins a switch of this version (a version newer than the table: the same
    release, as since 7.0)."""
    return next((esxi for dvs, esxi in DVS_MIN_ESXI if dvs == dvs_version), None)


def version_problems(hosts: list[Obj], switch: str, version: str | None) -> list[str]:
    """Hosts too old to join switch ``switch`` of ``version``."""
    need = min_esxi(version) if version else None
    if need is None:
        return []
    return [f"host {h.name} runs ESXi {hostnet.host_version(h)}, too old for distributed switch {switch} "
            f"(version {version} needs ESXi {need} or later)"
            for h in hosts if hostnet.host_version(h) and _vkey(hostnet.host_version(h)) < _vkey(need)]


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


def find_dvs(inv: Inventory, name: str, dc: Obj | None = None) -> Obj | None:
    matches = [o for o in inv.of_type(*DVS_TYPES) if o.name == name and (dc is None or inv.is_under(o, dc))]
    return matches[0] if matches else None


def dvs_portgroups(inv: Inventory, switch: Obj) -> list[Obj]:
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


def _switch_state(session, switch_ref) -> dict:
    """Members, configVersion, uuid, description and port groups (name -> key) of one switch."""
    found = read_objects(session, [switch_ref], ["summary.hostMember", "config.configVersion", "uuid",
                                                 "config.description", "portgroup"]).get(switch_ref._moId)
    if found is None:
        return {"members": set(), "version": None, "uuid": None, "description": None, "portgroups": {}}
    pgs = read_objects(session, list(found.get("portgroup") or []), ["name", "key"])
    return {"members": {r._moId for r in found.get("summary.hostMember") or []},
            "version": found.get("config.configVersion"), "uuid": found.get("uuid"),
            "description": found.get("config.description"),
            "portgroups": {o.get("name"): o.get("key") for o in pgs.values()}}


def portgroup_spec(name: str, fixed_ports: int | None = None):
    """A static-binding port group: elastic (autoExpand) unless a fixed number of ports is asked for."""
    from pyVmomi import vim

    return vim.dvs.DistributedVirtualPortgroup.ConfigSpec(
        name=name, type="earlyBinding", numPorts=fixed_ports or DEFAULT_PORTS, autoExpand=fixed_ports is None)


def plan_pvrdma(session, found: list[Obj], name: str, pnics: list[str], switch: Obj | None,
                problems: list[str], addresses: dict | None = None) -> dict:
    """The PVRDMA state of the future members, with every reason they cannot be prepared.
    ``addresses``: host moid -> (ip, netmask) of its VMkernel adapter (absent: DHCP)."""
    if len(pnics) != 1:
        problems.append(f"distributed switch {name}: PVRDMA needs the HCA as the switch's only uplink, "
                        f"--pnic gives {len(pnics)} ({', '.join(pnics)}); PVRDMA does not support NIC teaming")
        return {}
    for host in found:
        current = hostnet.proxy_switches(host).get(name)
        problems += pvrdma_hosts.uplink_problems(host, name, current if switch is not None and current else pnics)
    states = pvrdma_hosts.read_states(session, found, switch.get("uuid") if switch is not None else None,
                                      addresses=addresses)
    for state in states.values():
        if state.tagged_elsewhere:
            problems.append(f"host {state.host.name} is prepared for PVRDMA on another switch "
                            f"({pvrdma_hosts.OPTION} = {state.tag}); a host serves PVRDMA through one VMkernel adapter")
    return states


def create_dvs(session, name: str, hosts: list[str], pnics: list[str], port_group: str | None,
               datacenter: str | None = None, pvrdma: bool = False, fixed_ports: int | None = None,
               mtu: int | None = None, description: str | None = None,
               vmk_addresses: dict | None = None) -> Report:
    """Distributed switch ``name`` with the hosts as members (uplinks ``pnics``) and ``port_group``;
    ``description`` is a new switch's (a cluster's ownership mark, marks.py).
    ``vmk_addresses``: host name -> (ip, netmask) of its PVRDMA VMkernel adapter (default: DHCP).

    Already existing: reported, and only what is missing (members, port group, preparation) is added.
    """
    if not name or not hosts or not pnics:
        raise InputError("dvs --create needs --name, --host and --pnic")
    if pvrdma and not port_group:
        raise InputError("dvs --create --pvrdma needs --port_group (the VMkernel adapters sit on it)")
    checked = _check_create(session, name, hosts, pnics, datacenter, pvrdma, mtu, vmk_addresses)
    result = TargetResult(name, kind=SWITCH)
    done: list[str] = []
    try:
        _create(session, checked, pnics, port_group, fixed_ports, mtu, pvrdma, done, description)
    except VhpcError as exc:
        result.status, result.detail = FAILED, "; ".join(done + [str(exc)])
        return Report("dvs create", [result])
    if done:
        result.status, result.detail = CHANGED, "; ".join(done)
    else:
        result.status, result.detail = UNCHANGED, (f"switch {name} already exists with these hosts and "
                                                   f"port group {port_group}" + (", prepared for PVRDMA" if pvrdma else ""))
    return Report("dvs create", [result])


@dataclass
class _Checked:
    """What dvs --create found before any change: the hosts, datacenter, switch (None: new), version."""

    name: str
    found: list
    dc: Any
    switch: Any
    version: str | None
    states: dict


def _check_create(session, name, hosts, pnics, datacenter, pvrdma, mtu, vmk_addresses=None) -> _Checked:
    """Every problem of a dvs --create, all at once, before any change."""
    inv = read_inventory(session, DVS_PROPS)
    problems: list[str] = []
    found = _find_hosts(inv, hosts, problems)
    dc = _datacenter(inv, datacenter, found, problems)
    switch = find_dvs(inv, name, dc)
    members = {r._moId for r in (switch.get("summary.hostMember") or [])} if switch is not None else set()
    joining = [h for h in found if h.moid not in members]
    for host in found:
        if dc is not None and not inv.is_under(host, dc):
            problems.append(f"host {host.name} is not in datacenter {dc.name}")
    for host in joining:
        problems += hostnet.pnic_problems(host, pnics, name, "distributed")
    if dc is None and not problems:
        problems.append("the inventory has no datacenter")
    if switch is None:
        available = available_versions(session)
        esxi = [hostnet.host_version(h) for h in found]
        version = dvs_version_for(esxi, session.content.about.version, available)
        if version is None and available and any(esxi):
            problems.append(f"vCenter creates distributed switches of version {', '.join(available)}; the oldest "
                            f"member runs ESXi {min(filter(None, esxi), key=_vkey)}, which joins none of them")
    else:
        version = getattr(switch.get("summary.productInfo"), "version", None)
        problems += version_problems(joining, name, version)
        if mtu:   # config.maxMtu is a VMware switch's property: read on its own
            have = read_objects(session, [switch.ref], ["config.maxMtu"]).get(switch.moid)
            have_mtu = (have.get("config.maxMtu") if have else None) or DEFAULT_MTU
            if have_mtu != mtu:
                problems.append(f"distributed switch {name} exists with MTU {have_mtu}, not {mtu}; "
                                "destroy it first to change its MTU")
    names = list(dict.fromkeys(hosts))
    addresses = {h.moid: vmk_addresses[n] for n, h in zip(names, found) if n in vmk_addresses} \
        if vmk_addresses and len(found) == len(names) else None
    states = plan_pvrdma(session, found, name, pnics, switch, problems, addresses) if pvrdma else {}
    refuse_problems(problems)
    return _Checked(name, found, dc, switch, version, states)


def _create(session, c: _Checked, pnics, port_group, fixed_ports, mtu, pvrdma, done: list[str],
            description: str | None = None) -> None:
    """Make what is missing: the switch, its members, its port group, the PVRDMA preparation
    (``done`` says what was made, also when a step fails)."""
    from pyVmomi import vim

    name, found = c.name, c.found
    if c.switch is None:
        spec = vim.DistributedVirtualSwitch.CreateSpec(
            productInfo=vim.dvs.ProductSpec(version=c.version) if c.version else None,
            configSpec=vim.dvs.VmwareDistributedVirtualSwitch.ConfigSpec(
                name=name, host=_member_specs(found, pnics), maxMtu=mtu, description=description,
                uplinkPortPolicy=vim.DistributedVirtualSwitch.NameArrayUplinkPortPolicy(
                    uplinkPortName=[f"uplink{i + 1}" for i in range(len(pnics))])))
        switch_ref = wait_for_task(session, c.dc.get("networkFolder").CreateDVS_Task(spec=spec),
                                   what=f"creating switch {name}")
        done.append(f"created switch {name} (version {c.version}) in {c.dc.name} with {plural(len(found), 'host')} "
                    + ", ".join(h.name for h in found) + f" on {', '.join(pnics)}")
    else:
        switch_ref = c.switch.ref
    # Members the switch lacks (an existing switch, or a creation that did not take them all)
    # are added with one ReconfigureDvs_Task.
    state = _switch_state(session, switch_ref)
    missing = [h for h in found if h.moid not in state["members"]]
    if missing:
        config = vim.dvs.VmwareDistributedVirtualSwitch.ConfigSpec(
            configVersion=state["version"], host=_member_specs(missing, pnics))
        wait_for_task(session, switch_ref.ReconfigureDvs_Task(spec=config), what=f"adding hosts to {name}")
        if c.switch is not None:
            done.append(f"added {plural(len(missing), 'host')} " + ", ".join(h.name for h in missing))
    if port_group and port_group not in state["portgroups"]:
        wait_for_task(session, switch_ref.AddDVPortgroup_Task(spec=[portgroup_spec(port_group, fixed_ports)]),
                      what=f"adding port group {port_group}")
        done.append(f"port group {port_group}" + (f" ({fixed_ports} fixed ports)" if fixed_ports else " (elastic)"))
        state = _switch_state(session, switch_ref)
    if pvrdma:
        done += prepare_members(session, switch_ref, state, c.states, port_group)


def prepare_members(session, switch_ref, state: dict, states: dict, port_group: str) -> list[str]:
    """Prepare the hosts in ``states`` for PVRDMA on the switch, and record it on the switch."""
    from pyVmomi import vim

    for s in states.values():
        s.switch_uuid = state["uuid"]
    todo = {m: s for m, s in states.items() if s.steps(port_group)}
    if not todo:
        return []
    records, failures = pvrdma_hosts.prepare(session, todo, state["uuid"], state["portgroups"][port_group])
    if records:
        record = pvrdma_hosts.parse_record(state["description"])
        for host, done in records.items():
            record[host] = pvrdma_hosts.merge_record(record.get(host, {}), done)
        latest = _switch_state(session, switch_ref)
        spec = vim.dvs.VmwareDistributedVirtualSwitch.ConfigSpec(
            configVersion=latest["version"], description=pvrdma_hosts.with_record(latest["description"], record))
        wait_for_task(session, switch_ref.ReconfigureDvs_Task(spec=spec), what="recording the PVRDMA preparation")
    if failures:
        raise VhpcError("; ".join(failures))
    return [f"prepared {count(len(records), 'host')} for PVRDMA (VMkernel adapter on {port_group}, "
            f"{pvrdma_hosts.OPTION}, firewall ruleset {pvrdma_hosts.RULESET})"]


def unprepare(session, inv: Inventory, switch: Obj) -> tuple[list[str], list[str]]:
    """Undo the PVRDMA preparation recorded on ``switch``; returns (what was undone, failures)."""
    record = pvrdma_hosts.parse_record(switch.get("config.description"))
    if not record:
        return [], []
    hosts = {h.name: h for h in inv.of_type("HostSystem")}
    states = pvrdma_hosts.read_states(session, [hosts[n] for n in record if n in hosts], switch.get("uuid"))
    record, left = pvrdma_hosts.still_ours(record, {s.host.name: s for s in states.values()}, switch.name)
    failures = pvrdma_hosts.undo(hosts, record)
    return [f"undid the PVRDMA preparation of {count(len(record), 'host')}"] + left, failures


def destroy_dvs(session, name: str, datacenter: str | None = None) -> Report:
    """Destroy switch ``name``: undo the PVRDMA preparation it records, its port groups, then the switch.
    A switch that does not exist is reported, not an error. A switch that carries VM adapters or
    VMkernel adapters the toolkit did not make is refused before any change, saying what to move off
    it: vCenter refuses to destroy it (ResourceInUse), so no option could make it go."""
    props = dict(DVS_PROPS)
    props["HostSystem"] = sorted(set(DVS_PROPS["HostSystem"]) | set(switch_users.HOST_PROPS))
    props["VirtualMachine"] = switch_users.VM_PROPS
    inv = read_inventory(session, props)
    problems: list[str] = []
    dc = _datacenter(inv, datacenter, [], problems) if datacenter else None
    refuse_problems(problems)
    result = TargetResult(name, kind=SWITCH)
    named = [o for o in inv.of_type(*DVS_TYPES) if o.name == name and (dc is None or inv.is_under(o, dc))]
    if len(named) > 1:   # one per datacenter: which one is meant is not the toolkit's guess
        raise ValidationFailed([f"{len(named)} distributed switches are named {name} "
                                f"({', '.join(sorted(inv.path(o) for o in named))}); give --datacenter"])
    switch = named[0] if named else None
    if switch is None:
        result.detail = f"no distributed switch {name}" + (f" in {dc.name}" if dc else "")
        return Report("dvs destroy", [result], unchanged="already absent")
    recorded = {n: r.get("vnic") for n, r in pvrdma_hosts.parse_record(switch.get("config.description")).items()}
    ours = {f"VMkernel adapter {vnic} of {host}" for host, vnic in recorded.items() if vnic}
    users = [u for u in switch_users.dvs_users(inv, switch) if u not in ours]
    if users:
        raise ValidationFailed([switch_users.in_use_problem("distributed", name, {"": users})])
    pgs = [o for o in dvs_portgroups(inv, switch) if not o.get("config.uplink") and "-DVUplinks" not in o.name]
    done, failures = unprepare(session, inv, switch)
    try:
        if failures:
            raise VhpcError("; ".join(failures))
        for pg in pgs:
            wait_for_task(session, pg.ref.Destroy_Task(), what=f"destroying port group {pg.name}")
        wait_for_task(session, switch.ref.Destroy_Task(), what=f"destroying switch {name}")
    except VhpcError as exc:
        result.status, result.detail = FAILED, "; ".join(done + [str(exc)])
        return Report("dvs destroy", [result], unchanged="already absent")
    result.status = CHANGED
    result.detail = "; ".join(done + [f"destroyed switch {name}" + (
        f" and {plural(len(pgs), 'port group')} {', '.join(p.name for p in pgs)}" if pgs else "")])
    return Report("dvs destroy", [result], unchanged="already absent")
