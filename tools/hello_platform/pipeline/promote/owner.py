"""``promote --wait``: own the promotion's outcome as the release loop does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from hello_platform.clients.kube import Kube
from hello_platform.core import catalogue, paths
from hello_platform.core.errors import PlatformError
from hello_platform.pipeline import notify
from hello_platform.pipeline.gitops import envs, lifecycle, outcome
from hello_platform.pipeline.notify import Announcer
from hello_platform.pipeline.promote.promotion import Environment, Promotion


def app_of(env: Environment, root: Path = paths.REPO_ROOT) -> tuple[str, str, str]:
    """``env``'s Application, its service (by chart; else the app's name) and namespace."""
    if not env.app or not (root / env.app).is_file():
        raise PlatformError(
            f"environment '{env.name}' names no Application file to watch (app = '{env.app}')"
        )
    doc: dict[str, Any] = yaml.safe_load((root / env.app).read_text())
    name = str(doc["metadata"]["name"])
    charts = {root / s["path"] for s in envs.sources(doc) if "path" in s}
    found = [s.name for s in catalogue.load(root).services.values() if s.chart in charts]
    namespace = str(((doc.get("spec") or {}).get("destination") or {}).get("namespace", ""))
    return name, found[0] if len(found) == 1 else name, namespace


def own(
    env: Environment,
    done: Promotion,
    *,
    kubeconfig: str | None,
    timeout: float,
    url: str | None = None,
) -> outcome.Outcome:
    app, service, namespace = app_of(env)
    kube = Kube(lifecycle.cluster(kubeconfig, "promote"))
    announcer = Announcer(notify.webhook_url(None, kube=kube))
    target = outcome.Target(app, env.branch, done.commit, done.digest)
    rel = outcome.Release(
        service, env.name, target, done.previous_digest, done.committed_at, namespace
    )
    return outcome.own(kube, rel, announcer, timeout=timeout, url=url)
