"""`cluster --destroy`: the file's VMs (powered off, destroyed concurrently), then its switches.

Only what the cluster owns (cluster/ownership/owner.py): a VM of the file's name in the file's datacenter
and folder that carries no mark or the cluster's; a switch where it carries the cluster's mark
(a standard switch per host). Without ``datacenter:``, a datacenter that cannot be proven to hold the
file's VMs is a refusal naming the candidates (exit 2, nothing changed). Same-named VMs elsewhere,
VMs of other clusters, switches the cluster did not create (vSwitch0) and switches still in use are
reported and left.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from vhpc_toolkit.cluster.ownership.owner import (Owner, Unproven, elsewhere_note, file_folder, foreign_note, match_vm,
                                            owner_of, vm_mark_of, vms_by_name)
from vhpc_toolkit.cluster.applying.readback import read_back_owned
from vhpc_toolkit.cluster.state.result import DestroyResult
from vhpc_toolkit.cluster.ownership.switch_marks import DVS_PROPS, HOST_PROPS, destroy_owned_switches, owned_switches
from vhpc_toolkit.cluster.placement.rules import remove_rules, rules_to_remove
from vhpc_toolkit.cluster.cloning.copies import owned_copies
from vhpc_toolkit.clusterfile import ClusterSpec
from vhpc_toolkit.errors import ConnectionFailed, ValidationFailed, VhpcError
from vhpc_toolkit.ops.vms.destroy import Doomed, destroy_vms
from vhpc_toolkit.results import ABSENT, CHANGED, FAILED, UNCHANGED, SwitchOutcome, TargetResult
from vhpc_toolkit.vsphere.fields import MARK_PROPS
from vhpc_toolkit.vsphere.inventory import Inventory, Obj, read_inventory
from vhpc_toolkit.words import count


@dataclass
class DestroyPlan:
    present: list[Obj]
    absent: list[str]
    switches: list = field(default_factory=list)    # OwnedSwitch: the file's switches it owns, where
    left: list[tuple[str, str]] = field(default_factory=list)   # (name, why it is not touched)
    notes: list[str] = field(default_factory=list)
    owner: Owner | None = None
    rules: list = field(default_factory=list)     # (cluster, DRS rule) of the file's groups, gone with the VMs
    inv: Inventory | None = None                  # the read it was planned from
    spec: ClusterSpec | None = None
    copies: list[Obj] = field(default_factory=list)   # copies of templates the file made (cluster/cloning/copies.py)


def legacy_note(owner: Owner, vms: int, switches: int, verb: str) -> str:
    what = " and ".join(p for p in (count(vms, "VM") if vms else "", count(switches, "switch") if switches else "") if p)
    be = "are" if vms + switches > 1 else "is"
    return f"{what} marked by an earlier version as {owner.legacy} {be} {verb} cluster {owner.name}'s"


def plan_destroy(session, spec: ClusterSpec, keep_copies: bool = False) -> DestroyPlan:
    """``keep_copies``: leave the file's copies of its templates (--keep-template-copies)."""
    inv = read_inventory(session, {
        "VirtualMachine": ["runtime.powerState", "config.template", "config.extraConfig"],
        "Datacenter": ["vmFolder", *MARK_PROPS],
        "HostSystem": HOST_PROPS,
        "DistributedVirtualSwitch": DVS_PROPS,
        "ClusterComputeResource": ["configurationEx"]})
    owner = owner_of(spec)
    by_name = vms_by_name(inv)
    plan = DestroyPlan(present=[], absent=[], owner=owner, inv=inv, spec=spec)
    unproven = []
    for vm in spec.vms:
        try:
            folder = file_folder(inv, vm, owner, by_name.get(vm.name, []))
        except Unproven as exc:
            unproven.append(f"{spec.path}:{vm.line}: {exc}")
            continue
        except VhpcError as exc:
            plan.left.append((vm.name, f"not touched: {exc}"))
            continue
        if folder is None:
            plan.absent.append(vm.name)
            continue
        match = match_vm(inv, vm.name, folder, owner, by_name.get(vm.name, []))
        if match.elsewhere:
            plan.notes.append(elsewhere_note(vm.name, inv.path(folder), match.elsewhere))
        if match.foreign:
            plan.left.append((vm.name, foreign_note(vm.name, inv.path(folder) + "/" + vm.name, match.foreign, owner)))
        elif match.vm is not None and match.vm.get("config.template"):
            plan.left.append((vm.name, f"{inv.path(match.vm)} is a template; not touched"))
        elif match.vm is not None:
            plan.present.append(match.vm)
        else:
            plan.absent.append(vm.name)
    if unproven:   # a destroy acts only where it can prove the VMs are the file's
        raise ValidationFailed(list(dict.fromkeys(unproven)))
    plan.switches, notes = owned_switches(inv, spec, owner)
    plan.notes += notes
    legacy_vms = sum(owner.is_legacy(vm_mark_of(o)) for o in plan.present)
    legacy_switches = sum(bool(o.legacy) for o in plan.switches)
    if legacy_vms or legacy_switches:
        plan.notes.append(legacy_note(owner, legacy_vms, legacy_switches, "destroyed as"))
    plan.rules = rules_to_remove(inv, spec, plan.present)
    copies = owned_copies(inv, owner)
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
    if plan.left:
        report.unchanged = "already absent or left alone"
    result = DestroyResult(report, interrupted=report.interrupted, notes=list(plan.notes))
    if report.ok:  # switches and DRS rules only after their VMs are gone
        try:
            result.switches = destroy_owned_switches(session, plan.switches)
            result.rules = remove_rules(session, plan.rules)
        except KeyboardInterrupt:
            result.interrupted = True
            result.switches = read_back_owned(session, plan.switches, "interrupted")
            result.notes.append("interrupted while destroying the switches (the table says what is left, read "
                                "back): run --destroy again to finish")
        except ConnectionFailed as exc:   # the VMs' table still stands
            result.notes.append(f"switches not destroyed: {exc}")
            result.switches = [SwitchOutcome(o.spec.name, o.spec.kind, list(o.hosts), o.spec.port_group,
                                             status=FAILED, detail="not destroyed: the connection was lost")
                               for o in plan.switches]
    elif plan.switches:
        result.notes.append("switches not destroyed: a VM of the file is still there")
    return result

