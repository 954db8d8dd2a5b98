"""Text that reads at 80 and 100 columns: no line wider than the terminal, no word split."""
from __future__ import annotations

import uuid

import pytest

from rich.cells import cell_len
from tests.reference import CLUSTER_SCRIPTS

REFERENCE = CLUSTER_SCRIPTS
WORDS = ["COMPUTE01_vsanDatastore", "passthrough", "0000:3b:00.0", "vhpc-esx-05", "gpu-vm1", "172.1.10.1"]


def fits(out: str, width: int, words: list[str]) -> None:
    wide = [line for line in out.splitlines() if cell_len(line) > width]
    assert not wide, wide[:3]
    for word in words:
        assert word in out, f"{word!r} split or missing in:\n{out}"


@pytest.mark.parametrize("width", [80, 100])
def test_plan_of_the_originals_gpu_file(run_cli, monkeypatch, width):
    monkeypatch.setenv("COLUMNS", str(width))
    code, out, err = run_cli("cluster", "--plan", "--file", REFERENCE / "cluster-gpu-passthru.conf")
    assert code == 0, err
    fits(out, width, WORDS)
    assert "host names end in .hpc.vmware.com" in out


@pytest.mark.parametrize("width", [80, 100])
def test_view_and_cluster_result(cli, monkeypatch, tmp_path, width):
    monkeypatch.setenv("COLUMNS", str(width))
    code, out, _ = cli("view")
    assert code == 0
    fits(out, width, ["COMPUTE_GPU_Cluster", "vhpc-esx-08", "0000:d8:00.0", "passthrough"])
    pfx = f"w{uuid.uuid4().hex[:5]}"
    path = tmp_path / "c.conf"
    path.write_text(f"[B]\ntemplate: vhpc_clone\ndatastore: COMPUTE01_vsanDatastore\n"
                    f"host: vhpc-esx-0{{5:6}}.hpc.vmware.com\n[_VMS_]\n{pfx}-node{{1:2}}: B power: off\n")
    try:
        code, out, err = cli("cluster", "--create", "--file", path)
        assert code == 0, err
        fits(out, width, [f"{pfx}-node1", "vhpc-esx-05", "COMPUTE01_vsanDatastore", "created"])
        code, out, err = cli("cluster", "--status", "--file", path)
        assert code == 0, err
        fits(out, width, [f"{pfx}-node2", "vhpc-esx-06", "matches the file"])
    finally:
        cli("cluster", "--destroy", "--file", path)
