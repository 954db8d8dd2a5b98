"""NVIDIA vGPU profiles as their names say: board, sharing mode, frame buffer, MIG instance size.

vSphere 7.0 lists a host's profiles by name only (``config.sharedPassthruGpuTypes``); vSphere 8's
``VgpuProfileInfo`` adds the sharing mode and size, which NVIDIA's naming already carries:

- time-sliced ``grid_<board>-<GB><series>``: ``grid_v100-8q`` is 8 GB of a V100 (series q: virtual
  workstation, c: compute). A GPU holds vGPUs of one profile at a time, frame buffer / size of them.
- MIG-backed ``grid_<board>-<slices>-<GB><series>``: ``grid_a100-3-20c`` is a GPU instance of 3
  compute slices and 20 GB of an A100 in MIG mode. The instance geometry is the board's
  (specs/devices/vgpu_catalog.py, after NVIDIA's MIG User Guide): an A100 has 7 compute slices and 8 memory
  slices, an A30 4 and 4; an instance of each size starts only at certain memory slices and instances
  do not overlap, so an A100 holds at most seven 1-slice instances, and sizes mix only where the
  placements allow (4+3, 2+2+3, 3+2+1+1 ...).

Pure code: no vSphere.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from vhpc_toolkit.specs.devices.vgpu_catalog import A100_MIG, MigGeometry, board_of_profile

TIME_SLICED, MIG = "time-sliced", "MIG"

_TIME_SLICED = re.compile(r"^grid_([a-z]+\d+)[a-z]*-(\d+)([a-z]+)$")
_MIG = re.compile(r"^grid_([a-z]+\d+)[a-z]*-(\d+)-(\d+)([a-z]+)$")

MIG_COMPUTE_SLICES = 7
MIG_MEMORY_SLICES = 8
# compute slices -> (memory slices, memory slices it may start at): the A100 / H100 geometry, for a
# board the catalogue does not know.
MIG_INSTANCES = A100_MIG
_DEFAULT_GEOMETRY = MigGeometry(MIG_COMPUTE_SLICES, MIG_MEMORY_SLICES, 5, A100_MIG)


@dataclass(frozen=True)
class Profile:
    """One vGPU profile, read from its name."""

    name: str
    board: str                 # in device-name spelling, lower case: v100, a100
    sharing: str               # TIME_SLICED | MIG
    frame_buffer_mb: int
    slices: int = 0            # MIG: compute slices of its GPU instance
    geometry: MigGeometry | None = None   # MIG: its board's instance geometry

    @property
    def mig(self) -> bool:
        return self.sharing == MIG

    @property
    def memory_slices(self) -> int:
        return self.geometry.instances[self.slices][0] if self.mig else 0

    def describe(self) -> str:
        size = f"{self.frame_buffer_mb // 1024} GB"
        return f"{self.slices} of {self.geometry.compute_slices} slices, {size} (MIG)" if self.mig else \
            f"{size}, time-sliced"

    def to_dict(self) -> dict:
        return {"profile": self.name, "board": self.board, "sharing": self.sharing,
                "frame_buffer_gb": self.frame_buffer_mb / 1024, "slices": self.slices or None}


@lru_cache(maxsize=1024)   # a few names, asked many times by the planner
def parse_profile(name: str) -> Profile | None:
    """The profile ``name`` stands for, or None when it is not in NVIDIA's naming."""
    m = _MIG.match(name or "")
    if m is not None:
        board = board_of_profile(name)
        geometry = board.mig if board is not None and board.mig is not None else _DEFAULT_GEOMETRY
        if int(m.group(2)) in geometry.instances:
            return Profile(name, m.group(1), MIG, int(m.group(3)) * 1024, int(m.group(2)), geometry)
        return None
    m = _TIME_SLICED.match(name or "")
    if m is not None:
        return Profile(name, m.group(1), TIME_SLICED, int(m.group(2)) * 1024)
    return None


def mig_start(profile: Profile, held: list[tuple[int, int, int]]) -> int | None:
    """The first memory slice where an instance of ``profile`` fits beside ``held``
    ((start, memory slices, compute slices) of the instances on the GPU), or None."""
    geometry = profile.geometry
    used = [False] * geometry.memory_slices
    compute = 0
    for start, mem, slices in held:
        for i in range(start, min(start + mem, geometry.memory_slices)):
            used[i] = True
        compute += slices
    if compute + profile.slices > geometry.compute_slices:
        return None
    mem, starts = geometry.instances[profile.slices]
    for start in starts:
        if not any(used[start:start + mem]):
            return start
    return None


def mig_layout(profiles: list[Profile]) -> list[tuple[int, int, int]] | None:
    """Instances of ``profiles`` placed first-fit in that order (how the running ones are counted:
    vSphere 7 does not report where an instance sits), or None when they do not fit."""
    held: list[tuple[int, int, int]] = []
    for p in profiles:
        start = mig_start(p, held)
        if start is None:
            return None
        held.append((start, p.memory_slices, p.slices))
    return held


def mig_room(profile: Profile, held: list[tuple[int, int, int]]) -> int:
    """How many more instances of ``profile`` fit beside ``held``."""
    held, n = list(held), 0
    while True:
        start = mig_start(profile, held)
        if start is None:
            return n
        held.append((start, profile.memory_slices, profile.slices))
        n += 1


def gpu_room(profile: str, board: str | None, frame_buffer_mb: int, running: list[str], mig: bool | None) -> int:
    """How many more vGPUs of ``profile`` a physical GPU (of ``board``, with ``running`` vGPUs and
    MIG mode ``mig``: True, False or None when unknown) can start now."""
    p = parse_profile(profile)
    if p is None or not board or p.board != board or (mig is not None and mig != p.mig):
        return 0
    held = [parse_profile(q) for q in running]
    if any(h is None or h.mig != p.mig for h in held):
        return 0
    if p.mig:
        layout = mig_layout(held)
        return 0 if layout is None else mig_room(p, layout)
    if held and any(h.name != profile for h in held):
        return 0
    return max(0, frame_buffer_mb // p.frame_buffer_mb - len(held))


def sharing_mode(running: list[str], offered: list[str], board: str | None) -> bool | None:
    """A shared GPU's MIG mode as vSphere 7 lets one tell: from the vGPUs it runs, else from the
    profiles its host offers for its board (only MIG-backed: True; only time-sliced: False); None
    when the host offers both and the GPU is idle."""
    for q in running:
        p = parse_profile(q)
        if p is not None:
            return p.mig
    modes = {p.mig for p in map(parse_profile, offered) if p is not None and p.board == board}
    return next(iter(modes)) if len(modes) == 1 else (None if modes else False)
