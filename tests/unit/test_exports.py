"""Exports of a cluster for the next tool: every VM written, one without an IP as a comment."""
from types import SimpleNamespace

import pytest
import yaml

from vhpc_toolkit.clusterfile import parse_cluster_text
from vhpc_toolkit.output.cluster.exports import Node, ansible_inventory, gres_path, mpi_hostfile, nodes, parse_export

NODES = [Node("node1", "172.1.10.1", cpus=20, memory_gb=64, gpus=2, groups=["BASE", "gpu"]),
         Node("node2", None, cpus=4, memory_gb=8, groups=["BASE"]),
         Node("node3", "172.1.10.3", groups=["sriov"])]


def test_open_mpi_and_mpich_hostfiles():
    assert mpi_hostfile(NODES).splitlines()[1:] == [
        "172.1.10.1 slots=20  # node1", "# node2: no IP yet", "172.1.10.3  # node3"]
    assert mpi_hostfile(NODES, "mpich").splitlines()[1:] == [
        "172.1.10.1:20  # node1", "# node2: no IP yet", "172.1.10.3  # node3"]


def test_ansible_inventory_is_yaml_with_groups_and_host_vars():
    nodes_ = [Node(**{**n.__dict__, "user": "root" if n.name == "node1" else None}) for n in NODES]
    text = ansible_inventory(nodes_, "c1")
    doc = yaml.safe_load(text)["all"]["children"]
    assert list(doc) == ["c1"]
    assert doc["c1"]["hosts"]["node1"] == {"ansible_host": "172.1.10.1", "ansible_user": "root", "vhpc_cpus": 20,
                                           "vhpc_memory_gb": 64, "vhpc_gpus": 2}
    assert "ansible_host" not in doc["c1"]["hosts"]["node2"] and "node2:  # no IP yet" in text
    groups = doc["c1"]["children"]
    assert sorted(groups["c1_BASE"]["hosts"]) == ["node1", "node2"] and list(groups["c1_gpu"]["hosts"]) == ["node1"]
    assert list(groups["c1_sriov"]["hosts"]) == ["node3"]


def test_two_clusters_inventories_merge_without_mixing(tmp_path):
    """Ansible reads a folder of inventories as one: groups of the same name merge, so each cluster's
    groups carry its name."""
    a = yaml.safe_load(ansible_inventory([Node("a1", "10.0.0.1", groups=["gpu"])], "alpha"))
    b = yaml.safe_load(ansible_inventory([Node("b1", "10.0.0.2", groups=["gpu"])], "beta"))
    merged: dict = {}
    for doc in (a, b):
        for name, group in doc["all"]["children"].items():
            merged[name] = group
            for child, sub in group.get("children", {}).items():
                assert child not in merged, child
                merged[child] = sub
    assert list(merged["alpha_gpu"]["hosts"]) == ["a1"] and list(merged["beta_gpu"]["hosts"]) == ["b1"]


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
    spec = parse_cluster_text("[_VMS_]\nn1: template: t guest_username: hpc\n")
    assert nodes(SimpleNamespace(vms=[SimpleNamespace(name="n1", ip=None)]), spec)[0].user == "hpc"


def test_export_argument():
    assert parse_export("slurm=/tmp/x=y") == ("slurm", "/tmp/x=y")
    with pytest.raises(ValueError, match="hostfile, mpich, ansible, slurm, json"):
        parse_export("csv=x")
