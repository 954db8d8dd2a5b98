"""NVIDIA vGPU profiles read from their names, MIG instance placement, the vGPU ledger with MIG GPUs,
and the accelerator options of a clone spec."""
from __future__ import annotations

import pytest
from pyVmomi import vim

from vhpc_toolkit.ops.hosts.gpus import GpuState, VgpuLedger
from vhpc_toolkit.specs.devices.accelerators import accelerator_options
from vhpc_toolkit.specs.devices.passthrough import dynamic_passthrough_device, dynamic_type
from vhpc_toolkit.specs.devices.vgpu_profiles import (MIG, TIME_SLICED, gpu_room, mig_layout, mig_room, parse_profile,
                                              sharing_mode)


@pytest.mark.parametrize("name,board,sharing,gb,slices", [
    ("grid_a100-3-20c", "a100", MIG, 20, 3), ("grid_a100-1-5c", "a100", MIG, 5, 1),
    ("grid_a100-7-40c", "a100", MIG, 40, 7), ("grid_a100-4c", "a100", TIME_SLICED, 4, 0),
    ("grid_v100-8q", "v100", TIME_SLICED, 8, 0), ("grid_p100-16q", "p100", TIME_SLICED, 16, 0)])
def test_profile_names(name, board, sharing, gb, slices):
    p = parse_profile(name)
    assert (p.board, p.sharing, p.frame_buffer_mb // 1024, p.slices) == (board, sharing, gb, slices)


@pytest.mark.parametrize("name", ["grid_a100-5-25c", "nvidia_x", "", "grid_a100"])
def test_not_nvidia_names(name):
    assert parse_profile(name) is None


def p(name):
    return parse_profile(name)


def test_mig_placements_of_an_a100():
    assert mig_room(p("grid_a100-1-5c"), []) == 7          # at most seven 1-slice instances
    assert mig_room(p("grid_a100-2-10c"), []) == 3
    assert mig_room(p("grid_a100-3-20c"), []) == 2
    assert mig_room(p("grid_a100-4-20c"), []) == 1
    # 4 then 3 fits (7 slices); 3 (placed at memory slice 0) then 4 (starts at 0 only) does not
    assert mig_layout([p("grid_a100-4-20c"), p("grid_a100-3-20c")]) == [(0, 4, 4), (4, 4, 3)]
    assert mig_layout([p("grid_a100-3-20c"), p("grid_a100-4-20c")]) is None
    assert mig_layout([p("grid_a100-2-10c")] * 2 + [p("grid_a100-3-20c")]) is not None
    assert mig_layout([p("grid_a100-1-5c")] * 7 + [p("grid_a100-1-5c")]) is None


def test_room_per_gpu_follows_its_mode_and_what_it_runs():
    assert gpu_room("grid_a100-4c", "a100", 40960, [], False) == 10
    assert gpu_room("grid_a100-4c", "a100", 40960, ["grid_a100-4c"] * 3, False) == 7
    assert gpu_room("grid_a100-8c", "a100", 40960, ["grid_a100-4c"], False) == 0       # one profile at a time
    assert gpu_room("grid_a100-4c", "a100", 40960, [], True) == 0                      # MIG mode: MIG only
    assert gpu_room("grid_a100-1-5c", "a100", 40960, ["grid_a100-3-20c"], None) == 3   # mixed sizes that fit
    assert gpu_room("grid_a100-1-5c", "a100", 40960, ["grid_a100-4c"], None) == 0      # it runs time-sliced
    assert gpu_room("grid_v100-8q", "a100", 40960, [], None) == 0


def test_sharing_mode_as_vsphere_7_lets_one_tell():
    offered_mig = ["grid_a100-1-5c", "grid_a100-3-20c", "grid_v100-8q"]
    assert sharing_mode([], offered_mig, "a100") is True
    assert sharing_mode([], ["grid_a100-4c"], "a100") is False
    assert sharing_mode([], ["grid_a100-4c", "grid_a100-1-5c"], "a100") is None
    assert sharing_mode(["grid_a100-4c"], ["grid_a100-4c", "grid_a100-1-5c"], "a100") is False
    assert sharing_mode([], offered_mig, "v100") is False


def a100(pci, mig, profiles=()):
    return GpuState(pci_id=pci, name="GA100 [A100 PCIe 40GB]", model="a100", graphics_type="sharedDirect",
                    passthrough_enabled=False, frame_buffer_mb=40960, mig=mig,
                    vgpu_vms=[f"vm{i}" for i in range(len(profiles))], vgpu_profiles=list(profiles),
                    profile=profiles[0] if profiles else None)


def test_ledger_places_mig_instances_and_says_why_not():
    ledger = VgpuLedger([a100("0000:65:00.0", True)])
    for i in range(7):
        assert ledger.claim(f"x{i}", ["grid_a100-1-5c"]) == []
    problem, = ledger.claim("x7", ["grid_a100-1-5c"])
    assert "has no free GPU instance for grid_a100-1-5c" in problem
    timesliced, = VgpuLedger([a100("0000:65:00.0", True)]).claim("y", ["grid_a100-4c"])
    assert "no GPU of the host is in shared direct mode for it" in timesliced   # a MIG GPU does not serve it


def test_an_idle_gpu_of_unknown_mode_takes_the_first_kind_then_keeps_it():
    ledger = VgpuLedger([a100("0000:65:00.0", None)])
    assert ledger.claim("a", ["grid_a100-3-20c"]) == []
    problem, = ledger.claim("b", ["grid_a100-4c"])
    assert "runs MIG-backed vGPUs" in problem
    assert ledger.room("grid_a100-3-20c") == 1 and ledger.room("grid_a100-4c") == 0
    copy = ledger.copy()
    assert copy.claim("c", ["grid_a100-3-20c"]) == [] and ledger.room("grid_a100-3-20c") == 1


def test_several_vgpus_of_one_vm_go_to_different_gpus_and_nothing_stays_claimed_on_refusal():
    ledger = VgpuLedger([a100("0000:65:00.0", True), a100("0000:e3:00.0", True)])
    assert ledger.claim("a", ["grid_a100-3-20c", "grid_a100-3-20c"]) == []
    assert ledger.profiles == {"0000:65:00.0": ["grid_a100-3-20c"], "0000:e3:00.0": ["grid_a100-3-20c"]}
    assert ledger.claim("b", ["grid_a100-4-20c", "grid_a100-4-20c", "grid_a100-4-20c"])
    assert ledger.profiles == {"0000:65:00.0": ["grid_a100-3-20c"], "0000:e3:00.0": ["grid_a100-3-20c"]}


def test_accelerator_options():
    keys = lambda opts: {o.key: o.value for o in opts}   # noqa: E731
    assert keys(accelerator_options(1)) == {}
    assert keys(accelerator_options(2, 1, True)) == {"pciPassthru.allowP2P": "TRUE", "pciPassthru.RelaxACSforP2P": "TRUE",
                                                     "numa.nodeAffinity": "1", "sched.mem.lpage.enable1GPage": "TRUE"}


def test_dynamic_device_allows_the_vendor_and_device_id_and_the_label():
    spec = dynamic_passthrough_device(0x10de, 0x20f1, "train", "GA100")
    backing = spec.device.backing
    assert isinstance(backing, vim.vm.device.VirtualPCIPassthrough.DynamicBackingInfo)
    assert backing.customLabel == "train" and dynamic_type(spec.device) == (0x10de, 0x20f1)
    assert dynamic_passthrough_device(0x10de, 0x1db4).device.backing.customLabel is None


def test_the_catalogue_has_nvidias_types_per_board():
    from vhpc_toolkit.specs.devices.vgpu_catalog import BOARDS, known_profile, multi_vgpu_capable

    assert known_profile("grid_v100-16q") and not known_profile("grid_v100-32q")   # a 16 GB board
    assert known_profile("grid_v100d-32q") and known_profile("grid_v100d-32c")      # the 32 GB V100 PCIe
    assert "grid_a100-7-40c" in BOARDS["a100"].profiles() and "grid_a100d-7-80c" in BOARDS["a100d"].profiles()
    assert BOARDS["a30"].profiles()[-3:] == ["grid_a30-1-6c", "grid_a30-2-12c", "grid_a30-4-24c"]
    assert multi_vgpu_capable("grid_a100-40c") and multi_vgpu_capable("grid_v100-16q")
    assert not multi_vgpu_capable("grid_a100-20c") and not multi_vgpu_capable("grid_a100-7-40c")
    assert not multi_vgpu_capable("grid_v100-16a")


def test_mig_geometry_is_the_boards():
    # An A30 has 4 compute and 4 memory slices: two 2-slice instances, four 1-slice ones.
    assert mig_room(p("grid_a30-2-12c"), []) == 2 and mig_room(p("grid_a30-1-6c"), []) == 4
    assert mig_room(p("grid_a30-4-24c"), []) == 1
    assert mig_layout([p("grid_a30-2-12c")] * 2 + [p("grid_a30-1-6c")]) is None
    # An A100 80GB: the A100 geometry with 10 GB slices.
    assert mig_room(p("grid_a100d-1-10c"), []) == 7 and p("grid_a100d-3-40c").memory_slices == 4
    assert p("grid_a30-2-12c").describe() == "2 of 4 slices, 12 GB (MIG)"
