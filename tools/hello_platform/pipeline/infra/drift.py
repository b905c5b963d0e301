"""The drift of a second plan right after apply, attribute by attribute.

Against a real account a plan right after apply is empty. Against the emulator, what
moto does not model shows up as drift: those gaps, and only those, are tolerated, listed
in :data:`KNOWN_GAPS` with the reason each.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

#: (resource type, attribute path without list indexes) -> why the emulator differs.
KNOWN_GAPS: Mapping[tuple[str, str], str] = {
    ("aws_eks_cluster", "access_config.bootstrap_cluster_creator_admin_permissions"): (
        "moto's DescribeCluster does not return it (AWS returns what was set), so the "
        "provider reads null and plans a replacement"
    ),
}


@dataclass(frozen=True)
class Change:
    """One resource of a plan that is not a no-op, and its differing attributes."""

    address: str
    type: str
    actions: tuple[str, ...]
    paths: tuple[str, ...]


def diff_paths(before: Any, after: Any, unknown: Any, prefix: str = "") -> Iterator[str]:
    """Dotted paths where ``after`` differs from ``before`` (or is unknown after apply)."""
    if unknown is True:
        yield prefix.rstrip(".") or "(whole object)"
        return
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        unknown = unknown if isinstance(unknown, Mapping) else {}
        for key in sorted(set(before) | set(after)):
            yield from diff_paths(
                before.get(key), after.get(key), unknown.get(key), f"{prefix}{key}."
            )
        return
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        unknown = unknown if isinstance(unknown, list) else [None] * len(after)
        for i, (b, a) in enumerate(zip(before, after, strict=True)):
            yield from diff_paths(b, a, unknown[i] if i < len(unknown) else None, f"{prefix}{i}.")
        return
    if before != after:
        yield prefix.rstrip(".") or "(whole object)"


def changes(plan: Mapping[str, Any]) -> list[Change]:
    """The resources of ``plan`` (``tofu show -json``) that would change."""
    found = []
    for rc in plan.get("resource_changes") or []:
        change = rc.get("change", {})
        actions = tuple(change.get("actions", []))
        if actions in (("no-op",), ("read",)):
            continue
        paths = tuple(
            p.rstrip(".")
            for p in diff_paths(
                change.get("before"), change.get("after"), change.get("after_unknown")
            )
        )
        found.append(Change(rc["address"], rc["type"], actions, paths))
    return found


def _plain(path: str) -> str:
    return re.sub(r"\.\d+(?=\.|$)", "", path)


def classify(found: list[Change]) -> tuple[list[str], list[str]]:
    """(tolerated, unexpected) drift lines; a change is tolerated when every path of it is
    a known gap of its type."""
    tolerated, unexpected = [], []
    for change in found:
        gaps = [KNOWN_GAPS.get((change.type, _plain(p))) for p in change.paths]
        paths = ", ".join(change.paths) or "no attribute"
        line = f"{change.address} {'/'.join(change.actions)}: {paths}"
        if change.paths and all(gaps):
            tolerated.append(f"{line} ({gaps[0]})")
        else:
            unexpected.append(line)
    return tolerated, unexpected
