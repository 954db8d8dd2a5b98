"""Virtual hardware a cluster file's VMs need: checked before any change, upgraded when the file asks.

- Dynamic DirectPath I/O (``dynamic: yes`` with ``device`` or ``gpu``) needs virtual hardware version 17
  (vSphere 7.0). A clone has its template's version (vCenter ignores a CloneSpec's version), so a
  template below 17 is refused before any change, with the two ways out: upgrade the template, or
  ``hardware_version: 17`` on the VM.
- ``hardware_version: N``: a clone of a template older than vmx-N is upgraded. vCenter changes a VM's
  version only with UpgradeVM_Task, powered off, so such a VM is cloned powered off without the
  devices that need the newer version, then upgraded, then given them (one ReconfigVM_Task), then
  powered on: three more tasks for that VM, none for the others. N must be a version the VM's host
  runs (ESXi 7.0.0: 17).
- Large-BAR GPUs (a V100 32GB maps 64 GB of 64-bit MMIO) need EFI firmware: a BIOS VM powers on, but
  its guest cannot map the device (VMware, "How to Enable Nvidia V100 GPU in Passthrough mode on
  vSphere": the VM must boot with EFI for devices mapping more than 16 GB). Refused before any change.
"""
from __future__ import annotations

from vhpc_toolkit.cluster.planning.plan import CREATE, ClusterPlan, VMPlan
from vhpc_toolkit.ops.runner import Job, run_jobs
from vhpc_toolkit.phases import Phases
from vhpc_toolkit.results import FAILED, TargetResult
from vhpc_toolkit.specs.hardware import (DYNAMIC_DIRECTPATH_MIN, dynamic_device_spec, esxi_max_hardware, hw_version,
                                         needs_upgrade)
from vhpc_toolkit.vsphere import hostnet

LARGE_BAR_GB = 16   # devices mapping more than this need EFI firmware and a 64-bit MMIO window


def upgrade_to(p: VMPlan) -> int | None:
    """The version a new VM of the plan is upgraded to after its clone, None when none."""
    if p.action != CREATE or p.template is None or p.spec.instant:
        return None
    return needs_upgrade(p.template.get("config.version"), p.spec.hardware_version)


def _wants_dynamic(p: VMPlan) -> bool:
    vm = p.spec
    return bool(vm.dynamic and (vm.device or vm.gpu))


def hardware_problems(p: VMPlan) -> list[str]:
    """Why a new VM's virtual hardware cannot be what it needs (empty: it can)."""
    vm, template = p.spec, p.template
    if p.action != CREATE or template is None or vm.instant:
        return []
    out = []
    have = hw_version(template.get("config.version"))
    host = p.placement.host if p.placement is not None else None
    runs = esxi_max_hardware(hostnet.host_version(host)) if host is not None else 0
    if vm.hardware_version and runs and vm.hardware_version > runs:
        out.append(f"VM {vm.name}: hardware_version: {vm.hardware_version} is newer than host {host.name} runs "
                   f"(ESXi {hostnet.host_version(host)}: up to vmx-{runs})")
    effective = max(have, vm.hardware_version or 0)
    if _wants_dynamic(p) and have and effective < DYNAMIC_DIRECTPATH_MIN:
        out.append(f"VM {vm.name}: Dynamic DirectPath I/O needs virtual hardware version {DYNAMIC_DIRECTPATH_MIN} "
                   f"(vSphere 7.0); template {template.name} is {template.get('config.version')} and a clone keeps "
                   f"its template's version: upgrade the template (Compatibility > Upgrade VM Compatibility, "
                   f"ESXi 7.0 and later), or add hardware_version: {DYNAMIC_DIRECTPATH_MIN} to upgrade each clone")
    return out


def check_hardware(plan: ClusterPlan) -> None:
    """Append the hardware problems of the plan's new VMs (after placement: the host is known)."""
    for p in plan.vms:
        plan.problems.extend(f"{plan.spec.path}:{p.spec.line}: {msg}" for msg in hardware_problems(p))


def hold_back(clone_spec) -> list:
    """Take out of a CloneSpec what waits for the upgrade (the devices that need the newer version) and
    its power-on; return the held device changes."""
    config = clone_spec.config
    changes = list(config.deviceChange or []) if config is not None else []
    held = [c for c in changes if dynamic_device_spec(c)]
    if held:
        config.deviceChange = [c for c in changes if not dynamic_device_spec(c)]
    clone_spec.powerOn = False
    return held


# How the progress display names the phases (in the words of the others: cloning, powering on).
PHASE_NAMES = {"hardware upgrade": "upgrading hardware", "devices after the hardware upgrade": "adding devices",
               "power on": "powering on", "power off for resize": "powering off to resize"}


def task_phase(session, outcomes: dict, names: list[str], what: str, start, concurrency: int,
               progress: Phases) -> list:
    """One task per VM of ``names`` (``start(name)`` starts it), shown as a phase of the run; a VM whose
    task fails is failed ("what: detail"), and left out of the next phases. Returns the VMs whose task
    succeeded."""
    if not names:
        return []
    jobs = [Job(result=TargetResult(n), key=n, start=(lambda n=n: start(n))) for n in names]
    with progress.phase(PHASE_NAMES.get(what, what), len(jobs)) as shown:
        run_jobs(session, jobs, concurrency=concurrency, on_event=shown)
    ok = []
    for job in jobs:
        out = outcomes[job.result.name]
        if job.result.failed:
            out.status, out.detail = FAILED, f"{what}: {job.result.detail}"
        else:
            ok.append(job.result.name)
    return ok


def finish_upgrades(session, plan: ClusterPlan, outcomes: dict, held: dict, concurrency: int = 32,
                    progress: Phases | None = None) -> None:
    """After the clones: upgrade each VM cloned for an upgrade, give it its held devices, power it on
    (each a phase of ``progress``)."""
    from pyVmomi import vim

    progress = progress if progress is not None else Phases()

    plans = {p.name: p for p in plan.vms}
    names = [p.name for p in plan.vms if upgrade_to(p) and outcomes[p.name].ref is not None
             and not outcomes[p.name].failed]
    if not names:
        return
    ref = {n: outcomes[n].ref for n in names}
    names = task_phase(session, outcomes, names, "hardware upgrade",
                       lambda n: ref[n].UpgradeVM_Task(version=f"vmx-{upgrade_to(plans[n])}"), concurrency, progress)
    with_devices = [n for n in names if held.get(n)]
    done = set(task_phase(session, outcomes, with_devices, "devices after the hardware upgrade",
                          lambda n: ref[n].ReconfigVM_Task(spec=vim.vm.ConfigSpec(deviceChange=held[n])),
                          concurrency, progress))
    names = [n for n in names if n in done or not held.get(n)]
    powered = task_phase(session, outcomes, [n for n in names if plans[n].spec.power == "on"], "power on",
                         lambda n: ref[n].PowerOnVM_Task(), concurrency, progress)
    for n in names:
        if n in powered or plans[n].spec.power != "on":
            outcomes[n].detail = f"cloned, upgraded to vmx-{upgrade_to(plans[n])}" + \
                (" and powered on" if n in powered else "")
