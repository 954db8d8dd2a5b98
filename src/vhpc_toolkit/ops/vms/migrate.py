"""`migrate_vm --destination HOST`: RelocateVM_Task per VM, after checking vSphere's rules first.

A powered-on VM with a DirectPath (static or dynamic) device or an SR-IOV adapter cannot be moved
(vSphere does not vMotion such VMs): power it off first; moved powered off, its DirectPath devices
are chosen again on the destination (a device names its host: ESXi powers it on only there). A vGPU
VM moves only to a host that offers its profile, and running only when vCenter's
``vgpu.hotmigrate.enabled`` is true; every adapter needs its port group (or distributed switch) on
the destination; a powered-off VM's passthrough devices and SR-IOV functions must be enabled there.
A move to another cluster takes that cluster's root resource pool.
"""
from __future__ import annotations

from vhpc_toolkit.errors import ValidationFailed, VhpcError, refuse_problems
from vhpc_toolkit.ops.runner import DEFAULT_CONCURRENCY, Job, run_jobs
from vhpc_toolkit.ops.vms.targets import host_of, read_targets
from vhpc_toolkit.results import FAILED, Report, TargetResult
from vhpc_toolkit.specs.clone import relocate_spec
from vhpc_toolkit.specs.devices.nic import ethernet_cards
from vhpc_toolkit.specs.devices.passthrough import dynamic_type, normalize_id, passthrough_id
from vhpc_toolkit.specs.devices.sriov import sriov_pf_id
from vhpc_toolkit.specs.devices.vgpu import vgpu_profile
from vhpc_toolkit.vsphere.inventory import Inventory, Obj

VM_PROPS = ["runtime.powerState", "config.hardware.device", "resourcePool"]
HOST_PROPS = ["parent", "config.pciPassthruInfo", "config.sharedPassthruGpuTypes", "config.network.portgroup"]
MORE = {"ClusterComputeResource": ["resourcePool", "environmentBrowser"],
        "ComputeResource": ["resourcePool", "environmentBrowser"],
        "DistributedVirtualSwitch": ["uuid", "summary.hostMember"]}


def _enabled(host: Obj, pci_id: str, sriov: bool) -> bool:
    from pyVmomi import vim

    for info in host.get("config.pciPassthruInfo") or []:
        if normalize_id(info.id) == normalize_id(pci_id):
            return bool(info.sriovEnabled) if sriov else (bool(info.passthruEnabled)
                                                           and not isinstance(info, vim.host.SriovInfo))
    return False


def move_problems(inv: Inventory, vm: Obj, dest: Obj) -> list[str]:
    """Why ``vm`` cannot move to ``dest`` now (empty: it can)."""
    from pyVmomi import vim

    on = vm.get("runtime.powerState") == "poweredOn"
    where = f"VM {vm.name} to host {dest.name}"
    out = []
    for dev in vm.get("config.hardware.device") or []:
        pci, pf, profile = passthrough_id(dev), sriov_pf_id(dev), vgpu_profile(dev)
        if on and (pci or pf or dynamic_type(dev)):
            what = f"PCI passthrough device {pci}" if pci else (f"an SR-IOV adapter on {pf}" if pf
                                                                else "a Dynamic DirectPath device")
            out.append(f"{where}: it is powered on with {what}; vSphere cannot vMotion a VM with DirectPath "
                       "I/O or SR-IOV devices: power it off first")
        elif pci and not _enabled(dest, pci, sriov=False):
            out.append(f"{where}: the destination has no passthrough-enabled device {pci}")
        elif pf and not _enabled(dest, pf, sriov=True):
            out.append(f"{where}: the destination has no SR-IOV enabled physical function {pf}")
        elif profile and profile not in (dest.get("config.sharedPassthruGpuTypes") or []):
            offered = ", ".join(dest.get("config.sharedPassthruGpuTypes") or []) or "none"
            out.append(f"{where}: the destination does not offer vGPU profile {profile} (it offers: {offered})")
    pgs = {p.spec.name for p in dest.get("config.network.portgroup") or []}
    members = {s.get("uuid"): {r._moId for r in s.get("summary.hostMember") or []}
               for s in inv.of_type("VmwareDistributedVirtualSwitch", "DistributedVirtualSwitch")}
    for nic in ethernet_cards(vm.get("config.hardware.device")):
        backing = nic.backing
        if isinstance(backing, vim.vm.device.VirtualEthernetCard.NetworkBackingInfo):
            if backing.deviceName and backing.deviceName not in pgs:
                out.append(f"{where}: the destination has no port group {backing.deviceName} "
                           f"(adapter {nic.deviceInfo.label if nic.deviceInfo else nic.key})")
        elif isinstance(backing, vim.vm.device.VirtualEthernetCard.DistributedVirtualPortBackingInfo):
            if dest.moid not in members.get(backing.port.switchUuid, set()):
                out.append(f"{where}: the destination is not a member of the distributed switch of adapter "
                           f"{nic.deviceInfo.label if nic.deviceInfo else nic.key}")
    return out


HOT_MIGRATE = "vgpu.hotmigrate.enabled"   # vCenter's advanced setting for vMotion of vGPU VMs


def vgpu_hot_migrate_enabled(session) -> bool:
    """vCenter's ``vgpu.hotmigrate.enabled`` (vSphere 6.7 U1+: vMotion of a running vGPU VM needs it true;
    one QueryOptions call). A vCenter without the setting has it off."""
    manager = session.content.setting
    try:
        values = manager.QueryOptions(name=HOT_MIGRATE) if manager is not None else []
    except Exception:   # vim.fault.InvalidName: never set
        return False
    return any(str(v.value).lower() == "true" for v in values or [] if v.key == HOT_MIGRATE)


def _hot_vgpu_problems(session, vms, dest: Obj) -> list[str]:
    """Running vGPU VMs can be vMotioned only once vCenter allows it: asked only when one is moved."""
    running = [vm for vm in vms if vm.get("runtime.powerState") == "poweredOn"
               and any(vgpu_profile(d) for d in vm.get("config.hardware.device") or [])]
    if not running or vgpu_hot_migrate_enabled(session):
        return []
    return [f"VM {vm.name} to host {dest.name}: it runs a vGPU and vCenter's advanced setting {HOT_MIGRATE} is not "
            "true, so vMotion of vGPU VMs is off (vCenter > Configure > Advanced Settings: set it to true), "
            "or power the VM off" for vm in running]


def _reselect_specs(inv: Inventory, dest: Obj, vms: list[Obj]) -> dict:
    """A DirectPath device names its host (``systemId``: the host's hardware UUID, from QueryConfigTarget
    on it), and ESXi powers a VM on only with its own: a VM moved powered off has each of its devices
    chosen again on the destination (the same PCI id, the destination's entry). VM name -> the edit spec."""
    from pyVmomi import vim

    from vhpc_toolkit.specs.devices.passthrough import device_backing

    devices = {vm.name: [d for d in vm.get("config.hardware.device") or [] if passthrough_id(d)] for vm in vms}
    if not any(devices.values()):
        return {}
    cr = inv.parent(dest)
    target = cr.get("environmentBrowser").QueryConfigTarget(host=dest.ref)   # one call for all the VMs
    by_id = {normalize_id(p.pciDevice.id): p for p in target.pciPassthrough or []}
    specs = {}
    for name, devs in devices.items():
        edits = []
        for dev in devs:
            dev.backing = device_backing(by_id[passthrough_id(dev)])
            edits.append(vim.vm.device.VirtualDeviceSpec(operation="edit", device=dev))
        if edits:
            specs[name] = vim.vm.ConfigSpec(deviceChange=edits)
    return specs


def _reselect(session, vms: list[Obj], moves: list[Job], specs: dict, dest: Obj, concurrency: int, on_event) -> None:
    """After the moves: one ReconfigVM_Task per moved DirectPath VM choosing its devices on ``dest``."""
    refs = {vm.name: vm.ref for vm in vms}
    done = {job.result.name: job.result for job in moves}
    jobs = [Job(result=TargetResult(name), start=lambda name=name: refs[name].ReconfigVM_Task(spec=specs[name]))
            for name in specs if not done[name].failed]
    run_jobs(session, jobs, concurrency=concurrency)
    for job in jobs:
        result = done[job.result.name]
        ids = ", ".join(d.device.backing.id for d in specs[job.result.name].deviceChange)
        if job.result.failed:
            result.status, result.detail = FAILED, f"{result.detail}; moved, but its device(s) {ids} could not be " \
                                                   f"chosen on {dest.name}: {job.result.detail}"
        else:
            result.detail += f"; device(s) {ids} chosen again on {dest.name}"
    for result in done.values():
        if on_event:
            on_event(result)


def migrate_vms(session, targets, destination: str, concurrency: int = DEFAULT_CONCURRENCY,
                on_event=None) -> Report:
    inv, vms = read_targets(session, targets, VM_PROPS, host_props=HOST_PROPS, more=MORE)
    try:
        dest = inv.find("HostSystem", destination, what="destination host")
    except VhpcError as exc:
        raise ValidationFailed([str(exc)]) from None
    dest_cluster = inv.parent(dest)
    problems, results, jobs = [], [], []
    for vm in vms:
        result = TargetResult(vm.name)
        results.append(result)
        src = host_of(inv, vm)
        if src is not None and src.moid == dest.moid:
            result.detail = f"already on {dest.name}"
            continue
        found = move_problems(inv, vm, dest)
        problems += found
        if found:
            continue
        pool = None
        if src is None or inv.parent(src) is None or dest_cluster is None or inv.parent(src).moid != dest_cluster.moid:
            pool = dest_cluster.get("resourcePool") if dest_cluster is not None else None
        state = "vMotion" if vm.get("runtime.powerState") == "poweredOn" else "cold migration"
        result.detail = f"{src.name if src else '?'} -> {dest.name} ({state})"
        jobs.append(Job(result=result, key=dest.moid,
                        start=lambda vm=vm, spec=relocate_spec(dest.ref, pool): vm.ref.RelocateVM_Task(spec=spec)))
    moving = {job.result.name for job in jobs}
    problems += _hot_vgpu_problems(session, [vm for vm in vms if vm.name in moving], dest)
    refuse_problems(problems)
    reselect = _reselect_specs(inv, dest, [vm for vm in vms if vm.name in moving])
    run_jobs(session, jobs, concurrency=concurrency, on_event=None if reselect else on_event)
    if reselect:
        _reselect(session, vms, jobs, reselect, dest, concurrency, on_event)
    return Report(f"migrate to {dest.name}", results)
