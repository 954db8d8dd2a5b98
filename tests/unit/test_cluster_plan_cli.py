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


def test_list_takes_no_file_and_the_others_need_one(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)   # no vCenter.conf: a refusal comes before any login
    f = tmp_path / "c.conf"
    f.write_text("[_VMS_]\nvm1: template: t\n")
    assert main(["cluster", "--list", "--file", str(f)]) == 2
    assert "cluster --list lists every cluster on the vCenter: it takes no --file" in capsys.readouterr().err
    for action in ("--create", "--destroy", "--status", "--adopt", "--unlock", "--plan"):
        assert main(["--yes", "cluster", action]) == 2
        assert "--file is required" in capsys.readouterr().err


def test_plan_names_the_cluster(tmp_path, capsys):
    f = tmp_path / "lab-a.conf"
    f.write_text("[_VMS_]\nvm1: template: t\n")
    assert main(["cluster", "--plan", "--file", str(f)]) == 0
    assert "Cluster lab-a (the file's name; [_CLUSTER_] name: sets another)" in capsys.readouterr().out
    f.write_text("[_CLUSTER_]\nname: prod\n[_VMS_]\nvm1: template: t\n")
    assert main(["cluster", "--plan", "--file", str(f)]) == 0
    assert "Cluster prod (line 2)" in capsys.readouterr().out
