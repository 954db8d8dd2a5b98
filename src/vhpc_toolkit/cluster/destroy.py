"""`cluster --destroy`: the file's VMs (powered off, destroyed concurrently), then its switches."""
from __future__ import annotations

from dataclasses import dataclass, field

from vhpc_toolkit.clusterfile import ClusterSpec
from vhpc_toolkit.ops.results import OperationReport, VMResult
from vhpc_toolkit.ops.runner import Job, run_jobs
from vhpc_toolkit.vsphere.inventory import Obj, Snapshot, read_inventory


@dataclass
class DestroyPlan:
    present: list[Obj]
    absent: list[str]
    switches: list = field(default_factory=list)  # SwitchSpec of the file that exist


def plan_destroy(session, spec: ClusterSpec) -> tuple[Snapshot, DestroyPlan]:
    snap = read_inventory(session, {"VirtualMachine": ["runtime.powerState", "config.template"],
                                    "HostSystem": ["config.network.vswitch"],
                                    "DistributedVirtualSwitch": []})
    by_name: dict[str, list[Obj]] = {}
    for o in snap.of_type("VirtualMachine"):
        if not o.get("config.template"):
            by_name.setdefault(o.name, []).append(o)
    present, absent = [], []
    for vm in spec.vms:
        found = by_name.get(vm.name, [])
        if found:
            present.extend(found[:1])
        else:
            absent.append(vm.name)
    switches = []
    for sw in spec.svs:
        hosts = [h for h in snap.of_type("HostSystem") if h.name in sw.host
                 and any(s.name == sw.name for s in h.get("config.network.vswitch") or [])]
        if hosts:
            switches.append(sw)
    for sw in spec.dvs:
        if any(o.name == sw.name for o in snap.of_type("VmwareDistributedVirtualSwitch", "DistributedVirtualSwitch")):
            switches.append(sw)
    return snap, DestroyPlan(present=present, absent=absent, switches=switches)


def destroy_cluster(session, plan: DestroyPlan, concurrency: int = 32, on_event=None) -> tuple[OperationReport, list[dict]]:
    results = {o.moid: VMResult(o.name, detail="destroyed") for o in plan.present}
    off = [Job(result=results[o.moid], start=o.ref.PowerOffVM_Task) for o in plan.present
           if o.get("runtime.powerState") != "poweredOff"]
    run_jobs(session, off, concurrency=concurrency)
    for job in off:
        if job.result.failed:
            job.result.detail = f"power off failed: {job.result.detail}"
    gone = [Job(result=results[o.moid], start=o.ref.Destroy_Task) for o in plan.present
            if not results[o.moid].failed]
    run_jobs(session, gone, concurrency=concurrency, on_event=on_event)
    report = OperationReport("cluster destroy", list(results.values()) +
                             [VMResult(name, "unchanged", "absent") for name in plan.absent], done="destroyed")
    switch_rows = []
    if not report.failed:  # switches only after their VMs are gone
        for sw in plan.switches:
            from vhpc_toolkit.ops.switches import destroy_dvs, destroy_svs

            if sw.kind == "svs":
                rep = destroy_svs(session, sw.name, sw.host)
            else:
                rep = destroy_dvs(session, sw.name)
            switch_rows.append({"name": sw.name, "kind": sw.kind,
                                "status": "failed" if rep.failed else "destroyed", "detail": rep.summary()})
    return report, switch_rows
