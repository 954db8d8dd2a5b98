"""Power on VMs whose guest customization is pending and wait for each one's outcome.

``network_cfg --power-on``: the customization (CustomizeVM_Task) runs in the guest at its
next boot; here that boot is started and each VM's outcome is awaited as vCenter reports it
(vsphere/guest/customization.py): CustomizationSucceeded and the asked address, or a
CustomizationFailed subtype, which fails that VM alone (its result names the event).
"""
from __future__ import annotations

from vhpc_toolkit.ops.runner import Job, run_batch
from vhpc_toolkit.results import CHANGED, FAILED, TargetResult
from vhpc_toolkit.specs.customization import GuestNetwork
from vhpc_toolkit.vsphere.guest.customization import CustomizationWatch, Expect
from vhpc_toolkit.vsphere.inventory import Obj


def power_on_and_wait(session, items: list[tuple[Obj, TargetResult, GuestNetwork]], timeout: float) -> bool:
    """Power on each VM and wait for its customization; fills each result. True if interrupted."""
    items = [(o, r, n) for o, r, n in items if r.status == CHANGED]
    if not items:
        return False
    with CustomizationWatch(session, len(items)) as watch:   # opened before the boots
        power = {o.moid: TargetResult(o.name) for o, _, _ in items}
        interrupted = run_batch(session, [Job(result=power[o.moid], start=o.ref.PowerOnVM_Task)
                                          for o, _, _ in items])
        booted = []
        for obj, result, net in items:
            if power[obj.moid].status != CHANGED:
                result.status = FAILED
                result.detail += f"; power on: {power[obj.moid].detail}"
            else:
                booted.append((obj, result, net))
        if interrupted or not booted:
            return interrupted
        guests = watch.wait({o.ref: Expect(customized=True, ip=None if n.is_dhcp else n.ip) for o, _, n in booted},
                            timeout)
    for obj, result, _ in booted:
        g = guests[obj.moid]
        result.data["ip"] = g.ip if g.ok else None
        if g.ok:
            result.detail += f"; powered on, customized: {g.ip}"
        elif g.state == "failed":
            result.status = FAILED
            result.detail += f"; guest customization failed: {g.event}: {g.message}"
        else:
            result.status = FAILED
            result.detail += (f"; guest customization did not finish within {timeout:.0f}s"
                              + (f" (last event: {g.event})" if g.event else " (it never started)"))
    return False
