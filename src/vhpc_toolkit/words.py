"""The yes/no words every input accepts (flags, cluster files, vCenter.conf, environment)."""
from __future__ import annotations

TRUE_WORDS = frozenset({"yes", "y", "true", "t", "1", "on"})
FALSE_WORDS = frozenset({"no", "n", "false", "f", "0", "off"})
HINT = "yes/y/true/t/1/on or no/n/false/f/0/off"


def yes_no(text: str) -> bool | None:
    """True or False for a yes/no word (any case, surrounding blanks ignored); None for anything else."""
    word = text.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    return None


_IRREGULAR = {"switch": "switches", "datacenter": "datacenters", "this": "these", "is": "are", "was": "were",
              "its": "their", "does": "do", "has": "have", "differs": "differ",
              "carries": "carry"}


def plural(n: int, word: str) -> str:
    """``word`` for ``n`` things: "host" / "hosts", "switch" / "switches". A word of several ends in
    its last ("DRS rule" -> "DRS rules", "free virtual function" -> "free virtual functions")."""
    if n == 1:
        return word
    head, _, last = word.rpartition(" ")
    if last in _IRREGULAR:
        last = _IRREGULAR[last]
    elif last.endswith(("s", "sh", "ch", "x")):
        last += "es"
    elif last.endswith("y") and last[-2:-1] not in "aeiou":
        last = last[:-1] + "ies"
    else:
        last += "s"
    return f"{head} {last}" if head else last


def count(n: int, word: str) -> str:
    """``1 host``, ``3 hosts``, ``2 switches``, ``0 VMs``."""
    return f"{n:,} {plural(n, word)}"
