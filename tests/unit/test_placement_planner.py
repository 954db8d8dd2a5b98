"""The planner on a small inventory built in memory: spread and pack, free devices counting running
VMs and the file's own, NUMA locality, anti-affinity, memory, and the one-line shortage errors."""
from __future__ import annotations

import pytest
from pyVmomi import vim

from vhpc_toolkit.cluster.planning.plan import plan_cluster
from vhpc_toolkit.clusterfile import parse_cluster_text
from vhpc_toolkit.vsphere.inventory import Inventory, Obj

V100 = "GV100GL [Tesla V100 PCIe 32GB]"
GB = 1 << 30


def _ref(kind, moid):
    return getattr(vim, kind)(moid)


def _obj(kind, moid, name, parent=None, **props):
    return Obj(ref=_ref(kind, moid), type=kind, props={"name": name, "parent": parent.ref if parent else None, **props})


def _gpu(pci, node, device=0x1db4, name=V100):
    return (vim.host.PciDevice(id=pci, classId=0x0302, vendorId=0x10de, deviceId=device, deviceName=name,
                               vendorName="NVIDIA Corporation", subVendorId=0x10de, subDeviceId=0, bus=0, slot=0,
                               function=0), node)


def inventory(hosts=4, memory_gb=768, running=(), labels=None):
    """A datacenter with one cluster of ``hosts`` hosts, each with two passthrough V100s (3b:00.0 on NUMA
    node 0, d8:00.0 on node 1) and an SR-IOV PF af:00.0 (node 1) with 8 VFs; ``running``: (VM name,
    host number, [pci ids]) of powered-on VMs."""
    objs = {}
    root = _obj("Folder", "group-d1", "Datacenters")
    dc = _obj("Datacenter", "dc-1", "DC", root, vmFolder=_ref("Folder", "group-v1"))
    hfolder = _obj("Folder", "group-h1", "host", dc)
    vmfolder = _obj("Folder", "group-v1", "vm", dc)
    ds = _obj("Datastore", "ds-1", "DS", dc)
    pg = _obj("Network", "net-1", "VMNet", dc)
    cluster = _obj("ClusterComputeResource", "cl-1", "GPU", hfolder, resourcePool=_ref("ResourcePool", "rp-1"),
                   host=[_ref("HostSystem", f"host-{i}") for i in range(1, hosts + 1)],
                   configurationEx=vim.cluster.ConfigInfoEx(rule=[]))
    for o in (root, dc, hfolder, vmfolder, ds, pg, cluster):
        objs[o.moid] = o
    for i in range(1, hosts + 1):
        gpus = [_gpu("0000:3b:00.0", 0), _gpu("0000:d8:00.0", 1)]
        pf = vim.host.PciDevice(id="0000:af:00.0", classId=0x0200, vendorId=0x15b3, deviceId=0x1013,
                                deviceName="ConnectX-4", vendorName="Mellanox", subVendorId=0, subDeviceId=0,
                                bus=0, slot=0, function=0)
        passthru = [vim.host.PciPassthruInfo(id=d.id, passthruEnabled=True, passthruCapable=True, passthruActive=True,
                                             dependentDevice=d.id) for d, _ in gpus]
        passthru.append(vim.host.SriovInfo(id=pf.id, passthruEnabled=False, passthruCapable=True, passthruActive=False,
                                           dependentDevice=pf.id, sriovEnabled=True, sriovCapable=True,
                                           sriovActive=True, numVirtualFunction=8,
                                           numVirtualFunctionRequested=8, maxVirtualFunctionSupported=8))
        numa = vim.host.NumaInfo(type="NUMA", numNodes=2, numaNode=[
            vim.host.NumaNode(typeId=n, cpuID=[n], memoryRangeBegin=0, memoryRangeLength=1,
                              pciId=[d.id for d, node in gpus if node == n] + (["0000:af:00.0"] if n else []))
            for n in (0, 1)])
        label_cfg = vim.host.AssignableHardwareConfig(attributeOverride=[
            vim.host.AssignableHardwareConfig.AttributeOverride(instanceId=pci, name="customLabel", value=label)
            for (h, pci), label in (labels or {}).items() if h == i])
        host = _obj("HostSystem", f"host-{i}", f"esx-{i:02d}.lab", cluster,
                    **{"hardware.pciDevice": [d for d, _ in gpus] + [pf], "config.pciPassthruInfo": passthru,
                       "hardware.numaInfo": numa, "hardware.memorySize": memory_gb * GB,
                       "config.assignableHardwareConfig": label_cfg, "runtime.connectionState": "connected",
                       "datastore": [ds.ref], "network": [pg.ref], "summary.hardware.cpuMhz": 2000,
                       "config.graphicsInfo": [], "config.sharedPassthruGpuTypes": []})
        objs[host.moid] = host
    tmpl = _obj("VirtualMachine", "vm-t", "tmpl", vmfolder, **{
        "config.template": True, "datastore": [ds.ref], "runtime.host": _ref("HostSystem", "host-1"),
        "config.hardware.memoryMB": 4096, "config.hardware.numCPU": 2, "config.hardware.device": []})
    objs[tmpl.moid] = tmpl
    for n, (name, host_no, ids) in enumerate(running):
        devs = [vim.vm.device.VirtualPCIPassthrough(key=100 + k, backing=vim.vm.device.VirtualPCIPassthrough
                                                    .DeviceBackingInfo(id=pci)) for k, pci in enumerate(ids)]
        vm = _obj("VirtualMachine", f"vm-{n}", name, vmfolder, **{
            "runtime.host": _ref("HostSystem", f"host-{host_no}"), "runtime.powerState": "poweredOn",
            "config.hardware.device": devs, "config.hardware.memoryMB": 1024, "config.template": False})
        objs[vm.moid] = vm
    return Inventory(objs, {})


HEAD = "[B]\ntemplate: tmpl\ncluster: GPU\nmemory: 16\n\n[_VMS_]\n"


def plan(body, inv=None):
    return plan_cluster(inv or inventory(), parse_cluster_text(HEAD + body, "f.conf", check_scripts=False))


def chosen(p):
    return {v.name: (v.placement.host.name.split(".")[0], [g.id for g in v.choice.gpus]) for v in p.vms if v.choice}


def test_spread_puts_one_gpu_vm_per_host_and_counts_the_files_own():
    p = plan("n{1:6}: B gpu: 1\n")
    assert not p.problems
    got = chosen(p)
    assert [got[f"n{i}"][0] for i in range(1, 5)] == ["esx-01", "esx-02", "esx-03", "esx-04"]
    taken = [(h, pci) for h, ids in got.values() for pci in ids]
    assert len(taken) == len(set(taken)) == 6            # no device given twice


def test_pack_fills_a_host_first():
    got = chosen(plan("n{1:4}: B gpu: 1 placement: pack\n"))
    assert [got[f"n{i}"][0] for i in range(1, 5)] == ["esx-01", "esx-01", "esx-02", "esx-02"]


def test_running_vms_hold_their_gpus():
    inv = inventory(hosts=2, running=[("busy", 1, ["0000:3b:00.0", "0000:d8:00.0"])])
    got = chosen(plan("n1: B gpu: 2\n", inv))
    assert got == {"n1": ("esx-02", ["0000:3b:00.0", "0000:d8:00.0"])}


def test_a_pinned_vms_named_device_is_not_given_to_another():
    got = chosen(plan("pinned: B host: esx-01.lab device: ['0000:d8:00.0']\nn{1:2}: B gpu: 1 placement: pack\n",
                      inventory(hosts=2)))
    assert got["n1"] == ("esx-01", ["0000:3b:00.0"]) and got["n2"][0] == "esx-02"


def test_gpu_and_sriov_adapter_share_a_numa_node():
    p = plan("n{1:2}: B gpu: 1 sriov_port_group: VMNet pf: 0000:af:00.0\n")
    for v in p.vms:
        assert [g.id for g in v.choice.gpus] == ["0000:d8:00.0"] and v.choice.numa_node == 1
    far = plan("n1: B gpu: 2 sriov_port_group: VMNet pf: 0000:af:00.0\n").vms[0].choice
    assert far.numa_node is None and "SR-IOV adapter on node 1" in far.notes[0]


def test_anti_affinity_keeps_a_group_apart_and_refuses_a_pinned_host_that_breaks_it():
    got = chosen(plan("n{1:3}: B gpu: 1 anti_affinity: g placement: pack\n"))
    assert len({h for h, _ in got.values()}) == 3
    p = plan("a: B host: esx-02.lab anti_affinity: g\nb: B host: esx-02.lab anti_affinity: g\n")
    assert any("already has a VM of anti-affinity group g" in x for x in p.problems)
    p = plan("n{1:5}: B anti_affinity: g\n")
    assert p.problems == ["f.conf:7: anti-affinity group g needs 5 more hosts (line 7), GPU has 4 that can take one"]


def test_shortage_is_one_error_saying_what_is_short_and_where():
    inv = inventory(hosts=3, running=[("busy", 1, ["0000:3b:00.0", "0000:d8:00.0"]), ("half", 2, ["0000:3b:00.0"])])
    p = plan("n{1:3}: B gpu: 2 gpu_model: V100\n", inv)
    assert p.problems == ["f.conf:7: needs 6 V100 (gpu: 2 on 3 VMs, line 7), 3 free on GPU: "
                          "esx-01 0, esx-02 1, esx-03 2"]
    assert not any(v.choice for v in p.vms)


def test_totals_fit_but_no_host_has_two_together():
    inv = inventory(hosts=2, running=[("a", 1, ["0000:3b:00.0"]), ("b", 2, ["0000:3b:00.0"])])
    p = plan("n1: B gpu: 2\n", inv)
    assert p.problems == ["f.conf:7: VM n1: no host can take it (2 x GPU): 1 free GPU: esx-01, esx-02"]


def test_memory_for_full_reservations():
    p = plan("n{1:3}: B gpu: 1 memory: 400\n", inventory(hosts=2, memory_gb=768))
    assert "no host can take it" in p.problems[0] and "368 GB unreserved of 768 GB" in p.problems[0]


def test_gpu_label_and_model():
    inv = inventory(hosts=2, labels={(2, "0000:d8:00.0"): "train"})
    got = chosen(plan("n1: B gpu: 1 gpu_label: train dynamic: yes\n", inv))
    assert got == {"n1": ("esx-02", ["0000:d8:00.0"])}
    p = plan("n1: B gpu: 1 gpu_model: A100\n", inv)
    assert p.problems[0].startswith("f.conf:7: needs 1 A100 (gpu: 1 on 1 VM, line 7), 0 free on GPU")


@pytest.mark.parametrize("body,problem", [
    ("n1: B gpu: 1 device: ['0000:3b:00.0']\n", "gives both gpu: 1"),
    ("n1: B gpu_model: V100\n", "gpu_model needs gpu: N"),
    ("n1: B dynamic: yes\n", "dynamic: yes needs gpu: N or device"),
    ("n1: B vgpu: ['grid_v100-8q', 'grid_a100-3-20c']\n", "profiles of different boards"),
    # NVIDIA vGPU on vSphere 7: several vGPUs per VM only of one whole-GPU Q or C type, no MIG-backed ones
    ("n1: B vgpu: ['grid_a100-3-20c', 'grid_a100-3-20c']\n", "MIG-backed and smaller types are one per VM"),
    ("n1: B vgpu: ['grid_v100-8q', 'grid_v100-8q']\n", "grid_v100-16c, grid_v100-16q"),
    ("n1: B vgpu: ['grid_v100-16q', 'grid_v100-16c']\n", "only of one time-sliced Q- or C-series type"),
    ("n1: B hugepages_1g: yes memory_reservation: no\n", "hugepages_1g: yes needs all guest memory reserved"),
    ("n1: B gpu: 17\n", "maximum of 16 PCI passthrough devices"),
    ("n1: B placement: random\n", "is not one of spread, pack"),
])
def test_request_keys_are_checked_with_the_file(body, problem):
    from vhpc_toolkit.clusterfile import ClusterFileError

    with pytest.raises(ClusterFileError) as exc:
        parse_cluster_text(HEAD + body, "f.conf", check_scripts=False)
    assert "f.conf:7:" in str(exc.value) and problem in str(exc.value)


def test_vgpu_keeps_one_profile_as_text_and_a_list_as_a_list():
    spec = parse_cluster_text(HEAD + "a: B vgpu: grid_v100-8q\nb: B vgpu: ['grid_a100-40c', 'grid_a100-40c']\n",
                              "f.conf", check_scripts=False)
    a, b = spec.vms
    assert (a.vgpu, a.vgpus) == ("grid_v100-8q", ["grid_v100-8q"])
    assert b.vgpus == ["grid_a100-40c"] * 2 and b.to_dict()["vgpu"] == ["grid_a100-40c"] * 2


def test_named_devices_without_a_host_go_where_they_are_free():
    inv = inventory(hosts=2, running=[("x", 1, ["0000:3b:00.0"])])
    p = plan("a: B device: ['0000:3b:00.0']\nb: B device: ['0000:3b:00.0']\n", inv)
    assert chosen(p) == {"a": ("esx-02", ["0000:3b:00.0"])}
    assert p.problems == ["f.conf:8: VM b: no host can take it (a host): 0000:3b:00.0 not free for passthrough: "
                          "esx-01, esx-02"]
