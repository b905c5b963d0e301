"""``hello-platform monitoring up [--no-keda] | status``."""

from __future__ import annotations

import argparse

from hello_platform.core.progress import say
from hello_platform.pipeline.monitoring import prometheus, stack


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "monitoring",
        help="Prometheus and KEDA on the embedded cluster",
        description="Prometheus (namespace monitoring) and KEDA (namespace keda), pinned.",
    )
    sub = parser.add_subparsers(dest="action", required=True)
    p_up = sub.add_parser("up", help="build the images, apply the manifests, wait (idempotent)")
    p_up.add_argument("--no-keda", action="store_true", help="only Prometheus")
    p_up.set_defaults(func=run_up)
    sub.add_parser("status", help="the Deployments' readiness").set_defaults(func=run_status)


def run_up(args: argparse.Namespace) -> int:
    stack.up(with_keda=not args.no_keda)
    say(f"Prometheus answers on {prometheus.API}")
    return 0


def run_status(args: argparse.Namespace) -> int:
    print(stack.status())
    return 0
