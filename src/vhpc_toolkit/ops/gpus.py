"""A host's GPUs as vSphere reports them: mode, model, frame buffer, and vGPU capacity per physical GPU.

vSphere facts this module encodes:

- ``config.graphicsInfo`` lists each GPU with its ``graphicsType``: ``direct`` (passthrough-enabled,
  for DirectPath I/O) or ``sharedDirect`` (serving NVIDIA vGPUs), its frame buffer
  (``memorySizeInKB``) and the powered-on VMs using it (``vm``). A GPU is one or the other.
- NVIDIA names profiles ``grid_<board>-<GB><type>`` (``grid_p100-4q``: 4 GB of a P100). A physical
  GPU holds vGPUs of one profile at a time, as many as its frame buffer allows (a 16 GB P100
  holds four ``grid_p100-4q``), and the vGPUs of one VM sit on different GPUs.
- ``config.graphicsConfig.sharedPassthruAssignmentPolicy`` says where the next vGPU goes:
  ``performance`` (the least loaded GPU) or ``consolidation`` (the most loaded one).

Pure code over the inventory snapshot: :func:`host_gpus` builds the per-GPU state,
:class:`VgpuLedger` places vGPUs (the host's VMs, then the ones a command or a cluster file adds)
and says why one does not fit. Placement (issue 16) builds on both.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from vhpc_toolkit.specs.passthrough import normalize_id
from vhpc_toolkit.specs.vgpu import vgpu_profile

# Host properties the GPU state needs (merge into the host read).
HOST_PROPS = ["config.graphicsInfo", "config.graphicsConfig", "config.pciPassthruInfo"]

PASSTHROUGH, SHARED_DIRECT = "direct", "sharedDirect"
MODE_NAMES = {PASSTHROUGH: "passthrough", SHARED_DIRECT: "shared direct (vGPU)", "shared": "shared (vSGA)",
              "basic": "basic"}

_PROFILE = re.compile(r"^grid_([a-z]+\d+)([a-z]*)-(\d+)([a-z]+)$")
_BOARD = re.compile(r"\b([A-Z]{1,2}\d{2,3})\b")


def profile_size(profile: str) -> tuple[str, int] | None:
    """``("p100", 4096)`` for ``grid_p100-4q``: the board and frame buffer (MB) of a vGPU profile."""
    m = _PROFILE.match(profile or "")
    if m is None:
        return None
    return m.group(1), int(m.group(3)) * 1024


def gpu_model(device_name: str) -> str | None:
    """The board of a GPU's device name, in profile spelling: ``GV100GL [Tesla V100 PCIe 32GB]`` -> ``v100``."""
    inside = re.search(r"\[(.*)\]", device_name or "")
    m = _BOARD.search(inside.group(1) if inside else device_name or "")
    return m.group(1).lower() if m else None


@dataclass
class GpuState:
    """One physical GPU of a host, as the snapshot shows it."""

    pci_id: str
    name: str                       # device name
    model: str | None               # board in profile spelling (v100, p100)
    graphics_type: str              # direct | sharedDirect | shared | basic
    passthrough_enabled: bool
    frame_buffer_mb: int
    profile: str | None = None      # the vGPU profile it serves now (None: idle or not shared)
    vgpu_vms: list[str] = field(default_factory=list)   # powered-on VMs with a vGPU on it

    @property
    def mode(self) -> str:
        return MODE_NAMES.get(self.graphics_type, self.graphics_type)

    @property
    def shared(self) -> bool:
        return self.graphics_type == SHARED_DIRECT

    def serves(self, profile: str) -> bool:
        """Whether this GPU's board runs ``profile`` (whatever it holds now)."""
        size = profile_size(profile)
        return bool(self.shared and size and self.model and size[0] == self.model)

    def capacity(self, profile: str) -> int:
        """How many vGPUs of ``profile`` this GPU holds when it serves that profile (0: cannot)."""
        size = profile_size(profile)
        return self.frame_buffer_mb // size[1] if self.serves(profile) else 0

    def free(self, profile: str) -> int:
        """How many more vGPUs of ``profile`` it can take now."""
        if not self.serves(profile) or (self.profile and self.profile != profile):
            return 0
        return max(0, self.capacity(profile) - len(self.vgpu_vms))

    def describe(self) -> str:
        text = f"{self.pci_id} {self.model.upper() if self.model else self.name} {self.frame_buffer_mb // 1024} GB, {self.mode}"
        if self.shared and self.profile:
            text += f", {len(self.vgpu_vms)} x {self.profile}"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.pci_id, "name": self.name, "model": self.model, "mode": self.mode,
                "graphics_type": self.graphics_type, "passthrough_enabled": self.passthrough_enabled,
                "frame_buffer_gb": self.frame_buffer_mb / 1024, "profile": self.profile,
                "vgpu_vms": list(self.vgpu_vms)}


def host_gpus(inv, host) -> list[GpuState]:
    """The GPUs of ``host`` (an inventory Obj read with :data:`HOST_PROPS`), in PCI order."""
    enabled = {normalize_id(i.id): bool(i.passthruEnabled) for i in host.get("config.pciPassthruInfo") or []}
    gpus = []
    for g in host.get("config.graphicsInfo") or []:
        model = gpu_model(g.deviceName)
        state = GpuState(pci_id=g.pciId, name=g.deviceName, model=model, graphics_type=g.graphicsType,
                         passthrough_enabled=enabled.get(normalize_id(g.pciId), False),
                         frame_buffer_mb=int(g.memorySizeInKB or 0) // 1024)
        for ref in g.vm or []:
            vm = inv.by_ref(ref) if inv is not None else None
            if vm is None:
                continue
            profiles = [p for p in map(vgpu_profile, vm.get("config.hardware.device") or []) if p]
            mine = next((p for p in profiles if state.serves(p)), None)
            if mine:
                state.vgpu_vms.append(vm.name)
                state.profile = state.profile or mine
        gpus.append(state)
    return sorted(gpus, key=lambda s: normalize_id(s.pci_id))


def assignment_policy(host) -> str:
    cfg = host.get("config.graphicsConfig")
    return getattr(cfg, "sharedPassthruAssignmentPolicy", None) or "performance"


class VgpuLedger:
    """vGPU slots of one host's GPUs: what runs now, plus what a command or a cluster file adds."""

    def __init__(self, gpus: list[GpuState], policy: str = "performance"):
        self.policy = policy
        self.slots = {g.pci_id: (g, g.profile, list(g.vgpu_vms)) for g in gpus if g.shared}

    def _load(self, pci_id: str) -> int:
        return len(self.slots[pci_id][2])

    def claim(self, vm_name: str, profiles: list[str]) -> list[str]:
        """Place the vGPUs of one VM (one GPU each); returns problems (nothing is claimed then)."""
        taken, problems = [], []
        for profile in profiles:
            room, why = [], []
            for pci_id, (gpu, current, vms) in self.slots.items():
                if not gpu.serves(profile):
                    continue
                cap = gpu.capacity(profile)
                if pci_id in taken:
                    why.append(f"GPU {pci_id} already holds another vGPU of this VM")
                elif vms and current != profile:
                    why.append(f"GPU {pci_id} ({gpu.model.upper()}) serves {current} (VMs {', '.join(vms)}); "
                               "a physical GPU holds vGPUs of one profile at a time")
                elif len(vms) >= cap:
                    why.append(f"GPU {pci_id} ({gpu.model.upper()}, {gpu.frame_buffer_mb // 1024} GB) is full: "
                               f"{len(vms)} of {cap} {profile} (VMs {', '.join(vms)})")
                else:
                    room.append(pci_id)
            if not room:
                problems.append(f"no GPU has room for vGPU {profile}: " + ("; ".join(why) or
                                "no GPU of the host is in shared direct mode for it"))
                continue
            consolidate = self.policy == "consolidation"
            room.sort(key=lambda i: ((-1 if consolidate else 1) * self._load(i), normalize_id(i)))
            taken.append(room[0])
        if problems:
            return problems
        for pci_id, profile in zip(taken, profiles):
            gpu, current, vms = self.slots[pci_id]
            self.slots[pci_id] = (gpu, current or profile, vms + [vm_name])
        return []
