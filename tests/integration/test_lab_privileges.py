"""The lab's least-privilege users, with pyVmomi directly: a denied privilege makes the calls that need
it fail with vCenter's NoPermission (privilegeId, object) before anything changes; custom fields
defined for a type (moType) are that type's only."""
from __future__ import annotations

import subprocess
import uuid

import pytest
from pyVim.task import WaitForTask
from pyVmomi import vim, vmodl

from tests.plugins.lab import SIM
from vhpc_toolkit.vsphere.inventory import read_inventory

H3 = "vhpc-esx-03.hpc.vmware.com"


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def host(session, name=H3):
    inv = read_inventory(session, {"HostSystem": ["configManager.networkSystem", "config.network.vswitch"]})
    return inv.find("HostSystem", name)


def test_custom_field_privileges(lab, session, deny):
    cfm, root = session.content.customFieldsManager, session.content.rootFolder
    field = cfm.AddCustomFieldDef(name=uid("priv"))
    h = host(session).ref
    try:
        assert deny("Global.ManageCustomFields")["denied"] == ["Global.ManageCustomFields"]
        with pytest.raises(vim.fault.NoPermission) as exc:
            cfm.AddCustomFieldDef(name=uid("priv"))
        assert exc.value.privilegeId == "Global.ManageCustomFields" and exc.value.object == root
        assert exc.value.msg == "Permission to perform this operation was denied."
        with pytest.raises(vim.fault.NoPermission):
            cfm.RemoveCustomFieldDef(key=field.key)
        assert field.key in {f.key for f in cfm.field}          # refused before any change
        cfm.SetField(entity=h, key=field.key, value="set")       # another privilege: allowed

        deny("Global.SetCustomField")
        with pytest.raises(vim.fault.NoPermission) as exc:
            cfm.SetField(entity=h, key=field.key, value="other")
        assert exc.value.privilegeId == "Global.SetCustomField" and exc.value.object == h   # checked on the entity
        assert [v.value for v in h.customValue if v.key == field.key] == ["set"]
        assert lab.privileges()["refused"] == 1
    finally:
        deny()
        cfm.RemoveCustomFieldDef(key=field.key)


def test_network_and_vm_privileges(session, deny):
    h = host(session)
    ns = h.get("configManager.networkSystem")
    try:
        deny("Host.Config.Network", "DVSwitch.Create", "VirtualMachine.Config.AdvancedConfig")
        with pytest.raises(vim.fault.NoPermission) as exc:
            ns.AddVirtualSwitch(vswitchName="priv-sw", spec=vim.host.VirtualSwitch.Specification(numPorts=128))
        assert exc.value.privilegeId == "Host.Config.Network" and exc.value.object == h.ref   # the host's
        inv = read_inventory(session, {"Datacenter": ["networkFolder"], "VirtualMachine": []})
        folder = inv.of_type("Datacenter")[0].get("networkFolder")
        with pytest.raises(vim.fault.NoPermission) as exc:   # the call itself fails: no task is made
            folder.CreateDVS_Task(spec=vim.DistributedVirtualSwitch.CreateSpec(
                configSpec=vim.dvs.VmwareDistributedVirtualSwitch.ConfigSpec(name="priv-dvs")))
        assert exc.value.privilegeId == "DVSwitch.Create" and exc.value.object == folder
        tmpl = inv.find("VirtualMachine", "vhpc_clone").ref
        spec = vim.vm.ConfigSpec(extraConfig=[vim.option.OptionValue(key="priv.test", value="x")])
        with pytest.raises(vim.fault.NoPermission) as exc:
            tmpl.ReconfigVM_Task(spec=spec)
        assert exc.value.privilegeId == "VirtualMachine.Config.AdvancedConfig" and exc.value.object == tmpl
        assert "priv-sw" not in {v.name for v in host(session).get("config.network.vswitch")}
        deny()
        ns.AddVirtualSwitch(vswitchName="priv-sw", spec=vim.host.VirtualSwitch.Specification(numPorts=128))
        ns.RemoveVirtualSwitch(vswitchName="priv-sw")
    finally:   # what a broken refusal, or a failure before the removal, leaves in the shared lab
        deny()
        if "priv-sw" in {v.name for v in host(session).get("config.network.vswitch") or []}:
            ns.RemoveVirtualSwitch(vswitchName="priv-sw")
        view = session.content.viewManager.CreateContainerView(session.content.rootFolder,
                                                               [vim.DistributedVirtualSwitch], True)
        try:
            for dvs in [d for d in view.view if d.name == "priv-dvs"]:
                WaitForTask(dvs.Destroy_Task())
        finally:
            view.Destroy()


def test_a_field_of_a_type_is_that_types_only(session):
    cfm = session.content.customFieldsManager
    field = cfm.AddCustomFieldDef(name=uid("dc-field"), moType=vim.Datacenter)
    try:
        assert field.managedObjectType is vim.Datacenter and field.type is str
        inv = read_inventory(session, {"Datacenter": ["availableField"], "HostSystem": ["availableField"]})
        assert field.key in {f.key for f in inv.of_type("Datacenter")[0].get("availableField")}
        assert field.key not in {f.key for f in inv.find("HostSystem", H3).get("availableField") or []}
        with pytest.raises(vmodl.fault.InvalidArgument):
            cfm.SetField(entity=inv.find("HostSystem", H3).ref, key=field.key, value="x")
        cfm.SetField(entity=inv.of_type("Datacenter")[0].ref, key=field.key, value="ok")
    finally:
        cfm.RemoveCustomFieldDef(key=field.key)


def test_deny_privilege_flag_is_checked(tmp_path):
    for bad in ("", "Global ManageCustomFields", "nodot"):
        run = subprocess.run([str(SIM), "--conf-out", str(tmp_path / "c"), "--deny-privilege", bad],
                             capture_output=True, text=True, timeout=30)
        assert run.returncode == 2 and "deny-privilege" in run.stderr, run.stderr
