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

- A100-class GPUs in MIG mode serve MIG-backed profiles (``grid_a100-3-20c``), placed as GPU
  instances (specs/devices/vgpu_profiles.py); without MIG, time-sliced ones. vSphere 7 does not report a
  GPU's MIG mode: it is read from the vGPUs the GPU runs, else from the profiles the host offers
  for its board (only MIG-backed ones: MIG; only time-sliced: not); with both, unknown.

Pure code over the inventory snapshot: :func:`host_gpus` builds the per-GPU state,
:class:`VgpuLedger` places vGPUs (the host's VMs, then the ones a command or a cluster file adds)
and says why one does not fit. The planner (cluster/placement/planner.py) builds on both.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from vhpc_toolkit.specs.devices.vgpu_profiles import (MIG, TIME_SLICED, Profile, gpu_room, mig_layout, mig_room, parse_profile,
                                              sharing_mode)
from vhpc_toolkit.specs.devices.passthrough import normalize_id
from vhpc_toolkit.specs.devices.vgpu import vgpu_profile

# Host properties the GPU state needs (merge into the host read).
HOST_PROPS = ["config.graphicsInfo", "config.graphicsConfig", "config.pciPassthruInfo",
              "config.sharedPassthruGpuTypes"]

PASSTHROUGH, SHARED_DIRECT = "direct", "sharedDirect"
MODE_NAMES = {PASSTHROUGH: "passthrough", SHARED_DIRECT: "shared direct (vGPU)", "shared": "shared (vSGA)",
              "basic": "basic"}

_PROFILE = re.compile(r"^grid_([a-z]+\d+)([a-z]*)-(\d+)([a-z]+)$")
_BOARD = re.compile(r"\b([A-Z]{1,2}\d{2,3})\b")


def profile_size(profile: str) -> tuple[str, int] | None:
    """``("p100", 4096)`` for ``grid_p100-4q``: the board and frame buffer (MB) of a time-sliced
    vGPU profile (None for MIG-backed ones: see specs/devices/vgpu_profiles.py)."""
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
    model: str | None               # board in profile spelling (v100, p100, a100)
    graphics_type: str              # direct | sharedDirect | shared | basic
    passthrough_enabled: bool
    frame_buffer_mb: int
    profile: str | None = None      # the vGPU profile it serves now (None: idle or not shared)
    vgpu_vms: list[str] = field(default_factory=list)   # powered-on VMs with a vGPU on it
    mig: bool | None = False        # MIG mode: True, False, None when vSphere 7 does not tell
    vgpu_profiles: list[str] = field(default_factory=list)  # the profile of each of vgpu_vms' vGPUs

    def __post_init__(self):
        if len(self.vgpu_profiles) < len(self.vgpu_vms):
            self.vgpu_profiles += [self.profile] * (len(self.vgpu_vms) - len(self.vgpu_profiles))

    @property
    def mode(self) -> str:
        return MODE_NAMES.get(self.graphics_type, self.graphics_type)

    @property
    def shared(self) -> bool:
        return self.graphics_type == SHARED_DIRECT

    @property
    def sharing(self) -> str | None:
        """MIG or time-sliced, for a shared GPU whose mode is known."""
        if not self.shared or self.mig is None:
            return None
        return MIG if self.mig else TIME_SLICED

    def serves(self, profile: str) -> bool:
        """Whether this GPU's board and sharing mode run ``profile`` (whatever it holds now)."""
        p = parse_profile(profile)
        if not (self.shared and p and self.model and p.board == self.model):
            return False
        return self.mig is None or self.mig == p.mig

    def capacity(self, profile: str) -> int:
        """How many vGPUs of ``profile`` this GPU holds when it serves only that profile (0: cannot)."""
        if not self.serves(profile):
            return 0
        p = parse_profile(profile)
        return mig_room(p, []) if p.mig else self.frame_buffer_mb // p.frame_buffer_mb

    def free(self, profile: str) -> int:
        """How many more vGPUs of ``profile`` it can take now."""
        if not self.shared:
            return 0
        return gpu_room(profile, self.model, self.frame_buffer_mb, self.vgpu_profiles, self.mig)

    def describe(self) -> str:
        text = f"{self.pci_id} {self.model.upper() if self.model else self.name} {self.frame_buffer_mb // 1024} GB, {self.mode}"
        if self.shared and self.sharing:
            text += f" ({self.sharing})"
        if self.shared and self.vgpu_profiles:
            counts: dict[str, int] = {}
            for q in self.vgpu_profiles:
                counts[q] = counts.get(q, 0) + 1
            text += ", " + ", ".join(f"{n} x {q}" for q, n in counts.items())
        return text

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.pci_id, "name": self.name, "model": self.model, "mode": self.mode,
                "graphics_type": self.graphics_type, "passthrough_enabled": self.passthrough_enabled,
                "frame_buffer_gb": self.frame_buffer_mb / 1024, "profile": self.profile,
                "vgpu_vms": list(self.vgpu_vms), "sharing": self.sharing, "vgpus": list(self.vgpu_profiles)}


def host_gpus(inv, host) -> list[GpuState]:
    """The GPUs of ``host`` (an inventory Obj read with :data:`HOST_PROPS`), in PCI order."""
    enabled = {normalize_id(i.id): bool(i.passthruEnabled) for i in host.get("config.pciPassthruInfo") or []}
    offered = list(host.get("config.sharedPassthruGpuTypes") or [])
    taken: dict[str, int] = {}   # VM name -> its vGPUs of this host already given to a GPU
    gpus = []
    for g in sorted(host.get("config.graphicsInfo") or [], key=lambda g: normalize_id(g.pciId)):
        model = gpu_model(g.deviceName)
        state = GpuState(pci_id=g.pciId, name=g.deviceName, model=model, graphics_type=g.graphicsType,
                         passthrough_enabled=enabled.get(normalize_id(g.pciId), False),
                         frame_buffer_mb=int(g.memorySizeInKB or 0) // 1024,
                         mig=sharing_mode([], offered, model))
        for ref in g.vm or []:
            vm = inv.by_ref(ref) if inv is not None else None
            if vm is None:
                continue
            mine = [p for p in map(vgpu_profile, vm.get("config.hardware.device") or [])
                    if p and parse_profile(p) and parse_profile(p).board == model]
            index = taken.get(vm.name, 0)
            if not mine:
                continue
            profile = mine[min(index, len(mine) - 1)]
            taken[vm.name] = index + 1
            state.vgpu_vms.append(vm.name)
            state.vgpu_profiles.append(profile)
            state.profile = state.profile or profile
            state.mig = parse_profile(profile).mig
        gpus.append(state)
    return gpus


def assignment_policy(host) -> str:
    cfg = host.get("config.graphicsConfig")
    return getattr(cfg, "sharedPassthruAssignmentPolicy", None) or "performance"


class VgpuLedger:
    """vGPU slots of one host's GPUs: what runs now, plus what a command or a cluster file adds."""

    def __init__(self, gpus: list[GpuState], policy: str = "performance"):
        self.policy = policy
        # pci id -> (GPU, the profile it serves, the VMs with a vGPU on it); profiles: one per vGPU
        self.slots = {g.pci_id: (g, g.profile, list(g.vgpu_vms)) for g in gpus if g.shared}
        self.profiles = {g.pci_id: list(g.vgpu_profiles) for g in gpus if g.shared}

    def copy(self) -> "VgpuLedger":
        """A ledger to try claims on without touching this one."""
        other = VgpuLedger([], self.policy)
        other.slots = {k: (g, cur, list(vms)) for k, (g, cur, vms) in self.slots.items()}
        other.profiles = {k: list(v) for k, v in self.profiles.items()}
        return other

    def _load(self, pci_id: str) -> int:
        return len(self.slots[pci_id][2])

    def _why_not(self, pci_id: str, profile: Profile, taken: list[str]) -> str | None:
        """Why GPU ``pci_id`` cannot take a vGPU of ``profile`` now (None: it can)."""
        gpu, current, vms = self.slots[pci_id]
        running = [parse_profile(q) for q in self.profiles[pci_id]]
        board = gpu.model.upper() if gpu.model else gpu.name
        if pci_id in taken:
            return f"GPU {pci_id} already holds another vGPU of this VM"
        if any(r is not None and r.mig != profile.mig for r in running):
            kind = "MIG-backed" if not profile.mig else "time-sliced"
            return (f"GPU {pci_id} ({board}) runs {kind} vGPUs ({current}, VMs {', '.join(vms)}); "
                    f"a GPU serves MIG-backed or time-sliced vGPUs, as its MIG mode says")
        if profile.mig:
            if self._layout(pci_id, profile) is None:
                return (f"GPU {pci_id} ({board}, MIG) has no free GPU instance for {profile.name}: it holds "
                        f"{', '.join(self.profiles[pci_id])} (VMs {', '.join(vms)})")
            return None
        if vms and current != profile.name:
            return (f"GPU {pci_id} ({board}) serves {current} (VMs {', '.join(vms)}); "
                    "a physical GPU holds vGPUs of one profile at a time")
        cap = gpu.frame_buffer_mb // profile.frame_buffer_mb
        if len(vms) >= cap:
            return (f"GPU {pci_id} ({board}, {gpu.frame_buffer_mb // 1024} GB) is full: "
                    f"{len(vms)} of {cap} {profile.name} (VMs {', '.join(vms)})")
        return None

    def _layout(self, pci_id: str, profile: Profile):
        return mig_layout([parse_profile(q) for q in self.profiles[pci_id]] + [profile])

    def room(self, profile: str) -> int:
        """How many more vGPUs of ``profile`` the host's GPUs take now (each VM one per GPU)."""
        p = parse_profile(profile)
        total = 0
        for pci_id, (gpu, current, vms) in self.slots.items():
            if p is None or not gpu.serves(profile) or self._why_not(pci_id, p, []) is not None:
                continue
            if p.mig:
                total += mig_room(p, mig_layout([parse_profile(q) for q in self.profiles[pci_id]]) or [])
            else:
                total += gpu.frame_buffer_mb // p.frame_buffer_mb - len(vms)
        return total

    def claim(self, vm_name: str, profiles: list[str]) -> list[str]:
        """Place the vGPUs of one VM (one GPU each); returns problems (nothing is claimed then)."""
        taken, problems = [], []
        for name in profiles:
            profile = parse_profile(name)
            room, why = [], []
            for pci_id, (gpu, current, vms) in self.slots.items():
                if profile is None or not gpu.serves(name):
                    continue
                reason = self._why_not(pci_id, profile, taken)
                if reason:
                    why.append(reason)
                else:
                    room.append(pci_id)
            if not room:
                problems.append(f"no GPU has room for vGPU {name}: " + ("; ".join(why) or
                                "no GPU of the host is in shared direct mode for it"))
                continue
            consolidate = self.policy == "consolidation"
            room.sort(key=lambda i: ((-1 if consolidate else 1) * self._load(i), normalize_id(i)))
            taken.append(room[0])
            # claimed at once so that the VM's next vGPU sees it (undone below on a refusal)
            gpu, current, vms = self.slots[room[0]]
            self.slots[room[0]] = (gpu, current or name, vms + [vm_name])
            self.profiles[room[0]].append(name)
        if problems:
            for pci_id in taken:
                gpu, current, vms = self.slots[pci_id]
                vms = vms[:-1]
                self.profiles[pci_id].pop()
                self.slots[pci_id] = (gpu, current if vms else None, vms)
            return problems
        return []
