"""`make lab` / `make lab-stop` (scripts/lab.sh), in a copy of the repository's layout so a lab of the
developer's own is left alone: the lab runs in the background, ./vCenter.conf points at it (mode 600,
never over a file of the user's), the toolkit works from that folder, and the stop ends both."""
from __future__ import annotations

import os
import shutil
import subprocess
import time

import yaml

from tests.plugins.lab import ROOT, SIM, _build_sim


def lab_sh(where, action):
    return subprocess.run(["bash", str(where / "scripts" / "lab.sh"), action], capture_output=True, text=True,
                          timeout=60)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_make_lab_starts_writes_the_conf_and_stops(tmp_path, run_cli, monkeypatch):
    _build_sim()
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "lab.sh", tmp_path / "scripts" / "lab.sh")
    (tmp_path / "sim" / "bin").mkdir(parents=True)
    (tmp_path / "sim" / "bin" / "vhpc-sim").symlink_to(SIM)
    started = lab_sh(tmp_path, "start")
    try:
        assert started.returncode == 0 and "make lab-stop" in started.stdout, started.stdout + started.stderr
        conf = tmp_path / "vCenter.conf"
        assert conf.stat().st_mode & 0o777 == 0o600 and yaml.safe_load(conf.read_text())["port"]
        pid = int((tmp_path / ".lab" / "pid").read_text())
        assert alive(pid)
        monkeypatch.chdir(tmp_path)
        monkeypatch.delenv("VHPC_VCENTER_CONF", raising=False)
        code, out, err = run_cli("view")             # ./vCenter.conf, as the README's tour runs it
        assert code == 0 and "HPC_Datacenter" in out, err
        again = lab_sh(tmp_path, "start")
        assert again.returncode == 0 and "already running" in again.stdout
    finally:
        stopped = lab_sh(tmp_path, "stop")
    assert stopped.returncode == 0 and not (tmp_path / "vCenter.conf").exists()
    time.sleep(0.5)
    assert not alive(pid) or open(f"/proc/{pid}/stat").read().split()[2] == "Z"


def test_make_lab_never_writes_over_a_vcenter_conf_of_the_users(tmp_path):
    _build_sim()
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "lab.sh", tmp_path / "scripts" / "lab.sh")
    (tmp_path / "sim" / "bin").mkdir(parents=True)
    (tmp_path / "sim" / "bin" / "vhpc-sim").symlink_to(SIM)
    mine = "server: vcenter.example.org\nusername: me@vsphere.local\n"
    (tmp_path / "vCenter.conf").write_text(mine)
    try:
        started = lab_sh(tmp_path, "start")
        assert started.returncode == 0 and "is yours" in started.stdout and "--vcenter-conf" in started.stdout
    finally:
        lab_sh(tmp_path, "stop")
    assert (tmp_path / "vCenter.conf").read_text() == mine
