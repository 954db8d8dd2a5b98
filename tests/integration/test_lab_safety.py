"""The lab's safety rules, driven with pyVmomi directly (not through the toolkit): VM names,
destroyed objects leaving every view, custom attributes, CancelTask, ended sessions, fault
injection and its flags."""
from __future__ import annotations

import ssl
import subprocess
import time
import urllib.request
import uuid

import pytest
from pyVmomi import vim, vmodl

from tests.plugins.lab import SIM, start_lab, stop_lab
from vhpc_toolkit.vsphere.inventory import read_inventory
from vhpc_toolkit.vsphere.tasks import wait_for_tasks


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def lab_objects(session):
    inv = read_inventory(session, {"VirtualMachine": ["config.template"], "Datacenter": ["vmFolder"],
                                   "ClusterComputeResource": ["resourcePool"]})
    return (inv, inv.find("VirtualMachine", "vhpc_clone"), inv.of_type("Datacenter")[0].get("vmFolder"),
            inv.find("ClusterComputeResource", "COMPUTE_GPU_Cluster").get("resourcePool"))


def clone(session, name, folder=None):
    """Clone the template; returns (task outcome, VM or None)."""
    _, tmpl, vm_folder, pool = lab_objects(session)
    task = tmpl.ref.CloneVM_Task(folder=folder or vm_folder, name=name,
                                 spec=vim.vm.CloneSpec(location=vim.vm.RelocateSpec(pool=pool)))
    out = wait_for_tasks(session, [task])[task._moId]
    return out, out.result


def destroy(session, *vms):
    tasks = [vm.Destroy_Task() for vm in vms if vm is not None]
    wait_for_tasks(session, tasks)


def fault_of(session, task):
    wait_for_tasks(session, [task])
    return task.info.error


def view_names(session):
    """Every VM's name as a container view lists it: a stale reference fails here."""
    content = session.content
    view = content.viewManager.CreateContainerView(content.rootFolder, [vim.VirtualMachine], True)
    try:
        return [vm.name for vm in view.view]
    finally:
        view.DestroyView()


def task_fault(outcome):
    return type(outcome.task.info.error).__name__.split(".")[-1] if outcome.state == "error" else None


def test_vm_names_are_checked_before_the_vm_exists(session):
    before = view_names(session)
    for bad in ("", "n" * 81):
        out, _ = clone(session, bad)
        assert task_fault(out) == "InvalidName" and "1 to 80 characters" in out.error
    name = uid("names")
    first, vm = clone(session, name)
    assert first.ok
    second, _ = clone(session, name)
    assert task_fault(second) == "DuplicateName"
    assert second.error == f"The name '{name}' already exists."
    after = view_names(session)
    assert sorted(after) == sorted(before + [name])   # no nameless or second VM anywhere
    # Another folder may hold the same name; a second folder of one name is refused.
    _, _, vm_folder, _ = lab_objects(session)
    folder = vm_folder.CreateFolder(uid("names-folder"))
    with pytest.raises(vim.fault.DuplicateName):
        vm_folder.CreateFolder(folder.name)
    other, other_vm = clone(session, name, folder=folder)
    assert other.ok
    destroy(session, vm, other_vm)
    wait_for_tasks(session, [folder.Destroy_Task()])


def test_a_new_datacenter_takes_no_vm_until_it_has_hosts_and_datastores(session):
    """A VM's folder, pool, host and datastore are of one datacenter: a datacenter made with
    CreateDatacenter has none, so a clone or a new VM there is refused, leaving nothing behind."""
    _, tmpl, vm_folder, pool = lab_objects(session)
    dc = session.content.rootFolder.CreateDatacenter(name=uid("lab-dc"))
    try:
        task = tmpl.ref.CloneVM_Task(folder=dc.vmFolder, name=uid("dc-clone"),
                                     spec=vim.vm.CloneSpec(location=vim.vm.RelocateSpec(pool=pool)))
        fault = fault_of(session, task)
        assert isinstance(fault, vmodl.fault.InvalidArgument) and fault.invalidProperty == "spec.location.pool"
        spec = vim.vm.ConfigSpec(name=uid("dc-create"), files=vim.vm.FileInfo(vmPathName="[COMPUTE01_vsanDatastore]"))
        fault = fault_of(session, dc.vmFolder.CreateVM_Task(config=spec, pool=pool))
        assert isinstance(fault, vmodl.fault.InvalidArgument) and fault.invalidProperty == "pool"
        spec.files.vmPathName = "[no-such-datastore] x"
        assert isinstance(fault_of(session, vm_folder.CreateVM_Task(config=spec, pool=pool)), vim.fault.InvalidDatastore)
        assert dc.vmFolder.childEntity == []
        assert all(o.name for o in read_inventory(session, {"VirtualMachine": []}).of_type("VirtualMachine"))
        out, vm = clone(session, uid("dc-after"))   # the lab goes on
        assert out.ok
        destroy(session, vm)
    finally:
        wait_for_tasks(session, [dc.Destroy_Task()])


def test_a_destroyed_template_leaves_every_view(session):
    name = uid("tmpl")
    _, vm = clone(session, name)
    vm.MarkAsTemplate()
    pool = lab_objects(session)[3]
    assert vm._moId not in {v._moId for v in pool.vm}   # vCenter's pools list no template
    assert name in view_names(session)
    destroy(session, vm)
    assert name not in view_names(session)              # and reading the rest does not fail


def test_custom_attributes(session):
    cfm = session.content.customFieldsManager
    name = uid("lab-field")
    field = cfm.AddCustomFieldDef(name=name)
    try:
        assert field.type is str   # the values are strings (xsd:string)
        with pytest.raises(vim.fault.DuplicateName):
            cfm.AddCustomFieldDef(name=name)
        root = session.content.rootFolder
        cfm.SetField(entity=root, key=field.key, value="a")
        cfm.SetField(entity=root, key=field.key, value="b")
        values = [v.value for v in root.customValue if v.key == field.key]
        assert values == ["b"]
        with pytest.raises(vmodl.fault.InvalidArgument):
            cfm.SetField(entity=root, key=field.key + 10_000, value="x")
    finally:
        cfm.RemoveCustomFieldDef(key=field.key)
    assert not [v for v in session.content.rootFolder.customValue if v.key == field.key]
    with pytest.raises(vmodl.fault.InvalidArgument):
        cfm.RemoveCustomFieldDef(key=field.key)


def test_cancel_task(session, faults):
    _, vm = clone(session, uid("cancel-src"))
    faults(task_delay_ms=30_000)
    _, tmpl, folder, pool = lab_objects(session)
    name = uid("cancel")
    task = tmpl.ref.CloneVM_Task(folder=folder, name=name, spec=vim.vm.CloneSpec(location=vim.vm.RelocateSpec(pool=pool)))
    assert task.info.state == "running" and task.info.cancelable
    task.CancelTask()
    out = wait_for_tasks(session, [task])[task._moId]
    assert task_fault(out) == "RequestCanceled" and task.info.cancelled
    with pytest.raises(vim.fault.InvalidState):
        task.CancelTask()
    assert name not in view_names(session)
    faults(task_delay_ms=200)
    gone = vm.Destroy_Task()
    with pytest.raises(vmodl.fault.NotSupported):    # destroying is not cancelable
        gone.CancelTask()
    assert wait_for_tasks(session, [gone])[gone._moId].ok


def test_terminated_and_idle_sessions_end(lab, faults):
    admin, user = lab.connect(), lab.connect()
    try:
        key = user.content.sessionManager.currentSession.key
        with pytest.raises(vmodl.fault.InvalidArgument):   # its own session: use Logout
            admin.content.sessionManager.TerminateSession([admin.content.sessionManager.currentSession.key])
        with pytest.raises(vim.fault.NotFound):
            admin.content.sessionManager.TerminateSession(["no-such-session"])
        admin.content.sessionManager.TerminateSession([key])
        raw = user.stub.inner   # below the toolkit's re-login
        si = vim.ServiceInstance("ServiceInstance", raw)
        with pytest.raises(vim.fault.NotAuthenticated, match="The session is not authenticated"):
            si.CurrentTime()
        # Idle expiry: a session unused for longer than the TTL ends.
        faults(session_ttl=0.3)
        fresh = lab.connect()
        time.sleep(0.8)
        with pytest.raises(vim.fault.NotAuthenticated):
            vim.ServiceInstance("ServiceInstance", fresh.stub.inner).CurrentTime()
    finally:
        admin.close()


def test_fail_method_and_dropped_connections(session, lab, faults):
    pfx = uid("inject")
    faults(fail_method=[{"method": "CloneVM_Task", "regex": f"^{pfx}-[13]$", "fault": "InsufficientResourcesFault"}])
    made = {}
    for i in (1, 2, 3):
        out, vm = clone(session, f"{pfx}-{i}")
        made[i] = (task_fault(out), vm)
    assert [made[i][0] for i in (1, 2, 3)] == ["InsufficientResourcesFault", None, "InsufficientResourcesFault"]
    assert lab.faults()["injected"] == 2
    assert sorted(n for n in view_names(session) if n.startswith(pfx)) == [f"{pfx}-2"]
    destroy(session, made[2][1])
    # Every 3rd SOAP request loses its connection unanswered.
    faults(drop_connections=3)
    ctx = ssl.create_default_context(cafile=lab.settings["ca_file"])
    body = (b'<?xml version="1.0"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
            b'<soapenv:Body><RetrieveServiceContent xmlns="urn:vim25"><_this type="ServiceInstance">ServiceInstance'
            b'</_this></RetrieveServiceContent></soapenv:Body></soapenv:Envelope>')
    failed = []
    for i in range(1, 7):
        try:
            urllib.request.urlopen(urllib.request.Request(lab.url + "/sdk", data=body), context=ctx, timeout=5).read()
        except Exception:
            failed.append(i)
    assert failed == [3, 6] and lab.faults()["dropped"] == 2


def test_fault_flags(tmp_path):
    lab = start_lab(tmp_path, "--fail-method", "Destroy_Task:^keep-", "--fail-method",
                    "CloneVM_Task:a:b:GenericVmConfigFault", "--drop-connections", "9", "--task-delay", "0.25",
                    "--session-ttl", "1800")
    try:
        got = lab.faults()
        assert [(r["method"], r["regex"], r["fault"]) for r in got["fail_method"]] == [
            ("Destroy_Task", "^keep-", "SystemError"), ("CloneVM_Task", "a:b", "GenericVmConfigFault")]
        assert (got["drop_connections"], got["task_delay_ms"], got["session_ttl"]) == (9, 250, 1800)
    finally:
        stop_lab(lab)
    bad = subprocess.run([str(SIM), "--conf-out", str(tmp_path / "x.conf"), "--fail-method", "NoRegex"],
                         capture_output=True, text=True, timeout=30)
    assert bad.returncode == 2 and "METHOD:REGEX" in bad.stderr
