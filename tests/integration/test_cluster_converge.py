"""Guest setup that converges, on the lab, read back with pyVmomi.

Each VM records the script steps it finished (extraConfig vhpc_toolkit.steps); `cluster --create`
runs on every VM of the file the steps it has not finished, in barrier order across the cluster,
also when it creates nothing; `--status` says per VM which steps are done, failed (exit code,
output) or pending, and gives the same exit status as `--create` for the same state.
"""
from __future__ import annotations

import json
from pathlib import Path

from tests.integration.test_json_schemas import check
from vhpc_toolkit.cli.completion import cached
from vhpc_toolkit.ops.post.steps import STEPS_KEY, StepRecord
from vhpc_toolkit.vsphere.inventory import read_inventory

BODY = """
[BASE]
template: vhpc_clone
cpu: 2
memory: 2
datacenter: HPC_Datacenter
cluster: COMPUTE_GPU_Cluster
datastore: COMPUTE01_vsanDatastore
host: vhpc-esx-03.hpc.vmware.com
guest_username: root
guest_password: VMware1!

[_VMS_]
PFX-n{1:3}: BASE script: AFTER barrier: 1 script: SETUP
"""

# Fails (exit 3) on n2 until /tmp/fixed exists in its guest; every run leaves a line behind.
SETUP = """#!/bin/sh
echo run >> /tmp/setup-runs
case "$(cat /etc/hostname)" in
*-n2) [ -f /tmp/fixed ] || { echo "n2 is not ready: no /tmp/fixed"; exit 3; } ;;
esac
echo set up
"""
AFTER = "#!/bin/sh\necho run >> /tmp/after-runs\n"


def records(session, pfx) -> dict[str, StepRecord]:
    """Each VM's record of finished steps, read back with pyVmomi."""
    inv = read_inventory(session, {"VirtualMachine": ["config.extraConfig"]})
    out = {}
    for o in inv.of_type("VirtualMachine"):
        if o.name.startswith(pfx):
            value = next((x.value for x in o.get("config.extraConfig") or [] if x.key == STEPS_KEY), None)
            out[o.name] = StepRecord.parse(value)
    return out


def runs(lab, vm, name) -> int:
    path = lab.guest_root / vm / "tmp" / name
    return len(path.read_text().splitlines()) if path.exists() else 0


def steps(doc, vm) -> dict[str, dict]:
    found = next(v for v in doc["vms"] if v["name"] == vm)
    return {Path(s["script"]).name: s for s in found["scripts"]}


def guest_calls(lab) -> dict[str, int]:
    methods = lab.calls()["methods"]
    return {m: methods.get(m, 0) for m in ("StartProgramInGuest", "InitiateFileTransferToGuest", "ReconfigVM_Task",
                                           "CloneVM_Task")}


def test_a_failed_step_fixed_in_place_finishes_on_exactly_the_vms_that_lacked_it(cli, cluster_file, session, lab,
                                                                                 tmp_path):
    (tmp_path / "setup.sh").write_text(SETUP)
    (tmp_path / "after.sh").write_text(AFTER)
    path, pfx = cluster_file(BODY.replace("SETUP", str(tmp_path / "setup.sh")).replace("AFTER", str(tmp_path / "after.sh")))
    n1, n2, n3 = (f"{pfx}-n{i}" for i in (1, 2, 3))

    code, out, err = cli("--output", "json", "cluster", "--create", "--file", path)
    doc = json.loads(out)
    check(doc, "cluster")
    assert code == 1 and doc["matches"] is False, err
    assert {v["name"]: v["status"] for v in doc["vms"]} == {n1: "created", n2: "created", n3: "created"}
    assert steps(doc, n2)["setup.sh"]["state"] == "failed" and steps(doc, n2)["setup.sh"]["exit_code"] == 3
    assert {vm: steps(doc, vm)["after.sh"]["state"] for vm in (n1, n2, n3)} == dict.fromkeys((n1, n2, n3), "pending")
    # Read back: n1 and n3 finished setup.sh; n2 holds its failure (exit 3, the last output line).
    found = records(session, pfx)
    assert [len(found[vm].done) for vm in (n1, n2, n3)] == [1, 0, 1] and not found[n1].failed
    (failure,) = found[n2].failed.values()
    assert failure.exit_code == 3 and failure.tail[-1] == "n2 is not ready: no /tmp/fixed"

    code, out, err = cli("--output", "json", "cluster", "--status", "--file", path)
    status = json.loads(out)
    check(status, "status")
    assert code == 1 and status["verdict"] == doc["verdict"], err
    assert steps(status, n2)["setup.sh"]["output_tail"] == ["n2 is not ready: no /tmp/fixed"]
    assert steps(status, n1)["setup.sh"]["state"] == "done" and steps(status, n1)["after.sh"]["state"] == "pending"
    code, text, _ = cli("cluster", "--status", "--file", path)
    assert "failed (exit 3)" in text and "scripts not finished on 3 VMs" in text

    # Fixed in place (in n2's guest): the re-run creates nothing and runs setup.sh on n2 alone,
    # then barrier 1 everywhere; one record write per VM per barrier.
    (lab.guest_root / n2 / "tmp" / "fixed").write_text("")
    lab.reset_calls()
    code, out, err = cli("--output", "json", "cluster", "--create", "--file", path)
    calls = guest_calls(lab)
    doc = json.loads(out)
    assert code == 0 and doc["matches"] is True, err
    assert sorted((r["vm"], Path(r["path"]).name) for r in doc["post"]["results"]) == sorted(
        [(n2, "setup.sh"), (n1, "after.sh"), (n2, "after.sh"), (n3, "after.sh")])
    assert [runs(lab, vm, "setup-runs") for vm in (n1, n2, n3)] == [1, 2, 1]
    assert [runs(lab, vm, "after-runs") for vm in (n1, n2, n3)] == [1, 1, 1]
    assert calls["CloneVM_Task"] == 0 and calls["StartProgramInGuest"] == 4 and calls["ReconfigVM_Task"] == 4
    found = records(session, pfx)
    assert all(len(found[vm].done) == 2 and not found[vm].failed for vm in (n1, n2, n3))
    assert cli("cluster", "--status", "--file", path)[0] == 0

    # Nothing pending: no guest operation, no write.
    lab.reset_calls()
    code, out, err = cli("cluster", "--create", "--file", path)
    assert code == 0 and "up to date" in out, err
    assert guest_calls(lab) == dict.fromkeys(("StartProgramInGuest", "InitiateFileTransferToGuest",
                                               "ReconfigVM_Task", "CloneVM_Task"), 0)

    # --rerun-scripts: every step again, on every VM.
    code, out, err = cli("--output", "json", "cluster", "--create", "--rerun-scripts", "--file", path)
    assert code == 0 and len(json.loads(out)["post"]["results"]) == 6, err
    assert [runs(lab, vm, "setup-runs") for vm in (n1, n2, n3)] == [2, 3, 2]


def test_a_changed_step_runs_again_and_post_records_its_step(cli, cluster_file, session, lab, tmp_path):
    script = tmp_path / "args.sh"
    script.write_text('#!/bin/sh\nfor a in "$@"; do echo "[$a]"; done >> /tmp/args\n')
    body = BODY.replace("PFX-n{1:3}: BASE script: AFTER barrier: 1 script: SETUP", "PFX-a: BASE ARGS")
    section = f"[ARGS]\nscript: {script} one 'two words'\n"
    path, pfx = cluster_file(body + section)
    vm = f"{pfx}-a"
    assert cli("cluster", "--create", "--file", path)[0] == 0
    assert (lab.guest_root / vm / "tmp" / "args").read_text() == "[one]\n[two words]\n"
    assert vm in cached("vms")   # the run's VMs complete in the shell at once (no vCenter call from there)

    # Other arguments are another step: it runs; the same again is done.
    path.write_text(path.read_text().replace("one 'two words'", "three"))
    code, out, err = cli("cluster", "--create", "--file", path)   # the plan says what will run, then runs it
    assert code == 0 and f"scripts: 1 step to run on 1 VM, the steps they have not finished: {vm}" in out, err
    assert "scripts: started (1)" in err and "started (0)" not in err, err     # no phase of nothing to do
    assert (lab.guest_root / vm / "tmp" / "args").read_text().endswith("[two words]\n[three]\n")
    code, out, err = cli("--output", "json", "cluster", "--status", "--file", path)
    assert code == 0 and steps(json.loads(out), vm)["args.sh"]["args"] == ["three"], err
    # The script edited in place is changed since: it runs again.
    script.write_text(script.read_text() + "echo edited >> /tmp/args\n")
    code, out, err = cli("--output", "json", "cluster", "--create", "--file", path)
    assert code == 0 and len(json.loads(out)["post"]["results"]) == 1, err
    assert (lab.guest_root / vm / "tmp" / "args").read_text().splitlines()[-2:] == ["[three]", "edited"]

    # `post --wait` records its step as an unlabelled step of that script and user: a file that then
    # names it has nothing to run.
    extra = tmp_path / "extra.sh"
    extra.write_text("#!/bin/sh\necho extra >> /tmp/extra\n")
    before = records(session, pfx)[vm].done   # the three versions of args.sh (a record keeps its history)
    code, out, err = cli("--output", "json", "post", "--vm", vm, "--script", extra, "--guest_password", "VMware1!",
                         "--wait")
    assert code == 0, err
    assert len(before) == 3 and records(session, pfx)[vm].done[:3] == before and len(records(session, pfx)[vm].done) == 4
    path.write_text(path.read_text() + f"script: {extra}\n")
    lab.reset_calls()
    code, out, err = cli("--output", "json", "cluster", "--status", "--file", path)
    assert code == 0 and all(s["state"] == "done" for s in steps(json.loads(out), vm).values()), err
    code, out, err = cli("--output", "json", "cluster", "--create", "--file", path)
    assert code == 0 and json.loads(out)["post"] is None and guest_calls(lab)["StartProgramInGuest"] == 0, err
    assert (lab.guest_root / vm / "tmp" / "extra").read_text() == "extra\n"


def test_ctrl_c_inside_a_barrier_keeps_the_steps_that_finished(cli, cluster_file, session, lab, tmp_path,
                                                              monkeypatch):
    """Ctrl-C while a barrier's scripts run: the VMs that finished the step keep it in their record (read
    back), the table comes with exit 130, the phase's end is shown, and the re-run runs it on the others."""
    from vhpc_toolkit.ops.post import engine

    (tmp_path / "after.sh").write_text(AFTER)
    body = BODY.replace("PFX-n{1:3}: BASE script: AFTER barrier: 1 script: SETUP", "PFX-n{1:2}: BASE script: AFTER")
    path, pfx = cluster_file(body.replace("AFTER", str(tmp_path / "after.sh")))
    n1, n2 = f"{pfx}-n1", f"{pfx}-n2"
    real = engine._run_phase

    def first_vm_then_ctrl_c(session_, work, *args, **kwargs):   # n1 finishes, then Ctrl-C before n2 starts
        real(session_, [w for w in work if w[0].obj.name == n1], *args, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(engine, "_run_phase", first_vm_then_ctrl_c)
    code, out, err = cli("--output", "json", "cluster", "--create", "--file", path)
    assert code == 130 and "Traceback" not in err, err
    doc = json.loads(out)
    assert {v["name"] for v in doc["vms"]} == {n1, n2}
    assert "scripts: ended 1/2" in err, err
    found = records(session, pfx)
    assert len(found[n1].done) == 1 and not found[n2].done, found
    monkeypatch.setattr(engine, "_run_phase", real)
    code, out, err = cli("cluster", "--create", "--file", path)
    assert code == 0 and f"scripts: 1 step to run on 1 VM, the steps they have not finished: {n2}" in out, err
    assert [runs(lab, vm, "after-runs") for vm in (n1, n2)] == [1, 1]
