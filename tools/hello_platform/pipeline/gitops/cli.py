"""``hello-platform gitops ...`` and ``hello-platform release``: the flags."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hello_platform.core.errors import PlatformError
from hello_platform.pipeline.gitops import envs, lifecycle, outcome, release
from hello_platform.pipeline.image import cli as image_cli


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("gitops", help="Argo CD on a cluster, and its environments")
    sub = parser.add_subparsers(dest="action", required=True)
    p_up = sub.add_parser("up", help="install Argo CD, publish the repo, sync the apps")
    p_up.add_argument("--env", choices=(*release.NODE_PORTS, *envs.REMOTE_ENVS), default="local")
    p_up.add_argument("--timeout", type=float, default=600, help="seconds to wait for sync")
    p_up.add_argument(
        "--repo-url",
        help="the git repository Argo CD syncs from (default, local: the git daemon's mirror)",
    )
    p_up.add_argument("--kubeconfig", help="any cluster (default: the embedded one)")
    p_up.add_argument(
        "--with-requests",
        action="store_true",
        help="eks: also KEDA and Prometheus (apps/requests), for autoscaling.mode requests",
    )
    p_up.set_defaults(func=run_up)
    p_check = sub.add_parser(
        "check", help="an environment's pins, Applications and renders: kubeconform, policy"
    )
    p_check.add_argument("--env", choices=envs.REMOTE_ENVS, default=envs.REMOTE_ENVS[0])
    p_check.set_defaults(func=run_check)
    p_vals = sub.add_parser(
        "cluster-values", help="write an environment's cluster values from `tofu output -json`"
    )
    p_vals.add_argument("--env", choices=envs.REMOTE_ENVS, default=envs.REMOTE_ENVS[0])
    p_vals.add_argument("outputs", help="`tofu output -json` of the cluster layer (- = stdin)")
    p_vals.add_argument("--acm-certificate-arn", help="the ALB's certificate (ACM ARN)")
    p_vals.add_argument("--commit", action="store_true", help="commit the files written")
    p_vals.set_defaults(func=run_cluster_values)
    p_status = sub.add_parser("status", help="sync and health of every Application, and why")
    p_status.add_argument("--json", action="store_true")
    p_status.set_defaults(func=run_status)
    p_down = sub.add_parser("down", help="remove the Applications, Argo CD and the git daemon")
    p_down.set_defaults(func=run_down)
    p_rel = _register_release(subparsers)
    for p in (p_status, p_down, p_rel):
        p.add_argument("--kubeconfig", help=argparse.SUPPRESS)


def _register_release(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    p_rel = subparsers.add_parser("release", help="build, push, commit the image to GitOps")
    p_rel.add_argument("--env", choices=tuple(release.NODE_PORTS), default="local")
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
    image_cli.add_registry_arguments(p_rel)
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
    return p_rel


def run_up(args: argparse.Namespace) -> int:
    if args.env in envs.REMOTE_ENVS and not args.kubeconfig:
        raise PlatformError(
            f"--env {args.env} installs onto a cluster of its own", hint="give --kubeconfig"
        )
    kubeconfig = lifecycle.cluster(args.kubeconfig, "up")
    print(
        lifecycle.up(
            args.env,
            timeout=args.timeout,
            kubeconfig=kubeconfig,
            repo_url=args.repo_url,
            optional=args.with_requests,
        )
    )
    return 0


def run_check(args: argparse.Namespace) -> int:
    from hello_platform.pipeline.gitops import envcheck

    for line in envcheck.check(args.env):
        print(line)
    return 0


def run_cluster_values(args: argparse.Namespace) -> int:
    from hello_platform.pipeline.gitops import clustervalues as cv

    text = sys.stdin.read() if args.outputs == "-" else Path(args.outputs).read_text()
    values = cv.cluster_values(cv.read_outputs(text), args.acm_certificate_arn)
    written = cv.write(args.env, values)
    for path in written:
        print(f"wrote {path}")
    if args.commit:
        commit = cv.commit(args.env, written)
        print(f"committed {commit[:12]}" if commit else "unchanged: nothing to commit")
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
    print(outcome.publish_release(args))
    return 0
