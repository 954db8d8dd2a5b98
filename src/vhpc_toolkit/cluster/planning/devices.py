"""Device checks of a cluster plan against what each host offers, counting the file's own VMs."""
from __future__ import annotations

from collections import Counter

from vhpc_toolkit.cluster.planning.plan import CREATE, ClusterPlan
from vhpc_toolkit.ops.hosts.offers import (check_passthrough, check_pvrdma, check_sriov, check_vgpus, device_types,
                                          host_offers, in_use_on, vfs_in_use)
from vhpc_toolkit.specs.devices.passthrough import (DEFAULT_MMIO_GB, check_mmio_size, efi_warning, large_bar_problem,
                                            normalize_id, pci_type)
from vhpc_toolkit.words import count


def needs_offer(vm) -> bool:
    return bool(vm.device or (vm.gpu and not vm.dynamic) or vm.vgpu or vm.sriov_port_group or vm.pvrdma_port_group)


def _check_dynamic(vm, host, offer) -> list[str]:
    asked, missing = device_types(host, vm.device)
    out = [f"VM {vm.name} on host {host.name}: the host has no PCI device {m} (dynamic: each device names "
           "its type)" for m in missing]
    enabled = Counter(pci_type(p.pciDevice) for p in offer.passthrough)
    for kind, n in asked.items():
        if enabled[kind] < n:
            out.append(f"VM {vm.name} on host {host.name}: {count(n, 'Dynamic DirectPath device')} of type "
                       f"{kind[0]:04x}:{kind[1]:04x} asked, the host has {enabled[kind]} enabled for passthrough")
    return out


def _device_names(p, host) -> list[str]:
    """The device names of a new VM's passthrough devices (named, or chosen by the planner)."""
    if p.choice is not None and p.choice.gpus:
        return [g.name for g in p.choice.gpus]
    names = {normalize_id(d.id): d.deviceName for d in host.get("hardware.pciDevice") or []}
    return [names.get(normalize_id(d), "") for d in p.spec.device or []]


def check_devices(session, plan: ClusterPlan) -> dict:
    """Append every device problem to ``plan.problems``; return the host offers (by host moid).

    The planner (cluster/placement/planner.py) has already counted what the VMs it placed take (devices in
    use, vGPU room, virtual functions); for those VMs only what the host's offer says is checked."""
    inv = plan.inv
    creates = [p for p in plan.vms if p.action == CREATE and needs_offer(p.spec)]
    offers = host_offers(session, inv, [p.placement.host for p in creates]) if creates else {}
    claims: dict[str, dict[str, str]] = {}   # host moid -> pci id -> VM of this file
    vf_claims: Counter = Counter()           # (host moid, pf) -> VFs the file's VMs take
    vgpu_ledgers: dict = {}                  # host moid -> VgpuLedger: vGPUs running plus the file's
    file_dvs = {sw.name: set(sw.host) for sw in plan.spec.dvs}
    for p in creates:
        vm, host = p.spec, p.placement.host
        where = f"{plan.spec.path}:{vm.line}"
        offer = offers[host.moid]
        problems = []
        powered = vm.power == "on"
        if vm.device and vm.dynamic:
            problems += _check_dynamic(vm, host, offer)   # assigned at power-on: nothing claimed here
        elif vm.device:
            taken = {**in_use_on(inv, host.moid), **claims.get(host.moid, {})}
            problems += check_passthrough(vm.name, host.name, offer, vm.device, taken)
            if powered:
                for d in vm.device:
                    claims.setdefault(host.moid, {})[normalize_id(d)] = vm.name
            by_id = offer.passthrough_by_id()
            try:
                check_mmio_size(vm.mmio_size or DEFAULT_MMIO_GB, [by_id[normalize_id(d)].pciDevice for d in vm.device
                                                      if normalize_id(d) in by_id])
            except ValueError as exc:
                problems.append(f"VM {vm.name}: {exc}")
        if p.choice is not None and p.choice.gpus and not p.choice.dynamic:
            offered = offer.passthrough_by_id()
            problems += [f"VM {vm.name} on host {host.name}: GPU {g.id} is not offered for passthrough "
                         f"(the host offers: {offer.describe_passthrough()})" for g in p.choice.gpus if g.id not in offered]
        if vm.device or vm.gpu:
            firmware = p.template.get("config.firmware") if p.template else None
            problem = large_bar_problem(vm.name, firmware, _device_names(p, host))
            warning = None if problem else efi_warning(vm.name, firmware)
            problems += [problem] if problem else []
            if warning:
                plan.warnings.append(f"{where}: {warning}")
        if vm.vgpus:
            # Only VMs that power on take a vGPU slot (vSphere places vGPUs at power-on); the planner's
            # VMs have theirs already.
            ledger = vgpu_ledgers.setdefault(host.moid, offer.vgpu_ledger()) \
                if powered and p.choice is None else None
            problems += check_vgpus(vm.name, host.name, offer, vm.vgpus, ledger)
        own: Counter = Counter()   # this VM's adapters so far: vSphere counts them all at once
        for adapter in vm.sriov_adapters():
            key = (host.moid, normalize_id(adapter.pf))
            # The planner's VMs: it counted the virtual functions already.
            used = own[key] if p.choice is not None else vfs_in_use(inv, host.moid, adapter.pf) + vf_claims[key] + own[key]
            problems += check_sriov(vm.name, host.name, offer, adapter.pf, used)
            own[key] += 1
        if powered:
            vf_claims.update(own)
        if vm.pvrdma_port_group:
            problems += _check_pvrdma(plan, p, file_dvs)
        plan.problems.extend(f"{where}: {msg}" for msg in problems)
    return offers


def _check_pvrdma(plan: ClusterPlan, p, file_dvs: dict[str, set[str]]) -> list[str]:
    inv, vm, host = plan.inv, p.spec, p.placement.host
    dvs_name = vm.dvs_name
    if dvs_name is None:
        pg = next((o for o in inv.of_type("DistributedVirtualPortgroup") if o.name == vm.pvrdma_port_group), None)
        switch = inv.by_ref(pg.get("config.distributedVirtualSwitch")) if pg is not None else None
        if switch is None:
            dvs_name = next((sw.name for sw in plan.spec.dvs if sw.port_group == vm.pvrdma_port_group), None)
            if dvs_name is None:
                return [f"VM {vm.name}: pvrdma_port_group {vm.pvrdma_port_group} is not on a distributed switch"]
        else:
            dvs_name = switch.name
    if dvs_name in file_dvs:  # the file creates (or completes) this switch with these hosts
        if host.name in file_dvs[dvs_name]:
            return []
        return [f"VM {vm.name}: host {host.name} is not among the hosts of _DVS_ {dvs_name} "
                f"({', '.join(sorted(file_dvs[dvs_name]))})"]
    switch = next((o for o in inv.of_type("VmwareDistributedVirtualSwitch", "DistributedVirtualSwitch")
                   if o.name == dvs_name), None)
    if switch is None:
        return [f"VM {vm.name}: distributed switch {dvs_name} not found"]
    members = {ref._moId: (inv.by_ref(ref).name if inv.by_ref(ref) else ref._moId)
               for ref in switch.get("summary.hostMember") or []}
    return check_pvrdma(vm.name, host.name, host.moid, dvs_name, members)
