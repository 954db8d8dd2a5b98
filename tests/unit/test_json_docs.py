"""The examples in docs/json.md are valid documents of the schemas they illustrate."""
from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
from referencing import Registry, Resource

DOCS = Path(__file__).resolve().parents[2] / "docs"
SCHEMAS = DOCS / "schemas"
# Each section of docs/json.md (by the start of its heading) and the schema of its example.
SECTIONS = {
    "`view --capacity": "capacity", "`view`": "view", "A report": "report", "A query": "query", "`post": "post",
    "`cluster --plan": "plan", "`cluster --create": "cluster", "`cluster --destroy": "cluster-destroy",
    "`cluster --status": "status", "`cluster --list": "cluster-list", "`get_vm_config": "vm-config", "`migrate_vm": "migrate",
    "`secure_boot`": "sched-affinity", "`power_policy": "power-policy", "`passthru_host`": "sriov-host",
    "An error": "error",
}


def examples() -> list[tuple[str, str]]:
    """(heading, json text) of every section with an example."""
    text = (DOCS / "json.md").read_text()
    found = re.findall(r"^## ([^\n]+)\n(?:(?!\n## ).)*?```json\n(.*?)\n```", text, re.S | re.M)
    assert len(found) == text.count("```json"), "an example outside a '## ' section of its own"
    return found


def schema_of(heading: str) -> str:
    return next(s for start, s in SECTIONS.items() if heading.startswith(start))


def validator(name: str):
    registry = Registry().with_resources(
        [(p.name, Resource.from_contents(json.loads(p.read_text()))) for p in SCHEMAS.glob("*.json")])
    return jsonschema.Draft202012Validator(json.loads((SCHEMAS / f"{name}.json").read_text()), registry=registry)


@pytest.mark.parametrize("heading,body", examples(), ids=[h for h, _ in examples()])
def test_example_matches_its_schema(heading, body):
    validator(schema_of(heading)).validate(json.loads(body))


def test_every_command_document_has_an_example():
    shown = {schema_of(h) for h, _ in examples()}
    wanted = {p.stem for p in SCHEMAS.glob("*.json")} - {"numa-affinity", "secure-boot", "passthru-host"}
    assert wanted <= shown, sorted(wanted - shown)    # the three left out share an example with a sibling
