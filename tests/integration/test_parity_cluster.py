"""The original 1.0.3's cluster-file keys on the lab, read back with pyVmomi, and its example files:
cores_per_socket, secure_boot, instant, sequence (both barrier spellings), sriov_dvs_name and svs_name
(several SR-IOV adapters per VM), allow_guest_mtu_change, dynamic, mtu on _SVS_/_DVS_ lines, a _DVS_
line without a port group; 1.0.3's cluster-simple.conf run from a bin/ folder; its RHEL demo planned."""
from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import pytest
from pyVmomi import vim

from tests.reference import CLUSTER_SCRIPTS, RELEASE_103
from vhpc_toolkit.vsphere.inventory import read_inventory

HOST, HOST_B = "vhpc-esx-02.hpc.vmware.com", "vhpc-esx-04.hpc.vmware.com"
DYNAMIC = vim.vm.device.VirtualPCIPassthrough.DynamicBackingInfo


def props(session, prefix):
    inv = read_inventory(session, {"VirtualMachine": [], "HostSystem": [], "DistributedVirtualSwitch": ["uuid"]})
    return inv, {o.name: o.ref for o in inv.of_type("VirtualMachine") if o.name.startswith(prefix)}


@pytest.fixture
def source(cli):
    """A running VM without devices, the source of instant clones."""
    name = f"ics{uuid.uuid4().hex[:6]}"
    assert cli("clone", "--template", "vhpc_clone", "--vm", name, "--host", HOST)[0] == 0
    assert cli("power", "--vm", name, "--on")[0] == 0
    yield name
    cli("destroy", "--vm", name)


def test_the_103_keys(cli, session, tmp_path, source):
    pfx = f"k{uuid.uuid4().hex[:6]}"
    (tmp_path / "one.sh").write_text("#!/bin/sh\necho one > /tmp/one\n")
    (tmp_path / "two.sh").write_text("#!/bin/sh\necho two\n")
    path = tmp_path / "c.conf"
    path.write_text(f"""
[BASE]
template: vhpc_clone
cpu: 4
cores_per_socket: 2
memory: 4
datacenter: HPC_Datacenter
cluster: COMPUTE_GPU_Cluster
host: {HOST}
secure_boot: yes

[TWO-FABRICS]
sriov_port_group: {pfx}-pg1
pf: 0000:af:00.0
sriov_dvs_name: {pfx}-dvs1
sriov_port_group: {pfx}-pg2
pf: 0000:af:00.0
sriov_dvs_name: {pfx}-dvs2

[LOGIN]
guest_username: root
guest_password: VMware1!

[_SVS_]
{pfx}-svs: host: {HOST} pnic: vmnic4 port_group: {pfx}-spg mtu: 9000

[_DVS_]
{pfx}-dvs1: host: {HOST} pnic: vmnic2 port_group: {pfx}-pg1 mtu: 9000
{pfx}-dvs2: host: {HOST} pnic: vmnic3 port_group: {pfx}-pg2
{pfx}-dvs3: host: {HOST} pnic: vmnic5

[_VMS_]
{pfx}-two: BASE TWO-FABRICS LOGIN script: {tmp_path}/one.sh barrier:0
{pfx}-svs: BASE LOGIN sriov_port_group: {pfx}-spg pf: 0000:af:00.0 svs_name: {pfx}-svs allow_guest_mtu_change: no script: {tmp_path}/two.sh sequence: 1
{pfx}-dyn: BASE device: ['0000:3b:00.0', '0000:d8:00.0'] dynamic: yes hardware_version: 17 power: off
{pfx}-ic: template: {source} instant: yes cluster: COMPUTE_GPU_Cluster datacenter: HPC_Datacenter
""")
    try:
        code, out, err = cli("--output", "json", "cluster", "--create", "--file", path)
        assert code == 0, err + out
        doc = json.loads(out)
        assert {v["name"]: v["status"] for v in doc["vms"]} == {f"{pfx}-{n}": "created"
                                                               for n in ("two", "svs", "dyn", "ic")}
        assert [(Path(r["path"]).name, r["barrier"], r["status"]) for r in doc["post"]["results"]] == [
            ("one.sh", 0, "ok"), ("two.sh", 1, "ok")]
        inv, vms = props(session, pfx)
        switches = {o.get("uuid"): o for o in inv.of_type("VmwareDistributedVirtualSwitch", "DistributedVirtualSwitch")}
        for name in ("two", "svs", "dyn"):
            config = vms[f"{pfx}-{name}"].config
            assert config.hardware.numCoresPerSocket == 2 and config.bootOptions.efiSecureBootEnabled is True
        cards = [d for d in vms[f"{pfx}-two"].config.hardware.device
                 if isinstance(d, vim.vm.device.VirtualSriovEthernetCard)]
        assert sorted(switches[c.backing.port.switchUuid].name for c in cards) == [f"{pfx}-dvs1", f"{pfx}-dvs2"]
        [card] = [d for d in vms[f"{pfx}-svs"].config.hardware.device
                  if isinstance(d, vim.vm.device.VirtualSriovEthernetCard)]
        assert card.backing.deviceName == f"{pfx}-spg" and card.allowGuestOSMtuChange is False
        dynamic = [d for d in vms[f"{pfx}-dyn"].config.hardware.device if isinstance(d.backing, DYNAMIC)]
        assert len(dynamic) == 2 and vms[f"{pfx}-dyn"].config.memoryReservationLockedToMax is True
        assert vms[f"{pfx}-dyn"].config.version == "vmx-17"
        ic = vms[f"{pfx}-ic"]
        assert ic.runtime.powerState == "poweredOn" and ic.runtime.host.name == HOST   # its source's host
        host = inv.find("HostSystem", HOST).ref
        assert next(v for v in host.config.network.vswitch if v.name == f"{pfx}-svs").mtu == 9000
        dvs1 = next(o for o in switches.values() if o.name == f"{pfx}-dvs1")
        assert dvs1.ref.config.maxMtu == 9000
        assert any(o.name == f"{pfx}-dvs3" for o in switches.values())

        code, out, err = cli("cluster", "--create", "--file", path)
        assert code == 0 and ": up to date (" in out, err + out
        path.write_text(path.read_text().replace("mtu: 9000\n\n[_DVS_]", "mtu: 1500\n\n[_DVS_]"))
        code, _, err = cli("cluster", "--create", "--file", path)
        assert code == 2 and f"{path}:" in err and "MTU 9000" in err and "Traceback" not in err
    finally:
        path.write_text(path.read_text().replace("mtu: 1500", "mtu: 9000"))
        code, out, err = cli("cluster", "--destroy", "--file", path)
        assert code == 0, err
    assert props(session, pfx)[1] == {}


def test_instant_and_secure_boot_are_checked_first(cli, session, tmp_path):
    pfx = f"q{uuid.uuid4().hex[:6]}"
    path = tmp_path / "c.conf"
    path.write_text(f"[_VMS_]\n{pfx}-ic: template: vhpc_clone instant: yes host: {HOST}\n"
                    f"{pfx}-2: template: vhpc_clone host: {HOST} sriov_port_group: a pf: 0000:af:00.0 "
                    "sriov_port_group: b\n")
    code, _, err = cli("cluster", "--create", "--file", path)
    assert code == 2 and f"{path}:3:" in err and "2 sriov_port_group but 1 pf" in err
    path.write_text(f"[_VMS_]\n{pfx}-ic: template: vhpc_clone instant: yes host: {HOST}\n")
    code, _, err = cli("cluster", "--create", "--file", path)
    assert code == 2 and "vhpc_clone is a template" in err and "nothing was changed" in err
    assert props(session, pfx)[1] == {}


EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def owner_of(vm) -> str | None:
    return next((o.value for o in vm.config.extraConfig or [] if o.key == "vhpc_toolkit.owner"), None)


def test_instant_clones_run_on_their_sources_host_and_carry_the_files_mark(cli, session, tmp_path):
    """InstantClone_Task forks on the source's host (the lab refuses another); the planner puts the clones
    there and says so; a pinned other host is refused before any change; the clones carry their own
    file's owner mark, not the one the source (made by another file) has in its extraConfig."""
    pfx = f"i{uuid.uuid4().hex[:6]}"
    golden, workers = tmp_path / "golden.conf", tmp_path / "workers.conf"
    golden.write_text(f"[_VMS_]\n{pfx}-src: template: vhpc_clone datacenter: HPC_Datacenter "
                      f"cluster: COMPUTE_GPU_Cluster host: {HOST_B}\n")
    base = f"template: {pfx}-src instant: yes datacenter: HPC_Datacenter cluster: COMPUTE_GPU_Cluster"
    try:
        assert cli("cluster", "--create", "--file", golden)[0] == 0
        workers.write_text(f"[_VMS_]\n{pfx}-w{{1:2}}: {base} host: {HOST}\n")
        code, _, err = cli("cluster", "--create", "--file", workers)
        assert code == 2 and f"{workers}:2:" in err and "runs on its source's host" in err and HOST_B in err
        assert "nothing was changed" in err
        workers.write_text(f"[_VMS_]\n{pfx}-w{{1:2}}: {base}\n")
        code, out, err = cli("cluster", "--create", "--file", workers)
        assert code == 0 and f"instant clone of {pfx}-src, on its host" in out, err + out
        inv, vms = props(session, pfx)
        src_mark, mark = owner_of(vms[f"{pfx}-src"]), owner_of(vms[f"{pfx}-w1"])
        assert json.loads(src_mark)["cluster"] == "golden" and json.loads(mark)["cluster"] == "workers"
        assert all(vms[f"{pfx}-w{i}"].runtime.host.name == HOST_B for i in (1, 2))
        code, out, err = cli("cluster", "--create", "--file", workers)   # its own VMs, not another file's
        assert code == 0 and ": up to date (" in out, err + out
    finally:
        code, _, err = cli("cluster", "--destroy", "--file", workers)
        assert code == 0, err
        assert cli("cluster", "--destroy", "--file", golden)[0] == 0
    assert props(session, pfx)[1] == {}


def test_the_instant_example_runs_unmodified(cli, session):
    """examples/cluster-scripts/cluster-instant.conf, as its comment says: golden-vm running on
    vhpc-esx-05, four workers forked beside it, the post script on each."""
    path = EXAMPLES / "cluster-scripts" / "cluster-instant.conf"
    assert cli("clone", "--template", "vhpc_clone", "--vm", "golden-vm", "--host", "vhpc-esx-05.hpc.vmware.com")[0] == 0
    try:
        assert cli("power", "--vm", "golden-vm", "--on")[0] == 0
        code, out, err = cli("--output", "json", "cluster", "--create", "--file", path)
        assert code == 0, err + out
        doc = json.loads(out)
        assert {v["name"]: (v["status"], v["host"]) for v in doc["vms"]} == {
            f"worker{i}": ("created", "vhpc-esx-05.hpc.vmware.com") for i in range(1, 5)}
        assert [r["status"] for r in doc["post"]["results"]] == ["ok"] * 4
    finally:
        assert cli("cluster", "--destroy", "--file", path)[0] == 0
        cli("destroy", "--vm", "golden-vm")


@pytest.mark.skipif(not RELEASE_103.is_dir(), reason="../shared/reference not beside the repository")
@pytest.mark.parametrize("release", ["1.0.3", "2021"])
def test_simple_file_runs_from_a_bin_folder(cli, tmp_path, monkeypatch, release):
    """The original's users ran the toolkit from bin/ and wrote ../examples/post-scripts/...: relative to
    the working directory. 1.0.3's file with its own examples folder; the 2021 file (barrier:N) beside
    this repository's examples folder, whose post-scripts have the names it uses."""
    (tmp_path / "bin").mkdir()
    if release == "1.0.3":
        (tmp_path / "examples").symlink_to(RELEASE_103 / "examples")
        path, barriers = "../examples/cluster-scripts/cluster-simple.conf", (1, 1)
    else:
        (tmp_path / "examples").mkdir()
        (tmp_path / "examples" / "post-scripts").symlink_to(EXAMPLES / "post-scripts")
        path, barriers = str(CLUSTER_SCRIPTS / "cluster-simple.conf"), (0, 1)
    monkeypatch.chdir(tmp_path / "bin")
    try:
        code, out, err = cli("--output", "json", "cluster", "--create", "--file", path)
        assert code == 0, err + out
        doc = json.loads(out)
        assert {v["name"]: (v["host"], v["status"]) for v in doc["vms"]} == {
            "vhpc_vm01": ("vhpc-esx-01.hpc.vmware.com", "created"),
            "vhpc_vm02": ("vhpc-esx-01.hpc.vmware.com", "created")}
        assert sorted((r["vm"], Path(r["path"]).name, r["barrier"], r["status"]) for r in doc["post"]["results"]) == [
            ("vhpc_vm01", "hello_world1.sh", barriers[0], "ok"), ("vhpc_vm02", "hello_world2.sh", barriers[1], "ok")]
    finally:
        assert cli("cluster", "--destroy", "--file", path)[0] == 0


@pytest.mark.skipif(not RELEASE_103.is_dir(), reason="../shared/reference not beside the repository")
def test_103_rhel_demo_plans_once_its_placeholders_are_filled(run_cli, tmp_path):
    text = (RELEASE_103 / "examples" / "cluster-scripts" / "rhel-hpc-demo-cluster.conf").read_text()
    filled = re.sub(r"\$\{(\w+)\}", lambda m: {"your_net_mask": "255.255.255.0", "your_gateway_ip": "192.168.1.254",
                                                "guest_OS_root_password": "secret"}.get(m.group(1), "site-value"),
                    text.replace("# Please replace the ${varaible}", "# Please replace the variables"))
    path = tmp_path / "rhel.conf"
    path.write_text(filled)
    code, out, err = run_cli("--output", "json", "cluster", "--plan", "--file", path)
    assert code == 0, err
    doc = json.loads(out)
    assert [v["name"] for v in doc["vms"]] == ["rhel-hpc-demo-head"] + [f"rhel-hpc-demo-compute00{i}" for i in range(1, 5)]
    compute = doc["vms"][1]
    assert (compute["cpu"], compute["cores_per_socket"], compute["secure_boot"]) == (44, 22, False)
    assert compute["sriov_dvs_name"] == ["rhel-hpc-demo-IB-SRIOV-DVS"] and compute["host"] == "host-name-list-1001.domain.name"
    assert [d["name"] for d in doc["dvs"]] == ["rhel-hpc-demo-management", "rhel-hpc-demo-IB-SRIOV-DVS"]
    assert doc["dvs"][0]["port_group"] is None
    assert any("rhel-hpc-demo-frontend.sh" in n for n in doc["notes"])   # its script path is a real site's
    assert "secret" not in out


def test_dynamic_directpath_needs_hardware_version_17(cli, session, tmp_path):
    """The template is vmx-13 and a clone keeps its template's version: a dynamic device is refused before
    any change, with the fix; `hardware_version: 17` upgrades each clone (UpgradeVM_Task) before its
    dynamic devices and its power-on; a version the host's ESXi does not run is refused."""
    pfx = f"h{uuid.uuid4().hex[:6]}"
    path = tmp_path / "hw.conf"
    body = (f"[_VMS_]\n{pfx}-1: template: vhpc_clone datacenter: HPC_Datacenter cluster: COMPUTE_GPU_Cluster "
            f"host: {HOST} device: ['0000:3b:00.0'] dynamic: yes")
    path.write_text(body + "\n")
    code, _, err = cli("cluster", "--create", "--file", path)
    assert code == 2 and f"{path}:2:" in err and "needs virtual hardware version 17" in err, err
    assert "hardware_version: 17" in err and "nothing was changed" in err
    path.write_text(f"[_VMS_]\n{pfx}-old: template: vhpc_clone datacenter: HPC_Datacenter cluster: HPC_Cluster "
                    "host: vhpc-esx-01.hpc.vmware.com hardware_version: 17\n")
    code, _, err = cli("cluster", "--create", "--file", path)
    assert code == 2 and "newer than host vhpc-esx-01.hpc.vmware.com runs" in err and "vmx-14" in err, err
    path.write_text(body + " hardware_version: 17\n")
    try:
        code, out, err = cli("cluster", "--create", "--file", path)
        assert code == 0 and "upgraded to vmx-17 before its devices and power-on" in out, err + out
        for phase in ("upgrading hardware", "adding devices", "powering on"):  # shown as phases too
            assert f"{phase}: started (1)" in err and f"{phase}: ended 1/1, 0 failed" in err, err
        vm = props(session, pfx)[1][f"{pfx}-1"]
        assert vm.config.version == "vmx-17" and vm.runtime.powerState == "poweredOn"
        assigned = [d.backing.assignedId for d in vm.config.hardware.device if isinstance(d.backing, DYNAMIC)]
        assert len(assigned) == 1 and assigned[0]
        code, out, err = cli("cluster", "--create", "--file", path)
        assert code == 0 and ": up to date (" in out, err + out
    finally:
        assert cli("cluster", "--destroy", "--file", path)[0] == 0
    assert props(session, pfx)[1] == {}


def test_the_fabrics_example_runs(cli, session):
    """examples/cluster-scripts/cluster-fabrics.conf on the lab: two SR-IOV fabrics and a management switch,
    the V100 by Dynamic DirectPath on clones upgraded to vmx-17."""
    path = EXAMPLES / "cluster-scripts" / "cluster-fabrics.conf"
    try:
        code, out, err = cli("--output", "json", "cluster", "--create", "--file", path)
        assert code == 0, err + out
        doc = json.loads(out)
        assert {v["name"]: v["status"] for v in doc["vms"]} == {f"compute{i}": "created" for i in range(1, 5)}
        _, vms = props(session, "compute")
        assert all(vm.config.version == "vmx-17" and vm.runtime.powerState == "poweredOn" and
                   [d.backing.assignedId for d in vm.config.hardware.device if isinstance(d.backing, DYNAMIC)]
                   for vm in vms.values())
    finally:
        code, _, err = cli("cluster", "--destroy", "--file", path)
        assert code == 0, err
    assert props(session, "compute")[1] == {}

