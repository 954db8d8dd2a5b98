"""Marks on a cluster's switches (marks.py), and destroying the switches that carry its mark.

A distributed switch's mark is a line of its description, written in its CreateDVS_Task spec; a
standard switch's is a mark port group on it (one per host), added with the switch. Earlier
versions used custom attributes: ``vhpc_toolkit.owner`` on a distributed switch, and
``vhpc_toolkit.svs:NAME`` on each host of standard switch NAME, valued ``HOST:/path``; they are
still read, and a standard switch's attribute is removed once no host carries it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vhpc_toolkit.clusterfile import ClusterSpec, SwitchSpec
from vhpc_toolkit.cluster.ownership.owner import Owner
from vhpc_toolkit.errors import ValidationFailed, VhpcError
from vhpc_toolkit.marks import OWNER_KEY, Mark, dvs_mark, parse, svs_mark_owner
from vhpc_toolkit.ops.networks.distributed import DVS_TYPES, destroy_dvs
from vhpc_toolkit.ops.networks.standard import destroy_svs
from vhpc_toolkit.results import DESTROYED, FAILED, SwitchOutcome
from vhpc_toolkit.vsphere import hostnet
from vhpc_toolkit.vsphere.fields import MARK_PROPS, field_names, remove_field, set_value, value_of
from vhpc_toolkit.vsphere.inventory import Inventory, Obj, read_inventory

LEGACY_SVS_PREFIX = "vhpc_toolkit.svs:"   # + switch name: a host's value is an earlier version's mark
HOST_PROPS = ["config.network.vswitch", "config.network.portgroup", "configManager.networkSystem", *MARK_PROPS]
DVS_PROPS = ["config.description", *MARK_PROPS]


def key_named(names: dict[int, str], name: str) -> int | None:
    return next((k for k, n in names.items() if n == name), None)


def svs_mark_on(host: Obj, switch: str, names: dict[int, str]) -> Mark | None:
    """The mark of standard switch ``switch`` on ``host`` (None: no switch, or no mark); ``names``:
    field names by key (vsphere.fields.field_names)."""
    sw = hostnet.standard_switch(host, switch)
    if sw is None:
        return None
    for pg in sw.port_groups:
        cluster = svs_mark_owner(pg, switch)
        if cluster is not None:
            return Mark(cluster=cluster)
    return parse(value_of(host, key_named(names, LEGACY_SVS_PREFIX + switch)))


def dvs_mark_on(switch: Obj, names: dict[int, str]) -> Mark | None:
    """The mark of a distributed switch: its description's, else an earlier version's attribute."""
    return dvs_mark(switch.get("config.description")) or parse(value_of(switch, key_named(names, OWNER_KEY)))


def all_names(inv: Inventory) -> dict[int, str]:
    """Field names by key, from every object read with MARK_PROPS (a field made before an object
    may be missing from that object's own list)."""
    return field_names(inv.of_type("Datacenter", "HostSystem", *DVS_TYPES))


def dvs_named(inv: Inventory, sw: SwitchSpec) -> list[Obj]:
    dc = None
    if sw.datacenter:
        try:
            dc = inv.find("Datacenter", sw.datacenter, what="datacenter")
        except VhpcError:
            return []
    return [o for o in inv.of_type(*DVS_TYPES) if o.name == sw.name and (dc is None or inv.is_under(o, dc))]


@dataclass
class OwnedSwitch:
    """A switch of the file that carries the cluster's mark: a standard switch on ``hosts``, a DVS."""

    spec: SwitchSpec
    hosts: list[str]
    ref: Any = None
    datacenter: str | None = None   # a DVS's: the one that carries the mark, not another of its name
    legacy: list[str] | None = None  # where the mark is an earlier version's (hosts; a DVS: [its name])


def owned_switches(inv: Inventory, spec: ClusterSpec, owner: Owner) -> tuple[list[OwnedSwitch], list[str]]:
    """The file's switches where they carry the cluster's mark, and a note for each one left alone.

    ``inv`` has hosts read with HOST_PROPS and switches with DVS_PROPS."""
    names = all_names(inv)
    owned, notes = [], []
    for sw in spec.svs:
        hosts = [h for h in inv.of_type("HostSystem") if h.name in sw.host and hostnet.standard_switch(h, sw.name)]
        mine = [h for h in hosts if owner.owns(svs_mark_on(h, sw.name, names))]
        others = [h.name for h in hosts if h not in mine]
        if others:
            notes.append(f"switch {sw.name}: left on {', '.join(others)}: not created there by cluster {owner.name}")
        if mine:
            legacy = [h.name for h in mine if owner.is_legacy(svs_mark_on(h, sw.name, names))]
            owned.append(OwnedSwitch(sw, [h.name for h in mine], legacy=legacy))
    for sw in spec.dvs:
        for o in dvs_named(inv, sw):
            mark = dvs_mark_on(o, names)
            if owner.owns(mark):
                dc = inv.ancestor(o, "Datacenter")
                owned.append(OwnedSwitch(sw, list(sw.host), o.ref, dc.name if dc is not None else sw.datacenter,
                                         legacy=[o.name] if owner.is_legacy(mark) else []))
            else:
                notes.append(f"switch {sw.name}: left: {inv.path(o)} was not created by cluster {owner.name}")
    return owned, notes


def destroy_owned_switches(session, owned: list[OwnedSwitch]) -> list[SwitchOutcome]:
    """Destroy each owned switch (where owned), unless something still uses it."""
    outcomes = []
    for o in owned:
        sw = o.spec
        out = SwitchOutcome(sw.name, sw.kind, list(o.hosts), sw.port_group)
        try:
            report = destroy_svs(session, sw.name, o.hosts) if sw.kind == "svs" else \
                destroy_dvs(session, sw.name, o.datacenter or sw.datacenter)
        except ValidationFailed as exc:   # in use by adapters the file does not own: left
            out.status, out.detail = FAILED, f"left: {exc.problems[0]}"
            outcomes.append(out)
            continue
        out.status = FAILED if report.failed else DESTROYED
        out.detail = report.details()
        if sw.kind == "svs" and o.legacy:
            forget_legacy_svs(session, sw.name, [r.name for r in report.results if not r.failed])
        elif o.legacy:
            forget_legacy_owner(session)
        outcomes.append(out)
    return outcomes


def forget_legacy_owner(session) -> None:
    """Remove an earlier version's distributed-switch attribute (``vhpc_toolkit.owner``, shown on every
    object) once no switch carries a value of it."""
    inv = read_inventory(session, {"DistributedVirtualSwitch": list(MARK_PROPS), "Datacenter": list(MARK_PROPS)})
    key = key_named(all_names(inv), OWNER_KEY)
    if key is None or any(value_of(o, key) for o in inv.of_type(*DVS_TYPES)):
        return
    try:
        remove_field(session, key)
    except Exception:   # no privilege: an unused attribute does no harm
        pass


def forget_legacy_svs(session, name: str, host_names: list[str]) -> None:
    """Clear an earlier version's mark of standard switch ``name`` on hosts it no longer marks, and
    remove its custom attribute once no host carries it (it showed on every object)."""
    inv = read_inventory(session, {"HostSystem": list(MARK_PROPS)})
    key = key_named(all_names(inv), LEGACY_SVS_PREFIX + name)
    if key is None:
        return
    try:
        for h in inv.of_type("HostSystem"):
            if h.name in host_names and value_of(h, key):
                set_value(session, h.ref, key, "")
                h.props["customValue"] = [v for v in h.get("customValue") or [] if v.key != key]
        if not any(value_of(h, key) for h in inv.of_type("HostSystem")):
            remove_field(session, key)
    except Exception:   # no privilege: a stale value on a host without the switch does no harm
        pass
