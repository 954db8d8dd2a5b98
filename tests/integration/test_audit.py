"""--log-file: every change a run asks of vCenter is one line of the audit trail (user, vCenter,
object, task, outcome), checked against the calls the lab itself counted; reads are never written."""
from __future__ import annotations

import re
import shlex
import uuid

from vhpc_toolkit.audit import command_line, is_change


def parse(line: str) -> dict[str, str]:
    """One logfmt line."""
    return {k: v for k, v in (re.match(r"([^=]+)=(.*)", part).groups() for part in shlex.split(line))}


def test_every_change_is_one_line_with_its_task_and_outcome(cli, lab, tmp_path):
    log = tmp_path / "audit.log"
    pfx = f"a{uuid.uuid4().hex[:5]}"
    path = tmp_path / "c.conf"
    path.write_text(f"[B]\ntemplate: vhpc_clone\ncpu: 2\nmemory: 2\nhost: vhpc-esx-07.hpc.vmware.com\n"
                    f"[_VMS_]\n{pfx}-{{1:2}}: B\n")
    lab.reset_calls()
    code, _, err = cli("--log-file", log, "cluster", "--create", "--file", path)
    assert code == 0, err
    code, _, err = cli("cluster", "--destroy", "--file", path, "--log-file", log)   # after the command too
    assert code == 0, err
    counted = lab.calls()["methods"]
    lines = [parse(line) for line in log.read_text().splitlines()]
    assert all(l["user"] == lab.settings["username"] and l["vcenter"] == f"{lab.settings['server']}:"
               f"{lab.settings['port']}" for l in lines)
    commands = [l["command"] for l in lines if "command" in l]
    assert len(commands) == 2 and "cluster --create" in commands[0] and "cluster --destroy" in commands[1]
    calls = [l for l in lines if "call" in l and not ("task" in l and "outcome" in l)]   # not the task outcomes
    # every change method the lab served is in the trail, as often; no read is
    changes = {m: n for m, n in counted.items() if is_change(m) and m not in ("Login", "Logout")}
    logged: dict[str, int] = {}
    for l in calls:
        logged[l["call"]] = logged.get(l["call"], 0) + 1
    assert logged == changes, (logged, changes)
    assert "CloneVM_Task" in logged and logged["CloneVM_Task"] == 2 and "RetrievePropertiesEx" not in logged
    # each task: a line when asked (object, task), a line with its outcome (same task id)
    asked = {l["task"]: l for l in lines if "task" in l and "outcome" not in l}
    ended = {l["task"]: l for l in lines if "task" in l and "outcome" in l}
    assert asked and set(asked) == set(ended)
    clones = [l for l in asked.values() if l["call"] == "CloneVM_Task"]
    assert sorted(l["name"] for l in clones) == [f"{pfx}-1", f"{pfx}-2"]
    assert all(l["object"].startswith("VirtualMachine:") and l["object_name"] == "vhpc_clone" for l in clones)
    assert all(ended[t]["outcome"] == "success" for t in asked)
    destroyed = [l for l in ended.values() if l["call"] == "Destroy_Task"]
    assert sorted(l["object_name"] for l in destroyed) == [f"{pfx}-1", f"{pfx}-2"]


def test_a_log_file_that_cannot_be_written_stops_before_login(cli, lab, tmp_path):
    lab.reset_calls()
    code, _, err = cli("--log-file", tmp_path / "no" / "such" / "dir" / "a.log", "view")
    assert code == 2 and "cannot write the log file" in err
    assert lab.calls()["total"] == 0


def test_secret_flags_are_not_written():
    assert command_line(["post", "--vm", "v", "--guest_password", "s3cret", "--script", "a.sh"]) == \
        "post --vm v --guest_password '***' --script a.sh"
    assert "s3cret" not in command_line(["post", "--guest-password=s3cret"])


def test_the_changes_of_every_branch_of_a_cluster_life_are_in_the_trail(cli, lab, tmp_path, monkeypatch):
    """A hardware upgrade after the clone, a standard switch's mark port group, an adoption after a
    rename (VM and switch marks), a post script (guest file transfer and program), a destroy: every
    change the lab served is a line, and every task has its outcome."""
    log = tmp_path / "audit.log"
    pfx = f"a{uuid.uuid4().hex[:5]}"
    host = "vhpc-esx-08.hpc.vmware.com"
    path = tmp_path / "c.conf"
    body = (f"[_CLUSTER_]\nname: {pfx}-old\n[B]\ntemplate: vhpc_clone\ncpu: 2\nmemory: 2\nhost: {host}\n"
            f"hardware_version: 17\n[_SVS_]\n{pfx}-sw: host: {host} pnic: vmnic4 port_group: {pfx}-pg\n"
            f"[_VMS_]\n{pfx}-1: B\n")
    path.write_text(body)
    script = tmp_path / "hello.sh"
    script.write_text("#!/bin/sh\necho hello\n")
    monkeypatch.setenv("VHPC_GUEST_PASSWORD", "VMware1!")
    lab.reset_calls()
    try:
        assert cli("--log-file", log, "cluster", "--create", "--file", path)[0] == 0
        path.write_text(body.replace(f"name: {pfx}-old", f"name: {pfx}-new"))
        code, out, err = cli("--log-file", log, "cluster", "--adopt", "--file", path)
        assert code == 0 and "adopted" in out, err + out
        code, _, err = cli("--log-file", log, "post", "--vm", f"{pfx}-1", "--script", script, "--wait")
        assert code == 0, err
    finally:
        assert cli("--log-file", log, "cluster", "--destroy", "--file", path)[0] == 0
    counted = lab.calls()["methods"]
    lines = [parse(line) for line in log.read_text().splitlines()]
    logged: dict[str, int] = {}
    for l in lines:
        if "call" in l and not ("task" in l and "outcome" in l):
            logged[l["call"]] = logged.get(l["call"], 0) + 1
    changes = {m: n for m, n in counted.items() if is_change(m) and m not in ("Login", "Logout")}
    assert logged == changes, (logged, changes)
    assert {"UpgradeVM_Task", "AddPortGroup", "StartProgramInGuest", "InitiateFileTransferToGuest"} <= set(logged)
    asked = {l["task"] for l in lines if "task" in l and "outcome" not in l}
    ended = {l["task"] for l in lines if "task" in l and "outcome" in l}
    assert asked and asked == ended, asked ^ ended


def test_the_log_file_is_never_a_file_the_run_reads(lab, run_cli, tmp_path):
    """--log-file naming the cluster file, one of its scripts, an export or vCenter.conf (also through a
    symlink) is refused before any login: appending the trail would corrupt it."""
    conf = tmp_path / "vCenter.conf"
    conf.write_text(lab.conf.read_text())
    conf.chmod(0o600)
    script = tmp_path / "s.sh"
    script.write_text("#!/bin/sh\ntrue\n")
    path = tmp_path / "c.conf"
    path.write_text(f"[B]\ntemplate: vhpc_clone\nguest_password: VMware1!\nscript: {script}\n[_VMS_]\nlogx-1: B\n")
    (tmp_path / "link.log").symlink_to(path)
    before = {p: p.read_text() for p in (conf, script, path)}
    cases = [(path, "the cluster file"), (tmp_path / "link.log", "the cluster file"),
             (script, "a script of VM logx-1"), (conf, "the vCenter settings file"),
             (tmp_path / "hosts", "the file of --export hostfile")]
    lab.reset_calls()
    for log, what in cases:
        code, _, err = run_cli("--vcenter-conf", conf, "--yes", "--log-file", log, "cluster", "--status", "--file",
                               path, "--export", f"hostfile={tmp_path / 'hosts'}")
        assert code == 2 and f"is {what}: the audit trail would be appended to it" in err, (log, err)
    code, _, err = run_cli("--vcenter-conf", conf, "--yes", "--log-file", script, "post", "--vm", "logx-1",
                           "--script", script, "--guest_password", "x")
    assert code == 2 and "is a script to run" in err, err
    assert lab.calls()["total"] == 0 and {p: p.read_text() for p in before} == before
    assert not (tmp_path / "hosts").exists()
