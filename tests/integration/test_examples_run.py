"""Every example cluster file the package ships runs unmodified on the lab: created, found up to date
by a re-run, destroyed, nothing of it left (read back with pyVmomi). Examples that other tests run as
they are (with more checks) are named, so a new example cannot be forgotten."""
from __future__ import annotations

from pathlib import Path

import pytest

from vhpc_toolkit.clusterfile import parse_cluster_file
from vhpc_toolkit.vsphere.inventory import read_inventory

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "cluster-scripts"
RUN_HERE = ["cluster-gpu-passthru.conf", "cluster-linked-clone.conf", "cluster-post-scripts.conf",
            "cluster-pvrdma.conf", "cluster-sriov.conf", "cluster-vgpu.conf"]
RUN_ELSEWHERE = {   # example: the test that runs it as it is
    "cluster-checks.conf": "test_cluster_checks.py",
    "cluster-fabrics.conf": "test_parity_cluster.py::test_the_fabrics_example_runs",
    "cluster-gpu-placement.conf": "test_placement.py",
    "cluster-instant.conf": "test_parity_cluster.py (it needs a running golden VM first)",
    "cluster-simple.conf": "test_cluster.py",
    "cluster-slurm.conf": "test_slurm_elastic.py (with a real slurmctld)",
    "cluster-sriov-gpu.conf": "test_readme_tour.py (and make demo)",
}


def test_every_example_is_run_by_some_test():
    assert sorted(p.name for p in EXAMPLES.glob("*.conf")) == sorted(RUN_HERE + list(RUN_ELSEWHERE))


@pytest.mark.parametrize("name", RUN_HERE)
def test_the_example_runs_unmodified(name, cli, session, monkeypatch):
    monkeypatch.setenv("VHPC_GUEST_PASSWORD", "VMware1!")    # what a person types when asked
    path = EXAMPLES / name
    names = {vm.name for vm in parse_cluster_file(path).vms}
    try:
        code, out, err = cli("cluster", "--create", "--file", path)
        assert code == 0 and "cluster matches the file (exit status 0)" in out, err + out
        code, out, err = cli("cluster", "--create", "--file", path)
        assert code == 0 and ": up to date (" in out, err + out
    finally:
        code, _, err = cli("cluster", "--destroy", "--file", path)
        assert code == 0, err
    left = {o.name for o in read_inventory(session, {"VirtualMachine": []}).of_type("VirtualMachine")}
    assert not names & left
