"""The wheel as a user gets it: built from the tree, installed into a fresh virtual environment
with nothing of the repository beside it, it runs --version, --help (every command's too) and
`view` against the lab, and carries the example files.

Offline where it can be: the wheel is built without build isolation (the test environment has
setuptools), and its dependencies come from a wheelhouse in .cache/wheelhouse/ made once per
Python from the package index (pip's own cache makes that quick); later runs install from it alone.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TREE = ["src", "setup.py", "pyproject.toml", "README.md", "LICENSE", "NOTICE", "CHANGELOG.md", "MANIFEST.in",
        "examples", "docs/schemas"]
WHEELHOUSE = ROOT / ".cache" / "wheelhouse" / f"py{sys.version_info[0]}{sys.version_info[1]}"


def _pip(*args, timeout=600):
    return subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel, built from a copy of what the package is made of (no stale build/ of the tree)."""
    src = tmp_path_factory.mktemp("tree")
    for name in TREE:
        (shutil.copytree if (ROOT / name).is_dir() else shutil.copy2)(
            ROOT / name, src / name, **({"ignore": shutil.ignore_patterns("__pycache__", "*.egg-info")}
                                        if (ROOT / name).is_dir() else {}))
    dist = tmp_path_factory.mktemp("dist")
    done = _pip("wheel", "--no-deps", "--no-build-isolation", "-q", "-w", dist, src)
    assert done.returncode == 0, done.stderr
    return next(dist.glob("vhpc_toolkit-*.whl"))


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """A fresh virtual environment (this Python) with the wheel and its dependencies; its bin folder."""
    env = tmp_path_factory.mktemp("venv") / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", env], check=True, timeout=120)
    python = env / "bin" / "python"

    def install():
        return _pip("--python", python, "install", "-q", "--no-index", "--find-links", WHEELHOUSE, wheel)

    done = install() if WHEELHOUSE.is_dir() else None
    if done is None or done.returncode != 0:   # first run, or the dependencies changed: fill the wheelhouse
        fill = _pip("wheel", "-q", "-w", WHEELHOUSE, wheel)
        assert fill.returncode == 0, fill.stderr
        for own in WHEELHOUSE.glob("vhpc_toolkit-*.whl"):
            own.unlink()
        done = install()
    assert done.returncode == 0, done.stderr
    return env / "bin"


def run(bindir: Path, *argv, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VHPC_", "PYTHON", "GOVC_"))}
    env["HOME"] = str(cwd)            # no vCenter.conf nor cache of ours
    env["COLUMNS"] = "120"
    return subprocess.run([str(bindir / argv[0]), *map(str, argv[1:])], capture_output=True, text=True,
                          timeout=120, cwd=cwd, env=env)


def test_the_wheel_carries_its_files(wheel):
    import zipfile

    names = zipfile.ZipFile(wheel).namelist()
    assert "vhpc_toolkit/_bundled/examples/cluster-scripts/cluster-simple.conf" in names
    assert "vhpc_toolkit/_bundled/examples/post-scripts/hello_world1.sh" in names
    assert "vhpc_toolkit/_bundled/schemas/view.json" in names
    info = [n for n in names if n.endswith(".dist-info/METADATA")][0]
    meta = zipfile.ZipFile(wheel).read(info).decode()
    assert "Requires-Python: >=3.10" in meta and "License-Expression: Apache-2.0" in meta
    assert any(n.endswith(".dist-info/licenses/NOTICE") for n in names)


def test_installed_wheel_runs_version_help_and_view_on_the_lab(installed, lab, tmp_path):
    from vhpc_toolkit import __version__

    where = run(installed, "python", "-c", "import vhpc_toolkit; print(vhpc_toolkit.__file__)", cwd=tmp_path)
    assert str(installed.parent) in where.stdout, where   # the wheel's copy, not the repository's
    version = run(installed, "vhpc_toolkit", "--version", cwd=tmp_path)
    assert version.returncode == 0 and version.stdout.strip() == f"vhpc_toolkit version {__version__}"
    helped = run(installed, "vhpc_toolkit", "--help", cwd=tmp_path)
    assert helped.returncode == 0 and "cluster" in helped.stdout and "examples" in helped.stdout
    every = run(installed, "python", "-c", "import contextlib, io\n"
                "from vhpc_toolkit.cli.commands import COMMANDS\nfrom vhpc_toolkit.cli.main import main\n"
                "for c in COMMANDS:\n    with contextlib.redirect_stdout(io.StringIO()):\n"
                "        assert main([c, '--help']) == 0, c\nprint(len(COMMANDS))", cwd=tmp_path)
    assert every.returncode == 0 and int(every.stdout) >= 26, every.stderr
    viewed = run(installed, "vhpc_toolkit", "--vcenter-conf", lab.conf, "--output", "json", "view", "--host",
                 "vhpc-esx-01", cwd=tmp_path)
    assert viewed.returncode == 0, viewed.stderr
    hosts = [h["name"] for dc in json.loads(viewed.stdout)["datacenters"] for c in dc["clusters"] for h in c["hosts"]]
    assert hosts == ["vhpc-esx-01.hpc.vmware.com"]


def test_installed_wheel_gives_the_examples_without_the_repository(installed, tmp_path):
    copied = run(installed, "vhpc_toolkit", "examples", "--copy", "mine", cwd=tmp_path)
    assert copied.returncode == 0, copied.stderr
    planned = run(installed, "vhpc_toolkit", "cluster", "--plan", "--file",
                  "mine/cluster-scripts/cluster-simple.conf", cwd=tmp_path)
    assert planned.returncode == 0 and "vhpc-vm01" in planned.stdout, planned.stderr
    missing = run(installed, "vhpc_toolkit", "view", cwd=tmp_path)   # no settings anywhere: what to write
    assert missing.returncode == 2 and "~/.config/vhpc_toolkit/" in missing.stderr
