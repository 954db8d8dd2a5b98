"""Host settings: power policies and the PCI passthrough / SR-IOV configuration."""
from __future__ import annotations

# The original's --policy numbers, by the short names ESXi gives the policies it offers.
POLICY_SHORT_NAMES = {1: "static", 2: "dynamic", 3: "low", 4: "custom"}
POLICY_TITLES = {1: "High performance", 2: "Balanced", 3: "Low power", 4: "Custom"}


def offered_policy(capability, number: int):
    """The host's policy for the original's ``number`` (1-4), found by its short name, or None."""
    short = POLICY_SHORT_NAMES[number]
    return next((p for p in getattr(capability, "availablePolicy", None) or [] if p.shortName == short), None)


def passthru_config(pci_id: str, enabled: bool):
    """Passthrough of one PCI device on or off (HostPciPassthruSystem.UpdatePassthruConfig)."""
    from pyVmomi import vim

    return vim.host.PciPassthruConfig(id=pci_id, passthruEnabled=enabled)


def sriov_config(pci_id: str, enabled: bool, virtual_functions: int):
    """SR-IOV of one physical function on (with N virtual functions) or off. The PF itself is not
    passed through while it serves virtual functions."""
    from pyVmomi import vim

    return vim.host.SriovConfig(id=pci_id, passthruEnabled=False, sriovEnabled=enabled,
                                numVirtualFunction=virtual_functions if enabled else 0)


def sriov_counts(info) -> tuple[int, int]:
    """(active, requested) virtual functions of an SR-IOV physical function. ESXi records a new count
    in ``numVirtualFunctionRequested`` and activates it at the host's next boot (``numVirtualFunction``,
    ``sriovActive``: "enabled + rebooted"); only active functions can back adapters."""
    active = (info.numVirtualFunction or 0) if info.sriovActive else 0
    requested = (info.numVirtualFunctionRequested or 0) if info.sriovEnabled else 0
    return active, requested
