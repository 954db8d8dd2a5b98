"""Nothing lost, nothing leaked, nothing destroyed unasked: each mistake found by probing the toolkit
on the lab, with the class it stands for, read back with pyVmomi."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from vhpc_toolkit.vsphere.inventory import read_inventory

BASE = """
[BASE]
template: vhpc_clone
datacenter: HPC_Datacenter
cluster: COMPUTE_GPU_Cluster
"""


def vm_names(session, prefix: str) -> set[str]:
    inv = read_inventory(session, {"VirtualMachine": []})
    return {o.name for o in inv.of_type("VirtualMachine") if o.name.startswith(prefix)}


# --- sizes below vSphere's minimum are bad input -------------------------------------------------

@pytest.mark.parametrize("memory, why", [("0.001", "less than vSphere's minimum of 4 MB"),
                                         ("0.05", "less than the 96 MB a VM that boots with EFI")])
def test_memory_below_vspheres_minimum_is_bad_input_and_nothing_is_made(cli, cluster_file, session, memory, why):
    path, pfx = cluster_file(BASE + f"memory: {memory}\n[_VMS_]\nPFX-tiny: BASE\n")
    code, out, err = cli("--output", "json", "cluster", "--create", "--file", path)
    assert code == 2 and why in json.loads(err)["error"]["message"] and out == ""
    assert vm_names(session, pfx) == set()


def test_cpumem_and_clone_refuse_memory_below_the_minimum(cli):
    for argv in (("cpumem", "--vm", "nothing-here", "--memory", "0.001"),
                 ("clone", "--template", "vhpc_clone", "--vm", "nothing-here", "--memory", "0.002")):
        code, _, err = cli(*argv)
        assert code == 2 and "vSphere's minimum of 4 MB" in err


# --- every path an export writes is checked before any change; never written through ---------------

def test_slurm_exports_gres_fragment_is_checked_before_any_vm_is_made(cli, cluster_file, session, tmp_path):
    body = BASE + "memory: 1\nmemory_reservation: yes\n[_VMS_]\nPFX-g: BASE gpu: 1\n"
    path, pfx = cluster_file(body, name="nodes.gres.conf")   # what --export slurm=nodes.conf writes beside it
    before = path.read_text()
    code, _, err = cli("cluster", "--create", "--file", path, "--export", f"slurm={tmp_path / 'nodes.conf'}")
    assert code == 2 and "that is the cluster file" in err and "Traceback" not in err
    assert path.read_text() == before and vm_names(session, pfx) == set()

    (tmp_path / "other.gres.conf").mkdir()
    code, _, err = cli("cluster", "--create", "--file", path, "--export", f"slurm={tmp_path / 'other.conf'}")
    assert code == 2 and "other.gres.conf: is a folder" in err and "IsADirectoryError" not in err
    assert vm_names(session, pfx) == set()


def test_an_export_replaces_a_symlink_and_leaves_what_it_named(cli, cluster_file, session, tmp_path):
    path, pfx = cluster_file(BASE + "memory: 1\n[_VMS_]\nPFX-s: BASE\n")
    before = path.read_text()
    link = tmp_path / "hosts"
    link.symlink_to(path)
    code, _, err = cli("cluster", "--create", "--file", path, "--export", f"hostfile={link}")
    assert code == 0, err
    assert path.read_text() == before and not link.is_symlink() and f"# {pfx}-s" in link.read_text()
    assert vm_names(session, pfx) == {f"{pfx}-s"}


# --- a session that ends while the toolkit holds objects of it -------------------------------------

def _end_session_after(monkeypatch, lab, cls, method: str, times: int = 1):
    """An administrator ends the run's session right after ``cls.method`` made a session-owned object
    (before it is used): the next call needs a new login, and the object is gone with the old session."""
    admin, real, ended = lab.connect(), getattr(cls, method), []

    def wrapped(self, *args, **kwargs):
        out = real(self, *args, **kwargs)
        if len(ended) < times:
            session = self._session
            ended.append(session.content.sessionManager.currentSession.key)
            admin.content.sessionManager.TerminateSession([ended[-1]])
        return out

    monkeypatch.setattr(cls, method, wrapped)
    return admin, ended


def test_a_session_ended_between_a_collector_and_its_filter_is_renewed(cli, cluster_file, session, lab,
                                                                      monkeypatch):
    """The watch's collector dies with the session: the new login makes a new collector and filter, it
    does not retry on the dead one (ManagedObjectNotFound, no report)."""
    from vhpc_toolkit.vsphere.watch import Watch

    path, pfx = cluster_file(BASE + "memory: 1\n[_VMS_]\nPFX-{1:2}: BASE\n")
    admin, ended = _end_session_after(monkeypatch, lab, Watch, "_open", times=2)
    try:
        code, out, err = cli("--output", "json", "cluster", "--create", "--file", path)
    finally:
        admin.close()
    assert len(ended) == 2 and code == 0, err
    assert [v["status"] for v in json.loads(out)["vms"]] == ["created", "created"]
    assert vm_names(session, pfx) == {f"{pfx}-1", f"{pfx}-2"}


def test_an_event_collector_ended_with_the_session_is_made_again(cli, cluster_file, session, lab, monkeypatch):
    """Customization events come from an event collector of the session: a new session makes a new
    one, so the VMs' customizations are still seen (not a timeout)."""
    from vhpc_toolkit.vsphere.guest.customization import CustomizationWatch

    path, pfx = cluster_file(BASE + "memory: 1\nport_group: vHPC-PG-VMNetwork\nis_dhcp: yes\n"
                             "[_VMS_]\nPFX-{1:2}: BASE\n")
    admin, ended = _end_session_after(monkeypatch, lab, CustomizationWatch, "__init__")
    try:
        code, out, err = cli("--output", "json", "cluster", "--create", "--file", path, "--ip-timeout", "60")
    finally:
        admin.close()
    assert len(ended) == 1 and code == 0, err
    doc = json.loads(out)
    assert [v["status"] for v in doc["vms"]] == ["created", "created"] and all(v["ip"] for v in doc["vms"])
    assert vm_names(session, pfx) == {f"{pfx}-1", f"{pfx}-2"}


# --- Ctrl-C at each phase of create and destroy: exit 130, a table that says what vCenter holds --------

CTRL_C_FILE = BASE + """memory: 1
port_group: vHPC-PG-VMNetwork
is_dhcp: yes
guest_username: root
guest_password: VMware1!
[POST]
script: {script}
[_SVS_]
PFX-svs: host: vhpc-esx-0{{1:2}}.hpc.vmware.com pnic: vmnic4 port_group: PFX-pg
[_VMS_]
PFX-{{1:2}}: BASE POST host: vhpc-esx-0{{3:4}}.hpc.vmware.com anti_affinity: PFX-g
"""


def switch_hosts(session, name: str) -> list[str]:
    inv = read_inventory(session, {"HostSystem": ["config.network.vswitch"]})
    return sorted(h.name for h in inv.of_type("HostSystem") if any(v.name == name for v in
                                                                   h.get("config.network.vswitch") or []))


def ctrl_c_once(monkeypatch, owner, name: str, after: bool = False):
    """Ctrl-C (KeyboardInterrupt in the main thread, as SIGINT gives) at the first call of owner.name,
    before it runs, or right after it returned (``after``)."""
    real, fired = getattr(owner, name), []

    def wrapped(*args, **kwargs):
        if fired:
            return real(*args, **kwargs)
        fired.append(name)
        if after:
            real(*args, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(owner, name, wrapped)
    return fired


def assert_table_is_vcenter(doc, session, pfx):
    """Each VM row says what vCenter holds now: created (or 'the VM exists') exactly for the VMs there."""
    there = vm_names(session, pfx)
    for row in doc["vms"]:
        exists = row["status"] == "created" or "the VM exists" in row["detail"]
        assert exists == (row["name"] in there), (row, sorted(there))
    for sw in doc["switches"]:
        on = switch_hosts(session, sw["name"])
        assert (sw["status"] == "created") == (on == sorted(sw["hosts"])), (sw, on)
        assert (sw["status"] == "not started") == (on == []), (sw, on)


CREATE_PHASES = {   # phase: (module path, function, after the call, VMs there afterwards)
    "switches": ("vhpc_toolkit.cluster.applying.apply", "apply_switches", True, 0),
    "clones": ("vhpc_toolkit.vsphere.tasks.TaskWatcher", "wait", False, 0),
    "DRS rules": ("vhpc_toolkit.cluster.applying.apply", "apply_rules", False, 2),
    "guest IPs": ("vhpc_toolkit.cluster.applying.apply", "settle_guests", False, 2),
    "post scripts": ("vhpc_toolkit.cluster.guests.setup", "run_scripts", False, 2),
}


@pytest.mark.parametrize("phase", CREATE_PHASES)
def test_ctrl_c_at_each_phase_of_create(phase, cli, cluster_file, session, faults, monkeypatch):
    import importlib

    where, name, after, made = CREATE_PHASES[phase]
    module, _, cls = where.rpartition(".") if where.endswith("TaskWatcher") else (where, "", "")
    owner = getattr(importlib.import_module(module), cls) if cls else importlib.import_module(module)
    script = Path(__file__).resolve().parents[2] / "examples" / "post-scripts" / "hello_world1.sh"
    path, pfx = cluster_file(CTRL_C_FILE.format(script=script))
    faults(task_delay_ms=800)         # tasks in flight long enough to be caught there
    fired = ctrl_c_once(monkeypatch, owner, name, after)
    code, out, err = cli("--output", "json", "cluster", "--create", "--file", path)
    assert fired and code == 130 and "Traceback" not in err, err
    doc = json.loads(out)
    assert_table_is_vcenter(doc, session, pfx)
    assert len(vm_names(session, pfx)) == made
    assert any("the tables say what exists now (read back)" in n for n in doc["notes"]), doc["notes"]


def test_ctrl_c_while_planning_changes_nothing(cli, cluster_file, session, monkeypatch):
    from vhpc_toolkit.cluster.planning import prepare

    path, pfx = cluster_file(BASE + "memory: 1\n[_VMS_]\nPFX-1: BASE\n")
    ctrl_c_once(monkeypatch, prepare, "read_cluster_inventory")
    code, out, err = cli("cluster", "--create", "--file", path)
    assert code == 130 and "interrupted before any change; nothing was changed" in err and out == ""
    assert vm_names(session, pfx) == set()


DESTROY_PHASES = {   # phase: (module, function, after the call, power, VMs left, switch left)
    "planning": ("vhpc_toolkit.cluster.applying.destroy", "read_inventory", False, "off", 2, True),
    "power-off tasks": ("vhpc_toolkit.vsphere.tasks.TaskWatcher", "wait", False, "on", 2, True),
    "destroy tasks": ("vhpc_toolkit.vsphere.tasks.TaskWatcher", "wait", False, "off", 0, True),
    "switches": ("vhpc_toolkit.cluster.applying.destroy", "destroy_owned_switches", True, "off", 0, False),
}


@pytest.mark.parametrize("phase", DESTROY_PHASES)
def test_ctrl_c_at_each_phase_of_destroy(phase, cli, cluster_file, session, faults, monkeypatch):
    """Tasks in flight (not cancellable: power-off, destroy) are waited for before the table is made:
    a VM gone a second later is never reported as still there."""
    import importlib

    where, name, after, power, left, switch_left = DESTROY_PHASES[phase]
    module, _, cls = where.rpartition(".") if where.endswith("TaskWatcher") else (where, "", "")
    owner = getattr(importlib.import_module(module), cls) if cls else importlib.import_module(module)
    path, pfx = cluster_file(BASE + f"memory: 1\npower: {power}\n[_SVS_]\n"
                             "PFX-svs: host: vhpc-esx-0{1:2}.hpc.vmware.com pnic: vmnic4 port_group: PFX-pg\n"
                             "[_VMS_]\nPFX-{1:2}: BASE host: vhpc-esx-05.hpc.vmware.com\n")
    assert cli("cluster", "--create", "--file", path)[0] == 0
    faults(task_delay_ms=1500)
    fired = ctrl_c_once(monkeypatch, owner, name, after)
    code, out, err = cli("--output", "json", "cluster", "--destroy", "--file", path)
    faults()
    assert fired and code == 130 and "Traceback" not in err, err
    there = vm_names(session, pfx)
    assert len(there) == left
    if phase == "planning":
        assert out == "" and "nothing was changed" in err
        return
    doc = json.loads(out)
    for row in doc["results"]:
        assert ("still exists" in row["detail"]) == (row["vm"] in there), (row, sorted(there))
        assert (row["status"] == "changed") == (row["vm"] not in there), row
    assert bool(switch_hosts(session, f"{pfx}-svs")) == switch_left
    if phase == "switches":
        assert [(sw["name"], sw["status"]) for sw in doc["switches"]] == [(f"{pfx}-svs", "destroyed")]
    for sw in doc["switches"]:
        assert (sw["status"] == "destroyed") == (not switch_hosts(session, sw["name"])), sw


CLI = str(Path(sys.executable).parent / "vhpc_toolkit")


@pytest.mark.parametrize("when, twice", [("Login", False), ("CloneVM_Task", False), ("CloneVM_Task", True),
                                         ("RetrievePropertiesEx", True)])
def test_sigint_always_exits_130_never_killed_by_the_signal(when, twice, lab, cluster_file, session, faults):
    """A real SIGINT (once, or twice: the second while the first is being handled) at several moments:
    the process exits 130, and the report (when it gets that far) matches what vCenter holds."""
    path, pfx = cluster_file(BASE + "memory: 1\n[_VMS_]\nPFX-{1:3}: BASE host: vhpc-esx-07.hpc.vmware.com\n")
    faults(task_delay_ms=1500)
    lab.reset_calls()
    run = subprocess.Popen([CLI, "--vcenter-conf", str(lab.conf), "--yes", "--output", "json", "cluster",
                            "--create", "--file", str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True)
    deadline = time.monotonic() + 60
    while lab.calls()["methods"].get(when, 0) < 1 and time.monotonic() < deadline and run.poll() is None:
        time.sleep(0.02)
    called = lab.calls()["methods"].get(when, 0)
    if not called:
        run.kill()
        run.communicate(timeout=60)
        faults()
    assert called >= 1, f"the run never called {when}: the signal would come at another moment"
    run.send_signal(signal.SIGINT)
    if twice:
        time.sleep(0.3)
        run.send_signal(signal.SIGINT)
    out, err = run.communicate(timeout=120)
    faults()
    assert run.returncode == 130, (run.returncode, err)
    assert "Traceback" not in err, err
    # Interrupted during the clones, the run reports every VM; earlier, it may end before its report.
    if when == "CloneVM_Task":
        assert out, err
    if out:
        there = vm_names(session, pfx)
        rows = json.loads(out)["vms"]
        assert sorted(row["name"] for row in rows) == [f"{pfx}-{i}" for i in (1, 2, 3)], rows
        for row in rows:
            assert (row["status"] == "created" or "the VM exists" in row["detail"]) == (row["name"] in there), row


# --- a vCenter that stops answering, or never shakes hands ------------------------------------------

def test_after_vcenter_freezes_the_lock_release_and_logout_get_one_attempt_each(cli, cluster_file, lab,
                                                                                 monkeypatch):
    """The lab is stopped (SIGSTOP: connections are taken, nothing answers) while the clones run:
    the run ends with one bounded attempt to release the lock and one to log out, and sends none of
    the courtesies (destroying its collector and views) that would each wait the timeout again."""
    import os

    from pyVmomi.SoapAdapter import SoapStubAdapter

    from vhpc_toolkit.vsphere import fastread, stub as stub_mod
    from vhpc_toolkit.vsphere.tasks import TaskWatcher

    path, pfx = cluster_file(BASE + "memory: 1\n[_VMS_]\nPFX-{1:2}: BASE host: vhpc-esx-07.hpc.vmware.com\n")
    sent, frozen = [], []
    real_invoke, real_fast, real_wait = SoapStubAdapter.InvokeMethod, fastread.invoke, TaskWatcher.wait

    def invoke(self, mo, info, args, outer=None):
        if frozen:
            sent.append(info.wsdlName)
        return real_invoke(self, mo, info, args, outer)

    def fast(stub, mo, info, args, outer):
        if frozen:
            sent.append(info.wsdlName)
        return real_fast(stub, mo, info, args, outer)

    def freeze_then_wait(self, max_wait, **kwargs):
        if not frozen:
            os.kill(lab.proc.pid, signal.SIGSTOP)
            frozen.append(True)
        return real_wait(self, max_wait, **kwargs)

    monkeypatch.setattr(SoapStubAdapter, "InvokeMethod", invoke)
    monkeypatch.setattr(fastread, "invoke", fast)
    monkeypatch.setattr(TaskWatcher, "wait", freeze_then_wait)
    try:
        code, out, err = cli("--read-timeout", "2", "--connect-timeout", "2", "--output", "json", "cluster",
                             "--create", "--file", path)
    finally:
        os.kill(lab.proc.pid, signal.SIGCONT)
    assert frozen and code == 1 and "Traceback" not in err, err
    assert sent.count("RemoveCustomFieldDef") == 1 and sent.count("Logout") == 1, sent
    assert not set(sent) & stub_mod.COURTESIES and len(sent) <= 4, sent
    doc = json.loads(out)
    assert all(v["status"] == "failed" for v in doc["vms"]) and any("did not answer" in n for n in doc["notes"])
    cli("cluster", "--unlock", "--file", path)   # the lock it could not release


def test_a_server_that_never_shakes_hands_is_bounded_by_the_connect_timeout(run_cli, tmp_path):
    import socket

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)           # takes connections (the kernel does), never speaks TLS
    conf = tmp_path / "vCenter.conf"
    conf.write_text(f"server: 127.0.0.1\nport: {server.getsockname()[1]}\nusername: u\npassword: p\n")
    conf.chmod(0o600)
    try:
        code, _, err = run_cli("--vcenter-conf", conf, "--connect-timeout", "1", "--read-timeout", "600", "view")
    finally:
        server.close()
    assert code == 1 and "did not complete the TLS handshake within 1 s (connect_timeout)" in err, err


# --- --force promises only what vSphere does ----------------------------------------------------------

def test_dvs_destroy_force_does_not_promise_to_remove_a_switch_with_a_vmkernel_adapter(cli, session):
    """vCenter refuses to destroy a distributed switch a VMkernel adapter uses: --force is refused the
    same, before any change, saying what to move off; the switch and the adapter stay (read back)."""
    from pyVmomi import vim

    name, host_name = f"f{uuid.uuid4().hex[:6]}-dvs", "vhpc-esx-08.hpc.vmware.com"
    assert cli("dvs", "--create", "--name", name, "--host", host_name, "--pnic", "vmnic5",
               "--port_group", f"{name}-pg")[0] == 0
    inv = read_inventory(session, {"HostSystem": ["configManager.networkSystem"], "DistributedVirtualSwitch":
                                   ["uuid"], "DistributedVirtualPortgroup": ["key"]})
    ns = inv.find("HostSystem", host_name).get("configManager.networkSystem")
    switch, pg = inv.find("DistributedVirtualSwitch", name), inv.find("DistributedVirtualPortgroup", f"{name}-pg")
    vmk = ns.AddVirtualNic(portgroup="", nic=vim.host.VirtualNic.Specification(
        ip=vim.host.IpConfig(dhcp=True),
        distributedVirtualPort=vim.dvs.PortConnection(switchUuid=switch.get("uuid"), portgroupKey=pg.get("key"))))
    try:
        code, _, err = cli("dvs", "--destroy", "--force", "--name", name)
        assert code == 2 and f"VMkernel adapter {vmk} of {host_name}" in err, err
        assert "vSphere does not remove a switch that adapters use; move them off first" in err
        assert "use --force" not in err and "nothing was changed" in err
        assert any(o.name == name for o in read_inventory(session, {"DistributedVirtualSwitch": []})
                   .of_type("DistributedVirtualSwitch"))
        assert vmk in {v.device for v in ns.networkInfo.vnic}
    finally:
        ns.RemoveVirtualNic(device=vmk)
        assert cli("dvs", "--destroy", "--name", name)[0] == 0


def test_svs_destroy_force_destroys_where_nothing_uses_it_and_says_where_it_is_left(cli, session):
    pfx, h7, h8 = f"f{uuid.uuid4().hex[:6]}", "vhpc-esx-07.hpc.vmware.com", "vhpc-esx-08.hpc.vmware.com"
    assert cli("svs", "--create", "--host", h7, h8, "--name", f"{pfx}-svs", "--pnic", "vmnic4",
               "--port_group", f"{pfx}-pg")[0] == 0
    assert cli("clone", "--template", "vhpc_clone", "--vm", f"{pfx}-vm", "--host", h8, "--memory", "1")[0] == 0
    try:
        assert cli("network", "--vm", f"{pfx}-vm", "--add", "--port_group", f"{pfx}-pg")[0] == 0
        code, out, err = cli("--output", "json", "svs", "--destroy", "--force", "--host", h7, h8,
                             "--name", f"{pfx}-svs")
        assert code == 1, err
        rows = {r["host"]: r for r in json.loads(out)["results"]}
        assert rows[h7]["status"] == "changed" and rows[h8]["status"] == "failed"
        assert f"left: in use by VM {pfx}-vm" in rows[h8]["detail"]
        assert switch_hosts(session, f"{pfx}-svs") == [h8]
    finally:
        cli("destroy", "--vm", f"{pfx}-vm")
        cli("svs", "--destroy", "--host", h7, h8, "--name", f"{pfx}-svs")
    assert switch_hosts(session, f"{pfx}-svs") == []
