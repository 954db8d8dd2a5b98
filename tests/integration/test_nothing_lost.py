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
