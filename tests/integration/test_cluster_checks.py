"""Health checks in the guests (`check: SCRIPT [ARGS]`) and the progress lines of a run, on the lab.

`cluster --status` (and `--create`, last) run every check of the file's VMs through guest
operations; a failing one names its VM with the last lines of its output and makes the exit
status 1, for both commands alike; `--no-checks` skips them. The example checks
(examples/post-scripts/check-gpus.sh, check-infiniband.sh) run as written: the lab's guests see
their own GPUs and RDMA devices (sim/guest_devices.go).
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from tests.integration.test_json_schemas import check

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "cluster-scripts" / "cluster-checks.conf"
GPU_CHECK = ROOT / "examples" / "post-scripts" / "check-gpus.sh"

BODY = f"""
[BASE]
template: vhpc_clone
cpu: 2
memory: 2
datacenter: HPC_Datacenter
cluster: COMPUTE_GPU_Cluster
datastore: COMPUTE01_vsanDatastore
host: vhpc-esx-04.hpc.vmware.com
guest_username: root
guest_password: VMware1!

[GPU-CHECK]
check: {GPU_CHECK} 1

[_VMS_]
PFX-a: BASE GPU-CHECK
PFX-b: BASE check: OK
PFX-off: BASE GPU-CHECK power: off
"""


def test_the_examples_checks_pass_in_the_lab(cli, session):
    try:
        code, out, err = cli("--output", "json", "cluster", "--create", "--file", EXAMPLE)
        assert code == 0, err + out
        doc = json.loads(out)
        checks = {v["name"]: sorted((Path(c["check"].split()[0]).name, c["status"]) for c in v["checks"])
                  for v in doc["vms"]}
        assert checks == {"gpu1": [("check-gpus.sh", "ok"), ("check-infiniband.sh", "ok")],
                          "gpu2": [("check-gpus.sh", "ok"), ("check-infiniband.sh", "ok")],
                          "io1": [("check-infiniband.sh", "ok")]}
        code, out, err = cli("--output", "json", "cluster", "--status", "--file", EXAMPLE)
        assert code == 0 and json.loads(out)["matches"] is True, err
        gpu = next(c for c in json.loads(out)["vms"][0]["checks"] if "check-gpus" in c["check"])
        assert gpu["output_tail"][-1] == "ok: 1 GPU" and gpu["output_tail"][0].startswith("GPU 0: ")
    finally:
        assert cli("cluster", "--destroy", "--file", EXAMPLE)[0] == 0


def test_a_failing_check_makes_status_exit_1_and_names_the_vm(cli, cluster_file, lab, tmp_path):
    ok = tmp_path / "ok.sh"
    ok.write_text("#!/bin/sh\necho fine\n")
    path, pfx = cluster_file(BODY.replace("check: OK", f"check: {ok}"))
    code, out, err = cli("--output", "json", "cluster", "--create", "--file", path)
    doc = json.loads(out)
    check(doc, "cluster")
    assert code == 1 and doc["verdict"] == [f"checks failing on 1 VM ({pfx}-a)"], err   # --create judges alike
    code, out, err = cli("--output", "json", "cluster", "--status", "--file", path)
    status = json.loads(out)
    check(status, "status")
    assert code == 1 and status["verdict"] == doc["verdict"], err
    vms = {v["name"]: v for v in status["vms"]}
    (failing,) = vms[f"{pfx}-a"]["checks"]
    assert failing["status"] == "failed" and failing["exit_code"] == 2
    assert failing["output_tail"] == ["nvidia-smi not found: is the NVIDIA driver installed?"]
    assert [c["status"] for c in vms[f"{pfx}-b"]["checks"]] == ["ok"] and "checks" not in vms[f"{pfx}-off"]

    code, text, _ = cli("cluster", "--status", "--file", path)
    assert code == 1 and "Checks failing" in text and f"{pfx}-a" in text and "nvidia-smi not found" in text
    # A check keeps one script and one log in the guest, however often it runs.
    assert len(list((lab.guest_root / f"{pfx}-a" / "tmp").glob("vhpc-check-*"))) == 2

    # --no-checks: nothing runs in the guests, and the rest of the cluster matches.
    lab.reset_calls()
    assert cli("cluster", "--status", "--no-checks", "--file", path)[0] == 0
    assert cli("cluster", "--create", "--no-checks", "--file", path)[0] == 0
    assert not lab.calls()["methods"].get("StartProgramInGuest")


def test_off_a_terminal_each_phase_says_when_it_starts_and_ends_with_a_heartbeat(cli, cluster_file, tmp_path,
                                                                               faults, monkeypatch):
    from vhpc_toolkit.output import progress

    monkeypatch.setattr(progress, "HEARTBEAT_SECONDS", 0.2)
    faults(task_delay_ms=1200)   # clones that take a while: heartbeats while they run
    script = tmp_path / "s.sh"
    script.write_text("#!/bin/sh\nsleep 1\n")
    path, pfx = cluster_file(BODY.replace("PFX-a: BASE GPU-CHECK\nPFX-b: BASE check: OK\nPFX-off: BASE GPU-CHECK "
                                          "power: off\n", f"PFX-n{{1:2}}: BASE script: {script} barrier: 2\n"))
    code, out, err = cli("cluster", "--create", "--file", path)
    assert code == 0, err
    lines = err.splitlines()
    for phase, total in (("cloning", 2), ("waiting for IPs", 2), ("scripts, barrier 2", 2)):
        start, end = lines.index(f"{phase}: started ({total})"), \
            next(i for i, x in enumerate(lines) if x.startswith(f"{phase}: ended {total}/{total}, 0 failed, "))
        assert start < end, lines
    beats = [x for x in lines if re.fullmatch(r"cloning [0-2]/2, 0 failed, \ds( \(.*\))?", x)]   # (2 running)
    assert beats, lines
    assert any(re.fullmatch(r"scripts, barrier 2 [0-2]/2, 0 failed, \ds( \(.*\))?", x) for x in lines), lines


def test_ctrl_c_while_the_checks_run_says_nothing_was_changed(cli, cluster_file, session, tmp_path, monkeypatch):
    """Ctrl-C during the checks of `--status`, and of a `--create` that finds the cluster up to date:
    exit 130 saying nothing was changed (not a bare "interrupted"); the VM is as it was."""
    from tests.integration.test_nothing_lost import ctrl_c_once
    from vhpc_toolkit.cluster.guests import checks

    (tmp_path / "ok.sh").write_text("#!/bin/sh\necho ok\n")
    path, pfx = cluster_file(f"[B]\ntemplate: vhpc_clone\ncpu: 2\nmemory: 2\nhost: vhpc-esx-04.hpc.vmware.com\n"
                             f"guest_password: VMware1!\ncheck: {tmp_path / 'ok.sh'}\n[_VMS_]\nPFX-a: B\n")
    assert cli("cluster", "--create", "--file", path)[0] == 0
    for action in ("--status", "--create"):
        fired = ctrl_c_once(monkeypatch, checks, "run_checks")
        code, _, err = cli("cluster", action, "--file", path)
        assert fired and code == 130 and "nothing was changed" in err and "Traceback" not in err, (action, err)
        monkeypatch.undo()
