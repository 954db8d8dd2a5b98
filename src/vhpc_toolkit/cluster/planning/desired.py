"""What a VMSpec asks of compute: the cluster file's keys as one ComputeRequest and latency level."""
from __future__ import annotations

from vhpc_toolkit.clusterfile import VMSpec
from vhpc_toolkit.specs.compute import ComputeRequest


def needs_full_memory(vm: VMSpec) -> bool:
    # Passthrough (static or dynamic), vGPU and SR-IOV devices only power on with all memory reserved.
    # 1 GB pages likewise (sched.mem.lpage.enable1GPage).
    return bool(vm.device or vm.gpu or vm.vgpu or vm.sriov_port_group or vm.latency == "high"
                or vm.memory_reservation or vm.hugepages_1g)


def compute_request(vm: VMSpec) -> ComputeRequest:
    cpu_res = True if vm.latency == "high" else vm.cpu_reservation
    mem_res = True if needs_full_memory(vm) else vm.memory_reservation
    return ComputeRequest(cpu=vm.cpu, memory_gb=vm.memory, cpu_shares=vm.cpu_shares,
                          memory_shares=vm.memory_shares, cpu_reservation=cpu_res, memory_reservation=mem_res,
                          cores_per_socket=vm.cores_per_socket)


def wants_customization(vm: VMSpec) -> bool:
    return bool(vm.port_group and (vm.is_dhcp or vm.ip))
