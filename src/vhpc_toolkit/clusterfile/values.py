"""Typed values of cluster-file keys: conversion and validation.

Every converter takes the raw text and returns the typed value or raises
``BadValue`` with a message naming what is wrong. Nothing here evaluates
code: lists are read by a small parser of quoted strings and bare words.
"""
from __future__ import annotations

import ipaddress
import math
import re
from typing import Callable, Dict, List

from vhpc_toolkit.limits import (MAX_MEMORY_GB, MAX_MTU, MAX_NAME, MAX_PASSTHROUGH, MAX_SHARES, MAX_VCPUS, MIN_MEMORY_MB,
                                 MIN_MTU, memory_problem)
from vhpc_toolkit.words import HINT as YES_NO_HINT, yes_no


_INT_RE = re.compile(r"^[+-]?[0-9]+$")
_FLOAT_RE = re.compile(r"^[+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$")
_PCI_RE = re.compile(r"^([0-9a-f]{4}):([0-9a-f]{2}):([0-9a-f]{2})\.([0-7])$")
_BARE_ITEM_RE = re.compile(r"^[^\s'\",\[\]]+$")


class BadValue(ValueError):
    """A value does not have the type or form its key needs."""


def to_str(raw: str) -> str:
    return raw


def to_int(raw: str) -> int:
    if not _INT_RE.match(raw):
        raise BadValue("%r is not an integer" % raw)
    return int(raw)


def to_positive_int(raw: str) -> int:
    value = to_int(raw)
    if value < 1:
        raise BadValue("%r must be at least 1" % raw)
    return value


def to_non_negative_int(raw: str) -> int:
    value = to_int(raw)
    if value < 0:
        raise BadValue("%r must not be negative" % raw)
    return value


def to_hardware_version(raw: str) -> int:
    """A virtual hardware version: 17, or vSphere's spelling vmx-17."""
    value = to_int(raw[4:] if raw.lower().startswith("vmx-") else raw)
    if not 4 <= value <= 99:
        raise BadValue("%r is not a virtual hardware version (4 to 99, e.g. 17 for ESXi 7.0)" % raw)
    return value


def to_power_of_two(raw: str) -> int:
    value = to_int(raw)
    if value < 1 or value & (value - 1):
        raise BadValue("%r is not a power of two" % raw)
    return value


def to_gb(raw: str) -> float:
    if not _FLOAT_RE.match(raw):
        raise BadValue("%r is not a number (GB)" % raw)
    value = float(raw)
    if value <= 0 or not math.isfinite(value):
        raise BadValue("%r must be more than 0 GB" % raw)
    if value > MAX_MEMORY_GB:
        raise BadValue("%r GB is more than vSphere's maximum of %d GB per VM" % (raw, MAX_MEMORY_GB))
    if memory_problem(value):
        raise BadValue("%r GB is less than vSphere's minimum of %d MB per VM" % (raw, MIN_MEMORY_MB))
    return value


def to_vcpus(raw: str) -> int:
    value = to_positive_int(raw)
    if value > MAX_VCPUS:
        raise BadValue("%r is more than vSphere's maximum of %d vCPUs per VM" % (raw, MAX_VCPUS))
    return value


def to_shares(raw: str) -> int:
    value = to_non_negative_int(raw)
    if value > MAX_SHARES:
        raise BadValue("%r is more than the maximum of %d shares" % (raw, MAX_SHARES))
    return value


def to_cores_per_socket(raw: str) -> int:
    value = to_positive_int(raw)
    if value > MAX_VCPUS:
        raise BadValue("%r is more than vSphere's maximum of %d vCPUs per VM" % (raw, MAX_VCPUS))
    return value


def to_mtu(raw: str) -> int:
    value = to_int(raw)
    if not MIN_MTU <= value <= MAX_MTU:
        raise BadValue("%r is not an MTU a switch takes (%d to %d bytes)" % (raw, MIN_MTU, MAX_MTU))
    return value


def to_bool(raw: str) -> bool:
    value = yes_no(raw)
    if value is None:
        raise BadValue("%r is not a boolean (use %s)" % (raw, YES_NO_HINT))
    return value


def to_ipv4(raw: str) -> str:
    try:
        return str(ipaddress.IPv4Address(raw))
    except ValueError:
        raise BadValue("%r is not an IPv4 address" % raw) from None


def to_netmask(raw: str) -> str:
    address = to_ipv4(raw)
    bits = int(ipaddress.IPv4Address(address))
    inverted = (~bits) & 0xFFFFFFFF
    if inverted & (inverted + 1):
        raise BadValue("%r is not a netmask (its bits are not contiguous)" % raw)
    return address


def to_pci_id(raw: str) -> str:
    value = raw.lower()
    m = _PCI_RE.match(value)
    if not m or int(m.group(3), 16) > 0x1F:
        raise BadValue(
            "%r is not a PCI id (DDDD:BB:DD.F in hex, e.g. 0000:3b:00.0)" % raw
        )
    return value


def to_nic(raw: str) -> str:
    if not raw or any(ch.isspace() for ch in raw):
        raise BadValue("%r is not a NIC name" % raw)
    return raw


def _choice(*allowed: str) -> Callable[[str], str]:
    def convert(raw: str) -> str:
        word = raw.lower()
        if word not in allowed:
            raise BadValue(
                "%r is not one of %s" % (raw, ", ".join(allowed))
            )
        return word

    return convert


to_latency = _choice("high", "normal")
to_power = _choice("on", "off")
to_placement = _choice("spread", "pack")
to_role = _choice("login", "compute")

# A Slurm name (partition, feature): what slurm.conf takes without quoting.
_SLURM_NAME_RE = re.compile(r"^[A-Za-z0-9_.+-]+$")

_PROFILE_RE = re.compile(r"^[A-Za-z0-9_.-]+$")


def to_gpu_count(raw: str) -> int:
    value = to_positive_int(raw)
    if value > MAX_PASSTHROUGH:
        raise BadValue("%r is more than vSphere 7's maximum of %d PCI passthrough devices per VM"
                       % (raw, MAX_PASSTHROUGH))
    return value


def _profile(raw: str) -> str:
    if not _PROFILE_RE.match(raw):
        raise BadValue("%r is not a vGPU profile name (e.g. grid_v100-8q)" % raw)
    return raw


def to_vgpu(raw: str):
    """One profile (``grid_v100-8q``, kept as a string) or a list of them (``['grid_a100-3-20c',
    'grid_a100-3-20c']``: several vGPUs in one VM)."""
    if raw.strip().startswith("["):
        profiles = [_profile(x) for x in parse_list(raw)]
        if not profiles:
            raise BadValue("%r lists no vGPU profile" % raw)
        return profiles
    return _profile(raw)


def to_group(raw: str) -> str:
    if not raw or len(raw) > MAX_NAME or any(ch in raw for ch in "/\\\n"):
        raise BadValue("%r is not a group name (at most %d characters, no '/')" % (raw, MAX_NAME))
    return raw


def to_slurm_name(raw: str) -> str:
    if not _SLURM_NAME_RE.match(raw):
        raise BadValue("%r is not a Slurm name (letters, digits, '_', '.', '+', '-')" % raw)
    return raw


def to_slurm_names(raw: str) -> List[str]:
    """One name or a list of them (``partition: gpu``, ``features: [v100, ib]``)."""
    names = [to_slurm_name(x) for x in parse_list(raw)]
    if not names:
        raise BadValue("%r lists no name" % raw)
    return names


def parse_list(raw: str) -> List[str]:
    """Read ``['a', "b", c]`` (or a single bare value) as a list of strings.

    Items are single- or double-quoted strings (no escapes) or bare words;
    a trailing comma is allowed. Anything else is a BadValue: this is data,
    never code.
    """
    text = raw.strip()
    if not text.startswith("["):
        if text.endswith("]") or "'" in text or '"' in text:
            raise BadValue("%r is not a list (write ['a', 'b'])" % raw)
        return [text]
    if not text.endswith("]"):
        raise BadValue("%r is not a list: missing ']'" % raw)
    body = text[1:-1]
    items: List[str] = []
    i, n = 0, len(body)
    expect_item = True
    while True:
        while i < n and body[i].isspace():
            i += 1
        if i >= n:
            break
        ch = body[i]
        if expect_item:
            if ch in "'\"":
                close = body.find(ch, i + 1)
                if close < 0:
                    raise BadValue("%r is not a list: unclosed quote" % raw)
                items.append(body[i + 1:close])
                i = close + 1
            else:
                j = i
                while j < n and body[j] != "," and not body[j].isspace():
                    j += 1
                word = body[i:j]
                if not _BARE_ITEM_RE.match(word):
                    raise BadValue("%r is not a list: cannot read %r" % (raw, word))
                items.append(word)
                i = j
            expect_item = False
        else:
            if ch != ",":
                raise BadValue("%r is not a list: expected ',' at %r" % (raw, body[i:]))
            i += 1
            expect_item = True
    if expect_item and items:
        pass  # trailing comma
    return items


def list_of(item: Callable[[str], str]) -> Callable[[str], List[str]]:
    def convert(raw: str) -> List[str]:
        return [item(x) for x in parse_list(raw)]

    return convert


#: The converter of every VM key except ``script`` and ``check`` (handled by the parser).
VM_CONVERTERS: Dict[str, Callable[[str], object]] = {
    "template": to_str,
    "cpu": to_vcpus,
    "memory": to_gb,
    "datacenter": to_str,
    "vm_folder": to_str,
    "cluster": to_str,
    "host": to_str,
    "datastore": to_str,
    "resource_pool": to_str,
    "linked": to_bool,
    "port_group": to_str,
    "is_dhcp": to_bool,
    "ip": to_ipv4,
    "guest_hostname": to_str,
    "netmask": to_netmask,
    "gateway": to_ipv4,
    "domain": to_str,
    "dns": list_of(to_ipv4),
    "device": list_of(to_pci_id),
    "mmio_size": to_power_of_two,
    "latency": to_latency,
    "cpu_reservation": to_bool,
    "memory_reservation": to_bool,
    "cpu_shares": to_shares,
    "memory_shares": to_shares,
    "guest_username": to_str,
    "guest_password": to_str,
    "script": to_str,
    "barrier": to_non_negative_int,
    "sriov_port_group": to_str,
    "pf": to_pci_id,
    "pvrdma_port_group": to_str,
    "dvs_name": to_str,
    "vgpu": to_vgpu,
    "power": to_power,
    # the original's 1.0.3 release
    "cores_per_socket": to_cores_per_socket,
    "secure_boot": to_bool,
    "instant": to_bool,
    "sequence": to_non_negative_int,
    "sriov_dvs_name": to_str,
    "svs_name": to_str,
    "allow_guest_mtu_change": to_bool,
    "dynamic": to_bool,
    # Requests instead of addresses (docs/placement.md)
    "gpu": to_gpu_count,
    "gpu_model": to_str,
    "gpu_label": to_str,
    "placement": to_placement,
    "anti_affinity": to_group,
    "hugepages_1g": to_bool,
    # Health checks `cluster --status` runs in the guests (docs/post-scripts.md)
    "check": to_str,
    "hardware_version": to_hardware_version,
    # Slurm (docs/slurm.md): the node's part in the scheduler
    "role": to_role,
    "partition": to_slurm_names,
    "features": to_slurm_names,
    "elastic": to_bool,
}

#: The converter of every switch key (``host`` is expanded by the parser).
SWITCH_CONVERTERS: Dict[str, Callable[[str], object]] = {
    "host": to_str,
    "pnic": list_of(to_nic),
    "port_group": to_str,
    "datacenter": to_str,
    "mtu": to_mtu,
    # a PVRDMA switch's VMkernel adapters on a fabric without DHCP: one address per host
    "vmk_ip": list_of(to_ipv4),
    "vmk_netmask": to_netmask,
}

VM_KEYS = tuple(VM_CONVERTERS)
SWITCH_KEYS = tuple(SWITCH_CONVERTERS)
ALL_KEYS = frozenset(VM_KEYS) | frozenset(SWITCH_KEYS)

#: Keys that add to a list at each occurrence instead of replacing (``script`` gives
#: ``scripts``): a VM gets one SR-IOV adapter per ``sriov_port_group``/``pf`` pair.
APPEND_KEYS = frozenset({"script", "check", "sriov_port_group", "pf", "sriov_dvs_name"})
#: Keys whose value is a list that each occurrence extends (``partition: a`` then ``partition: [b, c]``).
EXTEND_KEYS = frozenset({"partition"})
#: Other names of a key: ``sequence`` is the original 1.0.3's ``barrier``.
KEY_ALIASES = {"sequence": "barrier"}

#: Keys whose value may hold a range.
VM_RANGE_KEYS = frozenset({"host", "datastore", "port_group", "ip", "guest_hostname"})
#: Range keys whose shorter range repeats over the VMs (VMs may share a host); ip and guest_hostname
#: are each VM's own, so a shorter range of theirs is an error.
VM_REPEATING_KEYS = frozenset({"host", "datastore", "port_group"})
SWITCH_RANGE_KEYS = frozenset({"host", "vmk_ip"})
#: The converter of each item a switch key's range gives.
SWITCH_ITEM_CONVERTERS: Dict[str, Callable[[str], str]] = {"host": to_str, "vmk_ip": to_ipv4}
