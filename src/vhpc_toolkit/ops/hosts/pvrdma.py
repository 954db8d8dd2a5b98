"""PVRDMA host preparation: what vSphere needs on each host before a PVRDMA VM can power on.

vSphere Networking, "Configure an ESXi Host for PVRDMA": on every host of the distributed
switch that carries PVRDMA adapters,

- a VMkernel adapter on that switch, tagged for PVRDMA: the host's advanced option
  ``Net.PVRDMAVmknic`` names it (one per host);
- the firewall ruleset ``pvrdma`` enabled;
- the HCA as the switch's only uplink (PVRDMA does not support NIC teaming).

The VMkernel adapter takes its address by DHCP unless the caller gives one per host (a fabric
without a DHCP server: HostIpConfig with ``dhcp`` false, an address and a netmask); an adapter that
exists with another address is given the asked one (UpdateVirtualNic), and undo restores the old.

:func:`read_states` reads what each host has (one QueryOptions per host, run concurrently, and
one read of the firewall systems), :func:`prepare` does what is missing, and records on the
switch (its description) what it changed so that :func:`undo` can take exactly that back.
"""
from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from vhpc_toolkit.vsphere.hostnet import proxy_switches, rdma_pnics
from vhpc_toolkit.vsphere.inventory import Obj, read_objects

OPTION = "Net.PVRDMAVmknic"
RULESET = "pvrdma"
MIN_HW_VERSION = 13   # PVRDMA adapters need virtual hardware version 13 or later
HOST_PROPS = ["configManager.advancedOption", "configManager.firewallSystem", "configManager.networkSystem",
              "config.network.vnic"]
MARKER = "vhpc-toolkit-pvrdma:"   # the record's prefix in the switch's description


@dataclass
class HostPrep:
    """One host's PVRDMA state for one distributed switch."""

    host: Obj
    tag: str = ""                    # Net.PVRDMAVmknic now
    vnics: dict = field(default_factory=dict)   # VMkernel adapter -> switch uuid ("" for a standard port group)
    ruleset: bool = False
    switch_uuid: str | None = None   # None: the switch does not exist yet
    address: tuple | None = None     # (ip, netmask) asked for the adapter; None: DHCP
    ips: dict = field(default_factory=dict)     # VMkernel adapter -> (dhcp, ip, netmask) now

    @property
    def vnic_on_switch(self) -> str | None:
        if self.switch_uuid is None:
            return None
        if self.tag and self.vnics.get(self.tag) == self.switch_uuid:
            return self.tag
        return next((v for v, uuid in sorted(self.vnics.items()) if uuid == self.switch_uuid), None)

    @property
    def tagged_elsewhere(self) -> bool:
        """Tagged for a VMkernel adapter that is not on this switch (a host serves PVRDMA through one)."""
        return bool(self.tag) and self.tag in self.vnics and self.vnics[self.tag] != self.switch_uuid \
            and self.switch_uuid is not None

    @property
    def readdress(self) -> bool:
        """The adapter on the switch exists with another address than the one asked for."""
        vnic = self.vnic_on_switch
        return vnic is not None and self.address is not None and \
            self.ips.get(vnic) != (False, *self.address)

    def steps(self, port_group: str) -> list[str]:
        """What preparing this host takes (empty: it is prepared)."""
        vnic = self.vnic_on_switch
        out = []
        if vnic is None:
            out.append(f"VMkernel adapter on {port_group}" + (f" at {address_text(self.address)}"
                                                               if self.address else ""))
        elif self.readdress:
            out.append(f"address {address_text(self.address)} on {vnic}")
        if vnic is None or self.tag != vnic:
            out.append(f"{OPTION} = {vnic or 'the new adapter'}")
        if not self.ruleset:
            out.append(f"firewall ruleset {RULESET} on")
        return out

    def missing(self) -> list[str]:
        """What an unprepared host lacks, in words (for `pvrdma --add`)."""
        out = []
        if self.vnic_on_switch is None:
            out.append("no VMkernel adapter on the switch")
        if not self.tag:
            out.append(f"{OPTION} is empty")
        elif self.tag != self.vnic_on_switch:
            out.append(f"{OPTION} names {self.tag}, not an adapter on the switch")
        if not self.ruleset:
            out.append(f"firewall ruleset {RULESET} is disabled")
        return out


def address_text(address: tuple | None) -> str:
    return f"{address[0]}/{address[1]}" if address else "DHCP"


def ip_config(address: tuple | None):
    """The HostIpConfig of an adapter: static for (ip, netmask), DHCP for None."""
    from pyVmomi import vim

    if address is None:
        return vim.host.IpConfig(dhcp=True)
    return vim.host.IpConfig(dhcp=False, ipAddress=address[0], subnetMask=address[1])


def uplink_problems(host: Obj, switch: str, pnics: list[str] | None = None) -> list[str]:
    """The HCA must be the switch's only uplink and RDMA capable. ``pnics``: the uplinks the host will
    have (default: what the host has now on that switch)."""
    nics = list(pnics) if pnics is not None else proxy_switches(host).get(switch, [])
    if len(nics) > 1:
        return [f"host {host.name}: PVRDMA needs the HCA as the only uplink of distributed switch {switch}, "
                f"it has {len(nics)} ({', '.join(nics)}); PVRDMA does not support NIC teaming"]
    rdma = rdma_pnics(host)
    bad = [n for n in nics if n not in rdma]
    if bad:
        return [f"host {host.name}: uplink {bad[0]} of distributed switch {switch} has no RDMA device; "
                f"PVRDMA between hosts needs an RDMA-capable uplink (this host's: {', '.join(rdma) or 'none'})"]
    return []


def current_tag(host: Obj) -> str:
    """The host's ``Net.PVRDMAVmknic`` now (one QueryOptions call; "" when unset or unknown)."""
    manager = host.get("configManager.advancedOption")
    try:
        values = manager.QueryOptions(name=OPTION) if manager is not None else []
    except Exception:   # vim.fault.InvalidName: the host has no such option (no PVRDMA support)
        return ""
    return next((str(v.value or "") for v in values or [] if v.key == OPTION), "")


def read_states(session, hosts: list[Obj], switch_uuid: str | None, concurrency: int = 8,
                addresses: dict | None = None) -> dict[str, HostPrep]:
    """Each host's PVRDMA state (host moid -> HostPrep). Hosts need HOST_PROPS in their snapshot.
    ``addresses``: host moid -> (ip, netmask) for the VMkernel adapter (absent: DHCP)."""
    hosts = list({h.moid: h for h in hosts}.values())
    if not hosts:
        return {}
    firewalls = [h.get("configManager.firewallSystem") for h in hosts if h.get("configManager.firewallSystem")]
    rulesets = {moid: o.get("firewallInfo") for moid, o in read_objects(session, firewalls, ["firewallInfo"]).items()}

    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(hosts)))) as pool:
        tags = dict(zip([h.moid for h in hosts], pool.map(current_tag, hosts)))
    out = {}
    for h in hosts:
        fw = h.get("configManager.firewallSystem")
        info = rulesets.get(fw._moId) if fw is not None else None
        enabled = any(r.key == RULESET and r.enabled for r in getattr(info, "ruleset", None) or [])
        vnics, ips = {}, {}
        for v in h.get("config.network.vnic") or []:
            port = getattr(v.spec, "distributedVirtualPort", None)
            vnics[v.device] = port.switchUuid if port is not None else ""
            ip = getattr(v.spec, "ip", None)
            ips[v.device] = (bool(getattr(ip, "dhcp", False)), getattr(ip, "ipAddress", None) or "",
                             getattr(ip, "subnetMask", None) or "")
        out[h.moid] = HostPrep(host=h, tag=tags[h.moid], vnics=vnics, ruleset=enabled, switch_uuid=switch_uuid,
                               address=(addresses or {}).get(h.moid), ips=ips)
    return out


def prepare_host(state: HostPrep, switch_uuid: str, portgroup_key: str) -> dict:
    """Do what ``state`` lacks on its host; returns the record of what changed (for undo)."""
    from pyVmomi import vim

    host = state.host
    done: dict = {}
    state.switch_uuid = switch_uuid
    vnic = state.vnic_on_switch
    if vnic is None:
        spec = vim.host.VirtualNic.Specification(
            ip=ip_config(state.address),
            distributedVirtualPort=vim.dvs.PortConnection(switchUuid=switch_uuid, portgroupKey=portgroup_key))
        vnic = host.get("configManager.networkSystem").AddVirtualNic(portgroup="", nic=spec)
        done["vnic"] = vnic
    elif state.readdress:
        host.get("configManager.networkSystem").UpdateVirtualNic(
            device=vnic, nic=vim.host.VirtualNic.Specification(ip=ip_config(state.address)))
        dhcp, ip, mask = state.ips.get(vnic, (True, "", ""))
        done["ip"] = {"vnic": vnic, "was": None if dhcp or not ip else [ip, mask]}   # the address to restore
    if state.tag != vnic:
        host.get("configManager.advancedOption").UpdateOptions(
            changedValue=[vim.option.OptionValue(key=OPTION, value=vnic)])
        done["tag"] = state.tag          # the value to restore
    if not state.ruleset:
        host.get("configManager.firewallSystem").EnableRuleset(id=RULESET)
        done["ruleset"] = True
    return done


def prepare(session, states: dict[str, HostPrep], switch_uuid: str, portgroup_key: str,
            concurrency: int = 8) -> tuple[dict[str, dict], list[str]]:
    """Prepare every host (concurrently); returns the records by host name and the failures."""
    todo = [s for s in states.values() if s.steps("")]
    records, failures = {}, []

    def one(state: HostPrep):
        try:
            return state.host.name, prepare_host(state, switch_uuid, portgroup_key), None
        except Exception as exc:   # a vSphere fault on one host; the others go on
            from vhpc_toolkit.vsphere.faults import error_message
            return state.host.name, None, f"host {state.host.name}: PVRDMA preparation failed: {error_message(exc)}"

    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(todo) or 1))) as pool:
        for name, record, failure in pool.map(one, todo):
            if failure:
                failures.append(failure)
            elif record:
                records[name] = record
    return records, failures


def parse_record(description: str | None) -> dict[str, dict]:
    """The preparation record kept in a switch's description (host name -> what was changed)."""
    text = description or ""
    at = text.find(MARKER)
    if at < 0:
        return {}
    try:
        return json.loads(text[at + len(MARKER):].strip() or "{}")
    except ValueError:
        return {}


def with_record(description: str | None, record: dict[str, dict]) -> str:
    """``description`` with the record replaced (the user's own text kept in front)."""
    text = description or ""
    at = text.find(MARKER)
    own = (text[:at] if at >= 0 else text).rstrip()
    if not record:
        return own
    return (own + "\n" if own else "") + MARKER + " " + json.dumps(record, sort_keys=True, separators=(",", ":"))


def merge_record(old: dict, new: dict) -> dict:
    """One host's record after another preparation: the values to restore are the oldest (what the
    host had before the toolkit came), an adapter made now is the one to remove."""
    merged = {**new, **old}
    if new.get("vnic"):
        merged["vnic"] = new["vnic"]
    return merged


def still_ours(record: dict[str, dict], states: dict[str, HostPrep], switch: str) -> tuple[dict, list[str]]:
    """The part of a preparation record that may be undone now, and notes on what is left.

    ESXi reuses VMkernel adapter names: a recorded adapter no longer on the switch is not the one the
    preparation made. The tag and the ruleset are the host's: once the tag names an adapter that is
    not on the switch (another PVRDMA setup took the host over), both serve that one."""
    out, left = {}, []
    for name, done in record.items():
        state = states.get(name)
        if state is None:
            out[name] = done
            continue
        done = dict(done)
        on_switch = {v for v, uuid in state.vnics.items() if uuid == state.switch_uuid}
        if done.get("vnic") and done["vnic"] not in on_switch:
            left.append(f"left VMkernel adapter {done.pop('vnic')} of {name}: it is not on switch {switch}")
        if done.get("ip") and done["ip"].get("vnic") not in on_switch:
            left.append(f"left the address of VMkernel adapter {done.pop('ip')['vnic']} of {name}: "
                        f"it is not on switch {switch}")
        if ("tag" in done or done.get("ruleset")) and state.tag and state.tag not in on_switch:
            done.pop("tag", None)
            done.pop("ruleset", None)
            left.append(f"left {OPTION} ({state.tag}) and firewall ruleset {RULESET} of {name}: "
                        f"the tag names an adapter that is not on switch {switch}")
        out[name] = done
    return out, left


def undo(hosts_by_name: dict[str, Obj], record: dict[str, dict]) -> list[str]:
    """Take back what the record says was changed; returns failures (the rest is undone anyway)."""
    from pyVmomi import vim

    from vhpc_toolkit.vsphere.faults import error_message

    failures = []
    for name, done in sorted(record.items()):
        host = hosts_by_name.get(name)
        if host is None:
            continue
        try:
            if done.get("vnic"):
                host.get("configManager.networkSystem").RemoveVirtualNic(device=done["vnic"])
            elif done.get("ip"):
                was = done["ip"].get("was")
                host.get("configManager.networkSystem").UpdateVirtualNic(
                    device=done["ip"]["vnic"], nic=vim.host.VirtualNic.Specification(
                        ip=ip_config(tuple(was) if was else None)))
            if "tag" in done:
                host.get("configManager.advancedOption").UpdateOptions(
                    changedValue=[vim.option.OptionValue(key=OPTION, value=done["tag"] or "")])
            if done.get("ruleset"):
                host.get("configManager.firewallSystem").DisableRuleset(id=RULESET)
        except Exception as exc:   # keep going: undo as much as possible
            failures.append(f"host {name}: undoing the PVRDMA preparation failed: {error_message(exc)}")
    return failures
