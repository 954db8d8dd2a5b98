"""Our example cluster files parse (scripts checked) to what their comments say."""
from __future__ import annotations

from pathlib import Path

import pytest

from vhpc_toolkit.clusterfile import parse_cluster_file
from vhpc_toolkit.output.cluster.plan import plan_document

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples/cluster-scripts"
SCRIPTS = ROOT / "examples/post-scripts"


def esx(n: int) -> str:
    return "vhpc-esx-%02d.hpc.vmware.com" % n


def parse(name: str):
    return parse_cluster_file(EXAMPLES / name)


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("*.conf")))
def test_example_parses_with_scripts_checked(name):
    spec = parse(name)
    assert spec.vms
    text = (EXAMPLES / name).read_text()
    assert text.startswith("# vHPC toolkit example: ")
    for vm in spec.vms:
        assert (vm.template == "vhpc_clone" or vm.instant) and vm.datacenter == "HPC_Datacenter"
        assert vm.datastore == "COMPUTE01_vsanDatastore"
        for step in vm.scripts:
            assert Path(step.path).parent == SCRIPTS and Path(step.path).is_file()
    plan_document(spec)


def test_simple():
    vm1, vm2 = parse("cluster-simple.conf").vms
    assert [(Path(s.path).name, s.barrier) for s in vm1.scripts] == [("hello_world1.sh", 0)]
    assert [(Path(s.path).name, s.barrier) for s in vm2.scripts] == [("hello_world2.sh", 1)]


def test_linked_clone():
    vms = parse("cluster-linked-clone.conf").vms
    assert [vm.name for vm in vms[:16]] == ["linked-vm%02d" % i for i in range(1, 17)]
    assert [vm.host for vm in vms[:16]] == [esx(h) for h in (5, 6, 7, 8) for _ in range(4)]
    assert all(vm.linked for vm in vms[:16])
    spare = vms[16]
    assert (spare.name, spare.linked, spare.power, spare.host) == ("spare-vm", False, "off", esx(8))


def test_gpu_passthru():
    vms = parse("cluster-gpu-passthru.conf").vms
    assert [(vm.name, vm.host, vm.ip, vm.guest_hostname) for vm in vms] == [
        ("gpu-vm1", esx(5), "172.1.10.1", "gpu-vm1"), ("gpu-vm2", esx(6), "172.1.10.2", "gpu-vm2")]
    assert vms[0].device == ["0000:3b:00.0", "0000:d8:00.0"] and vms[0].mmio_size == 256


def test_vgpu():
    vms = parse("cluster-vgpu.conf").vms
    assert [vm.host for vm in vms] == [esx(h) for h in (5, 6, 7, 8, 5, 6, 7, 8)]
    assert [vm.vgpu for vm in vms] == ["grid_v100-16q"] * 4 + ["grid_p100-4q"] * 4


def test_sriov():
    spec = parse("cluster-sriov.conf")
    assert [vm.host for vm in spec.vms] == [esx(h) for h in (5, 5, 6, 6, 7, 7, 8, 8)]
    assert [vm.guest_hostname for vm in spec.vms] == ["node%02d" % i for i in range(1, 9)]
    assert spec.vms[7].ip == "172.1.10.18" and spec.vms[0].pf == ["0000:af:00.0"]
    assert spec.svs[0].to_dict() == {"name": "sriov-svs", "host": [esx(h) for h in (5, 6, 7, 8)],
                                     "pnic": ["vmnic4"], "port_group": "sriov-pg",
                                     "datacenter": "HPC_Datacenter"}


def test_sriov_gpu():
    spec = parse("cluster-sriov-gpu.conf")
    got = [(vm.name, vm.host, vm.device, len(vm.scripts)) for vm in spec.vms]
    assert got == [("ml-vm%d" % i, esx(4 + i), ["0000:3b:00.0"], 1) for i in range(1, 5)] + [
        ("tp-vm%d" % i, esx(4 + i), None, 0) for i in range(1, 5)]


def test_pvrdma():
    spec = parse("cluster-pvrdma.conf")
    assert [vm.host for vm in spec.vms] == [esx(h) for h in (5, 6, 7, 8, 5, 6, 7, 8)]
    assert spec.dvs[0].pnic == ["vmnic5"] and spec.vms[0].dvs_name == "pvrdma-dvs"


def test_post_scripts_phases():
    spec = parse("cluster-post-scripts.conf")
    phases = [(b, [(vm.name, Path(s.path).name) for vm, s in steps]) for b, steps in spec.script_phases()]
    assert phases == [
        (None, [("node%d" % i, "adduser_foo.sh") for i in range(1, 5)]),
        (1, [("node%d" % i, "hello_world1.sh") for i in range(1, 5)]),
        (2, [("node1", "hello_world2.sh")]),
    ]
    assert [vm.host for vm in spec.vms] == [esx(h) for h in (2, 3, 4, 5)]


def test_fabrics_the_103_keys():
    spec = parse("cluster-fabrics.conf")
    vm = spec.vms[0]
    assert (vm.cpu, vm.cores_per_socket, vm.secure_boot, vm.dynamic, vm.hardware_version) == (8, 4, True, True, 17)
    assert [(a.port_group, a.pf, a.dvs_name) for a in vm.sriov_adapters()] == [
        ("ib-pg-1", "0000:af:00.0", "ib-dvs-1"), ("ib-pg-2", "0000:af:00.0", "ib-dvs-2")]
    assert [(d.name, d.mtu, d.port_group) for d in spec.dvs] == [
        ("ib-dvs-1", 9000, "ib-pg-1"), ("ib-dvs-2", 9000, "ib-pg-2"), ("mgmt-dvs", None, None)]
    assert [v.host for v in spec.vms] == [esx(h) for h in (5, 6, 7, 8)]


def test_instant():
    spec = parse("cluster-instant.conf")
    assert all(vm.instant and vm.template == "golden-vm" for vm in spec.vms)
    assert [vm.host for vm in spec.vms] == [None] * 4   # instant clones run on their source's host
    assert [(Path(s.path).name, s.barrier) for s in spec.vms[0].scripts] == [("hello_world1.sh", 1)]


def test_gpu_placement_names_no_host_and_no_pci_address():
    text = (EXAMPLES / "cluster-gpu-placement.conf").read_text()
    assert "host:" not in text and "device:" not in text and "pf:" not in text and "0000:" not in text
    vms = parse("cluster-gpu-placement.conf").vms
    assert len(vms) == 16 and all(vm.host is None and vm.requests_placement for vm in vms)
    train = [vm for vm in vms if vm.name.startswith("train")]
    assert [(vm.gpu, vm.gpu_model, vm.anti_affinity, vm.hugepages_1g) for vm in train] == [(2, "V100", "train", True)] * 6
    assert [vm.vgpus for vm in vms if vm.name.startswith("infer")] == [["grid_v100-8q"]] * 10
