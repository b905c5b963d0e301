"""``hello-platform gitops up|status|down`` and ``hello-platform release``: the flags, over
:mod:`hello_platform.pipeline.gitops.lifecycle`."""

from __future__ import annotations

import argparse

from hello_platform.pipeline.gitops import lifecycle, outcome

ENVS = lifecycle.ENVS


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("gitops", help="Argo CD on the local cluster: up, status, down")
    sub = parser.add_subparsers(dest="action", required=True)
    p_up = sub.add_parser("up", help="install Argo CD, publish the repo, sync the apps")
    p_up.add_argument("--env", choices=ENVS, default="local")
    p_up.add_argument("--timeout", type=float, default=600, help="seconds to wait for sync")
    p_up.set_defaults(func=run_up)
    p_status = sub.add_parser("status", help="sync and health of every Application, and why")
    p_status.add_argument("--json", action="store_true")
    p_status.set_defaults(func=run_status)
    p_down = sub.add_parser("down", help="remove the Applications, Argo CD and the git daemon")
    p_down.set_defaults(func=run_down)
    p_rel = subparsers.add_parser("release", help="build, push, commit the image to GitOps")
    p_rel.add_argument("--env", choices=ENVS, default="local")
    p_rel.add_argument(
        "--service",
        metavar="NAME",
        help="the service to release (default: the one the environment's Application deploys)",
    )
    p_rel.add_argument(
        "--timeout",
        type=float,
        default=300,
        help="seconds for the release to be Synced/Healthy before it is reverted",
    )
    p_rel.add_argument("--git-url", help="GitOps source to commit to (default: the local mirror)")
    p_rel.add_argument("--no-wait", action="store_true", help="commit and stop")
    p_rel.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="drills: a chart value faults.NAME carried by this release (e.g. unready=true)",
    )
    p_rel.add_argument(
        "--webhook-url",
        help=f"chat webhook for the announcements (default: {outcome.WEBHOOK_SOURCES})",
    )
    p_rel.set_defaults(func=run_release)
    for p in (p_up, p_status, p_down, p_rel):
        p.add_argument("--kubeconfig", help=argparse.SUPPRESS)


def run_up(args: argparse.Namespace) -> int:
    kubeconfig = lifecycle.cluster(args.kubeconfig, "up")
    print(lifecycle.up(args.env, timeout=args.timeout, kubeconfig=kubeconfig))
    return 0


def run_status(args: argparse.Namespace) -> int:
    text, ok = lifecycle.status(
        lifecycle.cluster(args.kubeconfig, "status", start=False), as_json=args.json
    )
    print(text)
    return 0 if ok else 1


def run_down(args: argparse.Namespace) -> int:
    lifecycle.down(lifecycle.cluster(args.kubeconfig, "down", start=False))
    return 0


def run_release(args: argparse.Namespace) -> int:
    line = outcome.publish_release(
        outcome.Options(
            args.env,
            git_url=args.git_url,
            timeout=args.timeout,
            wait=not args.no_wait,
            kubeconfig=args.kubeconfig,
            service=args.service,
            faults=tuple(args.fault),
            webhook_url=args.webhook_url,
        )
    )
    print(line)
    return 0
