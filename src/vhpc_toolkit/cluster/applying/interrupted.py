"""What a run that was interrupted (Ctrl-C, a connection or session lost for good) or that lost the
answer of a clone call reports: which of the file's VMs exist now in the file's folders, read back,
never what the run meant to do."""
from __future__ import annotations

from vhpc_toolkit.cluster.applying.readback import read_back_pruned, read_back_switches
from vhpc_toolkit.cluster.planning.plan import CREATE, DRIFT as DRIFT_ACTION, RECONFIGURE, ClusterPlan, VMPlan
from vhpc_toolkit.cluster.state.result import ClusterResult
from vhpc_toolkit.ops.vms.placement import ref_of
from vhpc_toolkit.results import CREATED, DRIFT, FAILED, NOT_STARTED, POWERED_ON, RECONFIGURED, UP_TO_DATE
from vhpc_toolkit.vsphere.inventory import read_inventory


def vms_by_folder(session) -> dict:
    inv = read_inventory(session, {"VirtualMachine": ["runtime.powerState"]})
    present = {}
    for o in inv.of_type("VirtualMachine"):
        present.setdefault((o.name, o.get("parent")._moId if o.get("parent") is not None else None), o)
    return present


def _folder_id(p: VMPlan) -> str | None:
    return ref_of(p.placement.folder)._moId if p.placement else None


def settle_uncertain(session, plan: ClusterPlan, outcomes: dict, names: list[str]) -> None:
    """VMs whose clone call lost its connection: vCenter may have made them; look."""
    present = vms_by_folder(session)
    for p in plan.vms:
        if p.name in names and p.action == CREATE:
            vm = present.get((p.name, _folder_id(p)))
            if vm is not None:
                outcomes[p.name].ref = vm.ref
                outcomes[p.name].detail = (f"the connection broke while its clone was asked for, yet the VM exists "
                                           f"({vm.get('runtime.powerState')}); run --create again to check it")


def report_interrupted(session, plan: ClusterPlan, switches, outcomes, lost: str | None = None,
                 why: str = "interrupted", phase: str | None = None) -> ClusterResult:
    """After Ctrl-C (or a connection or session lost for good: ``lost``, ``why``): say exactly which
    VMs of the file exist in the file's folders, and its switches and pruned VMs, as read back now
    (the tasks in flight were given their time to end: ops/runner.py)."""
    try:
        present = vms_by_folder(session) if getattr(session, "answering", True) else None
    except Exception:   # vCenter is gone: say what is known, not more
        present = None
    for p in plan.vms:
        out = outcomes[p.name]
        if p.action != CREATE:
            if lost is not None and out.status not in (RECONFIGURED, POWERED_ON, DRIFT, UP_TO_DATE):
                out.status, out.detail = FAILED, f"{why}; its change may or may not have been made"
            elif (p.action == RECONFIGURE or p.power_on) and out.status == UP_TO_DATE:   # not reached
                out.status, out.detail = NOT_STARTED, f"not changed: the run was {why}"
            elif p.action == DRIFT_ACTION and out.status == UP_TO_DATE:
                out.status, out.detail, out.drift = DRIFT, "; ".join(p.drift), list(p.drift)
            continue
        if present is None:
            if out.status != CREATED:
                out.status, out.detail = FAILED, f"{why}; unknown whether the VM exists"
            continue
        vm = present.get((p.name, _folder_id(p)))
        if vm is not None:
            out.ref = vm.ref
            if out.status != CREATED:
                out.status = FAILED
                out.detail = f"{why}; the VM exists ({vm.get('runtime.powerState')})"
        elif out.status == NOT_STARTED:
            out.detail = f"not started: the run was {why if lost else 'interrupted'}; not created"
        else:
            out.status, out.detail = FAILED, f"{why}; not created"
    result = ClusterResult(switches + read_back_switches(session, plan, switches, why),
                           [outcomes[p.name] for p in plan.vms], spec=plan.spec, interrupted=lost is None)
    result.pruned = read_back_pruned(plan, present, why)
    if lost is not None:
        result.notes.append(f"{lost}")
    during = f" during {phase}" if phase else ""
    result.notes.append(f"{why}{during}: the tables say what exists now (read back); run --create again to "
                        "finish, or --destroy to remove it")
    return result
