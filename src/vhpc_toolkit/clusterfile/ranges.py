"""Range specifiers: ``{x:y}`` (round-robin) and ``{{x:y}}`` (consecutive)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import List, Optional, Tuple

RANGE_RE = re.compile(r"\{\{(\d+):(\d+)\}\}|\{(\d+):(\d+)\}")

#: A range longer than this is refused (protects against ``{1:99999999}``).
MAX_RANGE = 10000


class RangeError(ValueError):
    """A range specifier is malformed or not allowed here."""


@dataclass(frozen=True)
class Range:
    token: str          # the text as written, e.g. ``{{5:8}}``
    start: int
    end: int
    width: int          # zero-pad width (0: no padding)
    consecutive: bool

    def __len__(self) -> int:
        return self.end - self.start + 1

    def items(self) -> List[str]:
        return [str(i).zfill(self.width) for i in range(self.start, self.end + 1)]

    def substitute(self, text: str) -> List[str]:
        """Every expansion of ``text`` (every copy of the token replaced)."""
        return [text.replace(self.token, item) for item in self.items()]

    def pattern(self, text: str) -> str:
        """A regex matching ``text`` with any number where the token is, written as this range
        writes its numbers (``node{1:8}``: node1, node12, not node01; ``node{01:16}``: two digits).
        It matches numbers outside the range too: a range that shrank still names its old VMs."""
        number = r"\d{%d}" % self.width if self.width else r"(?:0|[1-9]\d*)"
        parts = text.split(self.token)
        return "^" + number.join(re.escape(p) for p in parts) + "$"


def _pad_width(a: str, b: str) -> int:
    if (len(a) > 1 and a[0] == "0") or (len(b) > 1 and b[0] == "0"):
        return max(len(a), len(b))
    return 0


def contains_range(text: str) -> bool:
    return RANGE_RE.search(text) is not None


def find_range(text: str) -> Optional[Range]:
    """The single range in ``text``, or None. Raises RangeError when the
    text holds two distinct ranges, a range with start > end, a range that
    is too long, or a stray brace around a range."""
    matches = list(RANGE_RE.finditer(text))
    if not matches:
        return None
    tokens: List[str] = []
    for m in matches:
        if m.group(0) not in tokens:
            tokens.append(m.group(0))
    if len(tokens) > 1:
        raise RangeError(
            "two ranges in one value (%s); only one range is allowed"
            % " and ".join(repr(t) for t in tokens)
        )
    rest = RANGE_RE.sub("", text)
    if "{" in rest or "}" in rest:
        raise RangeError("malformed range in %r" % text)
    m = matches[0]
    consecutive = m.group(1) is not None
    a, b = (m.group(1), m.group(2)) if consecutive else (m.group(3), m.group(4))
    start, end = int(a), int(b)
    if start > end:
        raise RangeError("range %s starts after it ends" % m.group(0))
    if end - start + 1 > MAX_RANGE:
        raise RangeError("range %s has more than %d items" % (m.group(0), MAX_RANGE))
    return Range(m.group(0), start, end, _pad_width(a, b), consecutive)


def spread(items: List[str], n: int, consecutive: bool) -> List[str]:
    """Pad ``items`` (len <= n) to ``n`` values.

    Round-robin cycles (2,3 over 4 -> 2,3,2,3); consecutive repeats each
    element, earlier elements taking one extra when n does not divide
    evenly (1,2 over 5 -> 1,1,1,2,2).
    """
    count = len(items)
    if count == 0 or count > n:
        raise ValueError("cannot spread %d items over %d" % (count, n))
    if not consecutive:
        return [items[i % count] for i in range(n)]
    base, extra = divmod(n, count)
    out: List[str] = []
    for i, item in enumerate(items):
        out.extend([item] * (base + (1 if i < extra else 0)))
    return out


def split_name(text: str) -> Tuple[str, str]:
    """Split ``NAME: definition`` at the first colon outside braces.

    Raises ValueError when there is no such colon.
    """
    depth = 0
    for i, ch in enumerate(text):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth = max(0, depth - 1)
        elif ch == ":" and depth == 0:
            return text[:i].strip(), text[i + 1:].strip()
    if ":" in text:   # unbalanced braces: the name is malformed, say so later
        name, _, rest = text.partition(":")
        return name.strip(), rest.strip()
    raise ValueError("no colon")
