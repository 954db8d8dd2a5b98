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
