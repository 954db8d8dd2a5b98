"""What a session makes dies with it, as on vCenter: views (ViewManager), property collectors
(CreatePropertyCollector) and their filters, event history collectors end at the session's Logout.
The toolkit relies on it to spare the Destroy calls of a command that logs out as it ends. Checked
with pyVmomi alone: after the Logout, another session's calls on those objects are refused with
ManagedObjectNotFound. And a property read naming an object that is gone is refused the same way
unless the spec asks for missing objects to be reported (the toolkit's read_objects asks)."""
from __future__ import annotations

import pytest
from pyVmomi import vim, vmodl

PC = vmodl.query.PropertyCollector
pytestmark = pytest.mark.lab


def _made_by_a_session_that_logs_out(lab):
    si = lab.connect_plain()
    content = si.RetrieveContent()
    container = content.viewManager.CreateContainerView(content.rootFolder, [vim.VirtualMachine], True)
    listed = content.viewManager.CreateListView(obj=[content.rootFolder])
    collector = content.propertyCollector.CreatePropertyCollector()
    traverse = PC.TraversalSpec(name="v", path="view", skip=False, type=vim.view.ListView)
    filter_ = collector.CreateFilter(PC.FilterSpec(objectSet=[PC.ObjectSpec(obj=listed, skip=True,
                                                                            selectSet=[traverse])],
                                                   propSet=[PC.PropertySpec(type=vim.Folder, pathSet=["name"])]),
                                     partialUpdates=False)
    events = content.eventManager.CreateCollectorForEvents(filter=vim.event.EventFilterSpec())
    assert collector.WaitForUpdatesEx("", PC.WaitOptions(maxWaitSeconds=1)) is not None
    content.sessionManager.Logout()
    return {"ContainerView": container, "ListView": listed, "PropertyCollector": collector,
            "PropertyFilter": filter_, "EventHistoryCollector": events}


def test_the_objects_of_a_session_end_with_its_logout(lab, session):
    made = _made_by_a_session_that_logs_out(lab)
    stub = session.si._stub      # another, live session
    calls = {"ContainerView": lambda r: r.DestroyView(), "ListView": lambda r: r.DestroyView(),
             "PropertyCollector": lambda r: r.DestroyPropertyCollector(),
             "PropertyFilter": lambda r: r.DestroyPropertyFilter(),
             "EventHistoryCollector": lambda r: r.DestroyCollector()}
    for kind, ref in made.items():
        again = type(ref)(ref._moId, stub)
        with pytest.raises(vmodl.fault.ManagedObjectNotFound):
            calls[kind](again)


def test_a_live_sessions_objects_stay_until_freed(lab):
    si = lab.connect_plain()
    try:
        content = si.RetrieveContent()
        view = content.viewManager.CreateListView(obj=[content.rootFolder])
        view.ModifyListView(add=[], remove=[])     # still there: answered
        view.DestroyView()
        with pytest.raises(vmodl.fault.ManagedObjectNotFound):
            view.DestroyView()
    finally:
        si.content.sessionManager.Logout()


def test_a_command_leaves_its_views_and_collectors_to_its_logout(lab, cli, cluster_file):
    """`cluster --create` reads the inventory, watches its tasks and the guests: no Destroy call,
    one Logout (the lab, as vCenter, frees them with the session: the tests above)."""
    path, pfx = cluster_file("""
[BASE]
template: vhpc_clone
datacenter: HPC_Datacenter
cluster: COMPUTE_GPU_Cluster
host: vhpc-esx-02.hpc.vmware.com
[_VMS_]
PFX-n{1:2}: BASE
""")
    lab.reset_calls()
    code, _, err = cli("cluster", "--create", "--file", path)
    methods = lab.calls()["methods"]
    assert code == 0, err
    assert methods.get("Logout") == 1 and methods.get("CreateContainerView", 0) >= 1, methods
    assert not {m for m in methods if m.startswith("Destroy") and m != "Destroy_Task"}, methods
    assert cli("cluster", "--destroy", "--file", path, "--yes")[0] == 0


def test_a_read_of_objects_leaves_out_one_gone_meanwhile(lab, session):
    """vCenter refuses a property read naming an object that no longer exists (ManagedObjectNotFound)
    unless the spec asks it to report missing objects: read_objects asks, and leaves the gone one out,
    so a VM destroyed meanwhile is "gone" to its callers instead of failing the whole read."""
    from vhpc_toolkit.vsphere.inventory import read_inventory, read_objects
    from vhpc_toolkit.vsphere.tasks import wait_for_task

    inv = read_inventory(session, {"VirtualMachine": [], "Datacenter": ["vmFolder"],
                                   "ClusterComputeResource": ["resourcePool"]})
    template = inv.find("VirtualMachine", "vhpc_clone")
    spec = vim.vm.CloneSpec(location=vim.vm.RelocateSpec(
        pool=inv.find("ClusterComputeResource", "COMPUTE_GPU_Cluster").get("resourcePool")))
    gone = wait_for_task(session, template.ref.CloneVM_Task(
        folder=inv.of_type("Datacenter")[0].get("vmFolder"), name="read-gone", spec=spec))
    wait_for_task(session, gone.Destroy_Task())
    pc = session.content.propertyCollector
    plain = PC.FilterSpec(objectSet=[PC.ObjectSpec(obj=template.ref), PC.ObjectSpec(obj=gone)],
                          propSet=[PC.PropertySpec(type=vim.VirtualMachine, pathSet=["name"])])
    with pytest.raises(vmodl.fault.ManagedObjectNotFound):     # the lab, as vCenter, with pyVmomi alone
        pc.RetrievePropertiesEx([plain], PC.RetrieveOptions())
    found = read_objects(session, [template.ref, gone], ["name"])
    assert set(found) == {template.moid} and found[template.moid].get("name") == "vhpc_clone"
