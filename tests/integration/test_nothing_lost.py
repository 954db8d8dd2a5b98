"""Nothing lost, nothing leaked, nothing destroyed unasked: each mistake found by probing the toolkit
on the lab, with the class it stands for, read back with pyVmomi."""
from __future__ import annotations

import json

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
    assert code == 2 and "the cluster file itself" in err and "Traceback" not in err
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
    from vhpc_toolkit.vsphere.customization import CustomizationWatch

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
