"""`cluster --destroy`: the file's VMs (powered off, destroyed concurrently), then its switches.

Only what the file owns (cluster/ownership.py): a VM of the file's name in the file's datacenter
and folder that carries no owner mark or the file's; a switch where it carries the file's mark
(a standard switch per host). Same-named VMs elsewhere, VMs of other files, switches the file
did not create (vSwitch0) and switches still in use are reported and left.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from vhpc_toolkit.cluster.ownership import elsewhere_note, foreign_note, match_vm, owner_mark, target_folder
from vhpc_toolkit.cluster.result import DestroyResult
from vhpc_toolkit.cluster.switch_marks import destroy_owned_switches, owned_switches
from vhpc_toolkit.cluster.rules import remove_rules, rules_to_remove
from vhpc_toolkit.cluster.template_copies import owned_copies
from vhpc_toolkit.clusterfile import ClusterSpec
from vhpc_toolkit.errors import ConnectionFailed, VhpcError
from vhpc_toolkit.ops.destroy import Doomed, destroy_vms
from vhpc_toolkit.results import ABSENT, CHANGED, FAILED, UNCHANGED, SwitchOutcome, TargetResult
from vhpc_toolkit.vsphere.fields import VALUE_PROP, field_keys
from vhpc_toolkit.vsphere.inventory import Obj, read_inventory


@dataclass
class DestroyPlan:
    present: list[Obj]
    absent: list[str]
    switches: list = field(default_factory=list)    # OwnedSwitch: the file's switches it owns, where
    left: list[tuple[str, str]] = field(default_factory=list)   # (name, why it is not touched)
    notes: list[str] = field(default_factory=list)
    owner: str = ""
    rules: list = field(default_factory=list)     # (cluster, DRS rule) of the file's groups, gone with the VMs
    copies: list[Obj] = field(default_factory=list)   # copies of templates the file made (cluster/template_copies.py)


def plan_destroy(session, spec: ClusterSpec, keep_copies: bool = False) -> DestroyPlan:
    """``keep_copies``: leave the file's copies of its templates (--keep-template-copies)."""
    keys = field_keys(session)
    inv = read_inventory(session, {
        "VirtualMachine": ["runtime.powerState", "config.template", "config.extraConfig"],
        "Datacenter": ["vmFolder"],
        "HostSystem": ["config.network.vswitch", VALUE_PROP],
        "DistributedVirtualSwitch": [VALUE_PROP],
        "ClusterComputeResource": ["configurationEx"]})
    mark = owner_mark(spec.path)
    by_name: dict[str, list[Obj]] = {}
    for o in inv.of_type("VirtualMachine"):
        by_name.setdefault(o.name, []).append(o)
    plan = DestroyPlan(present=[], absent=[], owner=mark)
    for vm in spec.vms:
        try:
            folder = target_folder(inv, vm)
        except VhpcError as exc:
            plan.left.append((vm.name, f"not touched: {exc}"))
            continue
        match = match_vm(inv, vm.name, folder, mark, by_name.get(vm.name, []))
        if match.elsewhere:
            plan.notes.append(elsewhere_note(vm.name, inv.path(folder), match.elsewhere))
        if match.foreign:
            plan.left.append((vm.name, foreign_note(vm.name, inv.path(folder) + "/" + vm.name, match.foreign)))
        elif match.vm is not None and match.vm.get("config.template"):
            plan.left.append((vm.name, f"{inv.path(match.vm)} is a template; not touched"))
        elif match.vm is not None:
            plan.present.append(match.vm)
        else:
            plan.absent.append(vm.name)
    plan.switches, notes = owned_switches(inv, spec, mark, keys)
    plan.notes += notes
    plan.rules = rules_to_remove(inv, spec, plan.present)
    copies = owned_copies(inv, mark)
    if keep_copies and copies:
        plan.notes.append(f"kept {len(copies)} copies of the template (--keep-template-copies): "
                          f"{', '.join(o.name for o in copies)}")
    elif copies:
        plan.copies = copies
    return plan


def destroy_cluster(session, plan: DestroyPlan, concurrency: int = 32, on_event=None) -> DestroyResult:
    doomed = [Doomed(o.ref, o.get("runtime.powerState") != "poweredOff", TargetResult(o.name, CHANGED))
              for o in plan.present]
    # The file's copies of its templates go with its VMs (full clones do not need their source).
    doomed += [Doomed(o.ref, False, TargetResult(o.name, CHANGED)) for o in plan.copies]
    report = destroy_vms(session, doomed, concurrency, on_event, operation="cluster destroy")
    report.results += [TargetResult(name, UNCHANGED, ABSENT) for name in plan.absent]
    report.results += [TargetResult(name, UNCHANGED, why) for name, why in plan.left]
    result = DestroyResult(report, interrupted=report.interrupted, notes=list(plan.notes))
    if report.ok:  # switches and DRS rules only after their VMs are gone
        try:
            result.switches = destroy_owned_switches(session, plan.switches)
            result.rules = remove_rules(session, plan.rules)
        except KeyboardInterrupt:
            result.interrupted = True
            result.notes.append("interrupted while destroying the switches: run --destroy again to finish")
        except ConnectionFailed as exc:   # the VMs' table still stands
            result.notes.append(f"switches not destroyed: {exc}")
            result.switches = [SwitchOutcome(o.spec.name, o.spec.kind, list(o.hosts), o.spec.port_group,
                                             status=FAILED, detail="not destroyed: the connection was lost")
                               for o in plan.switches]
    elif plan.switches:
        result.notes.append("switches not destroyed: a VM of the file is still there")
    return result

