"""A host's networking as vSphere reports it, from one source: ``host.config.network``.

``view``, ``svs``, ``dvs`` and the cluster engine all read switches here, from the host
properties of the one inventory read (no per-host HostNetworkSystem call; ``svs`` puts its hosts'
network systems' ``networkInfo`` switches and port groups in their place, read in one call):

- standard switches with their uplinks (``vswitch[].pnic`` keys, else ``spec.bridge``), MTU and
  port groups;
- the host's part of each distributed switch (``proxySwitch[]``: the switch and its uplinks);
- VMkernel adapters (``vnic[]``), with the distributed port they sit on, if any;
- which physical NICs are RDMA capable (``rdmaDevice[].backing.pairedUplink``, a NIC key).

A physical NIC is the uplink of at most one switch of its host, standard or distributed: ESXi
refuses a second one (ResourceInUse). Pure functions over an inventory ``Obj``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

HOST_PROPS = ["config.network.vswitch", "config.network.portgroup", "config.network.pnic",
              "config.network.proxySwitch", "config.network.vnic", "config.network.rdmaDevice",
              "config.product.version", "configManager.networkSystem"]

_PNIC_KEY = "key-vim.host.PhysicalNic-"


@dataclass
class StandardSwitch:
    name: str
    pnics: list[str]
    port_groups: list[str] = field(default_factory=list)
    mtu: int | None = None

    def to_dict(self) -> dict:
        return {"name": self.name, "pnics": list(self.pnics), "port_groups": list(self.port_groups), "mtu": self.mtu}


def _pnic_names(keys) -> list[str]:
    return [k[len(_PNIC_KEY):] if k.startswith(_PNIC_KEY) else k.split("-")[-1] for k in keys or []]


def _bridge_nics(spec) -> list[str]:
    bridge = getattr(spec, "bridge", None)
    if bridge is None:
        return []
    nics = getattr(bridge, "nicDevice", None)
    if isinstance(nics, str):
        return [nics]
    return list(nics or [])


def standard_switches(host) -> list[StandardSwitch]:
    """The host's standard switches in the order the host lists them."""
    pgs = host.get("config.network.portgroup") or []
    out = []
    for vs in host.get("config.network.vswitch") or []:
        pnics = _pnic_names(vs.pnic) or _bridge_nics(vs.spec)
        out.append(StandardSwitch(vs.name, pnics, sorted(p.spec.name for p in pgs if p.spec.vswitchName == vs.name),
                                  vs.mtu))
    return out


def standard_switch(host, name: str) -> StandardSwitch | None:
    return next((s for s in standard_switches(host) if s.name == name), None)


def proxy_switches(host) -> dict[str, list[str]]:
    """Distributed switch name -> the host's uplinks on it."""
    out = {}
    for p in host.get("config.network.proxySwitch") or []:
        nics = _pnic_names(p.pnic)
        if not nics:
            backing = getattr(getattr(p, "spec", None), "backing", None)
            nics = [s.pnicDevice for s in getattr(backing, "pnicSpec", None) or []]
        out[p.dvsName] = nics
    return out


def pnic_names(host) -> list[str]:
    return [p.device for p in host.get("config.network.pnic") or []]


def rdma_pnics(host) -> list[str]:
    """The physical NICs (device names) paired with an RDMA device (RoCE/InfiniBand capable). ESXi
    links the NIC by its key (``key-vim.host.PhysicalNic-vmnic5``), as a standard switch's uplinks."""
    out = []
    for r in host.get("config.network.rdmaDevice") or []:
        uplink = getattr(getattr(r, "backing", None), "pairedUplink", None)
        if uplink:
            out += _pnic_names([uplink])
    return out


def uplink_holders(host) -> dict[str, str]:
    """Physical NIC -> the switch it is the uplink of ("standard switch X", "distributed switch Y")."""
    held = {}
    for sw in standard_switches(host):
        for nic in sw.pnics:
            held[nic] = f"standard switch {sw.name}"
    for name, nics in proxy_switches(host).items():
        for nic in nics:
            held[nic] = f"distributed switch {name}"
    return held


def pnic_problems(host, pnics, switch: str, kind: str) -> list[str]:
    """One line per NIC that ``switch`` (of ``kind`` "standard"/"distributed") cannot take as an uplink
    on ``host``: the host lacks it, or another switch holds it."""
    problems = []
    have = pnic_names(host)
    held = uplink_holders(host)
    mine = f"{kind} switch {switch}"
    for nic in pnics:
        if nic not in have:
            problems.append(f"host {host.name} has no physical NIC {nic} (it has: {', '.join(have) or 'none'})")
        elif nic in held and held[nic] != mine:
            problems.append(f"host {host.name}: physical NIC {nic} is already the uplink of {held[nic]}; "
                            f"{mine} cannot use it (a NIC is the uplink of one switch)")
    return problems


def vnics_on_switch(host, switch_uuid: str) -> list[str]:
    """The host's VMkernel adapters on distributed switch ``switch_uuid``."""
    out = []
    for v in host.get("config.network.vnic") or []:
        port = getattr(v.spec, "distributedVirtualPort", None)
        if port is not None and port.switchUuid == switch_uuid:
            out.append(v.device)
    return out


def host_version(host) -> str | None:
    return host.get("config.product.version")
