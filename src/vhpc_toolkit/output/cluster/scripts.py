"""Render guest setup and health: script steps to run (before the confirmation), steps not finished
and checks failing (after a run or in a status), and the verdict line that explains the exit status."""
from __future__ import annotations

from rich.markup import escape

from vhpc_toolkit.output.tables import render_table
from vhpc_toolkit import words

SHOWN_VMS = 8       # VMs named in a one-line list before "and N more"
TAIL = 3            # output lines shown per step or check (JSON has them all)


def _vm_list(names: list[str]) -> str:
    more = len(names) - SHOWN_VMS
    return ", ".join(names[:SHOWN_VMS]) + (f" and {more} more" if more > 0 else "")


def render_pending_steps(plan, console) -> None:
    """One line before the confirmation: which VMs run which script steps."""
    names = plan.scripts_pending
    if not names:
        return
    steps = sum(len(states) if plan.rerun_scripts else sum(not s.done for s in states)
                for name, states in plan.steps.items() if name in names)
    why = "every step again (--rerun-scripts)" if plan.rerun_scripts else "the steps they have not finished"
    console.print(f"scripts: {words.count(steps, 'step')} to run on {words.count(len(names), 'VM')}, {why}: "
                  f"{escape(_vm_list(names))}",
                  highlight=False)


def render_steps(vms, console) -> None:
    """The script steps that are not done, per VM: state (failed with its exit code, or pending), output."""
    rows = []
    for vm in vms:
        for s in vm.steps or []:
            if not s.done:
                rows.append([escape(vm.name), escape(s.step.shown), "-" if s.step.barrier is None else str(s.step.barrier),
                             f"[{'bold red' if s.state == 'failed' else 'yellow'}]{escape(s.describe())}[/]",
                             escape("\n".join(s.tail[-TAIL:]))])
    if rows:
        render_table(console, "Script steps not finished (cluster --create runs them)",
                     ["VM", "script", "barrier", "state", "last output"], rows)


def render_checks(vms, console) -> None:
    """The checks that did not pass, per VM, with the last lines of their output."""
    rows = []
    for vm in vms:
        for c in vm.checks or []:
            if c["status"] != "ok":
                rows.append([escape(vm.name), escape(c["check"]), f"[bold red]{escape(c['detail'] or c['status'])}[/]",
                             escape("\n".join(c["output_tail"][-TAIL:]))])
    if rows:
        render_table(console, "Checks failing", ["VM", "check", "result", "last output"], rows)
    elif any(vm.checks for vm in vms):
        ran = sum(len(vm.checks or []) for vm in vms)
        console.print(f"checks: {ran} passed on {words.count(sum(bool(vm.checks) for vm in vms), 'VM')}", highlight=False)


def render_guest_state(result, console) -> None:
    """Steps not finished, checks, and the verdict: why the exit status is what it is."""
    render_steps(result.vms, console)
    render_checks(result.vms, console)
    if not getattr(result, "interrupted", False):
        verdict = result.verdict()
        colour = "green" if verdict.ok else "yellow"
        console.print(f"[{colour}]cluster {escape(verdict.line())}[/]", highlight=False)
