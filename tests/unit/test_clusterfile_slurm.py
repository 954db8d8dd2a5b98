"""The [_SLURM_] section and the VMs' Slurm keys: values, defaults, and FILE:LINE errors."""
from __future__ import annotations

import pytest

from vhpc_toolkit.clusterfile import ClusterFileError, parse_cluster_text

SLURM = "[_SLURM_]\ncontroller: ctl.example.org:7000\n\n"          # lines 1-3
BASE = "[BASE]\ntemplate: tpl\ncpu: 8\nmemory: 64\n\n[_VMS_]\n"       # lines 4-9; definitions from 10


def parse(text: str):
    return parse_cluster_text(text, "c.conf", base_dir="/nonexistent")


def problems(text: str) -> list[str]:
    with pytest.raises(ClusterFileError) as err:
        parse(text)
    return err.value.problems


def test_section_values_and_defaults():
    spec = parse(SLURM + BASE + "login01: BASE role: login\ngpu{1:4}: BASE elastic: yes gpu: 1 features: [v100, ib]")
    s = spec.slurm
    assert (s.controller, s.port, s.controller_address) == ("ctl.example.org", 7000, "ctl.example.org:7000")
    # Slurm's defaults for the timeouts; suspend_time 300 (Slurm's NONE would never suspend an elastic node)
    assert (s.suspend, s.suspend_time, s.resume_timeout, s.suspend_timeout, s.partition_default) == \
        ("power_off", 300, 60, 30, "compute")
    login, gpu1 = spec.vms[0], spec.vms[1]
    assert login.is_login and not login.elastic
    assert gpu1.elastic and not gpu1.is_login and gpu1.role is None and gpu1.features == ["v100", "ib"]


def test_every_key_given():
    spec = parse("[_SLURM_]\ncontroller: 127.0.0.1\nsuspend: destroy\nsuspend_time: 30\nresume_timeout: 600\n"
                 "suspend_timeout: 20\npartition_default: gpu\n\n" + BASE + "n1: BASE partition: gpu")
    s = spec.slurm
    assert (s.port, s.controller_address, s.suspend, s.suspend_time, s.resume_timeout, s.suspend_timeout,
            s.partition_default) == (None, "127.0.0.1:6817", "destroy", 30, 600, 20, "gpu")
    assert spec.slurm.to_dict()["controller"] == "127.0.0.1:6817"


def test_partition_is_repeatable_and_takes_lists():
    spec = parse(SLURM + "[GPU]\npartition: gpu\n\n" + BASE.replace("[BASE]", "[BASE]") +
                 "n1: BASE GPU partition: [all, debug] partition: gpu")
    assert spec.vms[0].partition == ["gpu", "all", "debug"]


def test_the_default_partition_when_not_given():
    # every compute node names a partition: the first one named is Slurm's default
    assert parse(SLURM + BASE + "a1: BASE partition: [gpu, all]\nb1: BASE partition: cpu").slurm.partition_default \
        == "gpu"
    assert parse(SLURM + BASE + "a1: BASE partition: gpu\nb1: BASE").slurm.partition_default == "compute"


def test_no_slurm_section_no_slurm():
    assert parse(BASE.replace("[_VMS_]\n", "[_VMS_]\n") + "n1: BASE").slurm is None


@pytest.mark.parametrize("text, expected", [
    (SLURM + BASE + "login01: BASE role: login elastic: yes\nn1: BASE",
     ["c.conf:10: VM 'login01': a login node cannot be elastic (users log in to it; elastic nodes exist only "
      "while Slurm runs jobs on them)"]),
    (SLURM + BASE + "login01: BASE role: login partition: gpu\nn1: BASE",
     ["c.conf:10: VM 'login01': a login node is in no partition (it runs no jobs); remove partition: gpu"]),
    (SLURM + BASE + "n{1:2}: BASE elastic: yes power: off",
     ["c.conf:10: VM 'n1': elastic nodes are powered on and off by Slurm; remove power: off"]),
    (BASE + "n1: BASE elastic: yes partition: gpu",
     ["c.conf:7: VM 'n1': partition, elastic need a [_SLURM_] section (the controller the nodes register with)"]),
    ("[_SLURM_]\ncontroller: ctl\npartition_default: batch\n\n" + BASE + "n1: BASE partition: gpu",
     ["c.conf:3: [_SLURM_] partition_default: partition 'batch' has no nodes (every compute node names other "
      "partitions: gpu)"]),
    (SLURM + BASE + "n1: BASE role: boss",
     ["c.conf:10: VM 'n1': role: 'boss' is not one of login, compute"]),
    (SLURM + BASE + "n1: BASE features: [a b]",
     ["c.conf:10: VM 'n1': features: '[a b]' is not a list: expected ',' at 'b'"]),
    (SLURM + BASE + "n1: BASE partition: ['gpu nodes']",
     ["c.conf:10: VM 'n1': partition: 'gpu nodes' is not a Slurm name (letters, digits, '_', '.', '+', '-')"]),
    (SLURM + BASE + "login01: BASE role: login",
     ["c.conf:1: [_SLURM_] the file has no compute node (every VM is role: login)"]),
    (SLURM + BASE + "n1: BASE _SLURM_",
     ["c.conf:10: VM 'n1': section [_SLURM_] cannot be used in a definition"]),
])
def test_inconsistent_files_are_refused_with_their_line(text, expected):
    assert problems(text) == expected


def test_section_errors_each_with_its_line():
    text = ("[_SLURM_]\ncontroler: x\nsuspend: sometimes\nsuspend_time: -3\nresume_timeout: 60\nresume_timeout: 90\n\n"
            + BASE + "n1: BASE")
    assert problems(text) == [
        "c.conf:1: [_SLURM_] needs controller: HOST[:PORT] (the slurmctld the nodes register with)",
        "c.conf:2: [_SLURM_] unknown key 'controler' (did you mean 'controller'?)",
        "c.conf:3: [_SLURM_] suspend: 'sometimes' is not one of power_off, destroy",
        "c.conf:4: [_SLURM_] suspend_time: '-3' must be at least 1",
        "c.conf:6: [_SLURM_] resume_timeout is given twice (first on line 5)",
    ]


@pytest.mark.parametrize("controller, message", [
    ("ctl:0", "'ctl:0': the port must be a number from 1 to 65535"),
    ("ctl:http", "'ctl:http': the port must be a number from 1 to 65535"),
    ("bad host:1", "'bad host:1' is not HOST[:PORT]"),
])
def test_bad_controller(controller, message):
    out = problems(f"[_SLURM_]\ncontroller: {controller}\n\n" + BASE + "n1: BASE")
    assert len(out) == 1 and out[0].startswith("c.conf:2: [_SLURM_] controller: " + message)
