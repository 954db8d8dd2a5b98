"""Read a cluster file into a :class:`ClusterSpec`.

Two passes: the text is split into sections and definition lines (syntax
problems are collected), then every ``_VMS_``/``_SVS_``/``_DVS_`` line is
resolved: sections spliced in, values typed and checked, ranges expanded.
Every problem found is collected; if there is any, one ClusterFileError
carrying all of them is raised at the end.
"""
from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

from .errors import ClusterFileError
from .model import ClusterSpec, ScriptStep, SwitchSpec, VMSpec
from .ranges import RangeError, contains_range, find_range, split_name, spread
from .values import (
    ALL_KEYS,
    SWITCH_CONVERTERS,
    SWITCH_KEYS,
    SWITCH_RANGE_KEYS,
    VM_CONVERTERS,
    VM_KEYS,
    VM_RANGE_KEYS,
    BadValue,
)

VMS, SVS, DVS = "_VMS_", "_SVS_", "_DVS_"
SPECIAL_SECTIONS = (VMS, SVS, DVS)

#: vSphere refuses inventory names longer than this.
MAX_NAME = 80

_KEY_TOKEN_RE = re.compile(r"^([A-Za-z_][^:\[\]'\"{}\s]*):(.*)$", re.S)

PathLike = Union[str, "os.PathLike[str]"]


@dataclass(frozen=True)
class _Pair:
    key: str
    value: str
    line: int
    section: Optional[str] = None   # None: written on the definition line


@dataclass
class _Section:
    name: str
    line: int
    pairs: List[_Pair] = field(default_factory=list)
    broken: bool = False   # a line of it could not be read


@dataclass(frozen=True)
class _Definition:
    section: str       # _VMS_, _SVS_ or _DVS_
    name: str
    text: str
    line: int


class _Problems:
    """Problems keyed by (line, message); the consumers (VMs, switches)
    that ran into the same problem in a shared section are listed once."""

    def __init__(self, file: str):
        self.file = file
        self._found: Dict[Tuple[int, str], List[str]] = {}

    def add(self, line: int, message: str, user: Optional[str] = None) -> None:
        users = self._found.setdefault((line, message), [])
        if user is not None and user not in users:
            users.append(user)

    def __bool__(self) -> bool:
        return bool(self._found)

    def lines(self) -> List[str]:
        out = []
        for (line, message), users in sorted(self._found.items(), key=lambda kv: kv[0][0]):
            text = message
            if users:
                text += " (used by %s)" % ", ".join(users)
            out.append("%s:%d: %s" % (self.file, line, text) if line else "%s: %s" % (self.file, text))
        return out


def _did_you_mean(word: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.75)
    return " (did you mean %r?)" % close[0] if close else ""


# ---------------------------------------------------------------- pass one


def _read_structure(text: str, problems: _Problems) -> Tuple[Dict[str, _Section], List[_Definition]]:
    sections: Dict[str, _Section] = {}
    seen: Dict[str, int] = {}
    definitions: List[_Definition] = []
    current: Optional[str] = None   # section name; "" while skipping a bad section
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            name = line[1:-1].strip() if line.endswith("]") else ""
            if not name:
                problems.add(lineno, "bad section header %r (write [NAME])" % line)
                current = ""
            elif name in seen:
                problems.add(lineno, "section [%s] is defined twice (first on line %d)" % (name, seen[name]))
                current = ""
            else:
                seen[name] = lineno
                current = name
                if name not in SPECIAL_SECTIONS:
                    sections[name] = _Section(name, lineno)
            continue
        if current is None:
            problems.add(lineno, "%r is outside any section (start one with [NAME])" % line)
            continue
        if current == "":
            continue
        if current in SPECIAL_SECTIONS:
            try:
                name, definition = split_name(line)
            except ValueError:
                problems.add(lineno, "[%s] expected 'NAME: definition', got %r" % (current, line))
                continue
            if not name:
                problems.add(lineno, "[%s] definition without a name: %r" % (current, line))
                continue
            definitions.append(_Definition(current, name, definition, lineno))
            continue
        key, colon, value = line.partition(":")
        key = key.strip().lower()
        if not colon or not key:
            problems.add(lineno, "[%s] expected 'key: value', got %r" % (current, line))
            sections[current].broken = True
            continue
        sections[current].pairs.append(_Pair(key, value.strip(), lineno, current))
    return sections, definitions


def _tokenize(definition: str) -> List[str]:
    """Split on whitespace, keeping a bracketed list (with its quoted
    strings) in one token. Raises ValueError on unbalanced brackets."""
    tokens: List[str] = []
    current: List[str] = []
    depth = 0
    quote: Optional[str] = None
    for ch in definition:
        if quote:
            current.append(ch)
            if ch == quote:
                quote = None
            continue
        if depth and ch in "'\"":
            quote = ch
        elif ch == "[":
            depth += 1
        elif ch == "]":
            if not depth:
                raise ValueError("unexpected ']'")
            depth -= 1
        elif ch.isspace() and not depth:
            if current:
                tokens.append("".join(current))
                current = []
            continue
        current.append(ch)
    if quote or depth:
        raise ValueError("unclosed '['")
    if current:
        tokens.append("".join(current))
    return tokens


def _starts_item(token: str) -> bool:
    m = _KEY_TOKEN_RE.match(token)
    return bool(m) and m.group(1).lower() in ALL_KEYS


def _read_items(tokens: List[str]) -> List[Tuple[str, str, str]]:
    """Items of a definition: ("ref", NAME, ""), ("pair", key, value) or
    ("bad", token, "")."""
    items: List[Tuple[str, str, str]] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        m = _KEY_TOKEN_RE.match(token)
        if m:
            key, value = m.group(1).lower(), m.group(2)
            i += 1
            if value == "" and i < len(tokens) and not _starts_item(tokens[i]):
                value = tokens[i]
                i += 1
            items.append(("pair", key, value))
        elif ":" in token or token[0] in "[]{}'\"":
            items.append(("bad", token, ""))
            i += 1
        else:
            items.append(("ref", token, ""))
            i += 1
    return items


# ---------------------------------------------------------------- pass two


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
            elif a in SPECIAL_SECTIONS:
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
        path = os.path.normpath(os.path.join(self.base_dir, os.path.expanduser(raw)))
        if self.check_scripts and not os.path.isfile(path):
            report("%r not found (looked for %s)" % (raw, path))
            return None
        return ScriptStep(path, None, raw)

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
            if len(name) > MAX_NAME:
                self.problems.add(d.line, "%s: VM name %r is longer than %d characters" % (who, name, MAX_NAME))
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
                bad = False
                for raw in dict.fromkeys(raws):
                    try:
                        converted[raw] = convert(raw)
                    except BadValue as exc:
                        report(str(exc))
                        bad = True
                if not bad:
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
            try:
                typed = convert(value)
            except BadValue as exc:
                report(str(exc))
                continue
            ops.append((key, [typed] * count))

        if not name_ok:
            return []
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
                attrs[key] = list(value) if isinstance(value, list) else value
            built.append(VMSpec(name=name, line=d.line, scripts=scripts, **attrs))  # type: ignore[arg-type]
        if complete and not any(p.key == "template" and p.value for p in pairs):
            self.problems.add(d.line, "%s: no template (give 'template: NAME' here or in a section it uses)" % who)
        return built

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
            missing = [k for k in ("host", "pnic", "port_group") if k not in attrs
                       and not any(p.key == k and p.value for p in pairs)]
            if missing:
                self.problems.add(d.line, "%s: missing %s" % (who, ", ".join(missing)))
                ok = False
        if not ok or any(k not in attrs for k in ("host", "pnic", "port_group")):
            return None
        return SwitchSpec(
            name=d.name, kind=kind, host=attrs["host"], pnic=attrs["pnic"],  # type: ignore[arg-type]
            port_group=attrs["port_group"], datacenter=attrs.get("datacenter"),  # type: ignore[arg-type]
            line=d.line,
        )


# ---------------------------------------------------------------- API


def parse_cluster_text(
    text: str,
    path: PathLike = "<string>",
    *,
    base_dir: Optional[PathLike] = None,
    check_scripts: bool = True,
) -> ClusterSpec:
    """Parse cluster-file ``text``; ``path`` names it in errors.

    Relative ``script`` paths resolve against ``base_dir`` (default: the
    folder of ``path``, or the working directory for "<string>"). With
    ``check_scripts=False`` a script that does not exist is not a problem.
    Raises ClusterFileError listing every problem found.
    """
    file = os.fspath(path)
    if base_dir is None:
        base_dir = os.getcwd() if file == "<string>" else os.path.dirname(os.path.abspath(file))
    base = Path(os.path.abspath(os.fspath(base_dir)))
    problems = _Problems(file)
    if text.startswith("\ufeff"):
        text = text[1:]
    sections, definitions = _read_structure(text, problems)
    resolver = _Resolver(file, base, check_scripts, sections, problems)

    vms: List[VMSpec] = []
    svs: List[SwitchSpec] = []
    dvs: List[SwitchSpec] = []
    vm_lines: Dict[str, int] = {}
    switch_lines: Dict[Tuple[str, str], int] = {}
    for d in definitions:
        if d.section == VMS:
            for vm in resolver.vms(d):
                first = vm_lines.setdefault(vm.name, d.line)
                if first != d.line:
                    problems.add(d.line, "VM %r: name %r is already used on line %d" % (d.name, vm.name, first))
                vms.append(vm)
        else:
            first = switch_lines.setdefault((d.section, d.name), d.line)
            if first != d.line:
                problems.add(d.line, "%s %r is defined twice (first on line %d)"
                             % (d.section.strip("_"), d.name, first))
            switch = resolver.switch(d)
            if switch is not None:
                (svs if d.section == SVS else dvs).append(switch)
    if not definitions and not problems:
        problems.add(0, "defines no VMs and no switches (add a [_VMS_] section)")
    if problems:
        raise ClusterFileError(problems.lines())
    return ClusterSpec(path=file, vms=vms, svs=svs, dvs=dvs)


def parse_cluster_file(path: PathLike, *, check_scripts: bool = True) -> ClusterSpec:
    """Read and parse a cluster file (UTF-8). Raises ClusterFileError."""
    file = os.fspath(path)
    try:
        data = Path(file).read_bytes()
    except OSError as exc:
        raise ClusterFileError(["%s: cannot read cluster file: %s" % (file, exc.strerror or exc)]) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ClusterFileError(["%s:%d: not UTF-8 text (byte 0x%02x)" % (file, line, data[exc.start])]) from None
    return parse_cluster_text(text, file, check_scripts=check_scripts)
