"""A create takes over the marks earlier versions wrote for this file on this machine
(``HOST:/path``, the same path): its VMs and switches get the cluster's mark, without a question,
and the run says so once. Afterwards the same file (or a copy, or an edited copy with the same
cluster name) manages them from any folder or machine.
"""
from __future__ import annotations

from vhpc_toolkit.cluster.applying.destroy import legacy_note
from vhpc_toolkit.cluster.ownership.owner import owner_of, vm_mark_of
from vhpc_toolkit.cluster.ownership.remark import remark_dvs, remark_svs, remark_vms
from vhpc_toolkit.cluster.ownership.switch_marks import owned_switches


def take_over(session, plan) -> list[str]:
    """Re-mark what the plan (cluster/planning/plan.py, after prepare) found under this file's earlier mark;
    the notes to report (none when there was nothing to take over)."""
    owner = owner_of(plan.spec)
    vms = [p.existing for p in plan.vms if p.existing is not None and owner.is_legacy(vm_mark_of(p.existing))]
    vms += [o for o in plan.strays if owner.is_legacy(vm_mark_of(o))]
    switches = [o for o in owned_switches(plan.inv, plan.spec, owner)[0] if o.legacy]
    if not vms and not switches:
        return []
    remarked = remark_vms(session, vms, owner.mark)
    failed = dict(remarked.failed)
    for o in switches:
        if o.spec.kind == "dvs":
            why = remark_dvs(session, plan.inv, plan.inv.by_ref(o.ref), owner.name)
            if why:
                failed[f"switch {o.spec.name}"] = why
        else:
            hosts = [plan.inv.find("HostSystem", h) for h in o.legacy]
            failed.update({f"switch {o.spec.name} on {h}": why
                           for h, why in remark_svs(session, plan.inv, o.spec.name, hosts, owner.name).items()})
    done = [o for o in switches if not any(k == f"switch {o.spec.name}" or k.startswith(f"switch {o.spec.name} on ")
                                           for k in failed)]
    notes = [legacy_note(owner, len(remarked.done), len(done), "now")] if remarked.done or done else []
    notes += [f"{what}: its earlier mark was not replaced ({why}); it still counts as cluster {owner.name}'s "
              "from this path, and the next create tries again" for what, why in failed.items()]
    return notes
