"""The original toolkit's seven example files parse unmodified, to the
expansions their comments describe."""
from __future__ import annotations

from pathlib import Path

import pytest

from vhpc_toolkit.clusterfile import ClusterFileError, parse_cluster_file
from tests.reference import CLUSTER_SCRIPTS

REF = CLUSTER_SCRIPTS
# relative script paths are also looked for from the working directory (the tests run from the repository)
CWD_EXAMPLES = Path.cwd().parent / "examples" / "post-scripts"

pytestmark = pytest.mark.skipif(not REF.is_dir(), reason="reference files not present (../shared)")


def esx(n: int) -> str:
    return "vhpc-esx-%02d.hpc.vmware.com" % n


def parse(name: str, **kw):
    return parse_cluster_file(REF / name, **kw)


def test_gpu_passthru():
    spec = parse("cluster-gpu-passthru.conf")
    assert [vm.name for vm in spec.vms] == ["gpu-vm1", "gpu-vm2"]
    vm1, vm2 = spec.vms
    assert (vm1.host, vm1.ip, vm2.host, vm2.ip) == (esx(5), "172.1.10.1", esx(8), "172.1.10.2")
    assert vm1.device == ["0000:3b:00.0"]          # upper-case in the file, normalised
    assert vm1.dns == ["172.1.110.1", "172.1.110.2"]
    assert (vm1.cpu, vm1.memory, vm1.linked, vm1.is_dhcp) == (20, 100.0, False, False)
    assert vm1.vm_folder is None and vm1.resource_pool is None   # empty values ignored
    assert vm1.line == 29 and vm2.line == 30
    assert spec.svs == [] and spec.dvs == []


def test_linked_clone_consecutive_hosts():
    spec = parse("cluster-linked-clone.conf")
    assert [vm.name for vm in spec.vms] == ["linked-vm%d" % i for i in range(1, 21)]
    assert [vm.host for vm in spec.vms] == [esx(h) for h in (5, 6, 7, 8) for _ in range(5)]
    assert all(vm.linked is True and vm.template == "vhpc_clone" for vm in spec.vms)
    assert all(vm.cpu is None and vm.memory is None for vm in spec.vms)


def test_pvrdma_round_robin_and_dvs():
    spec = parse("cluster-pvrdma.conf")
    assert [vm.name for vm in spec.vms] == ["pvrdma-vm%d" % i for i in range(1, 9)]
    assert [vm.host for vm in spec.vms] == [esx(h) for h in (5, 6, 7, 8, 5, 6, 7, 8)]
    assert [vm.ip for vm in spec.vms] == ["172.1.10.%d" % i for i in range(1, 9)]
    vm = spec.vms[0]
    assert (vm.pvrdma_port_group, vm.dvs_name, vm.latency) == ("pvrdma-pg", "pvrdma-dvs", "high")
    assert vm.cpu_reservation is True and vm.memory_reservation is True
    assert spec.svs == []
    [dvs] = spec.dvs
    assert dvs.to_dict() == {
        "name": "pvrdma-dvs",
        "host": [esx(h) for h in (5, 6, 7, 8)],
        "pnic": ["vmnic5"],
        "port_group": "pvrdma-pg",
        "datacenter": "HPC_Datacenter",
    }
    assert dvs.kind == "dvs" and dvs.line == 58


def test_sriov():
    spec = parse("cluster-sriov.conf")
    assert [vm.host for vm in spec.vms] == [esx(h) for h in (5, 6, 7, 8, 5, 6, 7, 8)]
    assert all(vm.pf == ["0000:af:00.0"] and vm.sriov_port_group == ["sriov-pg"] for vm in spec.vms)
    [svs] = spec.svs
    assert svs.to_dict() == {
        "name": "sriov-svs", "host": [esx(h) for h in (5, 6, 7, 8)],
        "pnic": ["vmnic4"], "port_group": "sriov-pg",
    }
    assert svs.kind == "svs" and svs.datacenter is None


def test_sriov_gpu_needs_its_script_and_maps_as_commented():
    with pytest.raises(ClusterFileError) as err:
        parse("cluster-sriov-gpu.conf")
    assert err.value.problems == [
        "%s:63: [POST0] script: '../examples/post-scripts/adduser_foo.sh' not found "
        "(looked for %s and %s) (used by VM 'ml-vm1')"
        % (REF / "cluster-sriov-gpu.conf", REF.parent / "examples/post-scripts/adduser_foo.sh",
           CWD_EXAMPLES / "adduser_foo.sh")
    ]
    spec = parse("cluster-sriov-gpu.conf", check_scripts=False)
    table = [(vm.name, vm.host, vm.guest_hostname) for vm in spec.vms]
    assert table == [
        ("ml-vm1", esx(5), "ml-vm1"), ("ml-vm2", esx(8), "ml-vm2"),
        ("ml-vm3", esx(6), "ml-vm3"), ("ml-vm4", esx(7), "ml-vm4"),
        ("tp-vm1", esx(5), "tp-vm1"), ("tp-vm2", esx(6), "tp-vm2"),
        ("tp-vm3", esx(7), "tp-vm3"), ("tp-vm4", esx(8), "tp-vm4"),
    ]
    ml1, ml2, ml3 = spec.vms[:3]
    assert ml1.device == ml2.device == ["0000:3b:00.0"] and ml3.device is None
    assert [s.source for s in ml1.scripts] == ["../examples/post-scripts/adduser_foo.sh"]
    assert ml2.scripts == [] and ml1.guest_username == "root" and ml2.guest_username is None
    assert [s.name for s in spec.svs] == ["sriov-svs"]


def test_simple_reports_missing_scripts_with_lines():
    with pytest.raises(ClusterFileError) as err:
        parse("cluster-simple.conf")
    f = REF / "cluster-simple.conf"
    looked = REF.parent / "examples/post-scripts"
    assert err.value.problems == [
        "%s:20: [POST1] script: '../examples/post-scripts/hello_world1.sh' not found "
        "(looked for %s/hello_world1.sh and %s/hello_world1.sh) (used by VM 'vhpc_vm01')" % (f, looked, CWD_EXAMPLES),
        "%s:23: [POST2] script: '../examples/post-scripts/hello_world2.sh' not found "
        "(looked for %s/hello_world2.sh and %s/hello_world2.sh) (used by VM 'vhpc_vm02')" % (f, looked, CWD_EXAMPLES),
    ]
    assert str(err.value) == "\n".join(err.value.problems)


def test_simple_with_scripts_tolerated():
    spec = parse("cluster-simple.conf", check_scripts=False)
    vm1, vm2 = spec.vms
    assert (vm1.name, vm2.name) == ("vhpc_vm01", "vhpc_vm02")
    base = REF.parent / "examples/post-scripts"
    assert [(s.path, s.barrier) for s in vm1.scripts] == [(str(base / "hello_world1.sh"), 0)]
    assert [(s.path, s.barrier) for s in vm2.scripts] == [(str(base / "hello_world2.sh"), 1)]
    assert (vm1.guest_username, vm1.guest_password) == ("root", "VMware1!")
    assert [b for b, _ in spec.script_phases()] == [0, 1]


def test_vgpu():
    spec = parse("cluster-vgpu.conf")
    assert [vm.name for vm in spec.vms] == ["vgpu-vm%d" % i for i in range(1, 5)]
    assert all(vm.vgpu == "grid_p100-4q" and vm.host == esx(5) for vm in spec.vms)
    assert spec.vms[0].power == "on"


@pytest.mark.parametrize("name", sorted(p.name for p in REF.glob("*.conf")) if REF.is_dir() else [])
def test_every_reference_file_parses(name):
    spec = parse(name, check_scripts=False)
    assert spec.vms
    assert all(vm.template == "vhpc_clone" for vm in spec.vms)
