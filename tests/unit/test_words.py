"""Counts say their noun in the right number: "1 VM", "3 VMs", "1 switch" (vhpc_toolkit.words.count),
never "1 VM(s)" or "2 switch(es)". Scans every message the package formats."""
from __future__ import annotations

import ast
import re
from pathlib import Path

from vhpc_toolkit.words import count, plural

SRC = Path(__file__).resolve().parents[2] / "src" / "vhpc_toolkit"
AFTER_COUNT = re.compile(r"^\s[\w-]+(?: [\w-]+){0,2}\((?:s|es)\)")    # "{n} VM(s)", "{n} virtual function(s)"
PERCENT_COUNT = re.compile(r"%d [\w-]+(?: [\w-]+)?\((?:s|es)\)")  # "%d host(s)"


def counted_maybe_plurals(root: Path = SRC) -> list[str]:
    out = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.JoinedStr):
                parts = node.values
                for before, after in zip(parts, parts[1:]):
                    if isinstance(before, ast.FormattedValue) and isinstance(after, ast.Constant) \
                            and isinstance(after.value, str) and AFTER_COUNT.match(after.value):
                        out.append(f"{path.relative_to(root)}:{after.lineno} {after.value[:40]!r}")
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and PERCENT_COUNT.search(node.value):
                out.append(f"{path.relative_to(root)}:{node.lineno} {node.value[:40]!r}")
    return out


def test_no_count_is_followed_by_a_maybe_plural():
    assert counted_maybe_plurals() == []


def test_count_and_plural():
    assert count(1, "VM") == "1 VM" and count(2, "VM") == "2 VMs" and count(2, "switch") == "2 switches"
    assert count(3, "virtual function") == "3 virtual functions" and plural(2, "differs") == "differ"
