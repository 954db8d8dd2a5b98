"""The lab's guests boot, with pyVmomi directly (not the toolkit).

- At each power-on, after the boot delay, the guest's executable /etc/rc.local runs (in the guest's
  file system, with the guest's host name and an uptime that starts at the boot); what it starts
  keeps running until the VM is powered off, which ends every process of the guest.
- A guest without a fixed IP gets a DHCP address in 127.100.0.0/16; /etc/hosts names the guest.
- A clone's disk is a copy of its source's: what is in the template's guest folder is in the clone's.
Everything made here is removed afterwards: the lab is shared by the test session.
"""
from __future__ import annotations

import os
import shutil
import time
import uuid
from pathlib import Path

import pytest
from pyVim.task import WaitForTask
from pyVmomi import vim

from tests.integration.test_lab_search import by_name


def host_processes(argv: list[str]) -> int:
    """This machine's processes running exactly ``argv``."""
    n = 0
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if (proc / "cmdline").read_bytes().rstrip(b"\0").split(b"\0") == [a.encode() for a in argv]:
                    n += 1
            except OSError:
                continue
    return n


def wait_until(condition, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


@pytest.fixture
def vm_env(lab, session):
    content = session.content
    dc = by_name(content, vim.Datacenter, "HPC_Datacenter")
    pool = by_name(content, vim.ClusterComputeResource, "COMPUTE_GPU_Cluster").resourcePool
    host = by_name(content, vim.HostSystem, "vhpc-esx-05.hpc.vmware.com")
    tmpl = by_name(content, vim.VirtualMachine, "vhpc_clone")
    made = []

    def clone(name):
        spec = vim.vm.CloneSpec(location=vim.vm.RelocateSpec(pool=pool, host=host), powerOn=False)
        task = tmpl.CloneVM_Task(folder=dc.vmFolder, name=name, spec=spec)
        WaitForTask(task)
        made.append(task.info.result)
        return task.info.result

    yield clone
    for vm in made:
        if vm.runtime.powerState == "poweredOn":
            WaitForTask(vm.PowerOffVM_Task())
        WaitForTask(vm.Destroy_Task())


def test_rc_local_runs_at_each_boot_and_power_off_ends_what_it_started(lab, vm_env):
    name = f"boot-{uuid.uuid4().hex[:6]}"
    token = ["sleep", f"{time.time_ns() % 10**6 + 1}.5"]
    vm = vm_env(name)
    disk = lab.guest_root / name
    (disk / "etc").mkdir(parents=True)
    rc = disk / "etc" / "rc.local"
    rc.write_text("#!/bin/sh\nhostname > /tmp/hostname\ncat /proc/uptime > /tmp/uptime\necho boot >> /tmp/boots\n"
                  f"setsid {' '.join(token)} </dev/null >/dev/null 2>&1 &\n")
    rc.chmod(0o755)

    WaitForTask(vm.PowerOnVM_Task())
    assert wait_until(lambda: host_processes(token) == 1), (disk / "var/log/rc.local.log").read_text()
    assert (disk / "tmp" / "hostname").read_text().strip() == name
    if os.geteuid() == 0:   # its own boot clock (a time namespace) needs root
        assert float((disk / "tmp" / "uptime").read_text().split()[0]) < 5
    ip = vm.guest.ipAddress
    assert ip.startswith("127.100."), ip
    assert f"{ip}\t{name}" in (disk / "etc" / "hosts").read_text()

    WaitForTask(vm.PowerOffVM_Task())
    assert wait_until(lambda: host_processes(token) == 0, 5), "power-off left the guest's daemon running"
    WaitForTask(vm.PowerOnVM_Task())
    assert wait_until(lambda: (disk / "tmp" / "boots").read_text().count("boot") == 2)
    assert wait_until(lambda: host_processes(token) == 1)
    WaitForTask(vm.PowerOffVM_Task())
    assert wait_until(lambda: host_processes(token) == 0, 5)


def test_a_clone_gets_a_copy_of_its_templates_disk(lab, vm_env):
    template_disk = lab.guest_root / "vhpc_clone"
    marker = template_disk / "etc" / f"marker-{uuid.uuid4().hex[:6]}"
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text("from the template\n")
    marker.chmod(0o600)
    try:
        name = f"copy-{uuid.uuid4().hex[:6]}"
        vm_env(name)
        copied = lab.guest_root / name / "etc" / marker.name
        assert copied.read_text() == "from the template\n"
        assert copied.stat().st_mode & 0o777 == 0o600
    finally:
        marker.unlink()
        if not any(template_disk.rglob("*.*")) and not any(p.is_file() for p in template_disk.rglob("*")):
            shutil.rmtree(template_disk, ignore_errors=True)
