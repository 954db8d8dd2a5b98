"""The file's switches against vCenter: create, complete or nothing, and what is in the way."""
from __future__ import annotations

from dataclasses import dataclass

from vhpc_toolkit.clusterfile import ClusterSpec, SwitchSpec
from vhpc_toolkit.errors import VhpcError
from vhpc_toolkit.ops.networks.distributed import dvs_version_for, version_problems
from vhpc_toolkit.ops.networks.standard import DEFAULT_MTU
from vhpc_toolkit.vsphere import hostnet
from vhpc_toolkit.vsphere.inventory import Inventory
from vhpc_toolkit.words import count

NOTHING = "nothing"


@dataclass
class SwitchPlan:
    spec: SwitchSpec
    action: str = NOTHING          # create | nothing
    detail: str = ""
    exists: bool = False           # the switch was there before this run (on some host, for svs)


def plan_svs(inv: Inventory, sw: SwitchSpec, problems: list[str], where: str) -> SwitchPlan:
    missing = []
    for host_name in sw.host:
        try:
            host = inv.find("HostSystem", host_name, what="host")
        except VhpcError as exc:
            problems.append(f"{where}: switch {sw.name}: {exc}")
            continue
        existing = hostnet.standard_switch(host, sw.name)
        pg_switch = next((s.name for s in hostnet.standard_switches(host) if sw.port_group in s.port_groups), None) \
            if sw.port_group else None
        if existing is not None and existing.pnics and sw.pnic and sw.pnic[0] not in existing.pnics:
            problems.append(f"{where}: switch {sw.name}: exists on host {host_name} bridged to "
                            f"{', '.join(existing.pnics)}, not {sw.pnic[0]}")
        elif existing is None:
            problems.extend(f"{where}: switch {sw.name}: {msg}"
                            for msg in hostnet.pnic_problems(host, sw.pnic[:1], sw.name, "standard"))
        if existing is not None and sw.mtu and (existing.mtu or DEFAULT_MTU) != sw.mtu:
            problems.append(f"{where}: switch {sw.name}: exists on host {host_name} with MTU "
                            f"{existing.mtu or DEFAULT_MTU}, the file says {sw.mtu} (destroy it to change it)")
        if existing is not None and (sw.port_group is None or pg_switch == sw.name):
            continue
        if pg_switch is not None and pg_switch != sw.name:
            problems.append(f"{where}: switch {sw.name}: port group {sw.port_group} already exists on host "
                            f"{host_name} on switch {pg_switch}")
        missing.append(host_name)
    if missing:
        return SwitchPlan(sw, "create", f"create on {count(len(missing), 'host')}", exists=len(missing) < len(sw.host))
    return SwitchPlan(sw, NOTHING, "exists on every host", exists=True)


def plan_dvs(inv: Inventory, sw: SwitchSpec, problems: list[str], where: str) -> SwitchPlan:
    hosts = []
    for host_name in sw.host:
        try:
            hosts.append(inv.find("HostSystem", host_name, what="host"))
        except VhpcError as exc:
            problems.append(f"{where}: switch {sw.name}: {exc}")
    existing = [o for o in inv.of_type("VmwareDistributedVirtualSwitch", "DistributedVirtualSwitch")
                if o.name == sw.name]
    members = {inv.by_ref(h).name for h in existing[0].get("summary.hostMember") or [] if inv.by_ref(h)} \
        if existing else set()
    for host in hosts:
        if host.name not in members:
            problems.extend(f"{where}: switch {sw.name}: {msg}"
                            for msg in hostnet.pnic_problems(host, sw.pnic, sw.name, "distributed"))
    if not existing:
        version = dvs_version_for([hostnet.host_version(h) for h in hosts])
        return SwitchPlan(sw, "create", f"create with {count(len(sw.host), 'host')}" +
                          (f" at version {version} or the newest older one vCenter creates (the oldest "
                           "member's)" if version else ""))
    version = getattr(existing[0].get("summary.productInfo"), "version", None)
    problems.extend(f"{where}: {msg}" for msg in
                    version_problems([h for h in hosts if h.name not in members], sw.name, version))
    have_mtu = existing[0].get("config.maxMtu") or DEFAULT_MTU
    if sw.mtu and have_mtu != sw.mtu:
        problems.append(f"{where}: switch {sw.name}: exists with MTU {have_mtu}, the file says {sw.mtu} "
                        "(destroy it to change it)")
    pgs = [o for o in inv.of_type("DistributedVirtualPortgroup") if o.name == sw.port_group] \
        if sw.port_group else [None]
    missing = sorted(set(sw.host) - members)
    if missing or not pgs:
        return SwitchPlan(sw, "create", "add " + ", ".join(missing + ([] if pgs else [f"port group {sw.port_group}"])),
                          exists=True)
    return SwitchPlan(sw, NOTHING, "exists with every host", exists=True)


def shared_uplinks(spec: ClusterSpec, problems: list[str]) -> None:
    """Two switches of the file on one physical NIC of a host: ESXi gives a NIC to one switch."""
    holder: dict[tuple[str, str], str] = {}
    for sw in spec.svs + spec.dvs:
        for host in sw.host:
            for nic in (sw.pnic[:1] if sw.kind == "svs" else sw.pnic):
                other = holder.setdefault((host, nic), sw.name)
                if other != sw.name:
                    problems.append(f"{spec.path}:{sw.line}: switch {sw.name}: physical NIC {nic} of host {host} "
                                    f"is also the uplink of switch {other} in this file (a NIC is the uplink of "
                                    "one switch)")
