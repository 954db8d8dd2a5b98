"""MPI hostfile and Ansible inventory of a cluster result."""
from types import SimpleNamespace as VM

from vhpc_toolkit.output.exports import ansible_inventory, mpi_hostfile


VMS = [VM(name="node1", ip="172.1.10.1"), VM(name="node2", ip=None), VM(name="node3", ip="172.1.10.3")]


def test_mpi_hostfile_lists_vms_with_ips_and_slots():
    text = mpi_hostfile(VMS, {"node1": 20, "node3": None})
    assert text.splitlines()[1:] == ["172.1.10.1 slots=20  # node1", "172.1.10.3  # node3"]


def test_ansible_inventory_group_and_hosts():
    text = ansible_inventory(VMS, group="hpc")
    assert text.splitlines()[1:] == ["[hpc]", "node1 ansible_host=172.1.10.1", "node3 ansible_host=172.1.10.3"]
