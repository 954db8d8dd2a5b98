"""`examples [--copy DIR]`: the example cluster files, post scripts and JSON schemas the toolkit
carries, listed, or copied into DIR to start from (no vCenter needed)."""
from __future__ import annotations

from vhpc_toolkit.results import Document


def arguments(p) -> None:
    p.add_argument("--copy", metavar="DIR",
                   help="copy them into DIR (made if missing), keeping their folders so the cluster files\n"
                        "find their post scripts; refused when any of the files is there already")


def run(ctx, args) -> Document:
    from vhpc_toolkit.bundled import bundled_files, copy_bundled

    files = bundled_files()
    doc = {"files": [f.to_dict() for f in files]}
    if args.copy:
        copied = copy_bundled(args.copy)
        doc["copied_to"] = args.copy
        doc["files"] = [dict(f.to_dict(), path=str(path)) for f, path in zip(files, copied, strict=True)]
    return Document("examples", doc)
