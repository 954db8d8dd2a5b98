"""A tree of labelled lines, as rich's Tree draws it, at a cost that stays small with 10,000 nodes.

rich's Tree renders every node through the console's layout machinery (about 0.7 ms a node: seven
seconds for a 10,000-VM `view`). Here each label is one line of Text under its guides; only a
label longer than the width is wrapped (by rich, under a continuation guide), and the whole tree
goes to the console as one Text without further wrapping.
"""
from __future__ import annotations

from rich.console import Console
from rich.segment import Segments
from rich.text import Text

_BRANCH, _LAST, _PIPE, _SPACE = "├── ", "└── ", "│   ", "    "
_GUIDE_STYLE = "tree.line"


class Tree:
    def __init__(self, label: str | Text):
        self.label = Text.from_markup(label) if isinstance(label, str) else label
        self.children: list[Tree] = []

    def add(self, label: str | Text) -> "Tree":
        node = Tree(label)
        self.children.append(node)
        return node

    def render(self, console: Console) -> Text:
        out = Text(end="")
        width = console.width
        stack: list[tuple[Tree, str, str]] = [(self, "", "")]   # node, its guide, the guide under it
        first = True
        while stack:
            node, guide, under = stack.pop()
            lines = [node.label]
            if len(guide) + node.label.cell_len > width and width > len(guide) + 8:
                lines = list(node.label.wrap(console, width - len(guide)))
            for i, line in enumerate(lines):
                if not first:
                    out.append("\n")
                first = False
                out.append(guide if i == 0 else under, _GUIDE_STYLE)
                out.append_text(line)
            for j in range(len(node.children) - 1, -1, -1):
                last = j == len(node.children) - 1
                stack.append((node.children[j], under + (_LAST if last else _BRANCH), under + (_SPACE if last else _PIPE)))
        out.append("\n")
        return out


def print_tree(tree: Tree, console: Console) -> None:
    # The lines fit already: hand rich the styled segments as they are (no layout pass per line).
    text = tree.render(console)
    console.print(Segments(text.render(console)), soft_wrap=True)
