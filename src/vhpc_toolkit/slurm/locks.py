"""The cluster's lock on vCenter (cluster/ownership/lock.py), held by this machine's Slurm programs together.

`cluster --create/--destroy` take the cluster's lock on vCenter: one run at a time. The Slurm
programs of a cluster run side by side (slurmctld starts a resume while another still boots its
nodes), so they must not refuse each other; yet a `cluster --destroy` must not run under a resume,
nor a resume under it. So the first Slurm program of the cluster on this machine takes the vCenter
lock and records it in the cluster's local state (slurm/claims.py); the ones that start while it
is held join it; the last to finish releases it. A program that finds the lock taken by anything
else (an administrator's `cluster --create`) waits for it, up to a bound, then fails its nodes
with the holder's name. A program that was killed leaves its pid behind; the next one sees it dead
and takes the lock over (releasing and taking it again on vCenter).

This uses cluster/ownership/lock.py as it is: ``acquire(session, cluster, path)`` (Locked when held) and
``release(session, lock)``; the key of the lock taken is kept in the local state.
"""
from __future__ import annotations

import os
import time
from contextlib import contextmanager
from typing import Iterator

from vhpc_toolkit.cluster.ownership import lock
from vhpc_toolkit.slurm.claims import ClusterState

POLL = 1.0   # seconds between two tries of a vCenter lock held by someone else


def _take(session, spec, wait: float) -> int:
    """The key of the cluster's vCenter lock, taken (-1: the server keeps no lock; the run goes on)."""
    deadline = time.monotonic() + wait
    while True:
        try:
            return lock.acquire(session, spec.name, spec.path).key
        except lock.Locked:
            left = deadline - time.monotonic()
            if left <= 0:
                raise
            time.sleep(min(POLL, left))


@contextmanager
def shared_cluster_lock(session, spec, state: ClusterState, wait: float) -> Iterator[None]:
    """The cluster's vCenter lock for the duration of one Slurm program, shared with the others."""
    me = os.getpid()
    with state.locked(wait + 30):
        doc = state.read()
        held = doc["vcenter_lock"]
        if held["holders"] and "key" in held:
            held["holders"].append(me)
        else:
            if "key" in held:   # left by programs that were killed: take it again
                lock.release(session, lock.Lock(spec.name, int(held["key"])))
            doc["vcenter_lock"] = {"key": _take(session, spec, wait), "holders": [me]}
        state.write(doc)
    try:
        yield
    finally:
        with state.locked(wait + 30):
            doc = state.read()
            held = doc["vcenter_lock"]
            held["holders"] = [p for p in held["holders"] if p != me]
            if not held["holders"] and "key" in held:
                lock.release(session, lock.Lock(spec.name, int(held["key"])))
                doc["vcenter_lock"] = {}
            state.write(doc)
