"""Resumes of one cluster side by side: a local lock around planning, and the placements in flight.

slurmctld runs all its programs on its own host, and runs a new ResumeProgram whenever jobs need
nodes, whether or not the last one has finished. Two resumes that planned from the same
inventory read would give two new VMs the same free GPU, and vCenter refuses the second at
power-on. So, per cluster, on this machine:

- planning (inventory read, plan, checks, placement) happens under an exclusive ``flock`` on
  ``.<file>.slurm.lock`` beside the cluster file: one resume plans at a time;
- before it lets go, a resume records what its VMs will hold (host, GPUs, vGPUs, memory) in
  ``.<file>.slurm.json``; the next planner counts those claims as running VMs' until the inventory
  shows the VMs running (or the resume that made them has exited: a claim names its process);
- the cluster's stopped nodes (``suspend: power_off``) keep their devices: a new node is never
  given the GPU a stopped node gets back at its next power-on.

The clones and power-ons themselves run outside the lock, side by side.
"""
from __future__ import annotations

import errno
import fcntl
import json
import os
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from vhpc_toolkit.cluster.placement.capacity import reserved_mb
from vhpc_toolkit.cluster.ownership.owner import owner_of, vm_mark_of
from vhpc_toolkit.cluster.placement.planner import Held
from vhpc_toolkit.errors import VhpcError
from vhpc_toolkit.ops.hosts.offers import held_id
from vhpc_toolkit.output.files import replace_file
from vhpc_toolkit.specs.devices.vgpu import vgpu_profile


class Busy(VhpcError):
    """Another Slurm program of the cluster kept the planning lock too long."""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError as exc:
        return exc.errno == errno.EPERM
    return True


class ClusterState:
    """The local state of one cluster's Slurm programs: its lock file and its claims file."""

    def __init__(self, cluster_file: str):
        path = Path(os.path.realpath(cluster_file))
        self.name = path.name
        self.lock_path = path.with_name(f".{path.name}.slurm.lock")
        self.state_path = path.with_name(f".{path.name}.slurm.json")

    @contextmanager
    def locked(self, timeout: float) -> Iterator[None]:
        """Hold the cluster's planning lock (waiting up to ``timeout`` seconds for it)."""
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise Busy(f"another Slurm program of {self.name} kept its planning "
                                   f"lock ({self.lock_path}) for more than {timeout:.0f}s") from None
                    time.sleep(0.05)
            yield
        finally:
            os.close(fd)   # closing the file releases the lock

    def read(self) -> dict:
        """The state, without the entries of processes that have exited."""
        try:
            doc = json.loads(self.state_path.read_text())
        except (OSError, ValueError):
            doc = {}
        doc["claims"] = [c for c in doc.get("claims", []) if alive(int(c.get("pid", 0)))]
        lock = doc.get("vcenter_lock") or {}
        lock["holders"] = [p for p in lock.get("holders", []) if alive(int(p))]
        doc["vcenter_lock"] = lock
        return doc

    def write(self, doc: dict) -> None:
        replace_file(str(self.state_path), json.dumps(doc, indent=1, sort_keys=True))


def in_flight(doc: dict, inv) -> list[Held]:
    """The claims of other resumes whose VMs the inventory does not show running yet."""
    running = {o.name for o in inv.of_type("VirtualMachine") if o.get("runtime.powerState") == "poweredOn"}
    return [Held(c["vm"], c["host"], tuple(c.get("gpus", ())), tuple(c.get("vgpus", ())), int(c.get("memory_mb", 0)))
            for c in doc.get("claims", []) if c.get("pid") != os.getpid() and c["vm"] not in running]


def vm_holds(o) -> Held | None:
    """What a VM holds when it runs (its host, passthrough devices, vGPUs, memory); None without a host."""
    host = o.get("runtime.host")
    if host is None:
        return None
    devices = o.get("config.hardware.device") or []
    return Held(o.name, host._moId, tuple(i for i in map(held_id, devices) if i),
                tuple(q for q in map(vgpu_profile, devices) if q), reserved_mb(o))


def stopped_nodes(session, inv, spec, planned: set[str]) -> list[Held]:
    """The file's stopped VMs other than ``planned``: they keep what they get back at power-on.
    Those the plan's read did not read in full are read now (one call)."""
    from vhpc_toolkit.cluster.planning.read import read_in_full

    names = {vm.name for vm in spec.vms} - planned
    stopped = [o for o in inv.of_type("VirtualMachine")
               if o.name in names and o.get("runtime.powerState") == "poweredOff" and not o.get("config.template")]
    read_in_full(session, inv, [o for o in stopped if "config.hardware.device" not in o.props])
    owner = owner_of(spec)
    out = []
    for o in stopped:
        mark = vm_mark_of(o)
        held = vm_holds(o) if mark is None or owner.owns(mark) else None
        if held is not None:
            out.append(held)
    return out


def plan_claims(plan) -> list[Held]:
    """What the VMs a plan creates or powers on will hold (cluster/plan.ClusterPlan)."""
    from vhpc_toolkit.cluster.placement.planner import _memory_mb

    out = []
    for p in plan.vms:
        if p.action == "create" and p.placement is not None:
            gpus = [g.id for g in p.choice.gpus] if p.choice is not None else []
            gpus += [d.lower() for d in p.spec.device or []]
            out.append(Held(p.name, p.placement.host.moid, tuple(gpus), tuple(p.spec.vgpus), _memory_mb(p)))
        elif p.power_on and p.existing is not None:
            held = vm_holds(p.existing)
            if held is not None:
                out.append(held)
    return out


def record(state: ClusterState, doc: dict, claims: list[Held]) -> None:
    """Add this process's claims (the planning lock is held)."""
    doc["claims"] = doc.get("claims", []) + [dict(c.to_dict(), pid=os.getpid()) for c in claims]
    state.write(doc)


def forget(state: ClusterState, timeout: float) -> None:
    """Drop this process's claims: its VMs run (or failed)."""
    with state.locked(timeout):
        doc = state.read()
        doc["claims"] = [c for c in doc["claims"] if c.get("pid") != os.getpid()]
        state.write(doc)
