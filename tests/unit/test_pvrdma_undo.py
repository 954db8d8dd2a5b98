"""What of a PVRDMA preparation record may still be undone (ops/pvrdma_hosts.still_ours), on plain objects."""
from __future__ import annotations

from types import SimpleNamespace

from vhpc_toolkit.ops.hosts.pvrdma import HostPrep, still_ours

SW = "uuid-sw"


def state(tag, **vnics):
    return HostPrep(host=SimpleNamespace(name="h1"), tag=tag, vnics=vnics, switch_uuid=SW)


def test_everything_is_undone_while_the_adapter_and_tag_are_the_switchs():
    record = {"h1": {"vnic": "vmk1", "tag": "", "ruleset": True}}
    assert still_ours(record, {"h1": state("vmk1", vmk0="", vmk1=SW)}, "sw") == (record, [])


def test_an_adapter_name_taken_by_another_is_left():
    out, left = still_ours({"h1": {"vnic": "vmk1", "tag": ""}}, {"h1": state("", vmk0="", vmk1="")}, "sw")
    assert out == {"h1": {"tag": ""}} and left == ["left VMkernel adapter vmk1 of h1: it is not on switch sw"]


def test_a_tag_naming_an_adapter_off_the_switch_keeps_tag_and_ruleset():
    out, left = still_ours({"h1": {"vnic": "vmk1", "tag": "", "ruleset": True}},
                           {"h1": state("vmk0", vmk0="", vmk1=SW)}, "sw")
    assert out == {"h1": {"vnic": "vmk1"}} and "left Net.PVRDMAVmknic (vmk0)" in left[0]


def test_hosts_no_longer_read_keep_their_record():
    assert still_ours({"gone": {"vnic": "vmk1"}}, {}, "sw") == ({"gone": {"vnic": "vmk1"}}, [])
