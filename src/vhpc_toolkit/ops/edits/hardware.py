"""Virtual hardware versions of existing VMs: what a device needs, and UpgradeVM_Task when asked.

vCenter changes a VM's version only with UpgradeVM_Task (powered off, up to what its host's ESXi runs;
a reconfigure ignores ``ConfigSpec.version``). A command that adds a device the VM's version does not
support (Dynamic DirectPath I/O: version 17) refuses before any change unless ``--hardware_version N``
asks for the upgrade, which then runs before the reconfigure.
"""
from __future__ import annotations

from vhpc_toolkit.ops.runner import Job, run_jobs
from vhpc_toolkit.results import FAILED, TargetResult
from vhpc_toolkit.specs.hardware import esxi_max_hardware, hw_version
from vhpc_toolkit.vsphere import hostnet
from vhpc_toolkit.vsphere.inventory import Obj

HOST_PROPS = ["config.product.version"]


def version_problems(vm: Obj, host: Obj | None, needed: int, what: str, upgrade: int | None) -> list[str]:
    """Why ``vm`` cannot get ``what`` (which needs version ``needed``), with ``--hardware_version upgrade``."""
    have = hw_version(vm.get("config.version"))
    if not have or max(have, upgrade or 0) >= needed and not (upgrade and upgrade > have):
        return []
    if not upgrade or upgrade < needed:
        return [f"VM {vm.name}: {what} needs virtual hardware version {needed}; the VM is "
                f"{vm.get('config.version')}: give --hardware_version {needed} to upgrade it first (powered off)"]
    runs = esxi_max_hardware(hostnet.host_version(host)) if host is not None else 0
    if runs and upgrade > runs:
        return [f"VM {vm.name}: --hardware_version {upgrade} is newer than host {host.name} runs "
                f"(ESXi {hostnet.host_version(host)}: up to vmx-{runs})"]
    if vm.get("runtime.powerState") != "poweredOff":
        return [f"VM {vm.name}: its virtual hardware is upgraded powered off; power it off first"]
    return []


def upgrade_first(session, planned, version: int, concurrency: int = 8) -> list[TargetResult]:
    """UpgradeVM_Task for each VM of ``planned`` (ops/reconfigure.Planned) that has a spec to apply and is
    older than ``version``. A VM whose upgrade fails leaves ``planned`` (nothing else is done to it); its
    failed result is returned."""
    jobs = []
    for vm, spec, result in planned:
        if spec is not None and hw_version(vm.get("config.version")) < version:
            jobs.append(Job(result=TargetResult(vm.name),
                            start=lambda vm=vm: vm.ref.UpgradeVM_Task(version=f"vmx-{version}")))
    run_jobs(session, jobs, concurrency=concurrency)
    failed = {job.result.name: job.result for job in jobs if job.result.failed}
    out = []
    for item in list(planned):
        vm, _, result = item
        if vm.name in failed:
            result.status = FAILED
            result.detail = f"hardware upgrade to vmx-{version}: {failed[vm.name].detail}"
            planned.remove(item)
            out.append(result)
        elif any(job.result.name == vm.name for job in jobs):
            vm.props["config.version"] = f"vmx-{version}"
    return out
