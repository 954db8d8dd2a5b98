"""output/tree.py draws what rich's Tree draws (guides, wrapped labels), without its cost."""
from __future__ import annotations

import io

from rich.console import Console
from rich.tree import Tree as RichTree

from vhpc_toolkit.output.tree import Tree, print_tree


def _build(cls):
    t = cls("[bold]root[/]")
    a = t.add("a child with a long label that will need wrapping because it is far too long for the width")
    a.add("grandchild")
    a.add("second grandchild").add("deep")
    t.add("b").add("leaf")
    t.add("c")
    return t


def _out(width, draw):
    buf = io.StringIO()
    console = Console(file=buf, width=width, color_system=None)
    draw(console)
    return buf.getvalue()


def test_same_drawing_as_rich():
    for width in (40, 60, 100):
        ours = _out(width, lambda c: print_tree(_build(Tree), c))
        theirs = _out(width, lambda c: c.print(_build(RichTree)))
        assert ours == theirs, (width, ours, theirs)
