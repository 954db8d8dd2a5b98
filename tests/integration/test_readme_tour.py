"""The README's short tour, line by line, on a lab of its own (it builds switches and VMs with fixed
names): every command exits 0 as written, from a folder holding the ./vCenter.conf `make lab` writes,
and what it built is read back with pyVmomi."""
from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from tests.plugins.lab import ROOT, start_lab, stop_lab


def tour_commands(readme: Path = ROOT / "README.md") -> list[list[str]]:
    """The vhpc_toolkit commands of the tour's code block, `$F` expanded, continuation lines joined."""
    text = readme.read_text().split("## A short tour", 1)[1]
    block = re.search(r"```bash\n(.*?)```", text, re.S).group(1)
    block = re.sub(r"\\\n\s*", " ", block)
    variables, commands = {}, []
    for line in block.splitlines():
        words = shlex.split(line, comments=True)
        if not words:
            continue
        if len(words) == 1 and re.fullmatch(r"\w+=\S+", words[0]):
            name, value = words[0].split("=", 1)
            variables[name] = value
        elif words[0] == "vhpc_toolkit":
            commands.append([variables.get(w[1:], w) if w.startswith("$") else w for w in words[1:]])
    return commands


@pytest.fixture(scope="module")
def tour_lab(tmp_path_factory):
    lab = start_lab(tmp_path_factory.mktemp("tour-lab"))
    yield lab
    stop_lab(lab)


def test_the_tour_runs_as_written(tour_lab, run_cli, tmp_path, monkeypatch):
    commands = tour_commands()
    assert len(commands) > 30 and ["view"] in commands
    (tmp_path / "vCenter.conf").write_text(tour_lab.conf.read_text())   # as `make lab` writes it
    (tmp_path / "vCenter.conf").chmod(0o600)
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("VHPC_GUEST_PASSWORD", "VMware1!")    # `post` asks for it on a terminal
    monkeypatch.delenv("VHPC_VCENTER_CONF", raising=False)
    failed = []
    for argv in commands:
        code, out, err = run_cli("--yes", *argv)
        if code != 0:
            failed.append(f"vhpc_toolkit {shlex.join(argv)}: exit {code}: {(err or out).strip()[-300:]}")
    assert failed == []
    assert (tmp_path / "my-cluster" / "cluster-scripts" / "cluster-sriov-gpu.conf").is_file()
    si = tour_lab.connect_plain()
    try:
        from pyVmomi import vim
        view = si.content.viewManager.CreateContainerView(si.content.rootFolder, [vim.VirtualMachine], True)
        names = {vm.name for vm in view.view}
        view.DestroyView()
    finally:
        from pyVim.connect import Disconnect
        Disconnect(si)
    assert names == {"vhpc_clone"}, names      # the tour destroys every VM it made
