"""The toolkit under injected faults (the lab's --fail-method, --drop-connections, ended sessions,
a stopped vCenter, Ctrl-C): every run ends with a report that matches the inventory, read back
with pyVmomi, and nothing is made twice."""
from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path


from tests.integration.test_cluster import BASE, vms_named
from tests.plugins.lab import start_lab, stop_lab

H6 = "vhpc-esx-06.hpc.vmware.com"
CLI = str(Path(sys.executable).parent / "vhpc_toolkit")


def consistent(doc, existing):
    """Every VM the report calls created exists; every VM it calls failed and not created does not."""
    for vm in doc["vms"]:
        if vm["status"] == "created":
            assert vm["name"] in existing, vm
        elif vm["status"] == "failed" and "not created" in vm["detail"]:
            assert vm["name"] not in existing, vm


def test_some_vms_failing(cli, cluster_file, session, faults):
    path, pfx = cluster_file(BASE + f"[_VMS_]\nPFX-{{1:4}}: BASE host: {H6}\n")
    faults(fail_method=[{"method": "CloneVM_Task", "regex": f"^{pfx}-[13]$", "fault": "InsufficientResourcesFault"}])
    code, out, err = cli("--output", "json", "cluster", "--create", "--file", path)
    assert code == 1 and "Traceback" not in err
    doc = json.loads(out)
    status = {v["name"]: (v["status"], v["detail"]) for v in doc["vms"]}
    assert [status[f"{pfx}-{i}"][0] for i in (1, 2, 3, 4)] == ["failed", "created", "failed", "created"]
    assert "InsufficientResourcesFault injected" in status[f"{pfx}-1"][1]
    assert sorted(vms_named(session, pfx)) == [f"{pfx}-2", f"{pfx}-4"]
    faults()
    code, out, _ = cli("--output", "json", "cluster", "--create", "--file", path)   # the re-run finishes
    assert code == 0 and sorted(vms_named(session, pfx)) == [f"{pfx}-{i}" for i in (1, 2, 3, 4)]


def test_dropped_connections(cli, cluster_file, session, lab, faults):
    """Every 6th SOAP request loses its connection: runs end in a report that matches the
    inventory; re-runs finish the cluster and then remove it; no VM is ever made twice."""
    path, pfx = cluster_file(BASE + f"[_VMS_]\nPFX-{{1:4}}: BASE host: {H6} power: off\n")
    faults(drop_connections=6)
    dropped, runs = 0, 0
    for _ in range(8):
        runs += 1
        code, out, err = cli("--output", "json", "cluster", "--create", "--file", path)
        assert code in (0, 1) and "Traceback" not in err, err
        existing = vms_named(session, pfx)
        if out:
            consistent(json.loads(out), existing)
        else:
            assert len(err.strip().splitlines()) == 1 and "connection" in err, err
        if code == 0 and len(existing) == 4:
            break
    assert sorted(vms_named(session, pfx)) == [f"{pfx}-{i}" for i in (1, 2, 3, 4)]
    for attempt in range(8):
        # Every Nth request, N varied per run: a fixed N could meet the same call of a run each time.
        faults(drop_connections=6 + attempt % 3)
        code, out, err = cli("--output", "json", "cluster", "--destroy", "--file", path)
        assert code in (0, 1) and "Traceback" not in err, err
        if not vms_named(session, pfx):
            break
    dropped = lab.faults()["dropped"]
    faults()
    assert vms_named(session, pfx) == {} and (dropped >= 1 or attempt > 0), (dropped, runs)


def test_an_ended_session_is_renewed_once(cli, cluster_file, session, lab, monkeypatch):
    from vhpc_toolkit.ops import runner as runner_mod   # the clones run through it (cluster/cloning/run.py)

    path, pfx = cluster_file(BASE + f"[_VMS_]\nPFX-{{1:3}}: BASE host: {H6}\n")
    real, seen = runner_mod.run_jobs, []
    admin = lab.connect()

    def terminate_first(s, jobs, **kw):   # an administrator ends the run's session just before its clones
        if not seen:
            seen.append(s)
            admin.content.sessionManager.TerminateSession([s.content.sessionManager.currentSession.key])
        return real(s, jobs, **kw)

    monkeypatch.setattr(runner_mod, "run_jobs", terminate_first)
    try:
        code, out, err = cli("--output", "json", "cluster", "--create", "--file", path)
    finally:
        admin.close()
    assert code == 0, err
    assert seen[0].stub.relogins == 1
    assert [v["status"] for v in json.loads(out)["vms"]] == ["created"] * 3
    assert sorted(vms_named(session, pfx)) == [f"{pfx}-{i}" for i in (1, 2, 3)]


def test_a_second_session_failure_is_one_clear_error(cli, cluster_file, session, lab, monkeypatch):
    from pyVmomi import vim

    from vhpc_toolkit.ops import runner as runner_mod   # the clones run through it (cluster/cloning/run.py)

    path, pfx = cluster_file(BASE + f"[_VMS_]\nPFX-{{1:2}}: BASE host: {H6}\n")
    real, admin = runner_mod.run_jobs, lab.connect()

    def terminate_and_break_login(s, jobs, **kw):
        def refused(stub):
            raise vim.fault.InvalidLogin(msg="Cannot complete login due to an incorrect user name or password.")

        s.stub._login = refused
        admin.content.sessionManager.TerminateSession([s.content.sessionManager.currentSession.key])
        return real(s, jobs, **kw)

    monkeypatch.setattr(runner_mod, "run_jobs", terminate_and_break_login)
    try:
        code, out, err = cli("--output", "json", "cluster", "--create", "--file", path)
    finally:
        admin.close()
    assert code == 1 and "Traceback" not in err
    doc = json.loads(out)
    assert [v["detail"] for v in doc["vms"]] == ["session ended; unknown whether the VM exists"] * 2
    assert any("ended the session and a new login failed: Cannot complete login" in n for n in doc["notes"])
    assert vms_named(session, pfx) == {}


def test_session_idle_expiry_between_calls(lab, faults):
    from vhpc_toolkit.vsphere.inventory import read_inventory

    faults(session_ttl=0.3)
    s = lab.connect()
    try:
        time.sleep(0.8)
        assert read_inventory(s, {"Datacenter": []}).of_type("Datacenter")
        assert s.stub.relogins == 1
    finally:
        s.close()


def _conf_for(lab, tmp_path, port):
    conf = tmp_path / "down.conf"
    conf.write_text(lab.conf.read_text().replace(f"port: {lab.settings['port']}", f"port: {port}"))
    conf.chmod(0o600)
    return conf


def test_a_stopped_vcenter_is_one_clear_line(lab, run_cli, tmp_path):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()   # nothing listens there now
    code, out, err = run_cli("--vcenter-conf", _conf_for(lab, tmp_path, port), "view")
    assert code == 1 and err.strip() == f"error: cannot reach vCenter at 127.0.0.1:{port}: Connection refused"
    # A server that accepts connections and never shakes hands: the connect timeout ends the wait
    # (the handshake is part of connecting), not the read timeout.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    conf = _conf_for(lab, tmp_path, silent.getsockname()[1])
    try:
        run = subprocess.run([CLI, "--vcenter-conf", str(conf), "--connect-timeout", "1", "--read-timeout", "600",
                              "view"], capture_output=True, text=True, timeout=60)
    finally:
        silent.close()
    assert run.returncode == 1 and "did not complete the TLS handshake within 1 s (connect_timeout)" in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1


def test_a_vcenter_lost_in_the_middle_of_create_ends_with_the_report(tmp_path):
    (tmp_path / "lab").mkdir()
    lab = start_lab(tmp_path / "lab", "--task-delay", "5")
    path = tmp_path / "c.conf"
    path.write_text(BASE.replace("PFX", "lost") + f"[_VMS_]\nlost-{{1:2}}: BASE host: {H6}\n")
    run = subprocess.Popen([CLI, "--vcenter-conf", str(lab.conf), "--yes", "--output", "json", "cluster",
                            "--create", "--file", str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True)
    try:
        deadline = time.monotonic() + 60
        while lab.calls()["methods"].get("CloneVM_Task", 0) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        stop_lab(lab)     # vCenter goes away while the clones run
    out, err = run.communicate(timeout=120)
    assert run.returncode == 1 and "Traceback" not in err, err
    doc = json.loads(out)
    assert [v["detail"] for v in doc["vms"]] == ["connection lost; unknown whether the VM exists"] * 2
    assert any("lost during WaitForUpdatesEx" in n or "connection" in n for n in doc["notes"])


def _destroy_in_flight(cmd, lab, what, env=None):
    """Run cmd; Ctrl-C once the lab has seen ``what``; returns (code, stdout, stderr)."""
    run = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 60
    while lab.calls()["methods"].get(what, 0) < 1 and time.monotonic() < deadline and run.poll() is None:
        time.sleep(0.05)
    run.send_signal(signal.SIGINT)
    out, err = run.communicate(timeout=120)
    return run.returncode, out, err


def test_ctrl_c_during_destroy_exits_130_with_the_table(cli, cluster_file, session, lab, faults):
    path, pfx = cluster_file(BASE + f"[_VMS_]\nPFX-{{1:2}}: BASE host: {H6} power: off\n")
    assert cli("cluster", "--create", "--file", path)[0] == 0
    faults(task_delay_ms=2000)
    lab.reset_calls()
    code, out, err = _destroy_in_flight([CLI, "--vcenter-conf", str(lab.conf), "--yes", "--output", "json",
                                         "destroy", "--vm", f"{pfx}-1"], lab, "Destroy_Task")
    assert code == 130 and "Traceback" not in err, err
    row, = json.loads(out)["results"]
    left = vms_named(session, pfx)
    assert (row["status"], row["detail"]) == (("changed", "destroyed") if f"{pfx}-1" not in left else
                                              ("failed", "interrupted; the VM still exists (poweredOff)"))
    lab.reset_calls()
    code, out, err = _destroy_in_flight([CLI, "--vcenter-conf", str(lab.conf), "--yes", "--output", "json",
                                         "cluster", "--destroy", "--file", str(path)], lab, "Destroy_Task")
    faults()
    assert code == 130 and "Traceback" not in err, err
    doc = json.loads(out)
    left = vms_named(session, pfx)
    for r in doc["results"]:
        assert (r["vm"] in left) == ("still exists" in r["detail"]), (r, sorted(left))
    assert doc["switches"] == []


def test_a_task_wait_survives_an_ended_session(lab, session, faults):
    """The wait's collector dies with the session; the new session watches the task again."""
    from pyVmomi import vim

    from vhpc_toolkit.vsphere.inventory import read_inventory
    from vhpc_toolkit.vsphere.tasks import TaskWatcher

    s = lab.connect()
    admin = lab.connect()
    name = f"w{uuid.uuid4().hex[:6]}"
    try:
        inv = read_inventory(s, {"VirtualMachine": [], "Datacenter": ["vmFolder"],
                                 "ClusterComputeResource": ["resourcePool"]})
        pool = inv.find("ClusterComputeResource", "COMPUTE_GPU_Cluster").get("resourcePool")
        faults(task_delay_ms=2500)
        task = inv.find("VirtualMachine", "vhpc_clone").ref.CloneVM_Task(
            folder=inv.of_type("Datacenter")[0].get("vmFolder"), name=name,
            spec=vim.vm.CloneSpec(location=vim.vm.RelocateSpec(pool=pool)))
        watcher = TaskWatcher(s)
        watcher.add([task])
        assert watcher.wait(1) == []                 # still running
        admin.content.sessionManager.TerminateSession([s.content.sessionManager.currentSession.key])
        done = []
        for _ in range(10):
            done += watcher.wait(10)
            if done:
                break
        watcher.close()
        assert [o.state for o in done] == ["success"] and s.stub.relogins == 1
        assert name in vms_named(session, name)
    finally:
        for vm in [o.ref for o in read_inventory(session, {"VirtualMachine": []}).of_type("VirtualMachine")
                   if o.name == name]:
            vm.Destroy_Task()
        admin.close()
        s.close()
