"""`view --cluster/--host/--vm` and `view --capacity` on the lab, each checked against what pyVmomi
reads back from the lab directly."""
from __future__ import annotations

import fnmatch
import json
import uuid

import jsonschema
import pytest
from pyVmomi import vim

from tests.integration.test_json_schemas import check

HOST5 = "vhpc-esx-05.hpc.vmware.com"
GPU = "0000:3b:00.0"


def objects(si, kind):
    view = si.content.viewManager.CreateContainerView(si.content.rootFolder, [kind], True)
    try:
        return list(view.view)
    finally:
        view.DestroyView()


@pytest.fixture(scope="module")
def plain(lab):
    si = lab.connect_plain()
    yield si
    from pyVim.connect import Disconnect

    Disconnect(si)


def view_json(cli, *argv):
    code, out, err = cli("--output", "json", "view", *argv)
    assert code == 0, err
    return json.loads(out)


def hosts_of(doc):
    return [h["name"] for dc in doc["datacenters"] for h in dc["standalone_hosts"]] + \
        [h["name"] for dc in doc["datacenters"] for c in dc["clusters"] for h in c["hosts"]]


def test_cluster_and_host_filters_match_the_inventory(cli, plain):
    cluster = next(c for c in objects(plain, vim.ClusterComputeResource) if c.name == "COMPUTE_GPU_Cluster")
    doc = view_json(cli, "--cluster", "COMPUTE_GPU_Cluster")
    assert sorted(hosts_of(doc)) == sorted(h.name for h in cluster.host)
    assert [c["name"] for dc in doc["datacenters"] for c in dc["clusters"]] == ["COMPUTE_GPU_Cluster"]
    doc = view_json(cli, "--host", "vhpc-esx-03", HOST5)          # short or full names
    assert sorted(hosts_of(doc)) == ["vhpc-esx-03.hpc.vmware.com", HOST5]
    host = next(h for h in objects(plain, vim.HostSystem) if h.name == HOST5)
    shown = next(h for dc in doc["datacenters"] for c in dc["clusters"] for h in c["hosts"] if h["name"] == HOST5)
    assert sorted(v["name"] for v in shown["vms"]) == sorted(v.name for v in host.vm)


def test_vm_glob_keeps_the_matching_vms_and_their_hosts(cli, plain):
    pfx = f"g{uuid.uuid4().hex[:5]}"
    try:
        for i, host in ((1, HOST5), (2, "vhpc-esx-06.hpc.vmware.com")):
            assert cli("clone", "--template", "vhpc_clone", "--vm", f"{pfx}-{i}", "--host", host)[0] == 0
        doc = view_json(cli, "--vm", f"{pfx}-*")
        shown = {v["name"]: h["name"] for dc in doc["datacenters"] for c in dc["clusters"] for h in c["hosts"]
                 for v in h["vms"]}
        truth = {v.name: v.runtime.host.name for v in objects(plain, vim.VirtualMachine)
                 if fnmatch.fnmatchcase(v.name, f"{pfx}-*")}
        assert shown == truth and len(truth) == 2
        code, out, _ = cli("view", "--vm", f"{pfx}-nothing*")
        assert code == 0 and f"no VM matches {pfx}-nothing*" in out
    finally:
        cli("destroy", "--vm", f"{pfx}-1", f"{pfx}-2")    # several names at once


def test_unknown_cluster_or_host_is_a_clear_error(cli):
    code, out, err = cli("view", "--cluster", "COMPUTE_GPU_Clustr")
    assert code == 2 and "cluster 'COMPUTE_GPU_Clustr' not found; did you mean 'COMPUTE_GPU_Cluster'?" in err
    code, out, err = cli("view", "--capacity", "--host", "vhpc-esx-55")
    assert code == 2 and "host 'vhpc-esx-55' not found" in err
    code, out, err = cli("view", "--capacity", "--vm", "x*")
    assert code == 2 and "--capacity shows hosts" in err


def _truth(plain, host_name):
    """What the host can still give, read with pyVmomi: free passthrough GPUs and their holders,
    free virtual functions per PF, unreserved memory (MB), vGPUs per shared GPU."""
    host = next(h for h in objects(plain, vim.HostSystem) if h.name == host_name)
    gpus = {d.id for d in host.hardware.pciDevice if (d.classId >> 8) == 0x03} & \
        {i.id for i in host.config.pciPassthruInfo if i.passthruEnabled}
    running = [v for v in host.vm if v.runtime.powerState == "poweredOn"]
    held, vfs_used, reserved = {}, {}, 0
    for v in running:
        reserved += v.config.hardware.memoryMB if v.config.memoryReservationLockedToMax else \
            min(v.config.memoryAllocation.reservation or 0, v.config.hardware.memoryMB)
        for d in v.config.hardware.device:
            if isinstance(d.backing, vim.vm.device.VirtualPCIPassthrough.DeviceBackingInfo):
                held[d.backing.id] = v.name
            if isinstance(d, vim.vm.device.VirtualSriovEthernetCard):
                pf = d.sriovBacking.physicalFunctionBacking.id
                vfs_used[pf] = vfs_used.get(pf, 0) + 1
    vfs = {i.id: i.numVirtualFunction - vfs_used.get(i.id, 0) for i in host.config.pciPassthruInfo
           if isinstance(i, vim.host.SriovInfo) and i.sriovEnabled}
    shared = {g.pciId: sorted(v.name for v in g.vm or []) for g in host.config.graphicsInfo
              if g.graphicsType == "sharedDirect"}
    return {"held": {g: held.get(g) for g in gpus}, "vfs": vfs,
            "unreserved_mb": host.hardware.memorySize // (1 << 20) - reserved, "shared": shared}


def test_capacity_counts_what_running_vms_hold(cli, plain):
    pfx = f"k{uuid.uuid4().hex[:5]}"
    try:
        assert cli("clone", "--template", "vhpc_clone", "--vm", f"{pfx}-gpu", "--host", HOST5, "--memory", "16")[0] == 0
        for argv in (["passthru", "--vm", f"{pfx}-gpu", "--add", "--device", GPU],
                     ["cpumem", "--vm", f"{pfx}-gpu", "--memory_reservation", "yes"],
                     ["power", "--vm", f"{pfx}-gpu", "--on"]):
            assert cli(*argv)[0] == 0, argv
        doc = view_json(cli, "--capacity", "--host", HOST5)
        check(doc, "capacity")
        [host] = doc["hosts"]
        truth = _truth(plain, HOST5)
        assert {g["id"]: g["held_by"] for g in host["gpus"]} == truth["held"]
        assert truth["held"][GPU] == f"{pfx}-gpu" and host["free_gpus"] == sum(v is None for v in truth["held"].values())
        assert {f["pf"]: f["free"] for f in host["sriov"]} == truth["vfs"]
        assert host["memory"]["unreserved_gb"] == round(truth["unreserved_mb"] / 1024, 1)
        assert {g["id"]: sorted(g["vms"]) for g in host["vgpu_gpus"]} == truth["shared"]
        assert all(n >= 0 for g in host["vgpu_gpus"] for n in g["room"].values())
        code, out, _ = cli("view", "--capacity", "--host", HOST5)
        assert code == 0 and f"held by {pfx}-gpu" in out
    finally:
        cli("destroy", "--vm", f"{pfx}-gpu")


def test_capacity_document_schema_is_strict():
    with pytest.raises(jsonschema.ValidationError):
        check({"hosts": [], "totals": {"free_gpus": 0}}, "capacity")
