"""The cluster --plan renderer: JSON document and rich tables."""
from __future__ import annotations

import io
import json

from rich.console import Console

from vhpc_toolkit.clusterfile import parse_cluster_text
from vhpc_toolkit.output.cluster.plan import plan_document, render_plan

TEXT = """\
[BASE]
template: vhpc_clone
cpu: 4
memory: 16
[GPU]
device: ['0000:3B:00.0', '0000:d8:00.0']
mmio_size: 256
[H]
host: esx-0{5:6}
[_SVS_]
sriov-svs: pnic: vmnic4 H port_group: sriov-pg
[_DVS_]
rdma-dvs: pnic: vmnic5 H port_group: pvrdma-pg datacenter: DC
[_VMS_]
node{1:2}: BASE GPU H ip: 10.0.0.{1:2} script: /s/a.sh barrier: 2 script: /s/b.sh
solo: BASE host: esx-07 is_dhcp: yes sriov_port_group: sriov-pg pf: 0000:af:00.0 power: off vgpu: grid_v100-8q
"""


def spec():
    return parse_cluster_text(TEXT, "plan.conf", check_scripts=False)


def test_plan_document():
    doc = plan_document(spec())
    assert list(doc) == ["cluster", "vms", "svs", "dvs", "notes"]   # notes: the scripts not on this disk
    assert doc["cluster"] == "plan"   # no [_CLUSTER_]: the file's stem
    assert any("'/s/a.sh' not found" in n and "--create refuses it" in n for n in doc["notes"])
    assert doc["vms"][0] == {
        "name": "node1", "template": "vhpc_clone", "cpu": 4, "memory": 16.0, "host": "esx-05",
        "ip": "10.0.0.1", "device": ["0000:3b:00.0", "0000:d8:00.0"], "mmio_size": 256,
        "script": [{"path": "/s/a.sh", "barrier": 2}, {"path": "/s/b.sh", "barrier": None}],
        "barrier": 2, "power": "on",
    }
    assert doc["vms"][1]["host"] == "esx-06" and doc["vms"][1]["ip"] == "10.0.0.2"
    assert doc["vms"][2] == {
        "name": "solo", "template": "vhpc_clone", "cpu": 4, "memory": 16.0, "host": "esx-07",
        "is_dhcp": True, "sriov_port_group": ["sriov-pg"], "pf": ["0000:af:00.0"], "vgpu": "grid_v100-8q",
        "power": "off",
    }
    assert doc["svs"] == [{"name": "sriov-svs", "host": ["esx-05", "esx-06"], "pnic": ["vmnic4"],
                           "port_group": "sriov-pg"}]
    assert doc["dvs"] == [{"name": "rdma-dvs", "host": ["esx-05", "esx-06"], "pnic": ["vmnic5"],
                           "port_group": "pvrdma-pg", "datacenter": "DC"}]
    assert json.loads(json.dumps(doc)) == doc


def test_render_plan_tables():
    out = io.StringIO()
    render_plan(spec(), Console(file=out, width=400, color_system=None))
    text = out.getvalue()
    rows = {line.split("│")[1].strip(): line for line in text.splitlines() if line.count("│") > 3}
    assert "node1" in rows and "node2" in rows and "solo" in rows
    assert "esx-05" in rows["node1"] and "10.0.0.1" in rows["node1"]
    assert "passthrough 0000:3b:00.0, 0000:d8:00.0; mmio 256 GB" in rows["node1"]
    assert "barrier 2: /s/a.sh" in text and "unlabelled: /s/b.sh" in rows["node1"]
    assert "dhcp" in rows["solo"] and "grid_v100-8q" in rows["solo"]
    assert "sriov sriov-pg (pf 0000:af:00.0)" in rows["solo"] and " off " in rows["solo"]
    assert "SVS" in rows["sriov-svs"] and "esx-05, esx-06" in rows["sriov-svs"]
    assert "vmnic5" in rows["rdma-dvs"] and "pvrdma-pg" in rows["rdma-dvs"]
    assert "unlabelled, barrier 2" in text


def test_render_plan_escapes_markup():
    s = parse_cluster_text("[_VMS_]\nvm[x]: template: [bold]t\n", "p.conf")
    out = io.StringIO()
    render_plan(s, Console(file=out, width=200, color_system=None))
    assert "vm[x]" in out.getvalue()
