"""Rules between the placement keys of one VM (docs/placement.md), checked with the file: pure code.

``gpu: N`` asks the planner for N passthrough GPUs; ``device:`` names them. A VM says one or the
other. ``gpu_model`` and ``gpu_label`` narrow ``gpu: N``; ``dynamic`` attaches GPUs as Dynamic
DirectPath I/O; a list of vGPU profiles asks for several vGPUs of one board; 1 GB pages need all
guest memory reserved.
"""
from __future__ import annotations

import re
from typing import List

from ..specs.devices.vgpu_catalog import mix_problem
from .model import VMSpec

_BOARD = re.compile(r"^grid_([a-z]+\d+)[a-z]*-")


def vgpu_board(profile: str) -> str | None:
    """The board of an NVIDIA vGPU profile name: ``a100`` for ``grid_a100-3-20c``."""
    m = _BOARD.match(profile)
    return m.group(1) if m else None


def request_problems(vm: VMSpec) -> List[str]:
    """What does not go together in ``vm``'s keys (one line each, without the file position)."""
    who = "VM %r" % vm.name
    out = []
    if vm.gpu and vm.device:
        out.append("%s: gives both gpu: %d (the planner chooses the devices) and device: %s (named devices); "
                   "keep one" % (who, vm.gpu, ", ".join(vm.device)))
    for key in ("gpu_model", "gpu_label"):
        if getattr(vm, key) and not vm.gpu:
            out.append("%s: %s needs gpu: N (how many GPUs of that %s)"
                       % (who, key, "model" if key == "gpu_model" else "label"))
    if vm.dynamic and not (vm.gpu or vm.device):
        out.append("%s: dynamic: yes needs gpu: N or device: [...] (the devices to attach as Dynamic "
                   "DirectPath I/O)" % who)
    boards = {vgpu_board(p) for p in vm.vgpus}
    if len(vm.vgpus) > 1 and len(boards) > 1:
        out.append("%s: vgpu lists profiles of different boards (%s); the vGPUs of one VM are of one board"
                   % (who, ", ".join(vm.vgpus)))
    elif mix_problem(vm.vgpus):
        out.append("%s: vgpu: %s: %s" % (who, ", ".join(vm.vgpus), mix_problem(vm.vgpus)))
    if vm.hugepages_1g and vm.memory_reservation is False:
        out.append("%s: hugepages_1g: yes needs all guest memory reserved, but memory_reservation is no "
                   "(leave it out: 1 GB pages reserve it)" % who)
    return out
