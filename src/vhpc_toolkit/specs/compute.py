"""vCPUs, memory, shares and reservations."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from vhpc_toolkit.limits import memory_mb  # noqa: F401  (also this module's: callers import it from here)
from vhpc_toolkit.specs import Change

# Property paths a compute plan reads from the VM.
VM_PROPS = [
    "config.hardware.numCPU", "config.hardware.memoryMB", "config.cpuAllocation",
    "config.memoryAllocation", "config.memoryReservationLockedToMax", "config.cpuHotAddEnabled",
    "config.memoryHotAddEnabled", "runtime.powerState", "runtime.host", "config.hardware.numCoresPerSocket",
]


@dataclass(frozen=True)
class ComputeRequest:
    cpu: int | None = None
    memory_gb: float | None = None
    cpu_shares: int | None = None
    memory_shares: int | None = None
    cpu_reservation: bool | None = None      # True: all vCPUs x host MHz per core; False: none
    memory_reservation: bool | None = None   # True: all memory, locked to max; False: none
    cores_per_socket: int | None = None

    def is_empty(self) -> bool:
        return all(v is None for v in vars(self).values())


class ResizeRefused(ValueError):
    """Resizing a powered-on VM without hot-add."""




def _shares(current) -> int | None:
    shares = getattr(current, "shares", None)
    return shares.shares if shares is not None else None


def apply_compute(spec, current: Mapping[str, Any], req: ComputeRequest, host_mhz: int | None) -> list[Change]:
    """Set on ``spec`` what differs from ``current``; return the changes."""
    changes: list[Change] = []
    powered_on = current.get("runtime.powerState") == "poweredOn"
    cur_cpu = current.get("config.hardware.numCPU")
    cur_mem = current.get("config.hardware.memoryMB")
    new_cpu = req.cpu if req.cpu is not None else cur_cpu
    new_mem = memory_mb(req.memory_gb) if req.memory_gb is not None else cur_mem

    if req.cpu is not None and req.cpu != cur_cpu:
        if powered_on and not current.get("config.cpuHotAddEnabled"):
            raise ResizeRefused(f"cannot change vCPUs {cur_cpu} -> {req.cpu} while powered on "
                                "(CPU hot-add is not enabled); power the VM off first")
        spec.numCPUs = req.cpu
        changes.append(Change("cpu", cur_cpu, req.cpu))
    if req.memory_gb is not None and new_mem != cur_mem:
        if powered_on and not current.get("config.memoryHotAddEnabled"):
            raise ResizeRefused(f"cannot change memory {cur_mem} MB -> {new_mem} MB while powered on "
                                "(memory hot-add is not enabled); power the VM off first")
        spec.memoryMB = new_mem
        changes.append(Change("memory_mb", cur_mem, new_mem))
    changes += _cores_per_socket(spec, current, req, new_cpu, powered_on)
    changes += _reservations(spec, current, req, host_mhz, new_cpu, new_mem)
    changes += _custom_shares(spec, current, req)
    return changes


def _reservations(spec, current: Mapping[str, Any], req: ComputeRequest, host_mhz: int | None, new_cpu,
                  new_mem) -> list[Change]:
    """CPU and memory reservations: full ones follow a new size, as the original's `yes` means."""
    changes: list[Change] = []
    cur_cpu = current.get("config.hardware.numCPU")
    cpu_alloc = current.get("config.cpuAllocation")
    mem_alloc = current.get("config.memoryAllocation")
    cpu_res_old = getattr(cpu_alloc, "reservation", None) or 0
    mem_res_old = getattr(mem_alloc, "reservation", None) or 0
    locked_old = bool(current.get("config.memoryReservationLockedToMax"))

    cpu_res_new = cpu_res_old
    if req.cpu_reservation is True:
        if host_mhz is None:
            raise ValueError("full CPU reservation needs the host's MHz per core")
        cpu_res_new = new_cpu * host_mhz
    elif req.cpu_reservation is False:
        cpu_res_new = 0
    # A vCPU change under a full reservation keeps the reservation full.
    elif req.cpu is not None and host_mhz and cur_cpu and cpu_res_old == cur_cpu * host_mhz:
        cpu_res_new = new_cpu * host_mhz
    if cpu_res_new != cpu_res_old:
        _alloc(spec, "cpuAllocation").reservation = cpu_res_new
        changes.append(Change("cpu_reservation_mhz", cpu_res_old, cpu_res_new))

    mem_res_new, locked_new = mem_res_old, locked_old
    if req.memory_reservation is True:
        mem_res_new, locked_new = new_mem, True
    elif req.memory_reservation is False:
        mem_res_new, locked_new = 0, False
    elif locked_old:
        mem_res_new = new_mem  # locked to max follows the memory size
    if mem_res_new != mem_res_old:
        _alloc(spec, "memoryAllocation").reservation = mem_res_new
        changes.append(Change("memory_reservation_mb", mem_res_old, mem_res_new))
    if locked_new != locked_old:
        spec.memoryReservationLockedToMax = locked_new
        changes.append(Change("memory_reservation_locked", locked_old, locked_new))
    return changes


def _custom_shares(spec, current: Mapping[str, Any], req: ComputeRequest) -> list[Change]:
    from pyVmomi import vim

    changes: list[Change] = []
    for key, attr, value, alloc in (("cpu_shares", "cpuAllocation", req.cpu_shares, current.get("config.cpuAllocation")),
                                    ("memory_shares", "memoryAllocation", req.memory_shares,
                                     current.get("config.memoryAllocation"))):
        old = _shares(alloc)
        old_level = getattr(getattr(alloc, "shares", None), "level", None)
        if value is not None and (value != old or old_level != "custom"):
            _alloc(spec, attr).shares = vim.SharesInfo(level="custom", shares=value)
            changes.append(Change(key, old, value))
    return changes


def _cores_per_socket(spec, current: Mapping[str, Any], req: ComputeRequest, new_cpu, powered_on: bool) -> list[Change]:
    """vSphere lays vCPUs out in sockets of ``numCoresPerSocket`` cores: it must divide the vCPUs, and
    the layout changes only while the VM is off."""
    cur = current.get("config.hardware.numCoresPerSocket") or 1
    cores = req.cores_per_socket if req.cores_per_socket is not None else cur
    if new_cpu and new_cpu % cores:
        hint = "" if req.cores_per_socket is not None else "; give cores per socket too"
        raise ValueError(f"{new_cpu} vCPUs cannot be laid out in sockets of {cores} cores "
                         f"(cores per socket must divide the vCPUs){hint}")
    if req.cores_per_socket is None or cores == cur:
        return []
    if powered_on:
        raise ResizeRefused(f"cannot change cores per socket {cur} -> {cores} while powered on; "
                            "power the VM off first")
    spec.numCoresPerSocket = cores
    return [Change("cores_per_socket", cur, cores)]


def _alloc(spec, attr: str):
    from pyVmomi import vim

    if getattr(spec, attr) is None:
        setattr(spec, attr, vim.ResourceAllocationInfo())
    return getattr(spec, attr)
