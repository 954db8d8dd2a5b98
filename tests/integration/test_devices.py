"""passthru, vgpu and sriov on the lab: devices, extraConfig and reservations read back; every refusal."""
from __future__ import annotations

import json
import uuid

import pytest
from pyVmomi import vim

from tests.integration.test_switches import drop_portgroups
from vhpc_toolkit.vsphere.inventory import read_inventory
from vhpc_toolkit.vsphere.tasks import wait_for_task

HOST = "vhpc-esx-07.hpc.vmware.com"   # kept for these tests so other tests' VMs do not hold its GPUs
GPU1, GPU2, PF = "0000:3b:00.0", "0000:d8:00.0", "0000:af:00.0"


@pytest.fixture
def clones(cli, tmp_path):
    """make(n) clones n VMs of the template on HOST; all destroyed after the test."""
    made = []

    def make(n=1):
        names = [f"d-{uuid.uuid4().hex[:8]}" for _ in range(n)]
        listing = tmp_path / f"clones-{len(made)}.txt"
        listing.write_text("".join(f"{name} COMPUTE_GPU_Cluster {HOST}\n" for name in names))
        made.extend(names)
        code, _, err = cli("clone", "--template", "vhpc_clone", "--file", listing)
        assert code == 0, err
        return names

    yield make
    if made:
        listing = tmp_path / "destroy.txt"
        listing.write_text("\n".join(made))
        cli("destroy", "--file", listing)


def read_vm(session, name):
    inv = read_inventory(session, {"VirtualMachine": ["config.hardware.device", "config.extraConfig",
                                                       "config.memoryAllocation", "config.hardware.memoryMB",
                                                       "config.memoryReservationLockedToMax", "runtime.host",
                                                       "config.version"],
                                    "HostSystem": ["hardware.systemInfo.uuid"]})
    vm = inv.find("VirtualMachine", name)
    vm.props["host"] = inv.by_ref(vm.get("runtime.host"))
    return vm


def passthrough_devices(vm):
    return [d for d in vm.get("config.hardware.device")
            if isinstance(d, vim.vm.device.VirtualPCIPassthrough)
            and isinstance(d.backing, vim.vm.device.VirtualPCIPassthrough.DeviceBackingInfo)]


def extra(vm):
    return {o.key: o.value for o in vm.get("config.extraConfig") or []}


def assert_full_memory_reservation(vm):
    assert vm.get("config.memoryReservationLockedToMax") is True
    assert vm.get("config.memoryAllocation").reservation == vm.get("config.hardware.memoryMB")


# --- passthru ------------------------------------------------------------------------------

def test_passthru_query_lists_the_hosts_gpus_as_free(cli, clones):
    vm, = clones(1)
    code, out, err = cli("--output", "json", "passthru", "--vm", vm, "--query")
    assert code == 0, err
    result = json.loads(out)["results"][0]
    assert result["host"] == HOST
    rows = {r["id"]: r for r in result["devices"]}
    assert set(rows) == {GPU1, GPU2}
    assert all(r["status"] == "free" and r["vendor"] == "NVIDIA Corporation" and "V100" in r["device"]
               for r in rows.values())
    code, out, _ = cli("passthru", "--vm", vm, "--query")
    assert code == 0 and GPU1 in out and "free" in out


def test_passthru_add_two_gpus_is_one_reconfigure_with_mmio_and_reservation(cli, clones, session, lab):
    vm, = clones(1)
    lab.reset_calls()
    code, out, err = cli("--output", "json", "passthru", "--vm", vm, "--add", "--device", GPU1.upper(), GPU2,
                         "--mmio_size", "128")
    assert code == 0, err
    assert lab.calls()["methods"].get("ReconfigVM_Task") == 1
    assert json.loads(out)["results"][0]["status"] == "changed"
    got = read_vm(session, vm)
    devs = passthrough_devices(got)
    assert sorted(d.backing.id for d in devs) == [GPU1, GPU2]
    system_id = got.get("host").get("hardware.systemInfo.uuid")
    for d in devs:
        assert d.backing.deviceId == "1db4" and d.backing.vendorId == 0x10de
        assert d.backing.systemId == system_id and "V100" in d.backing.deviceName
    assert extra(got)["pciPassthru.use64bitMMIO"] == "TRUE"
    assert extra(got)["pciPassthru.64bitMMIOSizeGB"] == "128"
    assert_full_memory_reservation(got)

    # Again: nothing to do, no reconfigure; the query says the devices are on this VM.
    lab.reset_calls()
    code, out, _ = cli("--output", "json", "passthru", "--vm", vm, "--add", "--device", GPU1, GPU2,
                       "--mmio_size", "128")
    assert code == 0 and json.loads(out)["results"][0]["status"] == "unchanged"
    assert "ReconfigVM_Task" not in lab.calls()["methods"]
    code, out, _ = cli("--output", "json", "passthru", "--vm", vm, "--query")
    assert {r["status"] for r in json.loads(out)["results"][0]["devices"]} == {"on this VM"}


def test_passthru_remove_takes_only_the_named_device(cli, clones, session):
    vm, = clones(1)
    assert cli("passthru", "--vm", vm, "--add", "--device", GPU1, GPU2)[0] == 0
    assert extra(read_vm(session, vm))["pciPassthru.64bitMMIOSizeGB"] == "256"   # the default
    code, out, err = cli("--output", "json", "passthru", "--vm", vm, "--remove", "--device", "0000:D8:00.0")
    assert code == 0, err
    assert [d.backing.id for d in passthrough_devices(read_vm(session, vm))] == [GPU1]
    code, out, _ = cli("--output", "json", "passthru", "--vm", vm, "--remove", "--device", GPU2)
    assert code == 0 and json.loads(out)["results"][0]["status"] == "unchanged"


def test_passthru_unknown_device_is_refused_naming_vm_host_and_offer(cli, clones, session):
    vm, = clones(1)
    code, out, err = cli("passthru", "--vm", vm, "--add", "--device", GPU1, "0000:3c:00.0")
    assert code == 2 and out == ""
    assert f"VM {vm} on host {HOST}" in err and "no PCI device 0000:3c:00.0" in err
    assert GPU1 in err and GPU2 in err and "nothing was changed" in err
    assert passthrough_devices(read_vm(session, vm)) == []


def test_passthru_sriov_pf_is_not_passthrough_enabled(cli, clones):
    vm, = clones(1)
    code, _, err = cli("passthru", "--vm", vm, "--add", "--device", PF)
    assert code == 2 and f"device {PF} is not enabled for passthrough" in err and HOST in err


def test_passthru_device_in_use_by_a_powered_on_vm_is_refused(cli, clones, session):
    holder, other = clones(2)
    assert cli("passthru", "--vm", holder, "--add", "--device", GPU1)[0] == 0
    assert cli("power", "--vm", holder, "--on")[0] == 0
    try:
        code, out, _ = cli("--output", "json", "passthru", "--vm", other, "--query")
        rows = {r["id"]: r for r in json.loads(out)["results"][0]["devices"]}
        assert rows[GPU1]["status"] == "in use" and rows[GPU1]["used_by"] == holder
        assert rows[GPU2]["status"] == "free"
        code, _, err = cli("passthru", "--vm", other, "--add", "--device", GPU1)
        assert code == 2 and f"device {GPU1} is in use by powered-on VM {holder}" in err
        assert passthrough_devices(read_vm(session, other)) == []
    finally:
        cli("power", "--vm", holder, "--off")


def test_passthru_file_refuses_everything_when_one_vm_cannot_be_served(cli, clones, session, tmp_path):
    a, b = clones(2)
    listing = tmp_path / "vms.txt"
    listing.write_text(f"{a}\n{b}\n")
    code, _, err = cli("passthru", "--file", listing, "--add", "--device", GPU1)
    assert code == 2 and "only one of them could power on" in err and "nothing was changed" in err
    assert passthrough_devices(read_vm(session, a)) == passthrough_devices(read_vm(session, b)) == []


@pytest.mark.parametrize("size,message", [("100", "power of two"), ("64", "at least 128 GB")])
def test_passthru_bad_mmio_size_is_refused(cli, clones, session, size, message):
    vm, = clones(1)
    code, _, err = cli("passthru", "--vm", vm, "--add", "--device", GPU1, GPU2, "--mmio_size", size)
    assert code == 2 and message in err
    got = read_vm(session, vm)
    assert passthrough_devices(got) == [] and "pciPassthru.64bitMMIOSizeGB" not in extra(got)


def test_passthru_refuses_a_large_bar_gpu_on_a_bios_vm(cli, clones, session):
    """A 32 GB V100 maps a 64 GB 64-bit MMIO window, which only EFI firmware places: vSphere powers such a
    BIOS VM on, but its guest cannot use the GPU. Refused before any change (it was a warning)."""
    vm, = clones(1)
    ref = read_vm(session, vm).ref
    wait_for_task(session, ref.ReconfigVM_Task(spec=vim.vm.ConfigSpec(firmware="bios")))
    for dynamic in ([], ["--dynamic", "--hardware_version", "17"]):
        code, out, err = cli("passthru", "--vm", vm, "--add", "--device", GPU1, *dynamic)
        assert code == 2 and "boots with BIOS firmware" in err and "64 GB 64-bit MMIO window" in err, err
        assert "only EFI firmware maps" in err and "nothing was changed" in err and "Traceback" not in err
    assert passthrough_devices(read_vm(session, vm)) == [] and read_vm(session, vm).get("config.version") == "vmx-13"


# --- vgpu ----------------------------------------------------------------------------------

def vgpus(vm):
    return [d.backing.vgpu for d in vm.get("config.hardware.device")
            if isinstance(d, vim.vm.device.VirtualPCIPassthrough)
            and isinstance(d.backing, vim.vm.device.VirtualPCIPassthrough.VmiopBackingInfo)]


def test_vgpu_query_add_remove(cli, clones, session, lab):
    vm, = clones(1)
    code, out, err = cli("--output", "json", "vgpu", "--vm", vm, "--query")
    assert code == 0, err
    profiles = [p["profile"] for p in json.loads(out)["results"][0]["profiles"]]
    assert "grid_v100-8q" in profiles and "grid_p100-4q" in profiles
    lab.reset_calls()
    code, out, err = cli("--output", "json", "vgpu", "--vm", vm, "--add", "--profile", "grid_v100-8q")
    assert code == 0, err
    assert lab.calls()["methods"].get("ReconfigVM_Task") == 1
    got = read_vm(session, vm)
    assert vgpus(got) == ["grid_v100-8q"]
    assert_full_memory_reservation(got)
    code, out, _ = cli("--output", "json", "vgpu", "--vm", vm, "--add", "--profile", "grid_v100-8q")
    assert json.loads(out)["results"][0]["status"] == "unchanged"
    assert cli("vgpu", "--vm", vm, "--remove")[0] == 0
    assert vgpus(read_vm(session, vm)) == []


def test_vgpu_query_shows_gpu_modes_and_room_and_add_warns_when_no_gpu_has_room(cli, clones, session):
    running, other = clones(2)
    assert cli("vgpu", "--vm", running, "--add", "--profile", "grid_p100-4q")[0] == 0
    assert cli("power", "--vm", running, "--on")[0] == 0
    try:
        code, out, err = cli("--output", "json", "vgpu", "--vm", other, "--query")
        assert code == 0, err
        row = json.loads(out)["results"][0]
        free = {p["profile"]: p["free"] for p in row["profiles"]}
        assert free["grid_p100-4q"] == 3 and free["grid_p100-16q"] == 0 and free["grid_v100-16q"] == 1
        gpus = {g["id"]: g for g in row["gpus"]}
        assert gpus["0000:86:00.0"]["mode"].startswith("shared direct") and gpus["0000:86:00.0"]["vgpu_vms"] == [running]
        assert gpus["0000:3b:00.0"]["mode"] == "passthrough" and gpus["0000:86:00.0"]["frame_buffer_gb"] == 16
        code, out, err = cli("--output", "json", "vgpu", "--vm", other, "--add", "--profile", "grid_p100-16q")
        assert code == 0, err
        warning, = json.loads(out)["results"][0]["warnings"]
        assert "serves grid_p100-4q" in warning and running in warning and "will not power on" in warning
        assert vgpus(read_vm(session, other)) == ["grid_p100-16q"]
    finally:
        cli("power", "--vm", running, "--off")


def test_vgpu_profile_not_offered_is_refused_before_any_change(cli, clones, session):
    vm, = clones(1)
    code, _, err = cli("vgpu", "--vm", vm, "--add", "--profile", "grid_a100-8c")
    assert code == 2 and f"VM {vm} on host {HOST}" in err and "grid_a100-8c is not offered" in err
    assert "grid_v100-8q" in err and "nothing was changed" in err
    got = read_vm(session, vm)
    assert vgpus(got) == [] and not got.get("config.memoryReservationLockedToMax")


# --- sriov ---------------------------------------------------------------------------------

def sriov_cards(vm):
    return [d for d in vm.get("config.hardware.device") if isinstance(d, vim.vm.device.VirtualSriovEthernetCard)]


def test_sriov_query_add_remove(cli, clones, session):
    vm, = clones(1)
    code, out, err = cli("--output", "json", "sriov", "--vm", vm, "--query")
    assert code == 0, err
    pf, = json.loads(out)["results"][0]["pfs"]
    assert pf["id"] == PF and pf["sriov_enabled"] is True and pf["pnic"] == "vmnic4"
    assert pf["virtual_functions"] == 8 and pf["free"] == 8 - pf["in_use"]
    code, out, err = cli("--output", "json", "sriov", "--vm", vm, "--add", "--sriov_port_group", "vHPC-PG-VMNetwork",
                         "--pf", PF.upper())
    assert code == 0, err
    got = read_vm(session, vm)
    card, = sriov_cards(got)
    backing = card.sriovBacking.physicalFunctionBacking
    assert backing.id == PF and backing.deviceId == "1013" and backing.vendorId == 0x15b3
    assert backing.systemId == got.get("host").get("hardware.systemInfo.uuid")
    assert card.backing.deviceName == "vHPC-PG-VMNetwork"
    assert_full_memory_reservation(got)
    code, out, _ = cli("--output", "json", "sriov", "--vm", vm, "--add", "--sriov_port_group", "vHPC-PG-VMNetwork",
                       "--pf", PF)
    assert json.loads(out)["results"][0]["status"] == "unchanged"
    assert cli("sriov", "--vm", vm, "--remove", "--sriov_port_group", "vHPC-PG-VMNetwork")[0] == 0
    assert sriov_cards(read_vm(session, vm)) == []


@pytest.mark.parametrize("pf,message", [(GPU1, f"has no SR-IOV physical function {GPU1}"),
                                        ("0000:5f:00.0", "has no PCI device 0000:5f:00.0")])
def test_sriov_bad_pf_is_refused(cli, clones, session, pf, message):
    vm, = clones(1)
    code, _, err = cli("sriov", "--vm", vm, "--add", "--sriov_port_group", "vHPC-PG-VMNetwork", "--pf", pf)
    assert code == 2 and message in err and f"{PF} (SR-IOV enabled, 8 VFs)" in err and HOST in err
    assert sriov_cards(read_vm(session, vm)) == []


def test_sriov_missing_port_group_is_refused(cli, clones):
    vm, = clones(1)
    code, _, err = cli("sriov", "--vm", vm, "--add", "--sriov_port_group", "no-such-pg", "--pf", PF)
    assert code == 2 and "port group 'no-such-pg' not found" in err and "nothing was changed" in err


def test_sriov_more_vms_than_free_vfs_is_refused_before_any_change(cli, clones, session, tmp_path):
    names = clones(9)
    listing = tmp_path / "nine.txt"
    listing.write_text("\n".join(names))
    code, _, err = cli("sriov", "--file", listing, "--add", "--sriov_port_group", "vHPC-PG-VMNetwork", "--pf", PF)
    assert code == 2 and f"VM {names[8]} on host {HOST}" in err and "no free virtual function (8 of 8 in use)" in err
    assert all(sriov_cards(read_vm(session, n)) == [] for n in names)


# --- pvrdma --------------------------------------------------------------------------------

@pytest.fixture
def dvs(cli, session):
    """A DVS with a port group on every host, its members prepared for PVRDMA; destroyed after the test
    (which undoes the preparation)."""
    name = f"rdma-{uuid.uuid4().hex[:6]}"
    hosts = [f"vhpc-esx-0{i}.hpc.vmware.com" for i in range(1, 9)]
    code, _, err = cli("dvs", "--create", "--name", name, "--host", *hosts, "--pnic", "vmnic5",
                       "--port_group", f"{name}-pg", "--pvrdma")
    assert code == 0, err
    yield name, f"{name}-pg"
    assert cli("dvs", "--destroy", "--name", name)[0] == 0


def vrdma_cards(vm):
    return [d for d in vm.get("config.hardware.device") if isinstance(d, vim.vm.device.VirtualVmxnet3Vrdma)]


def test_pvrdma_add_remove_on_a_distributed_port_group(cli, clones, session, dvs):
    vm, = clones(1)
    switch, pg = dvs
    code, out, err = cli("--output", "json", "pvrdma", "--vm", vm, "--add", "--pvrdma_port_group", pg,
                         "--dvs_name", switch)
    assert code == 0, out + err
    card, = vrdma_cards(read_vm(session, vm))
    assert isinstance(card.backing, vim.vm.device.VirtualEthernetCard.DistributedVirtualPortBackingInfo)
    inv = read_inventory(session, {"DistributedVirtualSwitch": ["uuid"], "DistributedVirtualPortgroup": ["key"]})
    assert card.backing.port.switchUuid == inv.find(("VmwareDistributedVirtualSwitch", "DistributedVirtualSwitch"),
                                                     switch).get("uuid")
    assert card.backing.port.portgroupKey == inv.find("DistributedVirtualPortgroup", pg).get("key")
    code, out, _ = cli("--output", "json", "pvrdma", "--vm", vm, "--add", "--pvrdma_port_group", pg)
    assert json.loads(out)["results"][0]["status"] == "unchanged"
    code, _, err = cli("power", "--vm", vm, "--on")   # the host is prepared: the lab lets it start
    assert code == 0, err
    assert cli("power", "--vm", vm, "--off")[0] == 0
    assert cli("pvrdma", "--vm", vm, "--remove", "--pvrdma_port_group", pg)[0] == 0
    assert vrdma_cards(read_vm(session, vm)) == []


def test_pvrdma_add_on_an_unprepared_host_says_how_to_prepare_it(cli, clones, session):
    vm, = clones(1)
    name = f"rdma-{uuid.uuid4().hex[:6]}"
    assert cli("dvs", "--create", "--name", name, "--host", HOST, "--pnic", "vmnic5", "--port_group", f"{name}-pg")[0] == 0
    try:
        code, _, err = cli("pvrdma", "--vm", vm, "--add", "--pvrdma_port_group", f"{name}-pg")
        assert code == 2, err
        line, = [x for x in err.splitlines() if "not prepared for PVRDMA" in x]
        assert HOST in line and "Net.PVRDMAVmknic is empty" in line and "firewall ruleset pvrdma is disabled" in line
        assert f"dvs --create --name {name} --host {HOST} --pnic vmnic5 --port_group {name}-pg --pvrdma" in line
        assert vrdma_cards(read_vm(session, vm)) == []
    finally:
        cli("dvs", "--destroy", "--name", name)


def test_pvrdma_host_not_a_member_of_the_dvs_is_refused(cli, clones, session):
    vm, = clones(1)
    name = f"rdma-{uuid.uuid4().hex[:6]}"
    other = "vhpc-esx-08.hpc.vmware.com"
    assert cli("dvs", "--create", "--name", name, "--host", other, "--pnic", "vmnic5", "--port_group", f"{name}-pg")[0] == 0
    try:
        code, _, err = cli("pvrdma", "--vm", vm, "--add", "--pvrdma_port_group", f"{name}-pg", "--dvs_name", name)
        assert code == 2 and f"VM {vm}: host {HOST} is not a member of distributed switch {name}" in err
        assert other in err and "nothing was changed" in err
        assert vrdma_cards(read_vm(session, vm)) == []
    finally:
        drop_portgroups(session, name)
        cli("dvs", "--destroy", "--name", name)


def test_pvrdma_on_a_standard_port_group_is_refused(cli, clones, session):
    vm, = clones(1)
    code, _, err = cli("pvrdma", "--vm", vm, "--add", "--pvrdma_port_group", "vHPC-PG-VMNetwork")
    assert code == 2 and "needs a distributed port group" in err
    code, _, err = cli("pvrdma", "--vm", vm, "--add", "--pvrdma_port_group", "x", "--dvs_name", "no-such-dvs")
    assert code == 2 and "distributed switch 'no-such-dvs' not found" in err
    assert vrdma_cards(read_vm(session, vm)) == []


def create_vmx11(session, name: str, host: str):
    """A VM of hardware version 11 (below PVRDMA's 13) on ``host``, made directly with pyVmomi."""
    inv = read_inventory(session, {"HostSystem": [], "Datacenter": ["vmFolder"],
                                    "ClusterComputeResource": ["resourcePool"]})
    config = vim.vm.ConfigSpec(name=name, version="vmx-11", guestId="otherLinux64Guest", memoryMB=512,
                               files=vim.vm.FileInfo(vmPathName="[COMPUTE01_vsanDatastore]"))
    return wait_for_task(session, inv.find("Datacenter", "HPC_Datacenter").get("vmFolder").CreateVM_Task(
        config=config, pool=inv.find("ClusterComputeResource", "COMPUTE_GPU_Cluster").get("resourcePool"),
        host=inv.find("HostSystem", host).ref))


def test_pvrdma_on_a_vm_below_hardware_version_13_is_refused(cli, session, dvs):
    name = f"d-old-{uuid.uuid4().hex[:6]}"
    vm = create_vmx11(session, name, HOST)
    try:
        code, _, err = cli("pvrdma", "--vm", name, "--add", "--pvrdma_port_group", dvs[1])
        assert code == 2 and f"VM {name}: PVRDMA needs virtual hardware version 13 or later; the VM is vmx-11" in err
        assert vrdma_cards(read_vm(session, name)) == []
    finally:
        wait_for_task(session, vm.Destroy_Task())
