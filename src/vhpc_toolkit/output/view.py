"""Render the `view` document as a tree."""
from __future__ import annotations

from typing import Any

from rich.markup import escape
from rich.text import Text

from vhpc_toolkit.output.tables import common_domain, short
from vhpc_toolkit.output.tree import Tree, print_tree
from vhpc_toolkit.words import count

_POWER = {"poweredOn": ("on", "green"), "poweredOff": ("off", "dim"), "suspended": ("suspended", "yellow")}


def _vm_label(vm: dict[str, Any]) -> Text:
    """Built as Text, not markup: a large inventory has thousands of these."""
    parts = [(vm["name"], "bold"), _POWER.get(vm["power_state"], (vm["power_state"] or "?", ""))]
    if vm["template"]:
        parts.append(("template", "magenta"))
    if vm.get("ip"):
        parts.append((vm["ip"], ""))
    label = Text()
    for i, (text, style) in enumerate(parts):
        if i:
            label.append("  ")
        label.append(text, style)
    return label


def _vgpu_state(gpu: dict[str, Any]) -> str:
    """A shared GPU's sharing mode, what it runs and what it can still start."""
    parts = [gpu["sharing"] or "MIG or time-sliced"] if "sharing" in gpu else []
    running = gpu.get("vgpus") or []
    if running:
        counts: dict[str, int] = {}
        for q in running:
            counts[q] = counts.get(q, 0) + 1
        parts.append("runs " + ", ".join(f"{n} x {q}" for q, n in counts.items()))
    room = [f"{n} {q}" for q, n in (gpu.get("free") or {}).items() if n]
    if room and running:
        parts.append("room for " + ", ".join(room[:3]) + (" ..." if len(room) > 3 else ""))
    elif not room and "free" in gpu:
        parts.append("full")
    return (" " + escape("(" + "; ".join(parts) + ")")) if parts else ""


def _host_node(parent: Tree, host: dict[str, Any], domain: str) -> None:
    state = host["connection_state"]
    colour = "green" if state == "connected" else "red"
    label = f"[cyan]{escape(short(host['name'], domain))}[/] [{colour}]{state}[/]"
    if host["maintenance"]:
        label += " [yellow]maintenance[/]"
    node = parent.add(label)
    for gpu in host["gpus"]:
        if gpu.get("mode") == "vgpu":
            flag = "[cyan]vGPU (shared direct)[/]" + _vgpu_state(gpu)
        else:
            flag = "[green]passthrough[/]" if gpu["passthrough"] else "[dim]no passthrough[/]"
        node.add(f"GPU {gpu['id']} {escape(gpu['name'] or '')} {flag}")
    for sw in host.get("switches", []):
        node.add(f"vSwitch {escape(sw['name'])} uplinks={','.join(sw['pnics']) or '-'} "
                 f"port groups: {escape(', '.join(sw['port_groups']) or '-')}")
    for dvs, pnics in sorted(host.get("dvs_uplinks", {}).items()):
        node.add(f"DVS {escape(dvs)} uplinks={','.join(pnics) or '-'}")
    for vm in host["vms"]:
        vm_node = node.add(_vm_label(vm))
        for nic in vm.get("adapters", []):
            vm_node.add(f"{escape(nic['label'])} {nic['type']} on {escape(str(nic['network']))}")


def render_inventory(doc: dict[str, Any], console) -> None:
    domain = common_domain([h["name"] for dc in doc["datacenters"] for h in dc["standalone_hosts"]] +
                           [h["name"] for dc in doc["datacenters"] for c in dc["clusters"] for h in c["hosts"]])
    root = Tree("[bold]vCenter inventory[/]" + (f" [dim](host names end in {escape(domain)})[/]" if domain else ""))
    for dc in doc["datacenters"]:
        dc_node = root.add(f"[bold blue]{escape(dc['name'])}[/] (datacenter)")
        for cluster in dc["clusters"]:
            c_node = dc_node.add(f"[bold]{escape(cluster['name'])}[/] (cluster, {count(len(cluster['hosts']), 'host')})")
            for host in cluster["hosts"]:
                _host_node(c_node, host, domain)
        for host in dc["standalone_hosts"]:
            _host_node(dc_node, host, domain)
        for sw in dc.get("distributed_switches", []):
            dc_node.add(f"DVS {escape(sw['name'])} {count(len(sw['hosts']), 'host')}, "
                        f"port groups: {escape(', '.join(sw['port_groups']) or '-')}")
    print_tree(root, console)


def _filter_note(doc: dict[str, Any], console) -> None:
    """A VM pattern that matched nothing says so (clusters and hosts asked for always exist)."""
    globs = doc.get("filters", {}).get("vm")
    if globs and not any(h["vms"] for dc in doc["datacenters"]
                         for h in dc["standalone_hosts"] + [h for c in dc["clusters"] for h in c["hosts"]]):
        console.print(f"no VM matches {escape(' or '.join(globs))}", highlight=False)


def render_document(document, ctx) -> None:
    """A read-only Document: the inventory tree (``view``) or a cluster file's plan (``plan``)."""
    if document.kind == "view":
        render_inventory(document.doc, ctx.out)
        _filter_note(document.doc, ctx.out)
    elif document.kind == "capacity":
        from vhpc_toolkit.output.capacity import render_capacity

        render_capacity(document.doc, ctx.out)
    elif document.kind == "plan":
        from vhpc_toolkit.output.cluster.plan import render_plan

        render_plan(document.source, ctx.out)
    elif document.kind == "examples":
        from vhpc_toolkit.output.examples import render_examples

        render_examples(document.doc, ctx.out)
    elif document.kind == "raw":     # text for another program (shell code): exactly as it is
        ctx.out.file.write(document.doc["text"])
    elif document.kind == "message":
        ctx.out.print(escape(document.doc["message"]), highlight=False)
    else:
        raise TypeError(f"no text renderer for a {document.kind!r} document")
