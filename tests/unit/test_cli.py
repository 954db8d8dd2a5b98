"""The argument tree: the original's commands and flags, global options, exit codes."""
from __future__ import annotations

import pytest

from vhpc_toolkit import __version__
from vhpc_toolkit.cli.main import main
from vhpc_toolkit.cli.parser import build_parser
from vhpc_toolkit.errors import ExitCode

COMMANDS = ["view", "clone", "destroy", "power", "cpumem", "network", "network_cfg", "post",
            "passthru", "sriov", "pvrdma", "vgpu", "svs", "dvs", "latency", "cluster",
            # the original's 1.0.3 release
            "get_vm_config", "migrate_vm", "secure_boot", "vm_sched_affinity", "numa_affinity",
            "power_policy", "passthru_host", "sriov_host"]

# One invocation per command, written as the original's README and scripts write them.
ORIGINAL_INVOCATIONS = [
    ["view", "--networking"],
    ["clone", "--template", "vhpc_clone", "--vm", "vm1", "--linked", "--datacenter", "DC",
     "--vm_folder", "F", "--cluster", "C", "--host", "H", "--datastore", "D",
     "--resource_pool", "RP", "--cpu", "4", "--memory", "16"],
    ["destroy", "--file", "vms.txt"],
    ["power", "--vm", "vm1", "--on"],
    ["cpumem", "--vm", "vm1", "--cpu", "4", "--memory", "8.5", "--cpu_shares", "2000",
     "--memory_shares", "1000", "--cpu_reservation", "yes", "--memory_reservation", "n"],
    ["network", "--vm", "vm1", "--add", "--port_group", "pg1", "pg2"],
    ["network_cfg", "--vm", "vm1", "--port_group", "pg", "--ip", "10.0.0.2", "--netmask",
     "255.255.255.0", "--gateway", "10.0.0.1", "--dns", "10.0.0.3", "10.0.0.4", "--domain", "d",
     "--guest_hostname", "h"],
    ["post", "--vm", "vm1", "--script", "a.sh", "b.sh", "--guest_username", "root", "--wait"],
    ["passthru", "--vm", "vm1", "--add", "--device", "0000:3b:00.0", "--mmio_size", "512"],
    ["sriov", "--vm", "vm1", "--add", "--sriov_port_group", "pg", "--pf", "0000:af:00.0",
     "--dvs_name", "d"],
    ["pvrdma", "--vm", "vm1", "--add", "--pvrdma_port_group", "pg", "--dvs_name", "d"],
    ["vgpu", "--vm", "vm1", "--add", "--profile", "grid_p100-4q"],
    ["svs", "--create", "--host", "h1", "h2", "--name", "s", "--pnic", "vmnic4", "--port_group", "pg"],
    ["dvs", "--create", "--name", "d", "--host", "h1", "--pnic", "vmnic5", "--port_group", "pg",
     "--datacenter", "DC"],
    ["latency", "--vm", "vm1", "--level", "high"],
    ["cluster", "--create", "--file", "c.conf"],
    # 1.0.3, as its vm-commands.md and host-commands.md write them
    ["get_vm_config", "--vm", "vm1"],
    ["migrate_vm", "--file", "vms.txt", "--destination", "h2"],
    ["secure_boot", "--vm", "vm1", "--on"],
    ["vm_sched_affinity", "--vm", "vm1", "--affinity", "0, 2, 4:7, 8:12:2"],
    ["numa_affinity", "--file", "vms.txt", "--clear"],
    ["power_policy", "--host", "h1", "--policy", "1"],
    ["passthru_host", "--host", "h1", "--device", "0000:3b:00.0", "--off"],
    ["sriov_host", "--file", "hosts.txt", "--device", "0000:af:00.0", "--on", "--num_func", "4"],
    ["passthru", "--vm", "vm1", "--add", "--device", "0000:3b:00.0", "--dynamic"],
    ["cpumem", "--vm", "vm1", "--cpu", "44", "--cores_per_socket", "22"],
    ["svs", "--create", "--host", "h1", "--name", "s", "--pnic", "vmnic4", "--port_group", "pg", "--mtu", "9000"],
    ["dvs", "--create", "--name", "d", "--host", "h1", "--pnic", "vmnic5", "--mtu", "9000"],
    ["sriov", "--vm", "vm1", "--add", "--sriov_port_group", "pg", "--pf", "0000:af:00.0",
     "--sriov_dvs_name", "d", "--allow_guest_mtu_change"],
]


NEW_COMMANDS = ["examples", "completion", "slurm"]   # commands the original toolkit did not have


def test_every_original_command_exists():
    from vhpc_toolkit.cli.commands import ORIGINAL_COMMANDS

    sub = next(a for a in build_parser()._actions if a.dest == "command")
    assert set(COMMANDS) <= set(sub.choices)
    assert sorted(ORIGINAL_COMMANDS) == sorted(COMMANDS)
    assert sorted(sub.choices) == sorted(COMMANDS + NEW_COMMANDS)


@pytest.mark.parametrize("argv", ORIGINAL_INVOCATIONS, ids=lambda a: a[0])
def test_original_flags_parse(argv):
    args = build_parser().parse_args(argv)
    assert args.command == argv[0]
    assert callable(args.run)


def test_flag_values_are_typed():
    args = build_parser().parse_args(ORIGINAL_INVOCATIONS[4])
    assert (args.cpu, args.memory, args.cpu_reservation, args.memory_reservation) == (4, 8.5, True, False)
    args = build_parser().parse_args(ORIGINAL_INVOCATIONS[8])
    assert args.device == ["0000:3b:00.0"] and args.mmio_size == 512
    assert build_parser().parse_args(["passthru", "--vm", "v", "--query"]).mmio_size == 256


def test_the_103_flags_are_typed():
    parse = build_parser().parse_args
    assert parse(["vm_sched_affinity", "--vm", "v", "--affinity", "0, 2, 4:7, 8:12:2"]).affinity == \
        [0, 2, 4, 5, 6, 7, 8, 10, 12]
    assert parse(["power_policy", "--host", "h", "--policy", "3"]).policy == 3
    assert parse(["sriov", "--vm", "v", "--add", "--sriov_dvs_name", "d"]).dvs_name == "d"
    assert parse(["sriov", "--vm", "v", "--add", "--allow_guest_mtu_change"]).allow_guest_mtu_change is True
    assert parse(["sriov", "--vm", "v", "--add", "--allow_guest_mtu_change", "no"]).allow_guest_mtu_change is False
    assert parse(["passthru", "--vm", "v", "--add", "--device", "x", "--dynamic"]).dynamic is True
    assert parse(["cpumem", "--vm", "v", "--cores_per_socket", "22"]).cores_per_socket == 22


@pytest.mark.parametrize("argv, why", [
    (["vm_sched_affinity", "--vm", "v", "--affinity", "4:2"], "ends before it starts"),
    (["numa_affinity", "--vm", "v", "--affinity", "a"], "is not a number"),
    (["vm_sched_affinity", "--vm", "v", "--affinity", "0", "--clear"], "not allowed with"),
    (["power_policy", "--host", "h", "--policy", "5"], "invalid choice"),
    (["secure_boot", "--vm", "v"], "one of the arguments --on --off is required"),
    (["svs", "--create", "--host", "h", "--name", "s", "--mtu", "9600"], "at most 9000"),
    (["sriov_host", "--host", "h", "--device", "d", "--on", "--num_func", "0"], "positive"),
])
def test_bad_103_usage_exits_2(argv, why, capsys):
    assert main(argv) == ExitCode.BAD_INPUT
    err = capsys.readouterr().err
    assert "usage:" in err and why in err


def test_global_options_before_the_command():
    args = build_parser().parse_args(["--vcenter-conf", "x.conf", "--output", "json", "--yes",
                                      "--debug", "view"])
    assert (args.vcenter_conf, args.output, args.yes, args.debug) == ("x.conf", "json", True, True)


@pytest.mark.parametrize("argv", [
    ["power", "--vm", "v"],                         # --on/--off required
    ["power", "--vm", "v", "--file", "f", "--on"],  # --vm and --file exclusive
    ["cpumem", "--vm", "v", "--cpu_reservation", "maybe"],
    ["latency", "--vm", "v", "--level", "extreme"],
    ["frobnicate"],
    [],
])
def test_bad_usage_exits_2(argv, capsys):
    assert main(argv) == ExitCode.BAD_INPUT
    assert "usage:" in capsys.readouterr().err


def test_version(capsys):
    assert main(["--version"]) == 0
    assert __version__ in capsys.readouterr().out


def test_only_the_named_command_is_imported():
    import subprocess
    import sys

    code = ("import sys; from vhpc_toolkit.cli.parser import build_parser, command_of; "
            "build_parser(command_of(['--yes', 'power', '--vm', 'v', '--on'])); "
            "print(sorted(m.rsplit('.', 1)[1] for m in sys.modules if m.startswith('vhpc_toolkit.cli.commands.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['power']"


def test_help_lists_every_command(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in COMMANDS)


def test_exit_codes_are_fixed():
    assert [int(c) for c in ExitCode] == [0, 1, 2, 130]


def test_global_options_after_the_command_too():
    args = build_parser().parse_args(["cluster", "--create", "--file", "c.conf", "--yes", "--output", "json"])
    assert (args.yes, args.output, args.vcenter_conf) == (True, "json", None)
    args = build_parser().parse_args(["--yes", "--output", "json", "view"])
    assert (args.yes, args.output) == (True, "json")  # not reset by the command's defaults


def test_readme_tour_shows_every_command():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    tour = readme[readme.index("## A short tour"):readme.index("## Pointing it at a real vCenter")]
    assert "the original toolkit's 24 commands" in tour and len(COMMANDS) == 24
    assert not [name for name in COMMANDS + ["examples", "slurm"] if f"vhpc_toolkit {name} " not in tour
                and f"vhpc_toolkit --output json {name}" not in tour]


# --- both spellings, "did you mean", several VMs -------------------------------------------------

def _every_long_flag():
    import argparse

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for command, p in sub.choices.items():
        for action in p._actions:
            for option in action.option_strings:
                if option.startswith("--") and ("_" in option or "-" in option[2:]):
                    yield command, option, action


def test_every_flag_parses_with_either_spelling():
    from vhpc_toolkit.cli.parser import spellings

    flags = list(_every_long_flag())
    assert len(flags) > 100
    for command, option, action in flags:
        parser = build_parser(command)
        sub = next(a for a in parser._actions if a.dest == "command").choices[command]
        for other in spellings(option):
            assert sub._option_string_actions[other] is sub._option_string_actions[option], (command, option)


def test_hyphen_and_underscore_spellings_give_the_same_arguments():
    a = build_parser().parse_args(["clone", "--template", "t", "--vm", "v", "--gpu", "1", "--gpu_model", "V100",
                                   "--vm_folder", "F", "--task-timeout", "9"])
    b = build_parser().parse_args(["clone", "--template", "t", "--vm", "v", "--gpu", "1", "--gpu-model", "V100",
                                   "--vm-folder", "F", "--task_timeout", "9", "--vcenter_conf", "x.conf"])
    assert (a.gpu_model, a.vm_folder, a.task_timeout) == (b.gpu_model, b.vm_folder, b.task_timeout) == ("V100", "F", 9)
    assert b.vcenter_conf == "x.conf"
    # an abbreviation that both spellings of one flag share is that flag
    assert build_parser().parse_args(["destroy", "--vm", "v", "--include"]).include_templates is True


def test_help_shows_the_documented_spelling_only(capsys):
    assert main(["clone", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--gpu_model" in out and "--gpu-model" not in out


def test_did_you_mean_a_command_or_a_flag(capsys):
    assert main(["clsuter", "--plan", "--file", "c.conf"]) == 2
    assert "unknown command 'clsuter'; did you mean 'cluster'?" in capsys.readouterr().err
    assert main(["frobnicate"]) == 2
    assert "unknown command 'frobnicate' (vhpc_toolkit --help lists the commands)" in capsys.readouterr().err
    assert main(["power", "--vm", "v", "--on", "--task-timout", "5"]) == 2
    assert "did you mean --task-timeout" in capsys.readouterr().err


def test_several_vms_at_once():
    from vhpc_toolkit.cli.parser import vm_targets

    args = build_parser().parse_args(["destroy", "--vm", "a", "b", "c", "a"])
    assert vm_targets(args) == [("a", "--vm"), ("b", "--vm"), ("c", "--vm")]
