"""Pure parts of the fabric and accelerator checks: vGPU profiles and per-GPU capacity, switch
versions, the PVRDMA preparation record and steps."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from vhpc_toolkit.ops.hosts import pvrdma as pvrdma_hosts
from vhpc_toolkit.ops.networks.distributed import dvs_version_for, min_esxi, version_problems
from vhpc_toolkit.ops.hosts.gpus import GpuState, VgpuLedger, gpu_model, profile_size


@pytest.mark.parametrize("profile,expected", [("grid_p100-4q", ("p100", 4096)), ("grid_v100-32q", ("v100", 32768)),
                                              ("grid_a100-3-20c", None), ("nvidia_x", None), ("", None)])
def test_profile_size(profile, expected):
    assert profile_size(profile) == expected


@pytest.mark.parametrize("name,model", [("GV100GL [Tesla V100 PCIe 32GB]", "v100"),
                                        ("GP100GL [Tesla P100 PCIe 16GB]", "p100"), ("Matrox G200eR2", None)])
def test_gpu_model(name, model):
    assert gpu_model(name) == model


def gpu(pci_id, model="p100", gb=16, mode="sharedDirect", profile=None, vms=()):
    return GpuState(pci_id=pci_id, name=model, model=model, graphics_type=mode, passthrough_enabled=mode == "direct",
                    frame_buffer_mb=gb * 1024, profile=profile, vgpu_vms=list(vms))


def test_a_16gb_p100_holds_four_4q_and_one_profile_at_a_time():
    p100 = gpu("0000:86:00.0")
    assert p100.capacity("grid_p100-4q") == 4 and p100.capacity("grid_v100-4q") == 0
    ledger = VgpuLedger([p100])
    for i in range(4):
        assert ledger.claim(f"vm{i}", ["grid_p100-4q"]) == []
    full, = ledger.claim("vm4", ["grid_p100-4q"])
    assert "is full: 4 of 4 grid_p100-4q (VMs vm0, vm1, vm2, vm3)" in full
    mixed, = VgpuLedger([gpu("0000:86:00.0", profile="grid_p100-4q", vms=["a"])]).claim("b", ["grid_p100-8q"])
    assert "serves grid_p100-4q (VMs a)" in mixed and "one profile at a time" in mixed


def test_passthrough_gpus_serve_no_vgpu_and_free_counts_what_runs():
    direct = gpu("0000:3b:00.0", model="v100", gb=32, mode="direct")
    assert direct.capacity("grid_v100-8q") == 0
    problem, = VgpuLedger([direct]).claim("x", ["grid_v100-8q"])
    assert "no GPU of the host is in shared direct mode" in problem
    busy = gpu("0000:5e:00.0", model="v100", gb=32, profile="grid_v100-8q", vms=["a", "b"])
    assert busy.free("grid_v100-8q") == 2 and busy.free("grid_v100-16q") == 0


@pytest.mark.parametrize("policy,expected", [("performance", "0000:02:00.0"), ("consolidation", "0000:01:00.0")])
def test_assignment_policy_spreads_or_packs(policy, expected):
    gpus = [gpu("0000:01:00.0", profile="grid_p100-4q", vms=["a"]), gpu("0000:02:00.0")]
    ledger = VgpuLedger(gpus, policy)
    assert ledger.claim("b", ["grid_p100-4q"]) == []
    assert "b" in ledger.slots[expected][2]


def test_vgpus_of_one_vm_go_to_different_gpus():
    ledger = VgpuLedger([gpu("0000:01:00.0")])
    problem, = ledger.claim("x", ["grid_p100-4q", "grid_p100-4q"])
    assert "already holds another vGPU of this VM" in problem
    assert ledger.slots["0000:01:00.0"][2] == []   # nothing claimed after a refusal


def test_switch_version_is_the_oldest_members():
    assert dvs_version_for(["7.0.0", "6.7.0"], "7.0.0") == "6.6.0"
    assert dvs_version_for(["7.0.3", "7.0.3"], "7.0.0") == "7.0.0"     # vCenter caps it
    assert dvs_version_for(["8.0.3"], "8.0.3") == "8.0.3"
    assert dvs_version_for(["7.0.2"]) == "7.0.2" and dvs_version_for([]) is None
    assert min_esxi("6.6.0") == "6.7.0"


def test_switch_version_is_the_newest_vcenter_creates_that_every_member_joins():
    """QueryAvailableDvsSpec's list decides: not vCenter's own version."""
    assert dvs_version_for(["7.0.3"], "7.0.3", available=["6.5.0", "6.6.0"]) == "6.6.0"
    assert dvs_version_for(["7.0.3", "6.7.0"], "7.0.3", available=["6.6.0", "7.0.0", "7.0.3"]) == "6.6.0"
    assert dvs_version_for(["7.0.3"], "7.0.3", available=["7.0.3", "7.0.0", "6.6.0"]) == "7.0.3"
    assert dvs_version_for(["9.0.0"], None, available=["8.0.3", "9.0.0"]) == "9.0.0"   # newer than the table
    assert dvs_version_for(["6.5.0"], None, available=["6.6.0", "7.0.0"]) is None
    assert dvs_version_for([], None, available=["6.6.0", "7.0.0"]) == "7.0.0"
    host = SimpleNamespace(name="esx1", get=lambda path: "6.7.0")
    assert "too old for distributed switch s (version 7.0.0 needs ESXi 7.0.0" in version_problems([host], "s", "7.0.0")[0]
    assert version_problems([host], "s", "6.6.0") == []


def test_preparation_record_round_trips_and_keeps_the_users_text():
    record = {"esx5": {"vnic": "vmk1", "tag": "", "ruleset": True}}
    text = pvrdma_hosts.with_record("switch for RDMA", record)
    assert text.startswith("switch for RDMA\n" + pvrdma_hosts.MARKER)
    assert pvrdma_hosts.parse_record(text) == record
    assert pvrdma_hosts.with_record(text, {}) == "switch for RDMA"
    assert pvrdma_hosts.parse_record("nothing here") == {} and pvrdma_hosts.parse_record(None) == {}


def test_host_preparation_steps():
    host = SimpleNamespace(name="esx5")
    fresh = pvrdma_hosts.HostPrep(host=host, switch_uuid=None)
    assert fresh.steps("pg") == ["VMkernel adapter on pg", "Net.PVRDMAVmknic = the new adapter",
                                 "firewall ruleset pvrdma on"]
    assert fresh.missing() == ["no VMkernel adapter on the switch", "Net.PVRDMAVmknic is empty",
                               "firewall ruleset pvrdma is disabled"]
    done = pvrdma_hosts.HostPrep(host=host, tag="vmk1", vnics={"vmk1": "u1"}, ruleset=True, switch_uuid="u1")
    assert done.steps("pg") == [] and done.missing() == [] and not done.tagged_elsewhere
    other = pvrdma_hosts.HostPrep(host=host, tag="vmk1", vnics={"vmk1": "u2"}, ruleset=True, switch_uuid="u1")
    assert other.tagged_elsewhere


def test_static_addresses_of_the_vmkernel_adapter():
    host = SimpleNamespace(name="esx5")
    fresh = pvrdma_hosts.HostPrep(host=host, switch_uuid=None, address=("10.1.0.5", "255.255.0.0"))
    assert fresh.steps("pg")[0] == "VMkernel adapter on pg at 10.1.0.5/255.255.0.0"
    same = pvrdma_hosts.HostPrep(host=host, tag="vmk1", vnics={"vmk1": "u1"}, ruleset=True, switch_uuid="u1",
                                 address=("10.1.0.5", "255.255.0.0"), ips={"vmk1": (False, "10.1.0.5", "255.255.0.0")})
    assert same.steps("pg") == []
    dhcp = pvrdma_hosts.HostPrep(host=host, tag="vmk1", vnics={"vmk1": "u1"}, ruleset=True, switch_uuid="u1",
                                 address=("10.1.0.5", "255.255.0.0"), ips={"vmk1": (True, "", "")})
    assert dhcp.steps("pg") == ["address 10.1.0.5/255.255.0.0 on vmk1"]
    # Without vmk_ip the adapter's address is left as it is.
    assert pvrdma_hosts.HostPrep(host=host, tag="vmk1", vnics={"vmk1": "u1"}, ruleset=True, switch_uuid="u1",
                                 ips={"vmk1": (False, "10.9.9.9", "255.0.0.0")}).steps("pg") == []


def test_a_host_prepared_twice_keeps_the_values_to_restore_from_before_the_first_time():
    first = {"vnic": "vmk1", "tag": "", "ruleset": True}
    assert pvrdma_hosts.merge_record(first, {"ip": {"vnic": "vmk1", "was": None}}) == {
        "vnic": "vmk1", "tag": "", "ruleset": True, "ip": {"vnic": "vmk1", "was": None}}
    readdressed = {"ip": {"vnic": "vmk3", "was": ["10.0.0.1", "255.0.0.0"]}}
    assert pvrdma_hosts.merge_record(readdressed, {"ip": {"vnic": "vmk3", "was": ["10.0.0.2", "255.0.0.0"]}}) \
        == readdressed
    assert pvrdma_hosts.merge_record(first, {"vnic": "vmk2", "tag": "vmk1"}) == {"vnic": "vmk2", "tag": "",
                                                                                 "ruleset": True}


def test_rdma_uplinks_are_read_from_nic_keys():
    """ESXi links an RDMA device's NIC by key (HostRdmaDevicePnicBacking.pairedUplink), as it does a
    standard switch's uplinks; the device name is what uplinks are compared with."""
    from vhpc_toolkit.vsphere.hostnet import rdma_pnics

    def host(paired):
        rdma = SimpleNamespace(backing=SimpleNamespace(pairedUplink=paired))
        return SimpleNamespace(name="esx5", get=lambda path: [rdma] if path == "config.network.rdmaDevice" else None)

    assert rdma_pnics(host("key-vim.host.PhysicalNic-vmnic5")) == ["vmnic5"]
    assert pvrdma_hosts.uplink_problems(host("key-vim.host.PhysicalNic-vmnic5"), "s", ["vmnic5"]) == []
    assert "has no RDMA device" in pvrdma_hosts.uplink_problems(host("key-vim.host.PhysicalNic-vmnic5"), "s",
                                                                ["vmnic4"])[0]
