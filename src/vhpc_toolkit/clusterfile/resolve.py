"""Pass two of the cluster-file parser: each definition line resolved into VMs or a switch.

Sections are spliced in, values typed and checked, ranges expanded; every problem
is collected with its line (see syntax.py for pass one).
"""
from __future__ import annotations

import os
import shlex
from dataclasses import replace
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from vhpc_toolkit.limits import MAX_NAME, name_problem
from vhpc_toolkit.words import count

from .model import SECRET_KEYS, ScriptStep, SwitchSpec, VMSpec
from .ranges import RangeError, contains_range, find_range, spread
from .syntax import (SETTING_SECTIONS, SPECIAL_SECTIONS, SVS, _Definition, _did_you_mean, _Pair, _Problems,
                     _read_items, _Section, _tokenize, redact)
from .values import (
    ALL_KEYS,
    APPEND_KEYS,
    EXTEND_KEYS,
    KEY_ALIASES,
    SWITCH_CONVERTERS,
    SWITCH_KEYS,
    SWITCH_ITEM_CONVERTERS,
    SWITCH_RANGE_KEYS,
    VM_CONVERTERS,
    VM_KEYS,
    VM_RANGE_KEYS,
    VM_REPEATING_KEYS,
    BadValue,
)



#: Keys an instant clone cannot take: InstantClone_Task starts the clone with its source's hardware.
INSTANT_REFUSED = ("cpu", "memory", "cores_per_socket", "device", "mmio_size", "vgpu", "sriov_port_group",
                   "pvrdma_port_group", "latency", "cpu_reservation", "memory_reservation", "cpu_shares",
                   "memory_shares", "secure_boot", "dynamic", "port_group", "ip", "is_dhcp", "guest_hostname",
                   "netmask", "gateway", "domain", "dns", "gpu", "gpu_model", "gpu_label", "hugepages_1g",
                   "placement", "anti_affinity", "hardware_version")


class _Resolver:
    def __init__(self, file: str, base_dir: Path, check_scripts: bool,
                 sections: Dict[str, _Section], problems: _Problems, notes: Optional[_Problems] = None):
        self.file = file
        self.base_dir = base_dir
        self.check_scripts = check_scripts
        self.sections = sections
        self.problems = problems
        self.notes = notes if notes is not None else _Problems(file)   # not problems: said with the plan

    # -- shared

    def _pairs(self, d: _Definition, who: str) -> Tuple[List[_Pair], bool]:
        """The definition's pairs with sections spliced in; the flag is
        False when a section could not be spliced."""
        try:
            tokens = _tokenize(d.text)
        except ValueError as exc:
            self.problems.add(d.line, "%s: %s in %r" % (who, exc, redact(d.text)))
            return [], False
        pairs: List[_Pair] = []
        complete = True
        after_secret = ""   # a secret key was read: a later item may be the rest of its value (spaces)
        for kind, a, b in _read_items(tokens):
            quoted = "an item after %s" % after_secret if after_secret else repr(a)
            if a.lower() in SECRET_KEYS and kind in ("pair", "ref"):
                after_secret = a.lower()
            if kind == "pair" and quoted != repr(a) and a not in ALL_KEYS:
                self.problems.add(d.line, "%s: %s is no KEY: VALUE (a value with spaces goes in a section: "
                                          "[NAME] then KEY: VALUE)" % (who, quoted))
            elif kind == "pair":
                if a in SECRET_KEYS:
                    self.problems.hide(b.strip())
                pairs.append(_Pair(a, b.strip(), d.line))
            elif kind == "bad":
                self.problems.add(d.line, "%s: cannot read item %s (write KEY: VALUE or a section name)" % (who, quoted))
            elif quoted != repr(a) and a not in self.sections:   # maybe the rest of a password with a space
                self.problems.add(d.line, "%s: %s is no section (a value with spaces goes in a section: "
                                          "[NAME] then KEY: VALUE)" % (who, quoted))
                complete = False
            elif a in SPECIAL_SECTIONS or a in SETTING_SECTIONS:
                self.problems.add(d.line, "%s: section [%s] cannot be used in a definition" % (who, a))
                complete = False
            elif a not in self.sections:
                self.problems.add(d.line, "%s: undefined section %r%s" % (who, a, _did_you_mean(a, list(self.sections))))
                complete = False
            else:
                pairs.extend(self.sections[a].pairs)
                complete = complete and not self.sections[a].broken
        return pairs, complete

    def _reporter(self, who: str, pair: _Pair):
        def report(message: str) -> None:
            if pair.section is None:
                self.problems.add(pair.line, "%s: %s: %s" % (who, pair.key, message))
            else:
                self.problems.add(pair.line, "[%s] %s: %s" % (pair.section, pair.key, message), who)
        return report

    def _find(self, raw: str) -> Tuple[List[str], Optional[str]]:
        # The cluster file's folder first, then the working directory: the original's users ran
        # it from its bin/ folder and wrote ../examples/post-scripts/... relative to that.
        raw_path = os.path.expanduser(raw)
        looked = list(dict.fromkeys(os.path.normpath(os.path.join(base, raw_path))
                                    for base in (self.base_dir, os.getcwd())))
        return looked, next((p for p in looked if os.path.isfile(p)), None)

    def _script(self, raw: str, report) -> Optional[ScriptStep]:
        """``SCRIPT [ARGS]`` (``script:`` and ``check:``): a value naming a file as a whole is that
        file (a path with spaces, as the original took it); else its first shell word is the file
        and the others are its arguments."""
        looked, found = self._find(raw)
        if found is not None:
            return ScriptStep(found, None, raw)
        try:
            words = shlex.split(raw)
        except ValueError as exc:
            report("cannot read %r: %s (write SCRIPT [ARGS], quoting as in a shell)" % (raw, exc))
            return None
        if len(words) > 1:
            looked, found = self._find(words[0])
        if found is None and self.check_scripts:
            report("%r not found (looked for %s)" % (words[0] if words else raw, " and ".join(looked)))
            return None
        return ScriptStep(found or looked[0], None, words[0] if len(words) > 1 else raw, tuple(words[1:]))

    # -- VMs

    def vms(self, d: _Definition) -> List[VMSpec]:
        who = "VM %r" % d.name
        name_range, names, name_ok = self._vm_names(d, who)
        pairs, complete = self._pairs(d, who)
        # each op: (key, per-VM values)
        ops: List[Tuple[str, List[object]]] = []
        for pair in pairs:
            op = self._vm_op(d, pair, who, name_range, len(names))
            if op is not None:
                ops.append(op)
        if not name_ok:
            return []
        sections = tuple(dict.fromkeys(p.section for p in pairs if p.section))
        pattern = name_range.pattern(d.name) if name_range else None
        built = [_vm_spec(name, d.line, [(key, values[i]) for key, values in ops], sections, pattern)
                 for i, name in enumerate(names)]
        if complete and not any(p.key == "template" and p.value for p in pairs):
            self.problems.add(d.line, "%s: no template (give 'template: NAME' here or in a section it uses)" % who)
        if built:
            self._check_vm(d.line, who, built[0])
        return built

    def _vm_names(self, d: _Definition, who: str):
        """(the name's range or None, the VM names, whether they are all valid)."""
        name_ok, name_range = True, None
        try:
            name_range = find_range(d.name)
        except RangeError as exc:
            self.problems.add(d.line, "%s: %s" % (who, exc))
            name_ok = False
        names = name_range.substitute(d.name) if name_range else [d.name]
        for name in names if name_ok else []:
            problem = name_problem(name)
            if problem:
                self.problems.add(d.line, "%s: %s" % (who, problem))
                name_ok = False
                break
            if any(ch in name for ch in "{}"):
                self.problems.add(d.line, "%s: malformed range in VM name %r" % (who, d.name))
                name_ok = False
                break
        return name_range, names, name_ok

    def _vm_op(self, d: _Definition, pair: _Pair, who: str, name_range, count: int) -> Optional[Tuple[str, List[object]]]:
        """One key of a VM definition as (key, a value per VM), or None (nothing, or a problem reported)."""
        report = self._reporter(who, pair)
        key, value = pair.key, pair.value
        if key not in VM_CONVERTERS:
            hint = " (a switch key, not a VM key)" if key in SWITCH_KEYS else _did_you_mean(key, VM_KEYS)
            report("unknown key%s" % hint)
            return None
        if value == "":
            return None
        convert = VM_CONVERTERS[key]
        if key in SECRET_KEYS:   # taken as written: a password may hold braces, and is never quoted
            return key, [value] * count
        if key in VM_RANGE_KEYS:
            raws = self._range_values(d, who, pair, name_range, count, report)
            values = self._converted(raws, value, convert, report) if raws is not None else None
            return (key, values) if values is not None else None
        if contains_range(value):
            report("%r has a range but %s cannot take one (only the VM name and host, "
                   "datastore, port_group, ip, guest_hostname can)" % (value, key))
            return None
        if key in ("script", "check"):
            step = self._script(value, report)
            return (key, [step] * count) if step is not None else None
        key = KEY_ALIASES.get(key, key)
        try:
            typed = convert(value)
        except BadValue as exc:
            report(str(exc))
            return None
        return key, [typed] * count

    @staticmethod
    def _converted(raws: List[str], value: str, convert, report) -> Optional[List[object]]:
        """Each VM's raw value converted; one line for a whole bad range, not one per VM; None after a problem."""
        converted: Dict[str, object] = {}
        errors: List[str] = []
        for raw in dict.fromkeys(raws):
            try:
                converted[raw] = convert(raw)
            except BadValue as exc:
                errors.append(str(exc))
        if len(errors) == 1:
            report(errors[0])
        elif errors:
            report("%d of the %d values of %s are bad, first: %s; last: %s"
                   % (len(errors), len(converted) + len(errors), value, errors[0], errors[-1]))
        return None if errors else [converted[r] for r in raws]

    def _range_values(self, d: _Definition, who: str, pair: _Pair, name_range, count: int,
                      report) -> Optional[List[str]]:
        """One raw value per VM of the line, or None (reported). A value range longer than the name's
        gives its first items (the rest is noted as unused); a shorter one repeats only for keys
        where VMs may share a value (host, datastore, port group), never for ip or guest_hostname."""
        key, value = pair.key, pair.value
        try:
            value_range = find_range(value)
        except RangeError as exc:
            report(str(exc))
            return None
        if value_range is None:
            return [value] * count
        if name_range is None:
            report("%r has a range but the VM name has none" % value)
            return None
        items = value_range.substitute(value)
        if len(items) > count:
            unused = items[count:]
            text = unused[0] if len(unused) == 1 else "%s..%s" % (unused[0], unused[-1])
            note = "%s: %s has %d values for %d VMs; %s left unused" % (key, value, len(items), count, text)
            if pair.section is None:
                self.notes.add(pair.line, "%s: %s" % (who, note))
            else:
                self.notes.add(pair.line, "[%s] %s" % (pair.section, note), who)
            return items[:count]
        if len(items) < count and key not in VM_REPEATING_KEYS:
            report("range %s has %d values for the %d VMs of %s; each VM needs its own %s (give a range of %d)"
                   % (value_range.token, len(items), count, d.name, key, count))
            return None
        return spread(items, count, value_range.consecutive)

    def _check_vm(self, line: int, who: str, vm: VMSpec) -> None:
        """Keys that only make sense together (the same for every VM of a range)."""
        pgs, pfs, dvs = vm.sriov_port_group or [], vm.pf or [], vm.sriov_dvs_name or []
        if len(pgs) != len(pfs):
            self.problems.add(line, "%s: %d sriov_port_group but %d pf: each SR-IOV adapter needs both"
                              % (who, len(pgs), len(pfs)))
        elif dvs and len(dvs) != len(pgs):
            self.problems.add(line, "%s: %s but %d sriov_dvs_name: give one per adapter, "
                                    "or none" % (who, count(len(pgs), "SR-IOV adapter"), len(dvs)))
        if vm.instant and vm.linked:
            self.problems.add(line, "%s: instant and linked exclude each other (an instant clone forks a "
                                    "running VM)" % who)
        if vm.instant:
            # An instant clone runs with its source's hardware from the start; InstantCloneSpec
            # carries no hardware, so these would need a reconfiguration it does not have.
            given = [k for k in INSTANT_REFUSED if vm.get(k) not in (None, [], False)]
            if given:
                self.problems.add(line, "%s: instant clone keeps its source's hardware, network and host; "
                                        "remove %s (or instant)" % (who, ", ".join(given)))
            if vm.power == "off":
                self.problems.add(line, "%s: an instant clone runs from the start (power: off with "
                                        "instant)" % who)

    # -- switches

    def switch(self, d: _Definition) -> Optional[SwitchSpec]:
        kind = "svs" if d.section == SVS else "dvs"
        who = "%s %r" % (kind.upper(), d.name)
        ok = True
        if contains_range(d.name) or any(ch in d.name for ch in "{}"):
            self.problems.add(d.line, "%s: a switch name cannot take a range" % who)
            ok = False
        elif len(d.name) > MAX_NAME:
            self.problems.add(d.line, "%s: switch name is longer than %d characters" % (who, MAX_NAME))
            ok = False
        pairs, complete = self._pairs(d, who)
        attrs: Dict[str, object] = {}
        for pair in pairs:
            report = self._reporter(who, pair)
            key, value = pair.key, pair.value
            if key not in SWITCH_CONVERTERS:
                hint = " (a VM key, not a switch key: use %s)" % ", ".join(SWITCH_KEYS) \
                    if key in VM_KEYS else _did_you_mean(key, SWITCH_KEYS)
                report("unknown key%s" % hint)
                continue
            if value == "":
                continue
            try:
                value_range = find_range(value) if key in SWITCH_RANGE_KEYS else None
                if value_range:
                    attrs[key] = [SWITCH_ITEM_CONVERTERS[key](v) for v in value_range.substitute(value)]
                elif key == "host":
                    attrs[key] = [value]
                elif contains_range(value):
                    report("%r has a range but %s cannot take one (only a switch's host and vmk_ip can)"
                           % (value, key))
                else:
                    attrs[key] = SWITCH_CONVERTERS[key](value)
            except RangeError as exc:
                report(str(exc))
            except BadValue as exc:
                report(str(exc))
        if complete:
            missing = [k for k in ("host", "pnic") if k not in attrs
                       and not any(p.key == k and p.value for p in pairs)]
            if missing:
                self.problems.add(d.line, "%s: missing %s" % (who, ", ".join(missing)))
                ok = False
        if not ok or any(k not in attrs for k in ("host", "pnic")):
            return None
        unread = {p.key for p in pairs if p.value} - set(attrs)   # bad values, already reported
        if unread & {"vmk_ip", "vmk_netmask"} or not self._vmk_addresses_ok(d, who, kind, attrs):
            return None
        return SwitchSpec(
            name=d.name, kind=kind, host=attrs["host"], pnic=attrs["pnic"],  # type: ignore[arg-type]
            port_group=attrs.get("port_group"), datacenter=attrs.get("datacenter"),  # type: ignore[arg-type]
            line=d.line, mtu=attrs.get("mtu"),  # type: ignore[arg-type]
            vmk_ip=attrs.get("vmk_ip"), vmk_netmask=attrs.get("vmk_netmask"),  # type: ignore[arg-type]
        )

    def _vmk_addresses_ok(self, d: _Definition, who: str, kind: str, attrs: Dict[str, object]) -> bool:
        """vmk_ip gives each host's PVRDMA VMkernel adapter an address: a distributed switch's, with a
        port group (the adapters sit on it) and a netmask, one distinct address per host."""
        ips, mask = attrs.get("vmk_ip"), attrs.get("vmk_netmask")
        if not ips and not mask:
            return True
        hosts = list(attrs["host"])  # type: ignore[call-overload]
        problem = None
        if kind != "dvs":
            problem = "vmk_ip and vmk_netmask are for a distributed switch's PVRDMA VMkernel adapters"
        elif not ips or not mask:
            problem = "give vmk_ip and vmk_netmask together (static addresses of the VMkernel adapters)"
        elif not attrs.get("port_group"):
            problem = "vmk_ip needs port_group (the VMkernel adapters sit on it)"
        elif len(ips) != len(hosts):  # type: ignore[arg-type]
            problem = "%s but %d vmk_ip: give one address per host, in the order of host" % (
                count(len(hosts), "host"), len(ips))  # type: ignore[arg-type]
        elif len(set(ips)) != len(ips):  # type: ignore[arg-type]
            problem = "vmk_ip gives an address twice: each host's adapter needs its own"
        if problem:
            self.problems.add(d.line, "%s: %s" % (who, problem))
        return problem is None


def _vm_spec(name: str, line: int, values: List[Tuple[str, object]], sections, pattern) -> VMSpec:
    """One VM from its keys' values in file order: scripts collected (a barrier applies to the scripts
    before it), list keys appended, the rest the last value given."""
    attrs: Dict[str, object] = {}
    scripts: List[ScriptStep] = []
    checks: List[ScriptStep] = []
    for key, value in values:
        if key == "script":
            scripts.append(value)  # type: ignore[arg-type]
            continue
        if key == "check":
            checks.append(value)  # type: ignore[arg-type]
            continue
        if key == "barrier":
            scripts = [s if s.barrier is not None else replace(s, barrier=value) for s in scripts]
        if key in APPEND_KEYS:
            attrs[key] = list(attrs.get(key) or []) + [value]  # type: ignore[operator]
            continue
        if key in EXTEND_KEYS:
            attrs[key] = list(dict.fromkeys(list(attrs.get(key) or []) + list(value)))  # type: ignore
            continue
        attrs[key] = list(value) if isinstance(value, list) else value
    return VMSpec(name=name, line=line, scripts=scripts, checks=checks, sections=sections,  # type: ignore[arg-type]
                  pattern=pattern,
                  **attrs)
