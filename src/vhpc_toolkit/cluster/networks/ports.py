"""Ports of existing distributed port groups with fixed allocation: enough for the file's new VMs?

A static-binding (earlyBinding) port group gives each connected adapter a port, powered on or not,
and a VMkernel adapter on it (a host's, e.g. for PVRDMA) takes one too; with fixed allocation
(``autoExpand`` false) an adapter beyond ``numPorts`` is refused. Port groups the toolkit creates are
elastic (ops/networks/distributed.py); this checks the ones a file reuses, before any change, counting the VMkernel
adapters the run's PVRDMA preparation adds.
"""
from __future__ import annotations

from collections import Counter

from vhpc_toolkit.cluster.planning.plan import CREATE, ClusterPlan


def _adapters_per_key(inv) -> Counter:
    from pyVmomi import vim

    used: Counter = Counter()
    for vm in inv.of_type("VirtualMachine"):
        for dev in vm.get("config.hardware.device") or []:
            backing = getattr(dev, "backing", None)
            if isinstance(backing, vim.vm.device.VirtualEthernetCard.DistributedVirtualPortBackingInfo):
                used[backing.port.portgroupKey] += 1
    for host in inv.of_type("HostSystem"):   # VMkernel adapters hold ports too
        for vnic in host.get("config.network.vnic") or []:
            port = getattr(vnic.spec, "distributedVirtualPort", None)
            if port is not None and port.portgroupKey:
                used[port.portgroupKey] += 1
    return used


def check_ports(plan: ClusterPlan) -> None:
    """Append a problem for each fixed port group the file's new VMs would overfill."""
    inv = plan.inv
    fixed = {o.name: o for o in inv.of_type("DistributedVirtualPortgroup")
             if o.get("config.type") == "earlyBinding" and o.get("config.autoExpand") is False}
    if not fixed:
        return
    wanted: Counter = Counter()
    for p in plan.vms:
        if p.action != CREATE:
            continue
        for name in (p.spec.port_group, *(p.spec.sriov_port_group or []), p.spec.pvrdma_port_group):
            if name in fixed:
                wanted[name] += 1
    for prep in plan.pvrdma:   # the VMkernel adapters this run's PVRDMA preparation adds
        if prep.port_group in fixed:
            wanted[prep.port_group] += sum(1 for s in prep.pending if s.vnic_on_switch is None)
    if not wanted:
        return
    used = _adapters_per_key(inv)
    for name, n in sorted(wanted.items()):
        pg = fixed[name]
        have, taken = pg.get("config.numPorts") or 0, used[pg.get("key")]
        if taken + n > have:
            plan.problems.append(f"{plan.spec.path}: distributed port group {name} has {have} fixed ports, "
                                 f"{taken} taken; the file's new VMs need {n} more (make it elastic, or give it "
                                 f"{taken + n} ports)")
