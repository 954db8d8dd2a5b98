"""Ownership marks of a cluster file's switches (cluster/ownership.py): written when
`cluster --create` creates a switch, read and honoured by `cluster --destroy`."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vhpc_toolkit.clusterfile import ClusterSpec, SwitchSpec
from vhpc_toolkit.cluster.ownership import OWNER_KEY
from vhpc_toolkit.errors import ValidationFailed, VhpcError
from vhpc_toolkit.ops.dvs import DVS_TYPES, destroy_dvs
from vhpc_toolkit.ops.switches import destroy_svs
from vhpc_toolkit.results import DESTROYED, FAILED, SwitchOutcome
from vhpc_toolkit.vsphere.faults import error_message
from vhpc_toolkit.vsphere.fields import ensure_field, field_keys, set_value, value_of
from vhpc_toolkit.vsphere.inventory import Inventory, Obj, read_inventory

SVS_FIELD_PREFIX = "vhpc_toolkit.svs:"   # + switch name: a host's value is the owner mark


def svs_field(name: str) -> str:
    return SVS_FIELD_PREFIX + name


@dataclass
class OwnedSwitch:
    """A switch of the file that carries its mark: a standard switch on ``hosts``, a DVS."""

    spec: SwitchSpec
    hosts: list[str]
    ref: Any = None
    datacenter: str | None = None   # a DVS's: the one that carries the mark, not another of its name


def _dvs_named(inv: Inventory, sw: SwitchSpec) -> list[Obj]:
    dc = None
    if sw.datacenter:
        try:
            dc = inv.find("Datacenter", sw.datacenter, what="datacenter")
        except VhpcError:
            return []
    return [o for o in inv.of_type(*DVS_TYPES) if o.name == sw.name and (dc is None or inv.is_under(o, dc))]


def owned_switches(inv: Inventory, spec: ClusterSpec, mark: str, keys: dict[str, int]) \
        -> tuple[list[OwnedSwitch], list[str]]:
    """The file's switches where they carry its mark, and a note for each one left alone.

    ``inv`` has hosts with ``config.network.vswitch`` and switches, both with ``customValue``.
    """
    owned, notes = [], []
    for sw in spec.svs:
        key = keys.get(svs_field(sw.name))
        hosts = [h for h in inv.of_type("HostSystem") if h.name in sw.host
                 and any(v.name == sw.name for v in h.get("config.network.vswitch") or [])]
        mine = [h.name for h in hosts if value_of(h, key) == mark]
        others = [h.name for h in hosts if h.name not in mine]
        if others:
            notes.append(f"switch {sw.name}: left on {', '.join(others)}: not created there by this file")
        if mine:
            owned.append(OwnedSwitch(sw, mine))
    for sw in spec.dvs:
        key = keys.get(OWNER_KEY)
        for o in _dvs_named(inv, sw):
            if value_of(o, key) == mark:
                dc = inv.ancestor(o, "Datacenter")
                owned.append(OwnedSwitch(sw, list(sw.host), o.ref, dc.name if dc is not None else sw.datacenter))
            else:
                notes.append(f"switch {sw.name}: left: {inv.path(o)} was not created by this file")
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
        if sw.kind == "svs":
            forget_svs(session, sw.name, [r.name for r in report.results if not r.failed])
        outcomes.append(out)
    return outcomes


def record_svs(session, name: str, hosts: list[Obj], mark: str) -> str | None:
    """Mark standard switch ``name`` as the file's on ``hosts``; a note when it could not be."""
    if not hosts:
        return None
    try:
        key = ensure_field(session, svs_field(name))
        for h in hosts:
            set_value(session, h.ref, key, mark)
    except Exception as exc:   # no privilege for custom attributes: the run goes on
        return f"switch {name}: ownership not recorded ({error_message(exc)}): cluster --destroy will leave it"
    return None


def forget_svs(session, name: str, host_names: list[str]) -> None:
    """Clear the mark of standard switch ``name`` on hosts it was removed from."""
    keys = field_keys(session)
    key = keys.get(svs_field(name))
    if key is None or not host_names:
        return
    inv = read_inventory(session, {"HostSystem": []})
    for h in inv.of_type("HostSystem"):
        if h.name in host_names:
            try:
                set_value(session, h.ref, key, "")
            except Exception:   # a stale mark on a host without the switch does no harm
                pass


def record_dvs(session, sw: SwitchSpec, mark: str) -> str | None:
    """Mark the distributed switch just created for the file as the file's."""
    try:
        inv = read_inventory(session, {"DistributedVirtualSwitch": []})
        found = _dvs_named(inv, sw)
        if len(found) != 1:
            return f"switch {sw.name}: ownership not recorded (found {len(found)} of that name)"
        set_value(session, found[0].ref, ensure_field(session, OWNER_KEY), mark)
    except Exception as exc:
        return f"switch {sw.name}: ownership not recorded ({error_message(exc)}): cluster --destroy will leave it"
    return None

