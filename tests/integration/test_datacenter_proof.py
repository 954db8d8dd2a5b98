"""A file without `datacenter:` on a vCenter with two datacenters: `cluster --destroy`, `--create`,
`--status` and `--prune` act only where the VMs are proven the file's (the cluster's mark, or the
template's one datacenter); ambiguity is a refusal naming the candidates. Read back with pyVmomi.

One extra lab for this module: a second datacenter DC2 (cluster, host, datastore and port group made
through the API, as an administrator would), which sorts before HPC_Datacenter.
"""
from __future__ import annotations

import json
import tempfile
import uuid

import pytest
from pyVmomi import vim

from tests.plugins.lab import start_lab, stop_lab
from vhpc_toolkit.marks import OWNER_KEY
from vhpc_toolkit.vsphere.inventory import read_inventory
from vhpc_toolkit.vsphere.tasks import wait_for_task

H2 = "vhpc-esx-02.hpc.vmware.com"


@pytest.fixture(scope="module")
def dc2_lab(tmp_path_factory):
    lab = start_lab(tmp_path_factory.mktemp("dc2-lab"))
    session = lab.connect()
    dc2 = session.content.rootFolder.CreateDatacenter(name="DC2")
    cluster = dc2.hostFolder.CreateClusterEx(name="C2", spec=vim.cluster.ConfigSpecEx())
    host = wait_for_task(session, cluster.AddHost_Task(spec=vim.host.ConnectSpec(hostName="dc2-esx-01"),
                                                       asConnected=True))
    host.configManager.datastoreSystem.CreateLocalDatastore(name="COMPUTE01_vsanDatastore",
                                                            path=tempfile.mkdtemp(dir=tmp_path_factory.getbasetemp()))
    host.configManager.networkSystem.AddPortGroup(portgrp=vim.host.PortGroup.Specification(
        name="vHPC-PG-VMNetwork", vlanId=0, vswitchName="vSwitch0", policy=vim.host.NetworkPolicy()))
    lab.dc2 = (dc2, cluster.resourcePool, host)
    lab.session = session
    yield lab
    session.close()
    stop_lab(lab)


@pytest.fixture
def cli2(dc2_lab, run_cli):
    return lambda *argv: run_cli("--vcenter-conf", dc2_lab.conf, "--yes", *argv)


def make_vm(lab, name, dc2=False, mark=None, template=False):
    """A VM made by hand (no toolkit) in HPC_Datacenter or DC2, with an owner mark or none."""
    s = lab.session
    inv = read_inventory(s, {"VirtualMachine": ["config.template"], "Datacenter": ["vmFolder"],
                             "ClusterComputeResource": ["resourcePool"], "HostSystem": []})
    source = next(o for o in inv.of_type("VirtualMachine") if o.name == "vhpc_clone"
                  and inv.ancestor(o, "Datacenter").name == "HPC_Datacenter")
    if dc2:
        dc, pool, host = lab.dc2
        folder = dc.vmFolder
    else:
        folder = inv.find("Datacenter", "HPC_Datacenter").get("vmFolder")
        pool, host = inv.find("ClusterComputeResource", "COMPUTE_GPU_Cluster").get("resourcePool"), \
            inv.find("HostSystem", H2).ref
    config = vim.vm.ConfigSpec(extraConfig=[vim.option.OptionValue(key=OWNER_KEY, value=mark)]) if mark else None
    # Made under a name of its own and renamed: the lab keeps a VM's files under its first name, and
    # the datastores of both datacenters share one name (and, in the lab, one folder).
    vm = wait_for_task(s, source.ref.CloneVM_Task(folder=folder, name=f"tmp-{uuid.uuid4().hex[:8]}",
                                                  spec=vim.vm.CloneSpec(config=config, location=vim.vm.RelocateSpec(
                                                      pool=pool, host=host))))
    if template:   # a second template of that name, in DC2
        vm.MarkAsTemplate()
    wait_for_task(s, vm.Rename_Task(newName=name))
    return vm


def where(lab, pfx):
    """Inventory path of every VM whose name starts with pfx."""
    inv = read_inventory(lab.session, {"VirtualMachine": []})
    return sorted(inv.path(o) for o in inv.of_type("VirtualMachine") if o.name.startswith(pfx))


def file_(tmp_path, pfx, names="PFX-{1:2}"):
    path = tmp_path / f"{pfx}.conf"
    path.write_text(f"[B]\ntemplate: vhpc_clone\nhost: {H2}\npower: off\n[_VMS_]\n{names}: B\n".replace("PFX", pfx))
    return path


def test_destroy_acts_where_the_mark_proves_it(dc2_lab, cli2, tmp_path):
    pfx = f"p{uuid.uuid4().hex[:6]}"
    path = file_(tmp_path, pfx)
    assert cli2("cluster", "--create", "--file", path)[0] == 0         # in HPC_Datacenter: the template's
    twin = make_vm(dc2_lab, f"{pfx}-1", dc2=True)                       # unmarked, same name, in DC2
    inv = read_inventory(dc2_lab.session, {"VirtualMachine": []})
    template = inv.find("VirtualMachine", "vhpc_clone").ref
    wait_for_task(dc2_lab.session, template.Rename_Task(newName="vhpc_clone-renamed"))   # the template was renamed
    try:
        code, out, err = cli2("--output", "json", "cluster", "--destroy", "--file", path)
        assert code == 0, err
        rows = {r["vm"]: r["status"] for r in json.loads(out)["results"]}
        assert rows == {f"{pfx}-1": "changed", f"{pfx}-2": "changed"}, out
        assert where(dc2_lab, pfx) == [f"/DC2/vm/{pfx}-1"]              # the file's went, the twin stays
    finally:
        wait_for_task(dc2_lab.session, template.Rename_Task(newName="vhpc_clone"))
        wait_for_task(dc2_lab.session, twin.Destroy_Task())


def test_without_proof_it_is_a_refusal_naming_the_candidates(dc2_lab, cli2, tmp_path):
    pfx = f"q{uuid.uuid4().hex[:6]}"
    path = file_(tmp_path, pfx, "PFX-1")
    made = [make_vm(dc2_lab, f"{pfx}-1"), make_vm(dc2_lab, f"{pfx}-1", dc2=True),   # by hand, unmarked, in both
            make_vm(dc2_lab, "vhpc_clone", dc2=True, template=True)]           # and the template name in both
    try:
        before = where(dc2_lab, pfx)
        assert before == [f"/DC2/vm/{pfx}-1", f"/HPC_Datacenter/vm/{pfx}-1"]
        code, out, err = cli2("cluster", "--destroy", "--file", path)
        assert code == 2, out + err
        assert "the datacenters DC2, HPC_Datacenter hold a VM of that name and none carries the cluster's mark" in err
        assert "give datacenter:" in err and "nothing was changed" in err and "Traceback" not in err
        code, out, err = cli2("cluster", "--create", "--file", path)
        assert code == 2 and "DC2, HPC_Datacenter" in err and "nothing was changed" in err
        code, out, err = cli2("--output", "json", "cluster", "--status", "--file", path)
        assert code == 1, err
        vm, = json.loads(out)["vms"]
        assert vm["status"] == "absent" and "DC2, HPC_Datacenter" in vm["detail"] and "cannot be proven" in vm["detail"]
        assert where(dc2_lab, pfx) == before                            # nothing changed anywhere
        # With datacenter: the file says where its VMs are.
        path.write_text(path.read_text().replace("[B]\n", "[B]\ndatacenter: HPC_Datacenter\n"))
        code, out, err = cli2("cluster", "--destroy", "--file", path)
        assert code == 0, err
        assert where(dc2_lab, pfx) == [f"/DC2/vm/{pfx}-1"]
    finally:
        for vm in made:
            try:
                wait_for_task(dc2_lab.session, vm.Destroy_Task())
            except Exception:   # destroyed by the test
                pass


def test_status_strays_and_prune_do_not_guess(dc2_lab, cli2, tmp_path):
    pfx = f"s{uuid.uuid4().hex[:6]}"
    path = file_(tmp_path, pfx)
    assert cli2("cluster", "--create", "--file", path)[0] == 0         # PFX-1, PFX-2 in HPC_Datacenter, marked
    path.write_text(path.read_text().replace("{1:2}", "{1:1}"))         # shrunk: PFX-2 is a stray
    made = [make_vm(dc2_lab, f"{pfx}-3", dc2=True),                      # the pattern, unmarked, in DC2
            make_vm(dc2_lab, "vhpc_clone", dc2=True, template=True)]    # the template name is ambiguous now
    try:
        code, out, err = cli2("--output", "json", "cluster", "--status", "--file", path)
        assert code == 1, err
        doc = json.loads(out)
        assert [s["name"] for s in doc["not_in_file"]] == [f"{pfx}-2"]       # proven by its mark; DC2's is not the file's
        assert doc["vms"][0]["status"] == "up to date"
        code, out, err = cli2("--output", "json", "cluster", "--create", "--prune", "--file", path)
        assert code == 0, err
        assert where(dc2_lab, pfx) == [f"/DC2/vm/{pfx}-3", f"/HPC_Datacenter/vm/{pfx}-1"]
    finally:
        for vm in made:
            wait_for_task(dc2_lab.session, vm.Destroy_Task())
        path.write_text(path.read_text().replace("[B]\n", "[B]\ndatacenter: HPC_Datacenter\n"))
        cli2("cluster", "--destroy", "--file", path)
