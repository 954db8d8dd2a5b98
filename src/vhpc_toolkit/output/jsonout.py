"""JSON output: one document on stdout."""
from __future__ import annotations

import json
from typing import Any


def print_json(doc: Any, console) -> None:
    # Plain write, not rich's JSON highlighter: the document is for the next tool.
    console.file.write(json.dumps(doc, indent=2, sort_keys=False, default=str) + "\n")
    console.file.flush()
