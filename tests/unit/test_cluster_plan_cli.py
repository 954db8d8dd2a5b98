"""`cluster --plan` through the CLI: no vCenter needed, JSON and text, errors with file and line."""
from __future__ import annotations

import json
from pathlib import Path

from vhpc_toolkit.cli.main import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "cluster-scripts"


def test_plan_json_without_vcenter(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no vCenter.conf anywhere near
    f = tmp_path / "c.conf"
    f.write_text("[BASE]\ntemplate: vhpc_clone\ncpu: 4\n[_VMS_]\nNode{01:04}: BASE host: esx-0{{1:2}} ip: 10.0.0.{1:4}\n")
    assert main(["--output", "json", "cluster", "--plan", "--file", str(f)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [v["name"] for v in doc["vms"]] == ["Node01", "Node02", "Node03", "Node04"]
    assert [v["host"] for v in doc["vms"]] == ["esx-01", "esx-01", "esx-02", "esx-02"]
    assert doc["vms"][3]["ip"] == "10.0.0.4" and doc["vms"][0]["cpu"] == 4
    assert doc["svs"] == [] and doc["dvs"] == []


def test_plan_text_shows_expansion(capsys):
    assert main(["cluster", "--plan", "--file", str(EXAMPLES / next(
        p.name for p in sorted(EXAMPLES.glob("*.conf")) if "sriov" in p.name))]) == 0
    out = capsys.readouterr().out
    assert "vhpc-esx-0" in out and "sriov" in out.lower()


def test_plan_errors_are_file_line_and_exit_2(tmp_path, capsys):
    f = tmp_path / "bad.conf"
    f.write_text("[BASE]\ntemplate: t\ncpus: 4\n[_VMS_]\nvm{1:2}: BASE NOPE\n")
    assert main(["cluster", "--plan", "--file", str(f)]) == 2
    err = capsys.readouterr().err
    assert f"{f}:3:" in err and "did you mean 'cpu'" in err
    assert f"{f}:5:" in err and "NOPE" in err
    assert "Traceback" not in err


def test_plan_of_many_vms_is_one_plain_table(tmp_path, run_cli):
    """Above PLAIN_ROWS VMs the table is laid out in one pass (rich's layout: ~3 ms a row)."""
    from vhpc_toolkit.output.plan import PLAIN_ROWS

    n = PLAIN_ROWS + 12
    conf = tmp_path / "many.conf"
    conf.write_text("[BASE]\ntemplate: vhpc_clone\ncpu: 4\nmemory: 8\n\n[_VMS_]\n"
                    f"node[x]{{001:{n:03d}}}: BASE host: esx-{{1:4}}\n")
    code, out, _ = run_cli("cluster", "--plan", "--file", str(conf))
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == f"VMs ({n})" and lines[1].startswith("┏") and lines[-1].startswith("└")
    rows = [ln for ln in lines if ln.startswith("│ node")]
    assert len(rows) == n and rows[0].startswith("│ node[x]001 ") and "│ esx-1 " in rows[0]
    assert len({len(ln) for ln in lines[1:]}) == 1   # one width: every row framed alike
