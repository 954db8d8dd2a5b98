"""The files an installed toolkit carries for its users: example cluster files with their post
scripts, and the JSON schemas of ``--output json``.

A wheel holds them in ``vhpc_toolkit/_bundled/`` (setup.py copies them there); a clone, or an
editable install of one, reads them where the repository keeps them (``examples/``,
``docs/schemas/``).
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from vhpc_toolkit.errors import InputError

_PACKAGED = Path(__file__).resolve().parent / "_bundled"
_REPOSITORY = Path(__file__).resolve().parents[2]
# Folder in the copy -> (folder in the wheel, folder in the repository).
FOLDERS = {
    "cluster-scripts": ("examples/cluster-scripts", "examples/cluster-scripts"),
    "post-scripts": ("examples/post-scripts", "examples/post-scripts"),
    "schemas": ("schemas", "docs/schemas"),
}


@dataclass
class BundledFile:
    folder: str          # cluster-scripts | post-scripts | schemas
    path: Path           # where it is now
    summary: str         # its first comment line (examples) or its title (schemas)

    @property
    def name(self) -> str:
        return f"{self.folder}/{self.path.name}"

    def to_dict(self) -> dict:
        return {"name": self.name, "folder": self.folder, "path": str(self.path), "summary": self.summary}


def folder(name: str) -> Path:
    """Where bundled folder ``name`` is: in the installed package, else in the repository."""
    packaged, repository = FOLDERS[name]
    for base, rel in ((_PACKAGED, packaged), (_REPOSITORY, repository)):
        if (base / rel).is_dir():
            return base / rel
    raise InputError(f"the {name} files are not installed with this toolkit (a broken install? "
                     f"reinstall the vhpc_toolkit wheel)")


def _summary(path: Path) -> str:
    """A one-line description: a schema's title, a script's or cluster file's first comment."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""
    if path.suffix == ".json":
        import json

        try:
            return str(json.loads(text).get("title", ""))
        except (ValueError, AttributeError):
            return ""
    paragraph: list[str] = []      # the first paragraph of the opening comment
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("#!") and not paragraph:
            continue
        if not line.startswith("#") or (line == "#" and paragraph):
            break
        if line != "#":
            paragraph.append(line.lstrip("#").strip())
    words = " ".join(paragraph)
    for prefix in ("vHPC toolkit example post script:", "vHPC toolkit example:"):
        words = words.removeprefix(prefix).strip()
    return words


def bundled_files() -> list[BundledFile]:
    """Every bundled file, by folder and name."""
    out = []
    for name in FOLDERS:
        for path in sorted(p for p in folder(name).iterdir() if p.is_file()):
            out.append(BundledFile(name, path, _summary(path)))
    return out


def copy_bundled(target: str) -> list[Path]:
    """Copy every bundled file into ``target`` (made if missing), keeping the folders, so the cluster
    files find their post scripts; refuses, changing nothing, when any of the files exists there."""
    dest = Path(target).expanduser()
    if dest.exists() and not dest.is_dir():
        raise InputError(f"--copy {target}: not a folder")
    files = bundled_files()
    clashes = [str(dest / f.folder / f.path.name) for f in files if (dest / f.folder / f.path.name).exists()]
    if clashes:
        raise InputError(f"--copy {target}: {len(clashes)} of the files exist there already "
                         f"({', '.join(clashes[:3])}{' ...' if len(clashes) > 3 else ''}); "
                         f"nothing was copied: choose an empty folder")
    copied = []
    try:
        for f in files:
            (dest / f.folder).mkdir(parents=True, exist_ok=True)
            copied.append(Path(shutil.copy2(f.path, dest / f.folder / f.path.name)))
    except OSError as exc:
        raise InputError(f"--copy {target}: {exc.strerror or exc}"
                         f"{f' ({exc.filename})' if exc.filename else ''}; {len(copied)} of the files copied") from None
    return copied
