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
