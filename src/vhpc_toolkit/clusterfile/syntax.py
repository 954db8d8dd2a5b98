"""Pass one of the cluster-file parser: sections, definition lines and their items.

The text is split into ``[SECTION]`` blocks of ``key: value`` pairs and the
``name: definition`` lines of ``_VMS_``/``_SVS_``/``_DVS_``; syntax problems are
collected (with their line) rather than raised, so one run reports them all.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

from .ranges import split_name
from .model import MASK, SECRET_KEYS
from .values import ALL_KEYS

VMS, SVS, DVS = "_VMS_", "_SVS_", "_DVS_"
SPECIAL_SECTIONS = (VMS, SVS, DVS)
SLURM = "_SLURM_"
#: Sections of ``key: value`` settings of the whole cluster, never spliced into a definition
#: (``[_CLUSTER_]``: clusterfile/cluster_section.py; ``[_SLURM_]``: clusterfile/slurm.py).
SETTING_SECTIONS = ("_CLUSTER_", SLURM)

_KEY_TOKEN_RE = re.compile(r"^([A-Za-z_][^:\[\]'\"{}\s]*):(.*)$", re.S)
# A secret key and what follows it on a line: a line quoted in an error shows MASK there instead.
_SECRET_RE = re.compile(r"(\b(?:%s)\b\s*:?\s*)(.*)$" % "|".join(sorted(SECRET_KEYS)), re.I | re.S)


def redact(text: str) -> str:
    """``text`` (a line or definition quoted in an error) with everything after a secret key masked:
    the value's end cannot be known when the line could not be read."""
    return _SECRET_RE.sub(lambda m: m.group(1) + (MASK if m.group(2) else ""), text)


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
        self._secrets: set = set()

    def hide(self, secret: str) -> None:
        """Never show ``secret`` (a secret key's value) in a problem, whatever message quotes it."""
        if len(secret) >= 3:   # shorter ones would mask ordinary words; no message quotes a secret's value
            self._secrets.add(secret)

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
            for secret in sorted(self._secrets, key=len, reverse=True):
                text = text.replace(secret, MASK)
            out.append("%s:%d: %s" % (self.file, line, text) if line else "%s: %s" % (self.file, text))
        return out


def _did_you_mean(word: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.75)
    return " (did you mean %r?)" % close[0] if close else ""


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
                problems.add(lineno, "bad section header %r (write [NAME])" % redact(line))
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
            problems.add(lineno, "%r is outside any section (start one with [NAME])" % redact(line))
            continue
        if current == "":
            continue
        if current in SPECIAL_SECTIONS:
            secret = next((k for k in SECRET_KEYS if re.match(r"(?i)%s\b" % k, line)), None)
            if secret:   # a key where a definition belongs: never quote its value
                problems.hide(line[len(secret):].lstrip(" \t:"))
                problems.add(lineno, "[%s] %s is a key, not a definition (give it in a section, or after a "
                                     "VM's name: NAME: ... %s: VALUE)" % (current, secret, secret))
                continue
            try:
                name, definition = split_name(line)
            except ValueError:
                problems.add(lineno, "[%s] expected 'NAME: definition', got %r" % (current, redact(line)))
                continue
            if not name:
                problems.add(lineno, "[%s] definition without a name: %r" % (current, redact(line)))
                continue
            definitions.append(_Definition(current, name, definition, lineno))
            continue
        key, colon, value = line.partition(":")
        key = key.strip().lower()
        if not colon or not key or any(ch.isspace() for ch in key):
            problems.add(lineno, "[%s] expected 'key: value', got %r" % (current, redact(line)))
            sections[current].broken = True
            continue
        if key in SECRET_KEYS:
            problems.hide(value.strip())
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
