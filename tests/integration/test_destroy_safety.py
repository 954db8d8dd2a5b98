"""Nothing is destroyed that the file or the command does not own, read back with pyVmomi:
switches the run did not create (vSwitch0), switches in use, templates, same-named VMs in
other folders, VMs of other files; confirmations; one run per file at a time (the lock)."""
from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

from pyVmomi import vim

from tests.integration.test_cluster import BASE, vms_named
from vhpc_toolkit.cluster.ownership.lock import lock_name
from vhpc_toolkit.marks import OWNER_KEY, dvs_mark, svs_mark, vm_mark
from vhpc_toolkit.vsphere.inventory import read_inventory
from vhpc_toolkit.vsphere.tasks import wait_for_task

H7 = "vhpc-esx-07.hpc.vmware.com"
H8 = "vhpc-esx-08.hpc.vmware.com"


def host_net(session, host):
    inv = read_inventory(session, {"HostSystem": ["config.network.vswitch", "config.network.portgroup",
                                                  "customValue"]})
    return inv.find("HostSystem", host)


def switches_on(session, host):
    return {v.name for v in host_net(session, host).get("config.network.vswitch") or []}


def port_groups(session, host):
    return {p.spec.name for p in host_net(session, host).get("config.network.portgroup")}


def dvs_named(session, name):
    inv = read_inventory(session, {"DistributedVirtualSwitch": ["customValue", "config.description"]})
    return [o for o in inv.of_type("VmwareDistributedVirtualSwitch", "DistributedVirtualSwitch") if o.name == name]


def field_key(session, name):
    return next((f.key for f in session.content.customFieldsManager.field if f.name == name), None)


def value(obj, key):
    return next((v.value for v in obj.get("customValue") or [] if v.key == key), None)


def test_cluster_destroy_leaves_switches_it_did_not_create(cli, cluster_file, session):
    """The issue's case: the file lists vSwitch0; --create finds it up to date; --destroy leaves it."""
    path, pfx = cluster_file(BASE + f"""
[_SVS_]
vSwitch0: host: {H7} pnic: vmnic0 port_group: vHPC-PG-VMNetwork
PFX-svs: host: vhpc-esx-0{{{{7:8}}}}.hpc.vmware.com pnic: vmnic4 port_group: PFX-pg
[_VMS_]
PFX-1: BASE host: {H7} power: off
""")
    # PFX-svs already exists on H8 (made by hand, not by the file).
    assert cli("svs", "--create", "--host", H8, "--name", f"{pfx}-svs", "--pnic", "vmnic4",
               "--port_group", f"{pfx}-pg")[0] == 0
    code, out, err = cli("--output", "json", "cluster", "--create", "--file", path)
    assert code == 0, err
    # The switch this run made carries the cluster's mark port group; the one made by hand does not.
    assert svs_mark(pfx, f"{pfx}-svs") in port_groups(session, H7)
    assert svs_mark(pfx, f"{pfx}-svs") not in port_groups(session, H8)
    assert field_key(session, f"vhpc_toolkit.svs:{pfx}-svs") is None   # no custom attribute per switch any more
    vm = vms_named(session, pfx)[f"{pfx}-1"]
    assert {o.key: o.value for o in vm["config.extraConfig"]}[OWNER_KEY] == vm_mark(pfx)

    code, out, err = cli("--output", "json", "cluster", "--destroy", "--file", path)
    assert code == 0, err
    doc = json.loads(out)
    assert [(s["name"], s["status"]) for s in doc["switches"]] == [(f"{pfx}-svs", "destroyed")]
    assert any("vSwitch0" in n and f"not created there by cluster {pfx}" in n for n in doc["notes"])
    assert any(f"{pfx}-svs: left on {H8}" in n for n in doc["notes"])
    assert "vSwitch0" in switches_on(session, H7) and f"{pfx}-svs" not in switches_on(session, H7)
    pgs = port_groups(session, H7)
    assert {"Management Network", "vHPC-PG-VMNetwork"} <= pgs and svs_mark(pfx, f"{pfx}-svs") not in pgs
    assert f"{pfx}-svs" in switches_on(session, H8)      # made by hand: left
    assert cli("svs", "--destroy", "--host", H8, "--name", f"{pfx}-svs")[0] == 0
    assert vms_named(session, pfx) == {}


def test_a_dvs_of_the_same_name_made_by_hand_is_left(cli, cluster_file, session):
    path, pfx = cluster_file(BASE + f"""
[_DVS_]
PFX-dvs: host: {H8} pnic: vmnic5 port_group: PFX-dpg
[_VMS_]
PFX-1: BASE host: {H8} power: off
""")
    assert cli("dvs", "--create", "--name", f"{pfx}-dvs", "--host", H8, "--pnic", "vmnic5",
               "--port_group", f"{pfx}-dpg")[0] == 0
    try:
        assert cli("cluster", "--create", "--file", path)[0] == 0
        code, out, _ = cli("--output", "json", "cluster", "--destroy", "--file", path)
        doc = json.loads(out)
        assert code == 0 and doc["switches"] == [] and any(f"was not created by cluster {pfx}" in n for n in doc["notes"])
        assert len(dvs_named(session, f"{pfx}-dvs")) == 1
    finally:
        cli("dvs", "--destroy", "--name", f"{pfx}-dvs")
    # A switch the run creates carries the mark and goes with --destroy.
    path2, pfx2 = cluster_file(BASE + f"[_DVS_]\nPFX-dvs: host: {H8} pnic: vmnic5 port_group: PFX-dpg\n", name="d.conf")
    assert cli("cluster", "--create", "--file", path2)[0] == 0
    made, = dvs_named(session, f"{pfx2}-dvs")
    assert dvs_mark(made.get("config.description")).cluster == "d"     # the cluster is the file's stem
    assert cli("cluster", "--destroy", "--file", path2)[0] == 0
    assert dvs_named(session, f"{pfx2}-dvs") == []


def test_switch_destroy_refuses_a_switch_in_use_unless_forced(cli, session):
    code, _, err = cli("svs", "--destroy", "--host", H7, "--name", "vSwitch0")
    assert code == 2 and "VMkernel adapter vmk0" in err and "move them off first" in err and "nothing was changed" in err
    assert "vSwitch0" in switches_on(session, H7)
    pfx = f"u{uuid.uuid4().hex[:6]}"
    assert cli("svs", "--create", "--host", H7, H8, "--name", f"{pfx}-svs", "--pnic", "vmnic4",
               "--port_group", f"{pfx}-pg")[0] == 0
    assert cli("clone", "--template", "vhpc_clone", "--vm", f"{pfx}-vm", "--host", H8)[0] == 0
    assert cli("network", "--vm", f"{pfx}-vm", "--add", "--port_group", f"{pfx}-pg")[0] == 0
    code, _, err = cli("svs", "--destroy", "--host", H7, H8, "--name", f"{pfx}-svs")
    assert code == 2 and f"VM {pfx}-vm (port group {pfx}-pg)" in err
    assert f"{pfx}-svs" in switches_on(session, H7)       # refused before any host changed
    assert cli("destroy", "--vm", f"{pfx}-vm")[0] == 0
    assert cli("svs", "--destroy", "--host", H7, H8, "--name", f"{pfx}-svs")[0] == 0
    # A distributed switch with a VM on its port group: the same.
    assert cli("dvs", "--create", "--name", f"{pfx}-dvs", "--host", H8, "--pnic", "vmnic5",
               "--port_group", f"{pfx}-dpg")[0] == 0
    assert cli("clone", "--template", "vhpc_clone", "--vm", f"{pfx}-dvm", "--host", H8)[0] == 0
    try:
        assert cli("network", "--vm", f"{pfx}-dvm", "--add", "--port_group", f"{pfx}-dpg")[0] == 0
        code, _, err = cli("dvs", "--destroy", "--name", f"{pfx}-dvs")
        assert code == 2 and f"VM {pfx}-dvm" in err and len(dvs_named(session, f"{pfx}-dvs")) == 1
    finally:
        cli("destroy", "--vm", f"{pfx}-dvm")
        cli("dvs", "--destroy", "--name", f"{pfx}-dvs")
    assert dvs_named(session, f"{pfx}-dvs") == []


def test_destroy_refuses_templates_and_asks(cli, lab, run_cli, session, monkeypatch):
    code, _, err = cli("destroy", "--vm", "vhpc_clone")
    assert code == 2 and "vhpc_clone is a template" in err and "--include-templates" in err
    assert "vhpc_clone" in {o.name for o in read_inventory(session, {"VirtualMachine": []}).of_type("VirtualMachine")}
    name = f"t{uuid.uuid4().hex[:6]}"
    assert cli("clone", "--template", "vhpc_clone", "--vm", name)[0] == 0
    vm, = [o for o in read_inventory(session, {"VirtualMachine": []}).of_type("VirtualMachine") if o.name == name]
    vm.ref.MarkAsTemplate()
    # Off a terminal and without --yes: refused before any login.
    lab.reset_calls()
    code, _, err = run_cli("--vcenter-conf", lab.conf, "destroy", "--vm", name, "--include-templates")
    assert code == 2 and "--yes" in err and lab.calls()["total"] == 0
    # On a terminal the answer counts: no leaves it.
    from rich.prompt import Confirm

    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr(Confirm, "ask", classmethod(lambda cls, *a, **k: False))
    code, _, err = run_cli("--vcenter-conf", lab.conf, "destroy", "--vm", name, "--include-templates")
    assert code == 1 and "nothing was changed" in err
    monkeypatch.setattr(Confirm, "ask", classmethod(lambda cls, *a, **k: True))
    code, out, err = run_cli("--vcenter-conf", lab.conf, "destroy", "--vm", name, "--include-templates")
    assert code == 0, err
    names = [vm.name for vm in session.content.viewManager.CreateContainerView(
        session.content.rootFolder, [vim.VirtualMachine], True).view]
    assert name not in names and "vhpc_clone" in names


def make_folder(session, name):
    inv = read_inventory(session, {"Datacenter": ["vmFolder"]})
    return inv.of_type("Datacenter")[0].get("vmFolder").CreateFolder(name)


def clone_into(session, folder, name, owner=None):
    inv = read_inventory(session, {"VirtualMachine": [], "ClusterComputeResource": ["resourcePool"]})
    tmpl = inv.find("VirtualMachine", "vhpc_clone").ref
    config = vim.vm.ConfigSpec(extraConfig=[vim.option.OptionValue(key=OWNER_KEY, value=owner)]) if owner else None
    spec = vim.vm.CloneSpec(location=vim.vm.RelocateSpec(
        pool=inv.find("ClusterComputeResource", "COMPUTE_GPU_Cluster").get("resourcePool")), config=config)
    return wait_for_task(session, tmpl.CloneVM_Task(folder=folder, name=name, spec=spec))


def test_same_name_in_another_folder_or_of_another_file_is_never_touched(cli, cluster_file, session):
    pfx = f"f{uuid.uuid4().hex[:6]}"
    mine, other = make_folder(session, f"{pfx}-mine"), make_folder(session, f"{pfx}-other")
    twin = clone_into(session, other, f"{pfx}-1")                              # same name, other folder
    foreign = clone_into(session, mine, f"{pfx}-2", owner="elsewhere:/other.conf")  # another file's VM (earlier version)
    try:
        path, _ = cluster_file(BASE + f"[_VMS_]\n{pfx}-1: BASE host: {H7} vm_folder: {pfx}-mine\n", pfx=pfx)
        code, out, err = cli("--output", "json", "cluster", "--create", "--file", path)
        assert code == 0, err
        doc = json.loads(out)
        assert doc["vms"][0]["status"] == "created"
        assert any(f"/HPC_Datacenter/vm/{pfx}-other/{pfx}-1 has the same name" in n for n in doc["notes"])
        assert twin.runtime.powerState == "poweredOff"   # not powered on, not reconfigured

        # The file now names the other file's VM too: refused before any change.
        path.write_text(path.read_text().replace(f"{pfx}-1: BASE", f"{pfx}-{{1:2}}: BASE"))
        code, _, err = cli("cluster", "--create", "--file", path)
        assert code == 2 and "belongs to the file elsewhere:/other.conf (a mark of an earlier version)" in err

        code, out, err = cli("--output", "json", "cluster", "--destroy", "--file", path)
        assert code == 0, err
        rows = {r["vm"]: r for r in json.loads(out)["results"]}
        assert rows[f"{pfx}-1"]["detail"] == "powered off and destroyed"
        assert "belongs to the file elsewhere:/other.conf" in rows[f"{pfx}-2"]["detail"]
        left = {o.name: inv_path for o, inv_path in _vm_paths(session, pfx)}
        assert left == {f"{pfx}-1": f"/HPC_Datacenter/vm/{pfx}-other/{pfx}-1",
                        f"{pfx}-2": f"/HPC_Datacenter/vm/{pfx}-mine/{pfx}-2"}
    finally:
        wait_for_task(session, twin.Destroy_Task())
        wait_for_task(session, foreign.Destroy_Task())
        for f in (mine, other):
            wait_for_task(session, f.Destroy_Task())


def _vm_paths(session, pfx):
    inv = read_inventory(session, {"VirtualMachine": []})
    return [(o, inv.path(o)) for o in inv.of_type("VirtualMachine") if o.name.startswith(pfx)]


def test_one_run_per_cluster_file(cli, cluster_file, session, lab, faults):
    path, pfx = cluster_file(BASE + f"[_VMS_]\nPFX-{{1:3}}: BASE host: {H7} power: off\n")
    # A lock left by a run that is gone: refused, naming the holder; --unlock breaks it.
    cfm = session.content.customFieldsManager
    field = cfm.AddCustomFieldDef(name=lock_name(pfx))
    cfm.SetField(entity=session.content.rootFolder, key=field.key, value="ghost@nowhere pid 1 since 2020-01-01")
    code, _, err = cli("cluster", "--create", "--file", path)
    assert code == 1 and "locked by ghost@nowhere pid 1 since 2020-01-01" in err and "--unlock" in err
    assert vms_named(session, pfx) == {}
    code, out, _ = cli("cluster", "--unlock", "--file", path)
    assert code == 0 and "ghost@nowhere" in out and field_key(session, lock_name(pfx)) is None

    # Two runs at once (the clones take a while): one creates, the other is refused.
    faults(task_delay_ms=3000)
    cmd = [str(Path(sys.executable).parent / "vhpc_toolkit"), "--vcenter-conf", str(lab.conf), "--yes",
           "cluster", "--create", "--file", str(path)]
    runs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = sorted((r.wait(timeout=120), r.stderr.read()) for r in runs)
    faults()
    assert [code for code, _ in results] == [0, 1], results
    assert "is locked by" in results[1][1] and "since" in results[1][1]
    assert sorted(vms_named(session, pfx)) == [f"{pfx}-1", f"{pfx}-2", f"{pfx}-3"]
    assert field_key(session, lock_name(pfx)) is None      # released at the end


def test_a_vm_cloned_by_hand_from_a_template_copy_is_not_destroyed_as_a_copy(cli, cluster_file, session):
    """vSphere copies extraConfig into a clone: a VM cloned by hand from one of the cluster's template
    copies carries the copy's marks. `cluster --destroy` removes the copy (a template) and leaves that VM."""
    from vhpc_toolkit.cluster.cloning.copies import COPY_KEY

    path, pfx = cluster_file("[_CLUSTER_]\nname: PFX-c\n" + BASE + f"[_VMS_]\nPFX-1: BASE host: {H7}\n")
    assert cli("cluster", "--create", "--file", path)[0] == 0
    inv = read_inventory(session, {"VirtualMachine": [], "Datacenter": ["vmFolder"],
                                   "ClusterComputeResource": ["resourcePool"]})
    marks = [vim.option.OptionValue(key=OWNER_KEY, value=vm_mark(f"{pfx}-c")),
             vim.option.OptionValue(key=COPY_KEY, value="made-by-hand@1")]

    def clone(name, template):
        spec = vim.vm.CloneSpec(location=vim.vm.RelocateSpec(
            pool=inv.find("ClusterComputeResource", "COMPUTE_GPU_Cluster").get("resourcePool")),
            config=vim.vm.ConfigSpec(extraConfig=marks), template=template)
        return wait_for_task(session, inv.find("VirtualMachine", "vhpc_clone").ref.CloneVM_Task(
            folder=inv.of_type("Datacenter")[0].get("vmFolder"), name=name, spec=spec))

    copy, by_hand = clone(f"{pfx}-copy", True), clone(f"{pfx}-by-hand", False)
    try:
        code, out, err = cli("--output", "json", "cluster", "--destroy", "--file", path)
        assert code == 0, err
        assert {r["vm"] for r in json.loads(out)["results"]} == {f"{pfx}-1", f"{pfx}-copy"}
        # Read back: the cluster's VM and the copy are gone, the hand clone stays.
        assert set(vms_named(session, pfx)) == {f"{pfx}-by-hand"}
    finally:
        left = set(vms_named(session, pfx))
        for name, vm in ((f"{pfx}-copy", copy), (f"{pfx}-by-hand", by_hand)):
            if name in left:
                wait_for_task(session, vm.Destroy_Task())
