"""The lab's VM advanced settings (extraConfig) as vSphere keeps them, with pyVmomi directly.

- ReconfigVM_Task sets only the keys its spec gives, on a running VM too: a key given again takes
  the new value, an empty value removes the key, the others stay.
- CloneVM_Task copies its source's settings (the VMX) into the clone, with the spec's keys applied
  over them: the toolkit's record of finished script steps must be cleared in a clone's spec, or
  the clone would claim steps it never ran.
Everything made here is removed afterwards: the lab is shared by the test session.
"""
from __future__ import annotations

import uuid

from pyVim.task import WaitForTask
from pyVmomi import vim

from tests.integration.test_lab_search import by_name


def extra(vm) -> dict:
    return {o.key: o.value for o in vm.config.extraConfig or []}


def option(key, value):
    return vim.option.OptionValue(key=key, value=value)


def test_reconfigure_sets_only_its_keys_and_an_empty_value_removes_one(session):
    content = session.content
    dc = by_name(content, vim.Datacenter, "HPC_Datacenter")
    pool = by_name(content, vim.ClusterComputeResource, "COMPUTE_GPU_Cluster").resourcePool
    tmpl = by_name(content, vim.VirtualMachine, "vhpc_clone")
    name = f"xc{uuid.uuid4().hex[:6]}"
    spec = vim.vm.CloneSpec(location=vim.vm.RelocateSpec(pool=pool), powerOn=True,
                            config=vim.vm.ConfigSpec(extraConfig=[option("vhpc_toolkit.steps", "a"),
                                                                  option("lab.keep", "k")]))
    task = tmpl.CloneVM_Task(folder=dc.vmFolder, name=name, spec=spec)
    WaitForTask(task)
    vm, made = task.info.result, [task.info.result]
    try:
        assert vm.runtime.powerState == "poweredOn"
        assert {k: v for k, v in extra(vm).items() if k in ("vhpc_toolkit.steps", "lab.keep")} == {
            "vhpc_toolkit.steps": "a", "lab.keep": "k"}
        # A running VM's setting changes; the others stay.
        WaitForTask(vm.ReconfigVM_Task(spec=vim.vm.ConfigSpec(extraConfig=[option("vhpc_toolkit.steps", "b")])))
        after = extra(vm)
        assert after["vhpc_toolkit.steps"] == "b" and after["lab.keep"] == "k"
        assert sum(o.key == "vhpc_toolkit.steps" for o in vm.config.extraConfig) == 1

        # A clone carries its source's settings; its spec's keys apply over them, "" removes one.
        copy = vm.CloneVM_Task(folder=dc.vmFolder, name=name + "-c", spec=vim.vm.CloneSpec(
            location=vim.vm.RelocateSpec(pool=pool), config=vim.vm.ConfigSpec(
                extraConfig=[option("vhpc_toolkit.steps", ""), option("lab.new", "n")])))
        WaitForTask(copy)
        made.append(copy.info.result)
        cloned = extra(copy.info.result)
        assert "vhpc_toolkit.steps" not in cloned and cloned["lab.keep"] == "k" and cloned["lab.new"] == "n"
        plain = vm.CloneVM_Task(folder=dc.vmFolder, name=name + "-p",
                                spec=vim.vm.CloneSpec(location=vim.vm.RelocateSpec(pool=pool)))
        WaitForTask(plain)
        made.append(plain.info.result)
        assert extra(plain.info.result)["vhpc_toolkit.steps"] == "b"

        WaitForTask(vm.ReconfigVM_Task(spec=vim.vm.ConfigSpec(extraConfig=[option("vhpc_toolkit.steps", "")])))
        assert "vhpc_toolkit.steps" not in extra(vm) and extra(vm)["lab.keep"] == "k"
    finally:
        for v in made:
            if v.runtime.powerState == "poweredOn":
                WaitForTask(v.PowerOffVM_Task())
            WaitForTask(v.Destroy_Task())
