"""`make bench`, guest setup: what recording finished script steps and checks cost.

64 VMs with two scripts in two barriers and one check: the create (clones, scripts, one record
write per VM per barrier, checks), the re-run with nothing pending (no guest operation: only the
checks run), a re-run after one VM's record was cleared by hand (its two steps run on that VM
alone), and `--status` with its checks.
"""
from __future__ import annotations

from pathlib import Path

from benchmarks.measure import Row, new_lab, run_cli
from benchmarks.scale import LAB_ARGS
from tests.plugins.lab import stop_lab

FILE = """
[BASE]
template: vhpc_clone
cpu: 2
memory: 4
datacenter: HPC_Datacenter
cluster: COMPUTE_GPU_Cluster
datastore: COMPUTE01_vsanDatastore
guest_username: root
guest_password: VMware1!

[SETUP]
script: {work}/setup.sh
script: {work}/after.sh barrier: 1

[CHECKED]
check: {work}/check.sh

[_VMS_]
bench-setup{{001:{n:03d}}}: BASE host: vhpc-esx-0{{2:8}}.hpc.vmware.com SETUP CHECKED
"""


def scripts(work: Path, n: int = 64) -> list[Row]:
    lab = new_lab(work, "scripts", 10, *LAB_ARGS)
    try:
        (work / "setup.sh").write_text("#!/bin/sh\necho set up\n")
        (work / "after.sh").write_text("#!/bin/sh\necho after\n")
        (work / "check.sh").write_text("#!/bin/sh\necho healthy\n")
        conf = work / "scripts.conf"
        conf.write_text(FILE.format(work=work, n=n))
        create = ["cluster", "--create", "--file", str(conf)]
        rows = [run_cli(lab, f"cluster --create, 2 script barriers and a check ({n})", n, create),
                run_cli(lab, "cluster --create re-run (steps done; checks run)", n, create),
                run_cli(lab, "cluster --create re-run --no-checks (nothing to do)", n, create + ["--no-checks"])]
        # One VM's steps are forgotten (its record cleared by hand): the re-run runs them there alone.
        session = lab.connect()
        try:
            from vhpc_toolkit.ops.post.record import record_spec
            from vhpc_toolkit.vsphere.inventory import read_inventory
            from vhpc_toolkit.vsphere.tasks import wait_for_task

            vm = read_inventory(session, {"VirtualMachine": []}).find("VirtualMachine", "bench-setup007")
            wait_for_task(session, vm.ref.ReconfigVM_Task(spec=record_spec("")))
        finally:
            session.close()
        rows.append(run_cli(lab, "cluster --create re-run, 1 VM's 2 steps pending (--no-checks)", n,
                            create + ["--no-checks"]))
        rows.append(run_cli(lab, "cluster --status with checks", n, ["cluster", "--status", "--file", str(conf)]))
        run_cli(lab, "", n, ["cluster", "--destroy", "--file", str(conf)])
    finally:
        stop_lab(lab)
    return rows
