"""The one output path: any result as text or JSON (as govc's WriteResult does).

Commands return results; ``emit`` prints the final one in the context's format.
``show`` prints text meant for a person before the result (a plan, a preview);
JSON output carries only the final document, so ``show`` is silent there.
"""
from __future__ import annotations

from typing import Any, Callable

from vhpc_toolkit.output.jsonout import print_json


def _renderers() -> dict[type, Callable[[Any, Any], None]]:
    # Imported on use: each renderer pulls in what its result needs.
    from vhpc_toolkit.cluster.ownership.listing import ClusterList
    from vhpc_toolkit.cluster.state.result import ClusterResult, ClusterStatus, DestroyResult
    from vhpc_toolkit.ops.post import PostReport
    from vhpc_toolkit.output import post, query, report, view
    from vhpc_toolkit.output.cluster import results as cluster
    from vhpc_toolkit.results import Document, QueryReport, Report

    return {QueryReport: query.render_query, Report: report.render_report, PostReport: post.render_post,
            ClusterResult: cluster.render_result, DestroyResult: cluster.render_destroyed,
            ClusterStatus: cluster.render_status, ClusterList: cluster.render_list,
            Document: view.render_document}


def emit(ctx, result: Any) -> None:
    """Print ``result`` as JSON (its ``to_dict()``) or as text (the renderer of its type)."""
    if result is None:
        return
    # Warnings go to stderr in either format: JSON on stdout stays one document.
    for warning in getattr(result, "warnings", lambda: [])():
        ctx.warn(warning)
    if ctx.output == "json":
        print_json(result.to_dict(), ctx.out)
        return
    renderers = _renderers()
    for cls in type(result).__mro__:
        if cls in renderers:
            renderers[cls](result, ctx)
            return
    raise TypeError(f"no text renderer for {type(result).__name__}")


def show(ctx, render: Callable[..., None], *args) -> None:
    """Text for a person on the way to the result (``render(*args, console)``); nothing in JSON mode."""
    if ctx.output != "json":
        render(*args, ctx.out)
