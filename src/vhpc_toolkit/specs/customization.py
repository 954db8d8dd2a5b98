"""Linux guest customization of one adapter: DHCP or a static IPv4 address."""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field


class BadNetworkValue(ValueError):
    pass


def _ipv4(value: str, what: str) -> str:
    try:
        return str(ipaddress.IPv4Address(value))
    except (ipaddress.AddressValueError, ValueError):
        raise BadNetworkValue(f"{what} {value!r} is not an IPv4 address") from None


def _netmask(value: str) -> str:
    mask = _ipv4(value, "netmask")
    try:
        ipaddress.IPv4Network(f"0.0.0.0/{mask}")
    except ValueError:
        raise BadNetworkValue(f"netmask {value!r} is not a valid IPv4 netmask") from None
    return mask


@dataclass(frozen=True)
class GuestNetwork:
    hostname: str
    is_dhcp: bool = False
    ip: str | None = None
    netmask: str | None = None
    gateway: str | None = None
    dns: tuple[str, ...] = field(default_factory=tuple)
    domain: str | None = None

    def validated(self) -> "GuestNetwork":
        """Check every value before anything is sent; raises BadNetworkValue."""
        if not self.is_dhcp:
            if not self.ip:
                raise BadNetworkValue("a static configuration needs an ip (or use is_dhcp)")
            if not self.netmask:
                raise BadNetworkValue("a static ip needs a netmask")
            _ipv4(self.ip, "ip")
            _netmask(self.netmask)
            if self.gateway:
                _ipv4(self.gateway, "gateway")
        for server in self.dns:
            _ipv4(server, "dns server")
        label = self.hostname.split(".")[0]
        if not label or len(label) > 63 or not all(c.isalnum() or c == "-" for c in label) \
                or label.startswith("-") or label.endswith("-"):
            raise BadNetworkValue(f"guest hostname {self.hostname!r} is not a valid host name "
                                  "(letters, digits and '-', at most 63)")
        return self


def customization_spec(net: GuestNetwork, adapter_count: int, adapter_index: int, macs: list | None = None):
    """A CustomizationSpec for Linux with ``net`` on adapter ``adapter_index`` (DHCP on the others).

    Adapters count in the guest's order (specs.devices.nic.guest_order): vSphere applies nicSettingMap[i] to
    the i-th adapter in PCI slot order. ``macs`` (in that order), when known, go in the mappings:
    vSphere 7.0 checks them against that order instead of customizing the wrong adapter.
    """
    from pyVmomi import vim

    net = net.validated()
    c = vim.vm.customization
    mappings = []
    for i in range(adapter_count):
        if i == adapter_index and not net.is_dhcp:
            ip = c.IPSettings(ip=c.FixedIp(ipAddress=net.ip), subnetMask=net.netmask,
                              gateway=[net.gateway] if net.gateway else None)
        else:
            ip = c.IPSettings(ip=c.DhcpIpGenerator())
        mappings.append(c.AdapterMapping(adapter=ip, macAddress=macs[i] if macs else None))
    identity = c.LinuxPrep(hostName=c.FixedName(name=net.hostname.split(".")[0]),
                           domain=net.domain or "localdomain", hwClockUTC=True)
    return c.Specification(
        identity=identity,
        globalIPSettings=c.GlobalIPSettings(dnsServerList=list(net.dns) or None,
                                            dnsSuffixList=[net.domain] if net.domain else None),
        nicSettingMap=mappings)


def default_hostname(vm_name: str) -> str:
    """The VM name made a valid host name (the original used the VM name as is)."""
    label = "".join(c if c.isalnum() or c == "-" else "-" for c in vm_name).strip("-")
    return label[:63] or "vm"
