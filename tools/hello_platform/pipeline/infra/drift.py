"""The drift of a second plan right after apply, attribute by attribute.

Only what moto does not model (:data:`KNOWN_GAPS`) is tolerated. A change whose causes are
all "known after apply" follows another change, and is tolerated only if all others are.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

_INVENTED_SSH_KEY = (
    "moto's DescribeNodegroup invents remoteAccess {ec2SshKey: eksKeypair} for a group "
    "created without one"
)
#: (resource type, attribute path without list indexes) -> why the emulator differs.
KNOWN_GAPS: Mapping[tuple[str, str], str] = {
    ("aws_eks_cluster", "access_config.bootstrap_cluster_creator_admin_permissions"): (
        "moto's DescribeCluster returns no accessConfig, so the provider reads none and "
        "plans a replacement (AWS returns what was set)"
    ),
    ("aws_eks_node_group", "remote_access"): _INVENTED_SSH_KEY,
    ("aws_eks_node_group", "remote_access.ec2_ssh_key"): _INVENTED_SSH_KEY,
    ("aws_launch_template", "tag_specifications"): (
        "moto keeps the template's own tags (sent as a 'launch-template' tag specification "
        "at create) in the version's data, so they read back as a tag specification the "
        "template data was not given"
    ),
}


@dataclass(frozen=True)
class Change:
    address: str
    type: str
    actions: tuple[str, ...]
    causes: tuple[str, ...]
    follows: bool


def known_diffs(before: Any, after: Any, unknown: Any, prefix: str = "") -> Iterator[str]:
    """Dotted paths where ``after`` is known and differs from ``before``."""
    if unknown is True:
        return
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        unknown = unknown if isinstance(unknown, Mapping) else {}
        for key in sorted(set(before) | set(after)):
            yield from known_diffs(
                before.get(key), after.get(key), unknown.get(key), f"{prefix}{key}."
            )
        return
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        unknown = unknown if isinstance(unknown, list) else []
        for i, (b, a) in enumerate(zip(before, after, strict=True)):
            yield from known_diffs(b, a, unknown[i] if i < len(unknown) else None, f"{prefix}{i}.")
        return
    if before != after:
        yield prefix.rstrip(".")


def _unknown_at(unknown: Any, path: list[Any]) -> bool:
    for part in path:
        if unknown is True:
            return True
        if isinstance(unknown, Mapping):
            unknown = unknown.get(part)
        elif isinstance(unknown, list) and isinstance(part, int) and part < len(unknown):
            unknown = unknown[part]
        else:
            return False
    return unknown is True


def _change(rc: Mapping[str, Any]) -> Change:
    change = rc["change"]
    actions = tuple(change.get("actions", []))
    unknown = change.get("after_unknown") or {}
    replace = change.get("replace_paths") or []
    if replace:
        causes = tuple(".".join(str(p) for p in path) for path in replace)
        follows = all(_unknown_at(unknown, path) for path in replace)
    else:
        causes = tuple(known_diffs(change.get("before"), change.get("after"), unknown))
        follows = not causes
    return Change(rc["address"], rc["type"], actions, causes, follows)


def changes(plan: Mapping[str, Any]) -> list[Change]:
    return [
        _change(rc)
        for rc in plan.get("resource_changes") or []
        if tuple(rc.get("change", {}).get("actions", [])) not in (("no-op",), ("read",))
    ]


def _plain(path: str) -> str:
    return ".".join(p for p in path.split(".") if not p.isdigit())


def classify(found: list[Change]) -> tuple[list[str], list[str]]:
    """(tolerated, unexpected) drift lines, one per changed resource."""
    tolerated, unexpected = [], []
    for change in found:
        gaps = [KNOWN_GAPS.get((change.type, _plain(p))) for p in change.causes]
        line = f"{change.address} {'/'.join(change.actions)}: {', '.join(change.causes)}"
        if change.follows:
            continue
        if change.causes and all(gaps):
            tolerated.append(f"{line} ({gaps[0]})")
        else:
            unexpected.append(line)
    followers = [c for c in found if c.follows]
    for change in followers:
        line = f"{change.address} {'/'.join(change.actions)}: follows another change"
        detail = f" ({', '.join(change.causes)} known after apply)" if change.causes else ""
        (unexpected if unexpected else tolerated).append(line + detail)
    return tolerated, unexpected
