"""`cluster --create/--destroy` with fabrics and accelerators: PVRDMA host preparation and its undo,
uplinks in use, switch versions, fixed port groups, vGPU capacity per GPU, Dynamic DirectPath holders,
the EFI warning. Every refusal happens before any change; what changed is read back with pyVmomi."""
from __future__ import annotations

import json
import uuid

import pytest
from pyVmomi import vim

from tests.integration.test_cluster import BASE, vms_named
from tests.integration.test_devices import create_vmx11
from tests.integration.test_switches import pvrdma_state, vmk_addresses
from vhpc_toolkit.vsphere.inventory import read_inventory
from vhpc_toolkit.vsphere.tasks import wait_for_task

H = "vhpc-esx-0{}.hpc.vmware.com".format


def dvs_of(session, name):
    inv = read_inventory(session, {"DistributedVirtualSwitch": ["uuid", "summary.productInfo"]})
    return next((o for o in inv.of_type("VmwareDistributedVirtualSwitch", "DistributedVirtualSwitch")
                 if o.name == name), None)


def lines_with(err, *words):
    return [x for x in err.splitlines() if all(w in x for w in words)]


def test_pvrdma_file_prepares_its_hosts_and_destroy_undoes_it(cli, cluster_file, session):
    path, pfx = cluster_file(BASE + """
[RDMA]
pvrdma_port_group: PFX-pg
dvs_name: PFX-dvs

[_DVS_]
PFX-dvs: host: vhpc-esx-0{2:3}.hpc.vmware.com pnic: vmnic5 port_group: PFX-pg

[_VMS_]
PFX-{1:2}: BASE RDMA host: vhpc-esx-0{2:3}.hpc.vmware.com
""")
    for host in (H(2), H(3)):
        assert pvrdma_state(session, host) == ({}, "", False)
    code, out, err = cli("--output", "json", "cluster", "--create", "--file", path)
    assert code == 0, err
    doc = json.loads(out)
    switch, = doc["switches"]
    assert switch["pvrdma_hosts"] == [H(2), H(3)] and "prepared 2 hosts for PVRDMA" in switch["detail"]
    uuid_ = dvs_of(session, f"{pfx}-dvs").get("uuid")
    for host in (H(2), H(3)):
        vnics, tag, ruleset = pvrdma_state(session, host)
        assert vnics.get(tag) == uuid_ and ruleset is True
    assert {v["name"]: v["status"] for v in doc["vms"]} == {f"{pfx}-1": "created", f"{pfx}-2": "created"}
    assert all(v["runtime.powerState"] == "poweredOn" for v in vms_named(session, pfx).values())
    # Prepared hosts are part of "up to date".
    code, out, _ = cli("cluster", "--create", "--file", path)
    assert code == 0 and ": up to date (" in out
    code, out, err = cli("--output", "json", "cluster", "--destroy", "--file", path)
    assert code == 0, err
    assert "undid the PVRDMA preparation of 2 hosts" in json.loads(out)["switches"][0]["detail"]
    for host in (H(2), H(3)):
        assert pvrdma_state(session, host) == ({}, "", False)
    assert dvs_of(session, f"{pfx}-dvs") is None


def test_pvrdma_adapters_take_the_files_static_addresses(cli, cluster_file, session):
    """A fabric without DHCP: vmk_ip gives each host's PVRDMA VMkernel adapter its address; a changed
    address is given to the existing adapter, and --destroy takes everything back."""
    text = BASE + """
[RDMA]
pvrdma_port_group: PFX-pg
dvs_name: PFX-dvs

[_DVS_]
PFX-dvs: host: vhpc-esx-0{2:3}.hpc.vmware.com pnic: vmnic5 port_group: PFX-pg vmk_ip: 10.66.0.{12:13} vmk_netmask: 255.255.0.0

[_VMS_]
PFX-1: BASE RDMA host: vhpc-esx-02.hpc.vmware.com
"""
    path, pfx = cluster_file(text)
    code, out, err = cli("cluster", "--create", "--file", path)
    assert code == 0 and "at 10.66.0.12/255.255.0.0" in out and "at 10.66.0.13/255.255.0.0" in out, out + err
    uuid_ = dvs_of(session, f"{pfx}-dvs").get("uuid")
    assert vmk_addresses(session, H(2), uuid_) == [(False, "10.66.0.12", "255.255.0.0")]
    assert vmk_addresses(session, H(3), uuid_) == [(False, "10.66.0.13", "255.255.0.0")]
    with open(path, "w") as f:
        f.write(text.replace("PFX", pfx).replace("10.66.0.{12:13}", "['10.66.0.12', '10.66.0.23']"))
    code, out, err = cli("cluster", "--create", "--file", path)
    assert code == 0 and "address 10.66.0.23/255.255.0.0 on vmk" in out, out + err
    assert vmk_addresses(session, H(3), uuid_) == [(False, "10.66.0.23", "255.255.0.0")]
    code, out, err = cli("cluster", "--destroy", "--file", path)
    assert code == 0, err
    for host in (H(2), H(3)):
        assert pvrdma_state(session, host) == ({}, "", False)


def test_pvrdma_switch_with_two_uplinks_is_refused_before_any_change(cli, cluster_file, session):
    path, pfx = cluster_file(BASE + """
[_DVS_]
PFX-dvs: host: vhpc-esx-02.hpc.vmware.com pnic: ['vmnic5', 'vmnic3'] port_group: PFX-pg

[_VMS_]
PFX-1: BASE host: vhpc-esx-02.hpc.vmware.com pvrdma_port_group: PFX-pg
""")
    code, _, err = cli("cluster", "--create", "--file", path)
    line, = lines_with(err, "only uplink")
    assert code == 2 and f"{path}:" in line and "NIC teaming" in line and "nothing was changed" in err
    assert dvs_of(session, f"{pfx}-dvs") is None and vms_named(session, pfx) == {}


def test_switch_uplinks_in_use_and_versions_are_checked_before_any_change(cli, cluster_file, session):
    path, pfx = cluster_file(BASE + """
[_SVS_]
PFX-svs: host: vhpc-esx-0{2:3}.hpc.vmware.com pnic: vmnic0 port_group: PFX-pg

[_DVS_]
PFX-dvs: host: vhpc-esx-0{3:4}.hpc.vmware.com pnic: vmnic2 port_group: PFX-dpg
PFX-dvs2: host: vhpc-esx-04.hpc.vmware.com pnic: vmnic2 port_group: PFX-dpg2

[_VMS_]
PFX-1: BASE host: vhpc-esx-02.hpc.vmware.com
""")
    code, _, err = cli("cluster", "--create", "--file", path)
    assert code == 2 and "nothing was changed" in err
    assert len(lines_with(err, "vmnic0", "already the uplink of standard switch vSwitch0")) == 2
    assert lines_with(err, f"{pfx}-dvs2", "vmnic2", H(4), f"also the uplink of switch {pfx}-dvs")
    assert dvs_of(session, f"{pfx}-dvs") is None and vms_named(session, pfx) == {}
    # A switch over an ESXi 6.7 and a 7.0 host is created at 6.6.0, the version both run.
    path, pfx = cluster_file(BASE + """
[_DVS_]
PFX-dvs: host: vhpc-esx-0{1:2}.hpc.vmware.com pnic: vmnic2 port_group: PFX-pg

[_VMS_]
PFX-1: BASE host: vhpc-esx-02.hpc.vmware.com port_group: PFX-pg
""", name="v.conf")
    code, _, err = cli("cluster", "--create", "--file", path)
    assert code == 0, err
    assert dvs_of(session, f"{pfx}-dvs").get("summary.productInfo").version == "6.6.0"


def test_fixed_port_group_that_would_run_out_is_refused(cli, cluster_file, session):
    name = f"fx-{uuid.uuid4().hex[:6]}"
    assert cli("dvs", "--create", "--name", name, "--host", H(4), "--pnic", "vmnic3", "--port_group",
               f"{name}-pg", "--fixed_ports", "2")[0] == 0
    try:
        path, pfx = cluster_file(BASE + f"[_VMS_]\nPFX-{{1:3}}: BASE host: vhpc-esx-04.hpc.vmware.com "
                                        f"port_group: {name}-pg\n")
        code, _, err = cli("cluster", "--create", "--file", path)
        assert code == 2 and lines_with(err, f"{name}-pg", "2 fixed ports", "need 3 more")
        assert vms_named(session, pfx) == {}
    finally:
        cli("dvs", "--destroy", "--name", name)


def test_vmkernel_adapters_hold_ports_of_a_fixed_port_group(cli, cluster_file, session):
    """A VMkernel adapter on a static-binding port group takes a port as a VM adapter does: two VMs do not
    fit in 2 fixed ports when a host's VMkernel adapter holds one."""
    name = f"fk-{uuid.uuid4().hex[:6]}"
    assert cli("dvs", "--create", "--name", name, "--host", H(4), "--pnic", "vmnic3", "--port_group",
               f"{name}-pg", "--fixed_ports", "2")[0] == 0
    switch = dvs_of(session, name)
    inv = read_inventory(session, {"HostSystem": ["configManager.networkSystem"],
                                    "DistributedVirtualPortgroup": ["key"]})
    network = inv.find("HostSystem", H(4)).get("configManager.networkSystem")
    key = inv.find("DistributedVirtualPortgroup", f"{name}-pg").get("key")
    vmk = network.AddVirtualNic(portgroup="", nic=vim.host.VirtualNic.Specification(
        ip=vim.host.IpConfig(dhcp=True),
        distributedVirtualPort=vim.dvs.PortConnection(switchUuid=switch.get("uuid"), portgroupKey=key)))
    try:
        path, pfx = cluster_file(BASE + f"[_VMS_]\nPFX-{{1:2}}: BASE host: vhpc-esx-04.hpc.vmware.com "
                                        f"port_group: {name}-pg\n")
        code, _, err = cli("cluster", "--create", "--file", path)
        assert code == 2 and lines_with(err, f"{name}-pg", "2 fixed ports, 1 taken", "need 2 more"), err
        assert vms_named(session, pfx) == {}
    finally:
        network.RemoveVirtualNic(device=vmk)
        cli("dvs", "--destroy", "--name", name)


def test_vgpu_capacity_per_physical_gpu_counts_the_files_own_vms(cli, cluster_file, session):
    # A 16 GB P100 holds four grid_p100-4q: the fifth on the same host does not fit.
    path, pfx = cluster_file(BASE + "[_VMS_]\nPFX-{1:5}: BASE host: vhpc-esx-06.hpc.vmware.com "
                                    "vgpu: grid_p100-4q\n")
    code, _, err = cli("cluster", "--create", "--file", path)
    line, = lines_with(err, f"{pfx}-5", "grid_p100-4q")
    assert code == 2 and "0000:86:00.0" in line and "is full: 4 of 4 grid_p100-4q" in line
    assert not lines_with(err, f"{pfx}-4 ")
    # Two profiles on the host's one P100: the second is refused (one profile per GPU).
    path, pfx = cluster_file(BASE + "[_VMS_]\nPFX-a: BASE host: vhpc-esx-06.hpc.vmware.com vgpu: grid_p100-4q\n"
                                    "PFX-b: BASE host: vhpc-esx-06.hpc.vmware.com vgpu: grid_p100-8q\n", name="m.conf")
    code, _, err = cli("cluster", "--create", "--file", path)
    line, = lines_with(err, f"{pfx}-b", "grid_p100-8q")
    assert code == 2 and "serves grid_p100-4q" in line and "one profile at a time" in line
    # A host without a P100 offers no grid_p100 profile, and says what its GPUs are.
    path, pfx = cluster_file(BASE + "[_VMS_]\nPFX-c: BASE host: vhpc-esx-02.hpc.vmware.com vgpu: grid_p100-4q\n",
                             name="n.conf")
    code, _, err = cli("cluster", "--create", "--file", path)
    line, = lines_with(err, f"{pfx}-c")
    assert code == 2 and "not offered" in line and "0000:5e:00.0 V100 16 GB, shared direct" in line
    assert vms_named(session, pfx) == {}


def test_vgpu_capacity_counts_running_vms(cli, cluster_file, session):
    path, pfx = cluster_file(BASE + "[_VMS_]\nPFX-run: BASE host: vhpc-esx-07.hpc.vmware.com vgpu: grid_p100-8q\n")
    assert cli("cluster", "--create", "--file", path)[0] == 0
    more, pfx2 = cluster_file(BASE + "[_VMS_]\nPFX-{1:2}: BASE host: vhpc-esx-07.hpc.vmware.com "
                                     "vgpu: grid_p100-8q\nPFX-off: BASE host: vhpc-esx-07.hpc.vmware.com "
                                     "vgpu: grid_p100-8q power: off\n", name="more.conf")
    code, _, err = cli("cluster", "--create", "--file", more)
    line, = lines_with(err, f"{pfx2}-2")
    assert code == 2 and f"{pfx}-run, {pfx2}-1" in line and "is full: 2 of 2" in line
    assert not lines_with(err, f"{pfx2}-off")   # a powered-off VM takes no vGPU slot


@pytest.fixture
def dynamic_vm(session):
    """A powered-on VM on host 03 whose Dynamic DirectPath device (any V100) vSphere assigned at power-on."""
    inv = read_inventory(session, {"VirtualMachine": [], "HostSystem": [], "Datacenter": ["vmFolder"],
                                    "ClusterComputeResource": ["resourcePool"]})
    tmpl = inv.find("VirtualMachine", "vhpc_clone")
    dev = vim.vm.device.VirtualPCIPassthrough(key=-1, backing=vim.vm.device.VirtualPCIPassthrough.DynamicBackingInfo(
        allowedDevice=[vim.vm.device.VirtualPCIPassthrough.AllowedDevice(vendorId=0x10de, deviceId=0x1db4)]))
    config = vim.vm.ConfigSpec(memoryMB=1024, memoryReservationLockedToMax=True,
                               deviceChange=[vim.vm.device.VirtualDeviceSpec(operation="add", device=dev)])
    spec = vim.vm.CloneSpec(location=vim.vm.RelocateSpec(
        host=inv.find("HostSystem", H(3)).ref,
        pool=inv.find("ClusterComputeResource", "COMPUTE_GPU_Cluster").get("resourcePool")))
    name = f"dyn-{uuid.uuid4().hex[:6]}"
    vm = wait_for_task(session, tmpl.ref.CloneVM_Task(folder=inv.find("Datacenter", "HPC_Datacenter").get("vmFolder"),
                                                    name=name, spec=spec))
    wait_for_task(session, vm.UpgradeVM_Task(version="vmx-17"))   # Dynamic DirectPath needs vmx-17
    wait_for_task(session, vm.ReconfigVM_Task(spec=config))
    wait_for_task(session, vm.PowerOnVM_Task())
    yield name, vm
    wait_for_task(session, vm.PowerOffVM_Task())
    wait_for_task(session, vm.Destroy_Task())


def test_devices_held_by_dynamic_directpath_vms_are_in_use(cli, cluster_file, session, dynamic_vm):
    name, vm = dynamic_vm
    assigned = next(d.backing.assignedId for d in vm.config.hardware.device
                    if isinstance(d.backing, vim.vm.device.VirtualPCIPassthrough.DynamicBackingInfo))
    assert assigned == "0000:3b:00.0"
    path, pfx = cluster_file(BASE + f"[_VMS_]\nPFX-1: BASE host: vhpc-esx-03.hpc.vmware.com "
                                    f"device: ['{assigned}']\n")
    code, _, err = cli("cluster", "--create", "--file", path)
    assert code == 2 and lines_with(err, f"{pfx}-1", assigned, f"in use by powered-on VM {name}")
    assert vms_named(session, pfx) == {}


def test_a_large_bar_gpu_on_a_bios_template_is_refused(cli, cluster_file, session):
    inv = read_inventory(session, {"VirtualMachine": [], "HostSystem": [], "Datacenter": ["vmFolder"],
                                    "ClusterComputeResource": ["resourcePool"]})
    name = f"bios-{uuid.uuid4().hex[:6]}"
    spec = vim.vm.CloneSpec(location=vim.vm.RelocateSpec(
        pool=inv.find("ClusterComputeResource", "COMPUTE_GPU_Cluster").get("resourcePool")),
        config=vim.vm.ConfigSpec(firmware="bios"), powerOn=False)
    base = wait_for_task(session, inv.find("VirtualMachine", "vhpc_clone").ref.CloneVM_Task(
        folder=inv.find("Datacenter", "HPC_Datacenter").get("vmFolder"), name=name, spec=spec))
    try:
        path, pfx = cluster_file(BASE.replace("template: vhpc_clone", f"template: {name}") +
                                 "[_VMS_]\nPFX-1: BASE host: vhpc-esx-04.hpc.vmware.com device: ['0000:d8:00.0']\n")
        code, out, err = cli("cluster", "--create", "--file", path)
        line, = lines_with(err, f"VM {pfx}-1 boots with BIOS firmware")
        assert code == 2 and f"{path}:" in line and "64 GB 64-bit MMIO window" in line and "EFI" in line, err
        assert "nothing was changed" in err and vms_named(session, pfx) == {}
    finally:
        wait_for_task(session, base.Destroy_Task())


def test_pvrdma_from_a_template_below_hardware_version_13_is_refused(cli, cluster_file, session):
    name = f"old-{uuid.uuid4().hex[:6]}"
    old = create_vmx11(session, name, H(2))
    try:
        path, pfx = cluster_file(BASE.replace("template: vhpc_clone", f"template: {name}") + """
[_DVS_]
PFX-dvs: host: vhpc-esx-02.hpc.vmware.com pnic: vmnic5 port_group: PFX-pg

[_VMS_]
PFX-1: BASE host: vhpc-esx-02.hpc.vmware.com pvrdma_port_group: PFX-pg
""")
        code, _, err = cli("cluster", "--create", "--file", path)
        line, = lines_with(err, "hardware version")
        assert code == 2 and f"{path}:" in line and f"template {name} is vmx-11" in line
        assert dvs_of(session, f"{pfx}-dvs") is None
    finally:
        wait_for_task(session, old.Destroy_Task())
