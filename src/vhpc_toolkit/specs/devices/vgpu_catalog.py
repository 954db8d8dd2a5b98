"""NVIDIA's vGPU types per board, as NVIDIA Virtual GPU Software 14.0 lists them (the release for
vSphere 7.0 U3; the User Guide's "Virtual GPU Types for Supported GPUs", the driver's vgpuConfig.xml).

A board is NVIDIA's name for the exact part, in profile spelling: a Tesla V100 PCIe 16GB is ``v100``,
a V100 PCIe 32GB ``v100d``, an A100 PCIe 40GB ``a100``, an A100 80GB ``a100d``. Each has time-sliced
types ``grid_<board>-<GB><series>`` (series q: virtual workstation, c: compute, a: virtual applications,
b: virtual PC) and, on MIG boards, MIG-backed types ``grid_<board>-<slices>-<GB>c`` whose instance
geometry is the board's (an A100 has 7 compute and 8 memory slices, an A30 4 and 4).

What one VM may hold (vGPU 14.0 "Multiple vGPU Support"; NVIDIA AI Enterprise for vSphere 7.x: "Only
NVIDIA vGPU (C-Series) allocated all of the physical GPU's framebuffer are supported"): several vGPUs
only of one time-sliced Q- or C-series type that takes its GPU's whole frame buffer (grid_v100-16q,
grid_a100-40c); MIG-backed and smaller types one per VM.

Pure code: no vSphere.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass(frozen=True)
class MigGeometry:
    """A MIG board's GPU instances: compute slices -> (memory slices, memory slices it may start at)."""

    compute_slices: int
    memory_slices: int
    slice_gb: int
    instances: dict = field(default_factory=dict)


A100_MIG = {1: (1, (0, 1, 2, 3, 4, 5, 6)), 2: (2, (0, 2, 4)), 3: (4, (0, 4)), 4: (4, (0,)), 7: (8, (0,))}
A30_MIG = {1: (1, (0, 1, 2, 3)), 2: (2, (0, 2)), 4: (4, (0,))}


@dataclass(frozen=True)
class Board:
    key: str
    frame_buffer_gb: int
    series: dict                      # letter -> frame-buffer sizes (GB) of its time-sliced types
    mig: MigGeometry | None = None

    def profiles(self) -> list[str]:
        out = [f"grid_{self.key}-{gb}{s}" for s, sizes in self.series.items() for gb in sizes]
        if self.mig is not None:
            out += [f"grid_{self.key}-{n}-{mem * self.mig.slice_gb}c" for n, (mem, _) in self.mig.instances.items()]
        return out


def _graphics(sizes: tuple, compute: tuple) -> dict:
    return {"q": sizes, "c": compute, "a": sizes, "b": (1, 2)}


_P100 = _graphics((1, 2, 4, 8, 16), (4, 8, 16))
_V100_16 = _graphics((1, 2, 4, 8, 16), (4, 8, 16))
_V100_32 = _graphics((1, 2, 4, 8, 16, 32), (4, 8, 16, 32))
BOARDS = {b.key: b for b in [
    Board("p100", 16, _P100), Board("p100x", 16, _P100),
    Board("p100c", 12, _graphics((1, 2, 4, 6, 12), (4, 6, 12))),
    Board("v100", 16, _V100_16), Board("v100x", 16, _V100_16), Board("v100l", 16, _V100_16),
    Board("v100d", 32, _V100_32), Board("v100dx", 32, _V100_32), Board("v100s", 32, _V100_32),
    Board("t4", 16, _graphics((1, 2, 4, 8, 16), (4, 8, 16))),
    Board("a10", 24, _graphics((1, 2, 3, 4, 6, 8, 12, 24), (4, 6, 8, 12, 24))),
    Board("a40", 48, _graphics((1, 2, 3, 4, 6, 8, 12, 16, 24, 48), (4, 6, 8, 12, 16, 24, 48))),
    Board("a100", 40, {"c": (4, 5, 8, 10, 20, 40)}, MigGeometry(7, 8, 5, A100_MIG)),
    Board("a100x", 40, {"c": (4, 5, 8, 10, 20, 40)}, MigGeometry(7, 8, 5, A100_MIG)),
    Board("a100d", 80, {"c": (4, 8, 10, 16, 20, 40, 80)}, MigGeometry(7, 8, 10, A100_MIG)),
    Board("a100dx", 80, {"c": (4, 8, 10, 16, 20, 40, 80)}, MigGeometry(7, 8, 10, A100_MIG)),
    Board("a30", 24, {"c": (4, 6, 8, 12, 24)}, MigGeometry(4, 4, 6, A30_MIG)),
]}

_PROFILE = re.compile(r"^grid_([a-z]+\d+[a-z]*)-(?:(\d+)-)?(\d+)([a-z]+)$")


def board_of_profile(profile: str) -> Board | None:
    m = _PROFILE.match(profile or "")
    return BOARDS.get(m.group(1)) if m else None


def known_profile(profile: str) -> bool:
    """Whether the name is one of NVIDIA's types of its board (a board the catalogue knows)."""
    board = board_of_profile(profile)
    return board is not None and profile in board.profiles()


def multi_vgpu_capable(profile: str) -> bool:
    """Whether a VM may hold several vGPUs of this type on vSphere 7: time-sliced, series q or c, and the
    whole frame buffer of its board."""
    m, board = _PROFILE.match(profile or ""), board_of_profile(profile)
    if m is None or board is None or m.group(2):
        return False
    return m.group(4) in ("q", "c") and int(m.group(3)) == board.frame_buffer_gb


def mix_problem(profiles: list[str]) -> str | None:
    """Why one VM cannot hold these vGPUs together (None: it can)."""
    if len(profiles) < 2:
        return None
    if len(set(profiles)) == 1 and multi_vgpu_capable(profiles[0]):
        return None
    whole = sorted({f"grid_{b.key}-{b.frame_buffer_gb}{s}" for b in map(board_of_profile, profiles) if b
                    for s in ("q", "c") if s in b.series})
    return ("NVIDIA vGPU on vSphere 7 allows several vGPUs in one VM only of one time-sliced Q- or C-series type "
            f"that takes its whole GPU ({', '.join(whole) or 'grid_v100-16q, grid_a100-40c'}); MIG-backed and "
            "smaller types are one per VM")
