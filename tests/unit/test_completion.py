"""Shell completion: commands, flags and remembered VM names, through argcomplete as the shell calls it."""
from __future__ import annotations

import os
import subprocess
import sys


def complete(line: str, tmp_path, **env) -> list[str]:
    out = tmp_path / "completions"
    environ = {**os.environ, "_ARGCOMPLETE": "1", "COMP_LINE": line, "COMP_POINT": str(len(line)),
               "_ARGCOMPLETE_STDOUT_FILENAME": str(out), "XDG_CACHE_HOME": str(tmp_path / "cache"), **env}
    subprocess.run([sys.executable, "-c", "from vhpc_toolkit.cli.main import main; main()"], env=environ,
                   check=False, capture_output=True, timeout=60)
    return sorted(c.strip() for c in out.read_text().split("\x0b")) if out.exists() and out.read_text() else []


def test_commands_and_flags(tmp_path):
    assert complete("vhpc_toolkit cl", tmp_path) == ["clone", "cluster"]
    flags = complete("vhpc_toolkit cluster --cr", tmp_path)
    assert flags == ["--create"]


def test_vm_names_from_the_last_view(tmp_path):
    cache = tmp_path / "cache" / "vhpc_toolkit"
    cache.mkdir(parents=True)
    (cache / "vm-names").write_text("node1\nnode2\nlogin\n")
    assert complete("vhpc_toolkit power --on --vm no", tmp_path) == ["node1", "node2"]
