"""Bad input is refused before anything changes: one line, exit 2, no login, no secret shown."""
from __future__ import annotations

import json
import os

import pytest

from vhpc_toolkit.cli.main import main
from vhpc_toolkit.errors import ExitCode
from vhpc_toolkit.limits import name_problem
from vhpc_toolkit.settings import load_settings

# A vCenter.conf pointing nowhere: reaching the login would give a different error.
NOWHERE = {"VHPC_VCENTER_CONF": "", "VHPC_SERVER": "vcenter.invalid", "VHPC_USERNAME": "u", "VHPC_PASSWORD": "p"}


@pytest.fixture
def run(capsys, monkeypatch):
    for key, value in NOWHERE.items():
        monkeypatch.setenv(key, value)

    def call(*argv):
        code = main([str(a) for a in argv])
        out = capsys.readouterr()
        return code, out.out, out.err

    return call


def one_error(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    assert "vcenter.invalid" not in err  # refused before any login
    return lines[0]


@pytest.mark.parametrize("name, why", [("", "empty"), ("a/b", "'/'"), ("x" * 81, "longer than 80"),
                                       ("bad\x07name", "control character")])
def test_vm_names_vcenter_refuses(name, why):
    assert why in name_problem(name)


def test_a_good_vm_name_passes():
    assert name_problem("node-01.hpc_x") is None


def test_cluster_file_vm_name_with_slash_is_refused_with_its_line(run, tmp_path):
    conf = tmp_path / "c.conf"
    conf.write_text("[_VMS_]\nrack/node{1:2}: template: t\n")
    code, _, err = run("cluster", "--plan", "--file", conf)
    assert code == ExitCode.BAD_INPUT and f"{conf}:2:" in one_error(err) and "'/'" in err


def test_clone_name_with_control_character_is_refused_before_login(run):
    code, _, err = run("--yes", "clone", "--template", "t", "--vm", "bad\tname")
    assert code == ExitCode.BAD_INPUT and "control character" in one_error(err)


@pytest.mark.parametrize("kind", ["folder", "fifo", "latin1", "missing"])
def test_vm_list_files_that_are_no_text_files(run, tmp_path, kind):
    path = tmp_path / "vms"
    if kind == "folder":
        path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "latin1":
        path.write_bytes(b"node1\nn\xe9ud2\n")
    code, _, err = run("power", "--on", "--file", path)
    line = one_error(err)
    assert code == ExitCode.BAD_INPUT and str(path) in line
    assert {"folder": "is a folder", "fifo": "not a regular file", "latin1": ":2: not UTF-8",
            "missing": "does not exist"}[kind] in line


@pytest.mark.parametrize("argv, why", [
    (["cpumem", "--vm", "v", "--cpu", "inf"], "expected a number"),
    (["cpumem", "--vm", "v", "--memory", "nan"], "finite"),
    (["cpumem", "--vm", "v", "--memory", "100000"], "at most 24576"),
    (["cpumem", "--vm", "v", "--cpu", "4096"], "at most 768"),
    (["clone", "--template", "t", "--vm", "v", "--cpu", "0"], "at least 1"),
    (["latency", "--vm", "v", "--check", "--level", "high"], "not allowed with"),
    (["passthru", "--vm", "v", "--query", "--add", "--device", "x"], "not allowed with"),
    (["vgpu", "--vm", "v", "--query", "--remove"], "not allowed with"),
    (["dvs", "--create", "--name", "d", "--host", "h", "--pnic", "v", "--vmk_ip", "10.0.0.300"], "IPv4"),
    (["dvs", "--create", "--name", "d", "--host", "h", "--pnic", "v", "--vmk_netmask", "255.0.255.0"], "contiguous"),
])
def test_bad_numbers_and_conflicting_flags_are_usage_errors(run, argv, why):
    code, _, err = run(*argv)
    assert code == ExitCode.BAD_INPUT and "usage:" in err and why in err


@pytest.mark.parametrize("extra, why", [
    (["--vmk_ip", "10.0.0.1", "--vmk_netmask", "255.0.0.0"], "give --pvrdma"),
    (["--pvrdma", "--vmk_ip", "10.0.0.1"], "give --vmk_ip and --vmk_netmask together"),
    (["--pvrdma", "--vmk_ip", "10.0.0.1", "--vmk_netmask", "255.0.0.0"], "2 hosts but 1 --vmk_ip"),
    (["--pvrdma", "--vmk_ip", "10.0.0.1", "10.0.0.1", "--vmk_netmask", "255.0.0.0"], "an address twice"),
])
def test_dvs_static_vmkernel_addresses_are_checked_before_login(run, extra, why):
    code, _, err = run("dvs", "--create", "--name", "d", "--host", "h1", "h2", "--pnic", "vmnic5",
                       "--port_group", "pg", *extra)
    assert code == ExitCode.BAD_INPUT and why in one_error(err)


def test_cluster_file_sizes_beyond_vsphere_maximums(run, tmp_path):
    conf = tmp_path / "c.conf"
    conf.write_text("[_VMS_]\nvm1: template: t memory: 30000 cpu: 1000\n")
    code, _, err = run("cluster", "--plan", "--file", conf)
    assert code == ExitCode.BAD_INPUT and "24576 GB" in err and "768 vCPUs" in err


@pytest.mark.parametrize("target", ["folder", "missing-folder", "cluster-file", "same-twice"])
def test_export_paths_are_checked_before_anything(run, tmp_path, target):
    conf = tmp_path / "c.conf"
    conf.write_text("[_VMS_]\nvm1: template: t\n")
    paths = {"folder": (tmp_path, tmp_path / "inv"), "missing-folder": (tmp_path / "no" / "hosts", None),
             "cluster-file": (conf, None), "same-twice": (tmp_path / "x", tmp_path / "x")}[target]
    argv = ["--yes", "cluster", "--create", "--file", conf, "--hostfile", paths[0]]
    if paths[1]:
        argv += ["--inventory", paths[1]]
    code, _, err = run(*argv)
    assert code == ExitCode.BAD_INPUT and "vcenter.invalid" not in err and "Traceback" not in err
    assert "--export hostfile" in err and "nothing was changed" in err


def test_plan_json_never_shows_the_guest_password(run, tmp_path):
    conf = tmp_path / "c.conf"
    conf.write_text("[_VMS_]\nvm1: template: t guest_password: S3cret!pw\n")
    code, out, _ = run("--output", "json", "cluster", "--plan", "--file", conf)
    assert code == 0 and "S3cret!pw" not in out
    assert json.loads(out)["vms"][0]["guest_password"] == "********"


def test_a_readable_conf_with_a_plain_password_is_warned_about(tmp_path):
    conf = tmp_path / "vCenter.conf"
    conf.write_text("server: vc\nusername: u\npassword: secret\n")
    conf.chmod(0o644)
    settings = load_settings(str(conf), {}, interactive=False)
    assert any("chmod 600" in w and str(conf) in w for w in settings.warnings)
    conf.chmod(0o600)
    assert load_settings(str(conf), {}, interactive=False).warnings == []


def test_ten_thousand_vms_plan_quickly_and_a_bad_range_is_one_error(run, tmp_path):
    body = "[B]\ntemplate: t\nip: 10.0.0.{1:10000}\n[_VMS_]\nnode{00001:10000}: B\n"
    bad = tmp_path / "bad.conf"
    bad.write_text(body)
    code, _, err = run("cluster", "--plan", "--file", bad)
    assert code == ExitCode.BAD_INPUT and "9745 of the 10000 values" in one_error(err)
    good = tmp_path / "good.conf"
    good.write_text(body.replace("ip: 10.0.0.{1:10000}", "host: esx{0:39}"))   # hosts repeat, IPs may not
    code, out, _ = run("cluster", "--plan", "--file", good)
    assert code == 0 and len(out.splitlines()) < 80 and "... 9960 more" in out
