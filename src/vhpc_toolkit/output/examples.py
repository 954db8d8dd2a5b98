"""Render `examples`: the bundled files by folder, and where they were copied."""
from __future__ import annotations

from rich.markup import escape

from vhpc_toolkit.output.tables import render_table


def render_examples(doc: dict, console) -> None:
    render_table(console, "Examples carried by the toolkit", ["file", "what it is"],
                 [[escape(f["name"]), escape(f["summary"])] for f in doc["files"]])
    if doc.get("copied_to"):
        console.print(f"copied {len(doc['files'])} files into {escape(doc['copied_to'])}; try: vhpc_toolkit "
                      f"cluster --plan --file {escape(doc['copied_to'])}/cluster-scripts/cluster-simple.conf",
                      highlight=False)
    else:
        folder = doc["files"][0]["path"].rsplit("/", 2)[0] if doc["files"] else "-"
        console.print(f"they are in {escape(folder)}; `vhpc_toolkit examples --copy DIR` copies them to edit",
                      highlight=False)
