"""An interrupted --prune run reports each stray from the one read of the VMs it made (no second read)."""
from __future__ import annotations

from types import SimpleNamespace

from vhpc_toolkit.cluster.applying.readback import UNREACHABLE, read_back_pruned
from vhpc_toolkit.results import FAILED
from vhpc_toolkit.vsphere.inventory import Inventory, Obj


def ref(moid):
    return SimpleNamespace(_moId=moid)


def test_each_stray_is_destroyed_or_still_there_as_the_read_says():
    host = Obj(ref("host-1"), "HostSystem", {"name": "esx1"})
    gone, kept = (Obj(ref(m), "VirtualMachine", {"name": n, "runtime.host": host.ref})
                  for m, n in (("vm-1", "s1"), ("vm-2", "s2")))
    plan = SimpleNamespace(prune=True, prunable=[gone, kept], inv=Inventory({o.moid: o for o in (host, gone, kept)}, {}))
    present = {("s2", "group-v1"): Obj(kept.ref, "VirtualMachine", {"name": "s2", "runtime.powerState": "poweredOn"})}
    rows = {s.name: s for s in read_back_pruned(plan, present, "interrupted")}
    assert rows["s1"].status == "destroyed" and rows["s1"].host == "esx1"
    assert rows["s2"].status == FAILED and rows["s2"].detail == "interrupted; the VM still exists (poweredOn)"
    unknown = read_back_pruned(plan, None, "interrupted")
    assert [s.detail for s in unknown] == [f"interrupted; {UNREACHABLE}"] * 2
    assert read_back_pruned(SimpleNamespace(prune=False, prunable=[gone]), present, "interrupted") == []
