"""A user without the custom-attribute privileges (Global.ManageCustomFields, Global.SetCustomField) runs a
cluster: one clear warning, no traceback, and a create/destroy cycle with a distributed and a standard
switch that leaves nothing behind, read back with pyVmomi."""
from __future__ import annotations

import json

from tests.integration.test_cluster import BASE
from tests.integration.test_cluster_identity import state
from vhpc_toolkit.marks import dvs_mark, svs_mark, vm_mark

H2, H3 = "vhpc-esx-02.hpc.vmware.com", "vhpc-esx-03.hpc.vmware.com"
CUSTOM = ("Global.ManageCustomFields", "Global.SetCustomField")


def test_a_least_privilege_user_runs_a_cluster(cli, cluster_file, session, lab, deny):
    path, pfx = cluster_file(BASE + """
[_SVS_]
PFX-sw: host: vhpc-esx-0{2:3}.hpc.vmware.com pnic: vmnic4 port_group: PFX-pg
[_DVS_]
PFX-dvs: host: vhpc-esx-03.hpc.vmware.com pnic: vmnic5 port_group: PFX-dpg
[_VMS_]
PFX-1: BASE host: vhpc-esx-02.hpc.vmware.com power: off
""")
    fields_before = {f.name for f in session.content.customFieldsManager.field}
    deny(*CUSTOM)
    code, out, err = cli("--output", "json", "cluster", "--create", "--file", path)
    assert code == 0, err
    assert "Traceback" not in err and err.count("warning:") == 1, err
    assert "lacks the privilege Global.ManageCustomFields" in err and f"cluster {pfx} runs without its lock" in err
    assert json.loads(out)["vms"][0]["status"] == "created"
    assert lab.privileges()["refused"] >= 1                      # it was refused, and the run went on
    vms, dvs, svs, fields = state(session, pfx)
    assert vms == {f"{pfx}-1": vm_mark(pfx)} and dvs_mark(dvs[f"{pfx}-dvs"]).cluster == pfx
    assert svs == {h: [f"{pfx}-pg", svs_mark(pfx, f"{pfx}-sw")] for h in (H2, H3)}
    assert set(fields) == fields_before                          # no custom attribute was made

    code, out, err = cli("cluster", "--create", "--file", path)  # a re-run: up to date, the same one warning
    assert code == 0 and ": up to date (" in out and err.count("warning:") == 1, err
    code, out, err = cli("--output", "json", "cluster", "--destroy", "--file", path)
    assert code == 0, err
    assert "Traceback" not in err and err.count("warning:") == 1
    doc = json.loads(out)
    assert sorted((s["name"], s["status"]) for s in doc["switches"]) == [(f"{pfx}-dvs", "destroyed"),
                                                                       (f"{pfx}-sw", "destroyed")]
    assert state(session, pfx)[:3] == ({}, {}, {})               # nothing left: VM, DVS, switch, mark port groups
    assert {f.name for f in session.content.customFieldsManager.field} == fields_before


def test_without_set_custom_field_the_lock_still_holds(cli, cluster_file, session, deny):
    path, pfx = cluster_file(BASE + "[_VMS_]\nPFX-1: BASE host: vhpc-esx-02.hpc.vmware.com power: off\n")
    deny("Global.SetCustomField")       # the lock can be defined; its holder and the run's record cannot be written
    code, out, err = cli("cluster", "--create", "--file", path)
    assert code == 0 and "Traceback" not in err
    assert err.count("warning:") == 1 and "cluster --list will not show this run" in err
    assert "lacks the privilege Global.SetCustomField" in err
    assert f"vhpc_toolkit.lock {pfx}" not in {f.name for f in session.content.customFieldsManager.field}  # released
