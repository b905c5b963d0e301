"""A release's resource names, read from its manifest or found by its label: the chart's
naming rule (``fullnameOverride``, ``nameOverride``...) is never re-derived."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import yaml

from hello_platform.core.errors import PlatformError

#: The label every object of a release carries (the chart's selector labels).
INSTANCE_LABEL = "app.kubernetes.io/instance"


def instance_selector(release: str) -> str:
    return f"{INSTANCE_LABEL}={release}"


def documents(manifest: str) -> list[dict[str, Any]]:
    """The objects of a multi-document YAML manifest (empty documents dropped)."""
    try:
        docs = list(yaml.safe_load_all(manifest))
    except yaml.YAMLError as err:
        raise PlatformError(f"the release's manifest is not valid YAML ({err})") from err
    return [d for d in docs if isinstance(d, dict) and d.get("kind")]


def _name(obj: Mapping[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("name", ""))


def named(objects: Iterable[Mapping[str, Any]], kind: str) -> list[str]:
    return [_name(o) for o in objects if o.get("kind") == kind]


def front_service(objects: Iterable[Mapping[str, Any]], release: str) -> str:
    """The name of the release's Service that clients use: the one with a cluster IP (a
    chart may add a headless one for its pods, e.g. for DNS SRV discovery)."""
    services = [o for o in objects if o.get("kind") == "Service"]
    front = [s for s in services if (s.get("spec") or {}).get("clusterIP") != "None"]
    if len(front) != 1:
        found = ", ".join(_name(s) for s in services) or "none"
        raise PlatformError(
            f"release '{release}' has {len(front)} Services with a cluster IP (found: {found})",
            hint="the pipeline serves through exactly one non-headless Service per release",
        )
    return _name(front[0])


def test_pods(hooks: Iterable[Mapping[str, Any]]) -> list[str]:
    """The names of the ``helm test`` Pods among a release's hooks."""
    out = []
    for obj in hooks:
        annotations = (obj.get("metadata") or {}).get("annotations") or {}
        events = str(annotations.get("helm.sh/hook", "")).split(",")
        if obj.get("kind") == "Pod" and "test" in (e.strip() for e in events):
            out.append(_name(obj))
    return out
