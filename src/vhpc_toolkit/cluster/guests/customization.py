"""After a cluster run's tasks: each running VM's guest, and its customization's outcome.

A VM this run cloned with a guest customization is only done when vCenter says how the
customization went (vsphere/guest/customization.py): CustomizationSucceeded and the address
the file asks for, or a CustomizationFailed subtype, which fails that VM (its report
names the event) before its IP is recorded, exports are written or scripts run. Other
running VMs are waited for until they report an address, as before.
"""
from __future__ import annotations

import contextlib
from typing import Any

from vhpc_toolkit.cluster.planning.plan import CREATE, ClusterPlan, VMPlan
from vhpc_toolkit.phases import Phases
from vhpc_toolkit.results import FAILED
from vhpc_toolkit.vsphere.guest.customization import CustomizationWatch, Expect
from vhpc_toolkit.vsphere.guest.info import wait_for_ips

NO_START_HINT = ("no CustomizationStartedEvent: does the template have VMware Tools or open-vm-tools "
                 "(with its deployPkg plugin) installed and starting at boot?")


def customized(p: VMPlan) -> bool:
    """Whether this run's clone of the VM carries a guest customization that runs at its first boot."""
    return p.action == CREATE and p.network is not None and p.spec.power == "on"


def open_watch(session, plan: ClusterPlan) -> CustomizationWatch | None:
    """The customization watch, opened before any clone boots (None when nothing is customized)."""
    running = [p for p in plan.vms if p.spec.power == "on"]
    if not any(customized(p) for p in running):
        return None
    return CustomizationWatch(session, len(running))


def _expect(p: VMPlan) -> Expect:
    if customized(p):
        return Expect(customized=True, ip=None if p.network.is_dhcp else p.network.ip)
    return Expect(customized=False)


def _progress(progress: Phases, plan: ClusterPlan, running: list[Any], watched: bool):
    """The phases of the guest wait: customizing (VMs this run customized) and waiting for IPs (the
    others); returns them and ``done(moid, failed)`` to call as each VM settles."""
    plans = {p.name: p for p in plan.vms}
    custom = {o.ref._moId for o in running if watched and customized(plans[o.name])}
    stack = contextlib.ExitStack()
    handles = {}
    if custom:
        handles[True] = stack.enter_context(progress.phase("customizing", len(custom)))
    if len(running) > len(custom):
        handles[False] = stack.enter_context(progress.phase("waiting for IPs", len(running) - len(custom)))

    def done(moid: str, failed: bool = False) -> None:
        handles[moid in custom].done(None, failed)

    return stack, done


def settle_guests(session, watch: CustomizationWatch | None, plan: ClusterPlan, running: list[Any],
                  timeout: float, progress: Phases | None = None) -> list[str]:
    """Fill each running VMOutcome's ``ip`` (or fail it); returns notes for the result. ``progress``
    shows the VMs customized and those waited for an address as two phases."""
    stack, done = _progress(progress or Phases(), plan, running, watch is not None)
    with stack:
        return _settle(session, watch, plan, running, timeout, done)


def _settle(session, watch, plan: ClusterPlan, running: list[Any], timeout: float, done) -> list[str]:
    plans = {p.name: p for p in plan.vms}
    if watch is None:
        ips = wait_for_ips(session, [o.ref for o in running], timeout, on_ip=lambda moid, ip: done(moid))
        for o in running:
            o.ip = ips[o.ref._moId]["ip"]
        missing = [o.name for o in running if not o.ip]
        return [f"no guest IP within {timeout:.0f}s: {', '.join(missing)}"] if missing else []

    guests = watch.wait({o.ref: _expect(plans[o.name]) for o in running}, timeout,
                        on_done=lambda moid, g: done(moid, g.state != "succeeded"))
    missing = []
    for o in running:
        g, p = guests[o.ref._moId], plans[o.name]
        if not customized(p):
            o.ip = g.ip
            if not o.ip:
                missing.append(o.name)
        elif g.state == "failed":
            o.status, o.ip = FAILED, None
            o.detail = f"guest customization failed: {g.event}: {g.message}".rstrip(": ")
            if g.ip:
                o.detail += f"; the guest kept its address {g.ip}"
        elif g.state != "succeeded":
            o.status, o.ip = FAILED, None
            o.detail = f"guest customization did not finish within {timeout:.0f}s (" + \
                (f"last event: {g.event}" if g.event else NO_START_HINT) + ")"
        else:
            o.ip = g.ip
    return [f"no guest IP within {timeout:.0f}s: {', '.join(missing)}"] if missing else []
