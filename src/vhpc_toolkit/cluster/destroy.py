"""`cluster --destroy`: the file's VMs (powered off, destroyed concurrently), then its switches."""
from __future__ import annotations

from dataclasses import dataclass, field

from vhpc_toolkit.cluster.result import DestroyResult
from vhpc_toolkit.cluster.rules import remove_rules, rules_to_remove
from vhpc_toolkit.cluster.switches import destroy_switches
from vhpc_toolkit.clusterfile import ClusterSpec
from vhpc_toolkit.ops.destroy import Doomed, power_off_and_destroy
from vhpc_toolkit.ops.runner import Interrupted
from vhpc_toolkit.results import ABSENT, CHANGED, UNCHANGED, Report, TargetResult
from vhpc_toolkit.vsphere import hostnet
from vhpc_toolkit.vsphere.inventory import Inventory, Obj, read_inventory


@dataclass
class DestroyPlan:
    present: list[Obj]
    absent: list[str]
    switches: list = field(default_factory=list)  # SwitchSpec of the file that exist
    rules: list = field(default_factory=list)     # (cluster, DRS rule) of the file's groups, gone with the VMs


def plan_destroy(session, spec: ClusterSpec) -> tuple[Inventory, DestroyPlan]:
    inv = read_inventory(session, {"VirtualMachine": ["runtime.powerState", "config.template"],
                                    "HostSystem": ["config.network.vswitch", "config.network.portgroup"],
                                    "DistributedVirtualSwitch": [], "ClusterComputeResource": ["configurationEx"]})
    by_name: dict[str, list[Obj]] = {}
    for o in inv.of_type("VirtualMachine"):
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
        hosts = [h for h in inv.of_type("HostSystem") if h.name in sw.host
                 and hostnet.standard_switch(h, sw.name) is not None]
        if hosts:
            switches.append(sw)
    for sw in spec.dvs:
        if any(o.name == sw.name for o in inv.of_type("VmwareDistributedVirtualSwitch", "DistributedVirtualSwitch")):
            switches.append(sw)
    return inv, DestroyPlan(present=present, absent=absent, switches=switches,
                            rules=rules_to_remove(inv, spec, present))


def destroy_cluster(session, plan: DestroyPlan, concurrency: int = 32, on_event=None) -> DestroyResult:
    doomed = [Doomed(o.ref, o.get("runtime.powerState") != "poweredOff", TargetResult(o.name, CHANGED))
              for o in plan.present]
    interrupted = False
    try:
        power_off_and_destroy(session, doomed, concurrency, on_event)
    except Interrupted:
        interrupted = True
    report = Report("cluster destroy", [d.result for d in doomed] +
                    [TargetResult(name, UNCHANGED, ABSENT) for name in plan.absent], done="destroyed")
    result = DestroyResult(report, interrupted=interrupted)
    if interrupted:
        return result
    if report.ok:  # switches and DRS rules only after their VMs are gone
        result.switches = destroy_switches(session, plan.switches)
        result.rules = remove_rules(session, plan.rules)
    return result
