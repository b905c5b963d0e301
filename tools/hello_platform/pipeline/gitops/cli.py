"""``hello-platform gitops up|status|down`` and ``hello-platform release``."""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hello_platform.core import paths
from hello_platform.core.progress import say, step
from hello_platform.pipeline.gitops import argo, gitserver, release

GITOPS_USAGE = "usage: nox -s gitops -- up [--env local] [--timeout S] | status [--json] | down"
RELEASE_USAGE = "usage: nox -s release -- [--env local] [--timeout S] [--git-url URL] [--no-wait]"
ENVS = tuple(release.NODE_PORTS)


def _kubeconfig(args: argparse.Namespace, *, start: bool = True) -> Path:
    """--kubeconfig, else the embedded cluster's: started for ``up``, required running
    for ``status`` and ``down`` (``start=False``)."""
    if getattr(args, "kubeconfig", None):
        return Path(args.kubeconfig)
    from hello_platform.substrate.cluster import ensure_up, require_up

    return ensure_up() if start else require_up(f"nox -s gitops -- {args.gitops_command}")


def out_file(name: str) -> Path:
    out = paths.out_dir() / "gitops"
    out.mkdir(parents=True, exist_ok=True)
    return out / name


def build_image() -> Any:
    from hello_platform.pipeline import image

    return image.build()


def ensure_env_image(env: str) -> str | None:
    """Release an image into ``env`` when its image.yaml names none yet; the commit."""
    branch = gitserver.env_branch(env)
    if release.current_image(gitserver.read_file(branch, release.image_file(env))).get("digest"):
        return None
    built = build_image()
    return release.commit_image(env, built)


def is_embedded(kubeconfig: Path) -> bool:
    """Whether ``kubeconfig`` is the embedded cluster's, whose node port is on 127.0.0.1."""
    from hello_platform.substrate.cluster.layout import Layout

    return kubeconfig.resolve() == Layout.default().admin_kubeconfig.resolve()


def wait_answering(
    base: str, timeout: float, get: Callable[[str], tuple[int, bytes]] | None = None
) -> None:
    """``GET /`` and ``/version`` of ``base`` answer 200: Synced/Healthy means the pod is
    Ready, not yet that kube-proxy has programmed the node port for it."""
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


def up(args: argparse.Namespace) -> int:
    start = time.monotonic()
    kubeconfig = _kubeconfig(args)
    kube = argo.make_kube(kubeconfig)
    from hello_platform.pipeline.gitops import images

    with step("building Argo CD's images (argocd + git + helm, miniredis)"):
        refs = images.ensure_images()
    installed = time.monotonic()
    with step("installing Argo CD (core install) in namespace argocd"):
        argo.install(kube, refs)
    with step(f"publishing this checkout to {gitserver.URL}"):
        pub = gitserver.publish(args.env)
        src = f"{pub.source_branch} {pub.source_commit[:12]}"
        say(f"{src} -> {pub.env_branch} {pub.env_commit[:12]}")
        ensure_env_image(args.env)
    argo.bootstrap(kube)
    names = [argo.ROOT_APP, release.APP_OF_ENV[args.env]]
    argo.refresh(kube, names)
    apps = argo.wait_for(
        kube,
        argo.all_ok(names, lambda: gitserver.remote_ref(pub.env_branch)),
        what="Argo CD syncing the apps",
        timeout=args.timeout,
    )
    healthy = time.monotonic()
    for a in apps:
        say(f"{a.name}: {a.sync}/{a.health} at {a.revision[:12]} ({a.target})")
    port = release.NODE_PORTS[args.env]
    if is_embedded(kubeconfig):
        wait_answering(f"http://127.0.0.1:{port}", timeout=60)
    figures = {
        "install_to_healthy_seconds": round(healthy - installed, 1),
        "up_seconds": round(time.monotonic() - start, 1),
    }
    out_file("up.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(
        f"Argo CD is up; install to Synced/Healthy took {figures['install_to_healthy_seconds']}s.\n"
        f"service:  curl http://127.0.0.1:{port}/\n"
        f"status:   nox -s gitops -- status\n"
        f"apps:     kubectl --kubeconfig {kube.kubeconfig} -n argocd get applications\n"
        f"source:   git clone -b {gitserver.env_branch(args.env)} {gitserver.URL}\n"
        f"release:  nox -s release"
    )
    return 0


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


def status(args: argparse.Namespace) -> int:
    kube = argo.make_kube(_kubeconfig(args, start=False))
    apps = argo.applications(kube)
    daemon = "running" if gitserver.daemon_running() else "stopped"
    if args.json:
        print(json.dumps([a.__dict__ for a in apps], indent=2, default=list))
    else:
        print(f"git daemon: {daemon} ({gitserver.URL})")
        print(format_status(apps))
        memory = argo.pod_memory(kube)
        if memory:
            used = ", ".join(f"{n} {v / 2**20:.0f}Mi" for n, v in sorted(memory.items()))
            print(f"argocd pods' memory: {sum(memory.values()) / 2**20:.0f}Mi ({used})")
    return 0 if apps and all(a.ok for a in apps) else 1


def down(args: argparse.Namespace) -> int:
    kube = argo.make_kube(_kubeconfig(args, start=False))
    from hello_platform.pipeline.gitops import images

    with step("removing the Applications and Argo CD"):
        argo.uninstall(kube, images.ensure_images())
    stopped = gitserver.stop()
    say("git daemon stopped" if stopped else "git daemon was not running")
    return 0


def release_cmd(args: argparse.Namespace) -> int:
    local = args.git_url is None
    url = args.git_url
    if local:
        with step(f"publishing this checkout to {gitserver.URL}"):
            gitserver.publish(args.env)
    built = build_image()
    committed = time.monotonic()
    commit = release.commit_image(args.env, built, url=url)
    say(f"committed {built.tag} to {gitserver.env_branch(args.env)} as {commit[:12]}")
    serving: float | None = None
    if local and not args.no_wait:
        kube = argo.make_kube(_kubeconfig(args))
        argo.refresh(kube, [argo.ROOT_APP, release.APP_OF_ENV[args.env]])
        port = release.NODE_PORTS[args.env]
        from hello_platform.pipeline.image import read_source

        revision = read_source().revision
        release.wait_serving(
            f"http://127.0.0.1:{port}",
            revision,
            timeout=args.timeout,
            on_wait=release.say_waiting,
        )
        serving = round(time.monotonic() - committed, 1)
    result = release.Released(args.env, built.pinned, built.tag, commit, serving)
    out_file("release.json").write_text(json.dumps(result.to_json(), indent=2) + "\n")
    if serving is not None:
        print(f"released {built.pinned}: commit {commit[:12]} serving after {serving}s")
    else:
        print(
            f"released {built.pinned}: commit {commit[:12]} on "
            f"{gitserver.redact(url or gitserver.URL)}"
        )
    return 0


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--kubeconfig", help=argparse.SUPPRESS)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("gitops", help="Argo CD on the local cluster: up, status, down")
    sub = parser.add_subparsers(dest="gitops_command", required=True)
    p_up = sub.add_parser("up", help="install Argo CD, publish the repo, sync the apps")
    p_up.add_argument("--env", choices=ENVS, default="local")
    p_up.add_argument("--timeout", type=float, default=600, help="seconds to wait for sync")
    p_up.set_defaults(func=up)
    p_status = sub.add_parser("status", help="sync and health of every Application, and why")
    p_status.add_argument("--json", action="store_true")
    p_status.set_defaults(func=status)
    p_down = sub.add_parser("down", help="remove the Applications, Argo CD and the git daemon")
    p_down.set_defaults(func=down)
    for p in (p_up, p_status, p_down):
        _common(p)
    p_rel = subparsers.add_parser("release", help="build, push, commit the image to GitOps")
    p_rel.add_argument("--env", choices=ENVS, default="local")
    p_rel.add_argument("--timeout", type=float, default=300, help="seconds to wait for serving")
    p_rel.add_argument("--git-url", help="GitOps source to commit to (default: the local mirror)")
    p_rel.add_argument("--no-wait", action="store_true", help="commit and stop")
    _common(p_rel)
    p_rel.set_defaults(func=release_cmd)
