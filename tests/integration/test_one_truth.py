"""One truth, said once, on the lab: duplicate IPs refused before any change, the `Plan:` line above
the confirmation with the same counts in JSON, one line per cause."""
from __future__ import annotations

import json

from tests.integration.test_nothing_lost import BASE, vm_names


def test_duplicate_ips_are_refused_before_any_change(cli, cluster_file, session, lab):
    path, pfx = cluster_file(BASE + "memory: 1\nport_group: vHPC-PG-VMNetwork\n"
                                    "[_VMS_]\nPFX-login: BASE ip: 172.1.40.2\nPFX-{1:3}: BASE ip: 172.1.40.{1:3}\n")
    lab.reset_calls()
    code, _, err = cli("cluster", "--create", "--file", path)
    assert code == 2 and f"ip 172.1.40.2 is given to 2 VMs: {pfx}-login ({path}:9), {pfx}-2 ({path}:10)" in err
    assert lab.calls()["total"] == 0 and vm_names(session, pfx) == set()   # refused before any login


def test_the_plan_line_above_the_confirmation_and_its_counts_in_json(cli, cluster_file, session):
    path, pfx = cluster_file(BASE + "memory: 1\n[_SVS_]\nPFX-svs: host: vhpc-esx-0{1:2}.hpc.vmware.com "
                                    "pnic: vmnic4 port_group: PFX-pg\n"
                                    "[_VMS_]\nPFX-{1:3}: BASE host: vhpc-esx-07.hpc.vmware.com\n")
    code, out, err = cli("cluster", "--create", "--file", path)
    assert code == 0, err
    lines = out.splitlines()
    assert "Plan: 3 to create, 0 to change, 0 to destroy, 1 switch to create" in lines
    assert lines.index("Plan: 3 to create, 0 to change, 0 to destroy, 1 switch to create") < \
        next(i for i, line in enumerate(lines) if line.strip() == "Cluster" or "created" in line)
    assert f"{pfx}-1..{pfx}-3 (3 VMs)" in out     # one row for the VMs that differ only by name

    path.write_text(path.read_text().replace("PFX", pfx).replace(f"{pfx}-{{1:3}}", f"{pfx}-{{1:2}}"))
    code, out, err = cli("--output", "json", "cluster", "--create", "--prune", "--file", path)
    assert code == 0, err
    assert json.loads(out)["plan"] == {"create": 0, "change": 0, "destroy": 1, "switch_create": 0,
                                       "switch_change": 0, "switch_destroy": 0, "host_prepare": 0, "rule_change": 0}
    code, out, err = cli("cluster", "--destroy", "--file", path)
    assert code == 0 and "Plan: 0 to create, 0 to change, 2 to destroy, 1 switch to destroy" in out.splitlines()
    assert vm_names(session, pfx) == set()


def test_a_cause_that_hits_many_vms_is_said_once(cli, cluster_file):
    path, pfx = cluster_file("[B]\ntemplate: no-such-template\nmemory: 1\n"
                             "[_VMS_]\nPFX-login01: B\nPFX-gpu{01:04}: B\n")
    code, _, err = cli("cluster", "--create", "--file", path)
    assert code == 2
    assert err.count("no-such-template") == 1, err
    assert f"template 'no-such-template' not found: {pfx}-login01, {pfx}-gpu01..{pfx}-gpu04 (lines 5-6)" in err


def test_in_json_mode_a_person_asked_sees_the_plan_line_on_stderr(lab, run_cli, cluster_file, session, monkeypatch):
    """--output json on a terminal without --yes: stdout stays one document, the question on stderr
    has the Plan line above it; a "no" changes nothing."""
    from rich.prompt import Confirm

    path, pfx = cluster_file(BASE + "memory: 1\n[_VMS_]\nPFX-{1:2}: BASE host: vhpc-esx-07.hpc.vmware.com\n")
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr(Confirm, "ask", classmethod(lambda cls, *a, **k: False))
    code, out, err = run_cli("--vcenter-conf", lab.conf, "--output", "json", "cluster", "--create", "--file", path)
    assert code != 0 and "Plan: 2 to create, 0 to change, 0 to destroy, 0 switches to create" in err, err
    assert "Plan:" not in out and vm_names(session, pfx) == set()
