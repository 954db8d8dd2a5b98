"""Pass two of the cluster-file parser: each definition line resolved into VMs or a switch.

Sections are spliced in, values typed and checked, ranges expanded; every problem
is collected with its line (see syntax.py for pass one).
"""
from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from vhpc_toolkit.limits import MAX_NAME, name_problem

from .model import ScriptStep, SwitchSpec, VMSpec
from .ranges import RangeError, contains_range, find_range, spread
from .syntax import (SETTING_SECTIONS, SPECIAL_SECTIONS, SVS, _Definition, _did_you_mean, _Pair, _Problems, _read_items, _Section,
                     _tokenize)
from .values import (
    APPEND_KEYS,
    EXTEND_KEYS,
    KEY_ALIASES,
    SWITCH_CONVERTERS,
    SWITCH_KEYS,
    SWITCH_RANGE_KEYS,
    VM_CONVERTERS,
    VM_KEYS,
    VM_RANGE_KEYS,
    BadValue,
)



#: Keys an instant clone cannot take: InstantClone_Task starts the clone with its source's hardware.
INSTANT_REFUSED = ("cpu", "memory", "cores_per_socket", "device", "mmio_size", "vgpu", "sriov_port_group",
                   "pvrdma_port_group", "latency", "cpu_reservation", "memory_reservation", "cpu_shares",
                   "memory_shares", "secure_boot", "dynamic", "port_group", "ip", "is_dhcp", "guest_hostname",
                   "netmask", "gateway", "domain", "dns")


class _Resolver:
    def __init__(self, file: str, base_dir: Path, check_scripts: bool,
                 sections: Dict[str, _Section], problems: _Problems):
        self.file = file
        self.base_dir = base_dir
        self.check_scripts = check_scripts
        self.sections = sections
        self.problems = problems

    # -- shared

    def _pairs(self, d: _Definition, who: str) -> Tuple[List[_Pair], bool]:
        """The definition's pairs with sections spliced in; the flag is
        False when a section could not be spliced."""
        try:
            tokens = _tokenize(d.text)
        except ValueError as exc:
            self.problems.add(d.line, "%s: %s in %r" % (who, exc, d.text))
            return [], False
        pairs: List[_Pair] = []
        complete = True
        for kind, a, b in _read_items(tokens):
            if kind == "pair":
                pairs.append(_Pair(a, b.strip(), d.line))
            elif kind == "bad":
                self.problems.add(d.line, "%s: cannot read item %r (write KEY: VALUE or a section name)" % (who, a))
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

    def _script(self, raw: str, report) -> Optional[ScriptStep]:
        # The cluster file's folder first, then the working directory: the original's users ran
        # it from its bin/ folder and wrote ../examples/post-scripts/... relative to that.
        raw_path = os.path.expanduser(raw)
        looked = list(dict.fromkeys(os.path.normpath(os.path.join(base, raw_path))
                                    for base in (self.base_dir, os.getcwd())))
        found = next((p for p in looked if os.path.isfile(p)), None)
        if found is None and self.check_scripts:
            report("%r not found (looked for %s)" % (raw, " and ".join(looked)))
            return None
        return ScriptStep(found or looked[0], None, raw)

    # -- VMs

    def vms(self, d: _Definition) -> List[VMSpec]:
        who = "VM %r" % d.name
        name_ok = True
        name_range = None
        try:
            name_range = find_range(d.name)
        except RangeError as exc:
            self.problems.add(d.line, "%s: %s" % (who, exc))
            name_ok = False
        count = len(name_range) if name_range else 1
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

        pairs, complete = self._pairs(d, who)
        # each op: (key, per-VM values)
        ops: List[Tuple[str, List[object]]] = []
        for pair in pairs:
            report = self._reporter(who, pair)
            key, value = pair.key, pair.value
            if key not in VM_CONVERTERS:
                hint = " (a switch key, not a VM key)" if key in SWITCH_KEYS else _did_you_mean(key, VM_KEYS)
                report("unknown key%s" % hint)
                continue
            if value == "":
                continue
            convert = VM_CONVERTERS[key]
            if key in VM_RANGE_KEYS:
                try:
                    value_range = find_range(value)
                except RangeError as exc:
                    report(str(exc))
                    continue
                if value_range is not None:
                    if name_range is None:
                        report("%r has a range but the VM name has none" % value)
                        continue
                    if len(value_range) > count:
                        report("range %s has %d items, more than the %d of the VM name"
                               % (value_range.token, len(value_range), count))
                        continue
                    raws = spread(value_range.substitute(value), count, value_range.consecutive)
                else:
                    raws = [value] * count
                converted: Dict[str, object] = {}
                errors: List[str] = []
                for raw in dict.fromkeys(raws):
                    try:
                        converted[raw] = convert(raw)
                    except BadValue as exc:
                        errors.append(str(exc))
                if len(errors) == 1:
                    report(errors[0])
                elif errors:   # one line for a whole bad range, not one per VM
                    report("%d of the %d values of %s are bad, first: %s; last: %s"
                           % (len(errors), len(converted) + len(errors), value, errors[0], errors[-1]))
                if not errors:
                    ops.append((key, [converted[r] for r in raws]))
                continue
            if contains_range(value):
                report("%r has a range but %s cannot take one (only the VM name and host, "
                       "datastore, ip, guest_hostname can)" % (value, key))
                continue
            if key == "script":
                step = self._script(value, report)
                if step is not None:
                    ops.append((key, [step] * count))
                continue
            key = KEY_ALIASES.get(key, key)
            try:
                typed = convert(value)
            except BadValue as exc:
                report(str(exc))
                continue
            ops.append((key, [typed] * count))

        if not name_ok:
            return []
        sections = tuple(dict.fromkeys(p.section for p in pairs if p.section))
        pattern = name_range.pattern(d.name) if name_range else None
        built: List[VMSpec] = []
        for i, name in enumerate(names):
            attrs: Dict[str, object] = {}
            scripts: List[ScriptStep] = []
            for key, values in ops:
                value = values[i]
                if key == "script":
                    scripts.append(value)  # type: ignore[arg-type]
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
            built.append(VMSpec(name=name, line=d.line, scripts=scripts,  # type: ignore[arg-type]
                                sections=sections, pattern=pattern, **attrs))
        if complete and not any(p.key == "template" and p.value for p in pairs):
            self.problems.add(d.line, "%s: no template (give 'template: NAME' here or in a section it uses)" % who)
        if built:
            self._check_vm(d.line, who, built[0])
        return built

    def _check_vm(self, line: int, who: str, vm: VMSpec) -> None:
        """Keys that only make sense together (the same for every VM of a range)."""
        pgs, pfs, dvs = vm.sriov_port_group or [], vm.pf or [], vm.sriov_dvs_name or []
        if len(pgs) != len(pfs):
            self.problems.add(line, "%s: %d sriov_port_group but %d pf: each SR-IOV adapter needs both"
                              % (who, len(pgs), len(pfs)))
        elif dvs and len(dvs) != len(pgs):
            self.problems.add(line, "%s: %d SR-IOV adapter(s) but %d sriov_dvs_name: give one per adapter, "
                                    "or none" % (who, len(pgs), len(dvs)))
        if vm.instant and vm.linked:
            self.problems.add(line, "%s: instant and linked exclude each other (an instant clone forks a "
                                    "running VM)" % who)
        if vm.instant:
            # An instant clone runs with its source's hardware from the start; InstantCloneSpec
            # carries no hardware, so these would need a reconfiguration it does not have.
            given = [k for k in INSTANT_REFUSED if vm.get(k) not in (None, [], False)]
            if given:
                self.problems.add(line, "%s: instant clone keeps its source's hardware and network; "
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
            if key in SWITCH_RANGE_KEYS:
                try:
                    value_range = find_range(value)
                except RangeError as exc:
                    report(str(exc))
                    continue
                attrs[key] = value_range.substitute(value) if value_range else [value]
                continue
            if contains_range(value):
                report("%r has a range but %s cannot take one (only a switch's host can)" % (value, key))
                continue
            try:
                attrs[key] = SWITCH_CONVERTERS[key](value)
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
        return SwitchSpec(
            name=d.name, kind=kind, host=attrs["host"], pnic=attrs["pnic"],  # type: ignore[arg-type]
            port_group=attrs.get("port_group"), datacenter=attrs.get("datacenter"),  # type: ignore[arg-type]
            line=d.line, mtu=attrs.get("mtu"),  # type: ignore[arg-type]
        )
