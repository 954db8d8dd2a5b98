"""What a cluster run that stopped halfway (Ctrl-C, a lost connection) left on vCenter, read back
before it is reported: the file's switches the run had not reported yet, and the VMs --prune was
destroying. A report says what vCenter holds, never what the run had hoped for."""
from __future__ import annotations

from vhpc_toolkit.cluster.state.result import Stray
from vhpc_toolkit.ops.networks.distributed import DVS_TYPES
from vhpc_toolkit.results import CREATED, DESTROYED, FAILED, NOT_STARTED, UP_TO_DATE, SwitchOutcome
from vhpc_toolkit.vsphere.inventory import read_inventory

UNREACHABLE = "unknown: vCenter could not be read"


def _members(session) -> dict[tuple[str, str], set[str]] | None:
    """(kind, switch name) -> the names of the hosts that have it now; None when vCenter cannot be read."""
    if not getattr(session, "answering", True):
        return None
    try:
        inv = read_inventory(session, {"HostSystem": ["config.network.vswitch"], "DistributedVirtualSwitch":
                                       ["summary.hostMember"]})
    except Exception:
        return None
    out: dict = {}
    for h in inv.of_type("HostSystem"):
        for v in h.get("config.network.vswitch") or []:
            out.setdefault(("svs", v.name), set()).add(h.name)
    for d in inv.of_type(*DVS_TYPES):
        hosts = {inv.by_ref(r).name for r in d.get("summary.hostMember") or [] if inv.by_ref(r) is not None}
        out.setdefault(("dvs", d.name), set()).update(hosts)
    return out


def read_back_switches(session, plan, reported: list[SwitchOutcome], why: str) -> list[SwitchOutcome]:
    """An outcome for each of the plan's switches not in ``reported``, as vCenter has it now."""
    done = {(s.kind, s.name) for s in reported}
    todo = [sp for sp in plan.switches if (sp.spec.kind, sp.spec.name) not in done]
    if not todo:
        return []
    members = _members(session) if any(sp.action != "nothing" for sp in todo) else {}
    out = []
    for sp in todo:
        sw = sp.spec
        o = SwitchOutcome(sw.name, sw.kind, list(sw.host), sw.port_group, detail=sp.detail)
        if sp.action == "nothing":
            o.status = UP_TO_DATE
        elif members is None:
            o.status, o.detail = FAILED, f"{why}; {UNREACHABLE}"
        else:
            have = [h for h in sw.host if h in members.get((sw.kind, sw.name), set())]
            if len(have) == len(sw.host):
                o.status, o.detail = CREATED, f"made before the run was {why} (read back)"
            elif have and (sw.kind == "dvs" or not sp.exists):
                o.status = FAILED
                o.detail = f"{why}: on {len(have)} of {len(sw.host)} hosts ({', '.join(have)}); run --create again"
            else:
                o.status, o.detail = NOT_STARTED, f"not made: the run was {why}"
        out.append(o)
    return out


def read_back_pruned(plan, present: dict | None, why: str) -> list[Stray]:
    """--prune: each VM it was to destroy, destroyed or still there, from the VMs read back now
    (``present``: (name, folder) -> Obj, the interrupted run's one read; None: vCenter unreachable)."""
    if not plan.prune or not plan.prunable:
        return []
    if present is None:
        return [Stray(o.name, None, None, FAILED, f"{why}; {UNREACHABLE}") for o in plan.prunable]
    left = {o.moid: o for o in present.values()}
    out = []
    for o in plan.prunable:
        now = left.get(o.moid)
        host = plan.inv.by_ref(o.get("runtime.host"))
        if now is None:
            out.append(Stray(o.name, host.name if host else None, None, DESTROYED, "destroyed (read back)"))
        else:
            out.append(Stray(o.name, host.name if host else None, now.get("runtime.powerState"), FAILED,
                             f"{why}; the VM still exists ({now.get('runtime.powerState')})"))
    return sorted(out, key=lambda s: s.name)


def read_back_owned(session, owned: list, why: str) -> list[SwitchOutcome]:
    """--destroy: each switch of the file it was destroying (cluster/switch_marks.OwnedSwitch), gone or
    still there (read back now)."""
    members = _members(session) if owned else {}
    out = []
    for o in owned:
        sw = o.spec
        row = SwitchOutcome(sw.name, sw.kind, list(o.hosts), sw.port_group)
        left = None if members is None else [h for h in o.hosts if h in members.get((sw.kind, sw.name), set())]
        if left is None:
            row.status, row.detail = FAILED, f"{why}; {UNREACHABLE}"
        elif sw.kind == "dvs" and (sw.kind, sw.name) in members or left:
            row.status, row.detail = FAILED, f"{why}; still there" + (f" on {', '.join(left)}" if left else "")
        else:
            row.status, row.detail = DESTROYED, "destroyed (read back)"
        out.append(row)
    return out
