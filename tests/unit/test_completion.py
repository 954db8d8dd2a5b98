"""Shell completion through argcomplete's own entry point (the environment its shell function sets):
commands, flags, names from the last inventory read, export kinds; and the shell code in a real bash."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

PROGRAM = [sys.executable, "-c", "from vhpc_toolkit.cli.main import main; main()"]
INVENTORY = {"vms": ["node1", "node2", "login"], "templates": ["vhpc_clone", "centos-tpl"],
             "hosts": ["vhpc-esx-01.hpc.vmware.com", "vhpc-esx-02.hpc.vmware.com"],
             "port_groups": ["sriov-pg", "vHPC-PG-VMNetwork"], "devices": ["0000:3b:00.0", "0000:d8:00.0"]}


def complete(line: str, tmp_path, inventory: dict | None = INVENTORY, **env) -> list[str]:
    """What argcomplete answers for ``line`` (cursor at its end), as the shell function asks it."""
    out = tmp_path / "completions"
    cache = tmp_path / "cache"
    if inventory is not None:
        (cache / "vhpc_toolkit").mkdir(parents=True, exist_ok=True)
        (cache / "vhpc_toolkit" / "inventory.json").write_text(json.dumps(inventory))
    environ = {**os.environ, "_ARGCOMPLETE": "1", "COMP_LINE": line, "COMP_POINT": str(len(line)),
               "_ARGCOMPLETE_STDOUT_FILENAME": str(out), "XDG_CACHE_HOME": str(cache),
               "_ARGCOMPLETE_SUPPRESS_SPACE": "1", **env}
    # no vCenter anywhere: completing must never try to reach one
    environ.pop("VHPC_VCENTER_CONF", None)
    subprocess.run(PROGRAM, env=environ, check=False, capture_output=True, timeout=60, cwd=tmp_path)
    text = out.read_text() if out.exists() else ""
    return sorted(c.strip() for c in text.split("\x0b")) if text else []


def test_commands_and_flags(tmp_path):
    assert complete("vhpc_toolkit cl", tmp_path) == ["clone", "cluster"]
    assert complete("vhpc_toolkit cluster --cr", tmp_path) == ["--create"]
    # one spelling offered (the documented one), though both parse
    assert complete("vhpc_toolkit clone --gpu", tmp_path) == ["--gpu", "--gpu_label", "--gpu_model"]


def test_names_from_the_last_inventory_read(tmp_path):
    assert complete("vhpc_toolkit power --on --vm no", tmp_path) == ["node1", "node2"]
    assert complete("vhpc_toolkit destroy --vm node1 n", tmp_path) == ["node2"]   # each name once
    assert complete("vhpc_toolkit clone --template vh", tmp_path) == ["vhpc_clone"]
    assert complete("vhpc_toolkit migrate_vm --vm node1 --destination vhpc-esx-0", tmp_path) == \
        INVENTORY["hosts"]
    assert complete("vhpc_toolkit network --vm node1 --add --port_group sr", tmp_path) == ["sriov-pg"]
    assert complete("vhpc_toolkit passthru --vm node1 --add --device 0000:d", tmp_path) == ["0000:d8:00.0"]
    assert complete("vhpc_toolkit view --host vhpc-esx-02", tmp_path) == ["vhpc-esx-02.hpc.vmware.com"]


def test_no_cache_no_names_and_no_vcenter(tmp_path):
    assert complete("vhpc_toolkit power --on --vm no", tmp_path, inventory=None) == []


def test_export_kinds(tmp_path):
    assert complete("vhpc_toolkit cluster --status --file c.conf --export an", tmp_path) == ["ansible="]
    assert len(complete("vhpc_toolkit cluster --status --file c.conf --export ", tmp_path)) == 5


def test_view_writes_the_cache_the_completers_read(tmp_path, monkeypatch):
    from vhpc_toolkit.cli import completion
    from vhpc_toolkit.vsphere.overview import names

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    doc = {"datacenters": [{"name": "DC", "networks": ["pg1"], "standalone_hosts": [], "clusters": [
        {"name": "C", "hosts": [{"name": "h1.example", "gpus": [{"id": "0000:3b:00.0"}], "vms": [
            {"name": "vm1", "template": False}, {"name": "tpl", "template": True}]}]}]}]}
    completion.remember(**names(doc))
    assert completion.cached("vms") == ["vm1"] and completion.cached("templates") == ["tpl"]
    assert completion.cached("hosts") == ["h1.example"] and completion.cached("port_groups") == ["pg1"]
    completion.remember_vm_names(["node7"])       # a cluster run adds its VMs to the view's
    assert completion.cached("vms") == ["node7", "vm1"] and completion.cached("hosts") == ["h1.example"]


@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash")
def test_the_printed_line_completes_in_bash(tmp_path, capsys):
    """The code `vhpc_toolkit completion bash --script` prints, loaded in a real bash, completes."""
    from vhpc_toolkit.cli.main import main

    assert main(["completion", "bash"]) == 0
    assert 'eval "$(vhpc_toolkit completion bash --script)"' in capsys.readouterr().out
    assert main(["completion", "bash", "--script"]) == 0
    script = tmp_path / "completion.bash"
    script.write_text(capsys.readouterr().out)
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "vhpc_toolkit").write_text(f"#!/bin/sh\nexec {sys.executable} -c "
                                         f"'from vhpc_toolkit.cli.main import main; main()' \"$@\"\n")
    (bindir / "vhpc_toolkit").chmod(0o755)
    test = ('source "$1"; COMP_LINE="vhpc_toolkit clu"; COMP_POINT=${#COMP_LINE}; '
            'COMP_WORDS=(vhpc_toolkit clu); COMP_CWORD=1; _python_argcomplete vhpc_toolkit clu vhpc_toolkit; '
            'printf "%s\\n" "${COMPREPLY[@]}"')
    env = {**os.environ, "PATH": f"{bindir}:{os.environ['PATH']}", "XDG_CACHE_HOME": str(tmp_path)}
    out = subprocess.run(["bash", "-c", test, "bash", str(script)], env=env, capture_output=True, text=True,
                         timeout=60)
    assert [w.strip() for w in out.stdout.split()] == ["cluster"], out.stderr


def test_a_clusters_mark_port_group_is_not_offered_as_a_port_group():
    """A standard switch a cluster made carries a mark port group (vhpc-owner.NAME.SWITCH): vCenter lists
    it among the networks, but it is no port group for a VM's adapter."""
    from vhpc_toolkit.vsphere.overview import names

    doc = {"datacenters": [{"name": "DC", "clusters": [], "standalone_hosts": [],
                            "networks": ["VM Network", "swx-pg", "vhpc-owner.swx.swx"]}]}
    assert names(doc)["port_groups"] == ["VM Network", "swx-pg"]
