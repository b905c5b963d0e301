"""``gitops up|status|down``."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from hello_platform.clients.kube import Kube
from hello_platform.core import paths
from hello_platform.core.errors import PlatformError
from hello_platform.core.progress import say, step
from hello_platform.pipeline.gitops import argo, envs, gitserver, release
from hello_platform.pipeline.monitoring import prometheus
from hello_platform.pipeline.rollouts import addon
from hello_platform.substrate import addons

#: Strategies the chart renders as an Argo Rollout (rollout.strategy).
PROGRESSIVE = ("canary", "blueGreen")


def cluster(given: str | Path | None, command: str, *, start: bool = True) -> Path:
    """``given``, else the embedded cluster's kubeconfig (started unless ``start=False``)."""
    if given:
        return Path(given)
    from hello_platform.substrate.cluster import ensure_up, require_up

    return ensure_up() if start else require_up(f"nox -s gitops -- {command}")


def write_figures(name: str, figures: dict[str, Any]) -> None:
    """``out/gitops/NAME``: the figures as JSON."""
    out = paths.out_dir() / "gitops"
    out.mkdir(parents=True, exist_ok=True)
    (out / name).write_text(json.dumps(figures, indent=2) + "\n")


def ensure_env_image(env: str) -> str | None:
    branch = gitserver.env_branch(env)
    if release.current_image(gitserver.read_file(branch, release.image_file(env))).get("digest"):
        return None
    from hello_platform.pipeline import image

    return release.commit_image(env, image.build(release.env_service(env)))


def strategy(env: str) -> str:
    text = gitserver.read_file(gitserver.env_branch(env), f"{envs.ENVS_DIR}/{env}/values.yaml")
    values = yaml.safe_load(text or "") or {}
    return str((values.get("rollout") or {}).get("strategy") or "rolling")


def ensure_rollouts(kube: Kube, env: str) -> bool:
    """Prometheus and Argo Rollouts up before Argo CD syncs a Rollout; whether needed."""
    chosen = strategy(env)
    if chosen not in PROGRESSIVE:
        return False
    with step(f"rollout.strategy {chosen} in {env}: Prometheus and Argo Rollouts up"):
        addons.up(kube, prometheus.ADDON, addon.ADDON)
    return True


def is_embedded(kubeconfig: Path) -> bool:
    from hello_platform.substrate.cluster.layout import Layout

    return kubeconfig.resolve() == Layout.default().admin_kubeconfig.resolve()


def wait_answering(
    base: str, timeout: float, get: Callable[[str], tuple[int, bytes]] | None = None
) -> None:
    """Synced/Healthy means the pod is Ready, not yet that kube-proxy routes the node port."""
    from hello_platform.pipeline.deploy import http_get, smoke

    pause = 0.5
    with step(f"waiting for {base}/ to answer"):
        smoke(
            base,
            revision=None,
            get=get or http_get,
            attempts=max(1, int(timeout / pause)),
            pause=pause,
        )


def up(
    env: str,
    *,
    timeout: float,
    kubeconfig: Path,
    repo_url: str | None = None,
    optional: bool = False,
) -> str:
    """Install Argo CD and sync the apps of ``env``; what to try next."""
    if env in envs.REMOTE_ENVS:
        return up_remote(
            env, timeout=timeout, kubeconfig=kubeconfig, repo_url=repo_url, optional=optional
        )
    argo.check_repo(envs.applications(env), repo_url or gitserver.URL)
    start = time.monotonic()
    kube = Kube(kubeconfig)
    with step("building Argo CD's images (argocd + git + helm, miniredis)"):
        refs = addons.build(argo.ADDON)
    installed = time.monotonic()
    with step("installing Argo CD (core install) in namespace argocd"):
        addons.up(kube, argo.ADDON, refs=refs)
    with step(f"publishing this checkout to {gitserver.URL}"):
        pub = gitserver.publish(env)
        src = f"{pub.source_branch} {pub.source_commit[:12]}"
        say(f"{src} -> {pub.env_branch} {pub.env_commit[:12]}")
        ensure_env_image(env)
    ensure_rollouts(kube, env)
    argo.bootstrap(kube, env, repo_url)
    names = [argo.ROOT_APP, release.env_app(env).name]
    argo.refresh(kube, names)
    apps = argo.wait_for(
        kube,
        argo.all_ok(names, lambda: gitserver.remote_ref(pub.env_branch)),
        what="Argo CD syncing the apps",
        timeout=timeout,
    )
    healthy = time.monotonic()
    for a in apps:
        say(f"{a.name}: {a.sync}/{a.health} at {a.revision[:12]} ({a.target})")
    port = release.NODE_PORTS[env]
    if is_embedded(kubeconfig):
        wait_answering(f"http://127.0.0.1:{port}", timeout=60)
    figures = {
        "install_to_healthy_seconds": round(healthy - installed, 1),
        "up_seconds": round(time.monotonic() - start, 1),
    }
    write_figures("up.json", figures)
    return (
        f"Argo CD is up; install to Synced/Healthy took {figures['install_to_healthy_seconds']}s.\n"
        f"service:  curl http://127.0.0.1:{port}/\n"
        f"status:   nox -s gitops -- status\n"
        f"apps:     kubectl --kubeconfig {kube.kubeconfig} -n argocd get applications\n"
        f"source:   git clone -b {gitserver.env_branch(env)} {gitserver.URL}\n"
        f"release:  nox -s release"
    )


def up_remote(
    env: str, *, timeout: float, kubeconfig: Path, repo_url: str | None, optional: bool
) -> str:
    if not repo_url:
        raise PlatformError(
            f"environment '{env}' is synced from a git repository the cluster can reach",
            hint=f"give --repo-url (the one deploy/argocd/envs/{env}/apps names)",
        )
    apps = envs.applications(env, optional=optional)
    argo.check_repo(apps, repo_url)
    kube = Kube(kubeconfig)
    installed = time.monotonic()
    with step("installing Argo CD (core install, upstream images) in namespace argocd"):
        addons.up(kube, argo.UPSTREAM_ADDON, refs={})
    argo.bootstrap(kube, env, repo_url, optional=optional)
    names = [argo.ROOT_APP, *(a["metadata"]["name"] for a in apps)]
    synced = argo.wait_for(
        kube, argo.all_ok(names), what=f"Argo CD syncing {env}'s apps", timeout=timeout
    )
    for a in synced:
        say(f"{a.name}: {a.sync}/{a.health} at {a.revision[:12]} ({a.target})")
    return (
        f"Argo CD is up; {env} Synced/Healthy after {time.monotonic() - installed:.1f}s.\n"
        f"status:   nox -s gitops -- status --kubeconfig {kubeconfig}\n"
        f"apps:     kubectl --kubeconfig {kubeconfig} -n argocd get applications"
    )


def format_status(apps: list[argo.AppStatus]) -> str:
    lines = []
    for a in apps:
        lines.append(
            f"{a.name}: sync {a.sync}, health {a.health}, revision {a.revision[:12] or '-'}"
            f" ({a.target} {a.path})"
        )
        if not a.ok and a.reason:
            lines.append(f"  reason: {a.reason}")
        for deployed, rev in a.history[-3:]:
            lines.append(f"  synced {rev[:12]} at {deployed}")
    return "\n".join(lines) if lines else "no Argo CD Applications"


def status(kubeconfig: Path, *, as_json: bool = False) -> tuple[str, bool]:
    """Every Application's sync and health; whether all are Synced and Healthy."""
    kube = Kube(kubeconfig)
    apps = argo.applications(kube)
    ok = bool(apps) and all(a.ok for a in apps)
    if as_json:
        return json.dumps([a.__dict__ for a in apps], indent=2, default=list), ok
    daemon = "running" if gitserver.daemon().pid() is not None else "stopped"
    lines = [f"git daemon: {daemon} ({gitserver.URL})", format_status(apps)]
    memory = argo.pod_memory(kube)
    if memory:
        used = ", ".join(f"{n} {v / 2**20:.0f}Mi" for n, v in sorted(memory.items()))
        lines.append(f"argocd pods' memory: {sum(memory.values()) / 2**20:.0f}Mi ({used})")
    return "\n".join(lines), ok


def down(kubeconfig: Path) -> None:
    with step("removing the Applications and Argo CD"):
        addons.down(Kube(kubeconfig), argo.ADDON)
    stopped = gitserver.stop()
    say("git daemon stopped" if stopped else "git daemon was not running")
