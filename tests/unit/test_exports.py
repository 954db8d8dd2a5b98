"""Exports of a cluster for the next tool: every VM written, one without an IP as a comment."""
from types import SimpleNamespace

import pytest
import yaml

from vhpc_toolkit.clusterfile import parse_cluster_text
from vhpc_toolkit.output.exports import Node, ansible_inventory, gres_path, mpi_hostfile, nodes, parse_export

NODES = [Node("node1", "172.1.10.1", cpus=20, memory_gb=64, gpus=2, groups=["BASE", "gpu"]),
         Node("node2", None, cpus=4, memory_gb=8, groups=["BASE"]),
         Node("node3", "172.1.10.3", groups=["sriov"])]


def test_open_mpi_and_mpich_hostfiles():
    assert mpi_hostfile(NODES).splitlines()[1:] == [
        "172.1.10.1 slots=20  # node1", "# node2: no IP yet", "172.1.10.3  # node3"]
    assert mpi_hostfile(NODES, "mpich").splitlines()[1:] == [
        "172.1.10.1:20  # node1", "# node2: no IP yet", "172.1.10.3  # node3"]


def test_ansible_inventory_is_yaml_with_groups_and_host_vars():
    text = ansible_inventory(NODES)
    doc = yaml.safe_load(text)["all"]["children"]
    assert doc["vhpc"]["hosts"]["node1"] == {"ansible_host": "172.1.10.1", "vhpc_cpus": 20, "vhpc_memory_gb": 64,
                                             "vhpc_gpus": 2}
    assert "ansible_host" not in doc["vhpc"]["hosts"]["node2"] and "node2:  # no IP yet" in text
    assert sorted(doc["BASE"]["hosts"]) == ["node1", "node2"] and list(doc["gpu"]["hosts"]) == ["node1"]
    assert list(doc["sriov"]["hosts"]) == ["node3"]


def test_slurm_export_writes_the_node_lines_of_slurm_config():
    from vhpc_toolkit.slurm.nodes import export_text

    spec = parse_cluster_text("[BASE]\ntemplate: t\ncpu: 20\nmemory: 64\n[_VMS_]\n"
                              "node1: BASE gpu: 2 gpu_model: V100\nnode2: BASE cpu: 4 memory: 8\n")
    result = SimpleNamespace(vms=[SimpleNamespace(name="node1", ip="172.1.10.1", cpu=20),
                                  SimpleNamespace(name="node2", ip=None, cpu=None)])
    conf, gres = export_text(result, spec)
    lines = conf.splitlines()[1:]
    assert lines[0] == "GresTypes=gpu"
    assert lines[1] == ("NodeName=node1 NodeAddr=172.1.10.1 CPUs=20 Sockets=20 CoresPerSocket=1 ThreadsPerCore=1 "
                        "RealMemory=62259 Gres=gpu:v100:2 State=UNKNOWN")
    assert lines[2].startswith("NodeName=node2 CPUs=4 Sockets=4 CoresPerSocket=1 ThreadsPerCore=1 RealMemory=7782 "
                               "State=UNKNOWN") and "no IP yet" in lines[2]
    assert gres.splitlines()[1:] == ["NodeName=node1 Name=gpu Type=v100 File=/dev/nvidia[0-1]"]
    assert export_text(SimpleNamespace(vms=[]), parse_cluster_text("[_VMS_]\nm: template: t\n"))[1] is None
    assert gres_path("/x/slurm.conf") == "/x/slurm.gres.conf" and gres_path("/x/nodes") == "/x/nodes.gres.conf"


def test_nodes_take_sections_devices_and_sizes_from_the_file():
    spec = parse_cluster_text("[BASE]\ntemplate: t\ncpu: 8\nmemory: 16\n[GPU-V100]\ndevice: ['0000:3b:00.0']\n"
                              "[_VMS_]\nn{1:2}: BASE GPU-V100 vgpu: grid_v100-8q\nm: BASE\n")
    result = SimpleNamespace(vms=[SimpleNamespace(name="n1", ip="10.0.0.1"), SimpleNamespace(name="m", ip=None)])
    got = nodes(result, spec)
    assert [(n.name, n.cpus, n.memory_gb, n.gpus, n.groups) for n in got] == [
        ("n1", 8, 16, 2, ["BASE", "GPU_V100", "gpu", "vgpu"]), ("m", 8, 16, 0, ["BASE"])]


def test_export_argument():
    assert parse_export("slurm=/tmp/x=y") == ("slurm", "/tmp/x=y")
    with pytest.raises(ValueError, match="hostfile, mpich, ansible, slurm, json"):
        parse_export("csv=x")
