"""Which script steps a VM has finished: the record it carries in its extraConfig.

A step is a script run in a guest with its arguments, as a user, in a barrier group. Its
digest covers all four (the script's bytes, not its path: a script fixed in place is a new
step). When a step exits 0 its digest joins the VM's record; when it exits non-zero the
record keeps its exit code and the last lines of its output, so ``cluster --status`` can say
"failed (exit 3)" without running anything.

The record is one extraConfig key, ``vhpc_toolkit.steps``, holding compact JSON::

    {"v":1,"done":["3f2a9c0d1e7b",...],"failed":{"9a8b7c6d5e4f":[3,["last line"]]}}

It stays small: 12 hex digits (48 bits) per digest, at most ``MAX_DONE`` digests (steps of
the cluster file first, the oldest others dropped), ``MAX_FAILED`` failures with at most
``TAIL_LINES`` lines of ``TAIL_CHARS`` characters each: under 2 KB, far below what ESXi
takes in a VMX value (guestinfo values: 64 KiB; the whole VMX file: 1 MiB by default).
Nothing here talks to vCenter (the writes are in record.py).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

STEPS_KEY = "vhpc_toolkit.steps"      # VM extraConfig key (beside vhpc_toolkit.owner, never the same)
VERSION = 1
DIGEST_CHARS = 12
MAX_DONE = 64
MAX_FAILED = 8
TAIL_LINES = 3
TAIL_CHARS = 120
MAX_VALUE = 4096                      # a record never grows past this (the caps above keep it < 2 KB)

DONE, FAILED, PENDING = "done", "failed", "pending"


def step_digest(content: bytes, args: Sequence[str] = (), user: str = "root", barrier: int | None = None) -> str:
    """The identity of a step: the script's bytes, its arguments, the guest user, the barrier."""
    h = hashlib.sha256(b"vhpc-step/1\0")
    h.update(hashlib.sha256(content).digest())
    h.update(json.dumps([list(args), user, barrier], separators=(",", ":")).encode())
    return h.hexdigest()[:DIGEST_CHARS]


def _tail(lines: Iterable[str]) -> list[str]:
    return [line[-TAIL_CHARS:] for line in list(lines)[-TAIL_LINES:]]


@dataclass
class Failure:
    exit_code: int | None
    tail: list[str] = field(default_factory=list)


@dataclass
class StepRecord:
    """What a VM's record says: the digests done (oldest first) and the failures by digest."""

    done: list[str] = field(default_factory=list)
    failed: dict[str, Failure] = field(default_factory=dict)
    unreadable: bool = False          # the key held something this version cannot read

    def state(self, digest: str) -> str:
        if digest in self.done:
            return DONE
        return FAILED if digest in self.failed else PENDING

    @classmethod
    def parse(cls, text: Any) -> "StepRecord":
        """The record in an extraConfig value (None or "": no record; anything unreadable: empty)."""
        if not text:
            return cls()
        try:
            doc = json.loads(str(text))
            done = [str(d) for d in doc.get("done") or []]
            failed = {str(d): Failure(None if v[0] is None else int(v[0]), [str(x) for x in v[1]])
                      for d, v in (doc.get("failed") or {}).items()}
        except (ValueError, TypeError, AttributeError, IndexError, KeyError):
            return cls(unreadable=True)
        return cls(done, failed)

    def to_value(self) -> str:
        doc: dict[str, Any] = {"v": VERSION, "done": self.done}
        if self.failed:
            doc["failed"] = {d: [f.exit_code, f.tail] for d, f in self.failed.items()}
        return json.dumps(doc, separators=(",", ":"))

    def updated(self, finished: Iterable[str] = (), failures: Mapping[str, Failure] | None = None,
                keep: Iterable[str] = ()) -> "StepRecord":
        """A new record: ``finished`` digests done (newest last), ``failures`` no longer done.
        ``keep`` (the digests of the VM's steps in its cluster file) survive the caps first."""
        failures = dict(failures or {})
        finished = [d for d in dict.fromkeys(finished) if d not in failures]
        done = [d for d in self.done if d not in failures and d not in finished] + finished
        failed = {d: f for d, f in self.failed.items() if d not in finished and d not in failures}
        failed.update({d: Failure(f.exit_code, _tail(f.tail)) for d, f in failures.items()})
        keep = set(keep)
        ours = [d for d in done if d in keep][-MAX_DONE:]
        room = MAX_DONE - len(ours)
        others = [d for d in done if d not in keep][-room:] if room > 0 else []
        chosen = set(ours) | set(others)
        done = [d for d in done if d in chosen]
        failed = dict(sorted(failed.items(), key=lambda kv: kv[0] not in keep)[:MAX_FAILED])
        record = StepRecord(done, failed)
        while len(record.to_value()) > MAX_VALUE and record.failed:   # long tails go before any digest
            record.failed.pop(next(iter(record.failed)))
        return record


def record_of(vm) -> StepRecord:
    """The record a VM carries (an inventory Obj read with ``config.extraConfig``)."""
    for opt in vm.get("config.extraConfig") or []:
        if opt.key == STEPS_KEY:
            return StepRecord.parse(opt.value)
    return StepRecord()


def has_record(vm) -> bool:
    return any(opt.key == STEPS_KEY for opt in vm.get("config.extraConfig") or [])
