"""The order of a plan's resources: parent first, each after the siblings it depends on, ties broken by
type and name, whatever order the engine registered them in.
"""

from __future__ import annotations

import heapq
from typing import Optional

from tavus_recording.mock_engine import Registration


def ordered(registrations: list[Registration]) -> list[Registration]:
    """Parents before their children; siblings each after the siblings it depends on, ties by type and name.

    The engine sees registrations in the order their inputs resolve, which varies from run to run; this
    order depends only on what was registered.
    """
    by_urn = {r.urn: r for r in registrations}
    children: dict[str, list[Registration]] = {}
    for r in registrations:
        children.setdefault(r.parent if r.parent in by_urn else "", []).append(r)

    def sibling_of(urn: str, siblings: set[str]) -> Optional[str]:
        # A dependency on a sibling's descendant orders the sibling.
        seen: set[str] = set()
        while urn and urn not in siblings and urn not in seen:
            seen.add(urn)
            urn = by_urn[urn].parent if urn in by_urn else ""
        return urn if urn in siblings else None

    def sort_siblings(group: list[Registration]) -> list[Registration]:
        urns = {r.urn for r in group}
        after: dict[str, set[str]] = {r.urn: set() for r in group}
        for r in group:
            for dep in r.depends_on:
                sibling = sibling_of(dep, urns)
                if sibling and sibling != r.urn:
                    after[r.urn].add(sibling)
        key = {r.urn: (r.type, r.name) for r in group}
        ready = [key[u] + (u,) for u, deps in after.items() if not deps]
        heapq.heapify(ready)
        result: list[str] = []
        while ready:
            urn = heapq.heappop(ready)[2]
            result.append(urn)
            for other, deps in after.items():
                if urn in deps:
                    deps.discard(urn)
                    if not deps:
                        heapq.heappush(ready, key[other] + (other,))
        # A cycle cannot be registered; were one there, its members still come out in a fixed order.
        result += sorted((u for u in after if u not in result), key=lambda u: key[u])
        return [by_urn[u] for u in result]

    out: list[Registration] = []

    def walk(parent: str) -> None:
        for r in sort_siblings(children.get(parent, [])):
            out.append(r)
            walk(r.urn)

    walk("")
    return out
