"""``hello-platform loadtest``: the flags, over :mod:`hello_platform.pipeline.loadtest.runner`."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from hello_platform.core.errors import PlatformError
from hello_platform.pipeline import loadtest as api
from hello_platform.pipeline.loadtest.runner import (
    MODES,
    REQUESTS_NAMESPACE,
    REQUESTS_NODE_PORT,
    Options,
    run,
)


def _positive(kind: type[int] | type[float]) -> Any:
    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from exc
        if value <= 0:
            raise argparse.ArgumentTypeError(f"{text} must be greater than 0")
        return value

    return parse


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    d = Options()
    p = subparsers.add_parser(
        "loadtest",
        help="drive the HPA with Locust and assert that it scales",
        description=api.__doc__,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument(
        "--kubeconfig",
        type=Path,
        help="cluster with hello deployed; omitted: the embedded cluster",
    )
    p.add_argument("--url", help="load this loopback URL instead of the NodePort on 127.0.0.1")
    p.add_argument(
        "--mode",
        choices=MODES,
        default=d.mode,
        help="what the release scales on: cpu (the chart's HPA) or requests (KEDA on the "
        "request rate per pod; brings up Prometheus and KEDA, deploys into "
        f"{REQUESTS_NAMESPACE} on NodePort {REQUESTS_NODE_PORT})",
    )
    p.add_argument(
        "--namespace",
        help=f"namespace of the release (default: {d.namespace}; {REQUESTS_NAMESPACE} with "
        "--mode requests)",
    )
    p.add_argument("--release", default=d.release, help="Helm release (HPA/Service name)")
    add_load_arguments(p, d)
    p.add_argument("--out", type=Path, help="results folder; omitted: out/loadtest")
    p.set_defaults(func=main)


def add_load_arguments(p: argparse.ArgumentParser, d: Options) -> None:
    """The load's shape and the thresholds, each a positive number."""
    p.add_argument("--users", type=_positive(int), default=d.users, help="peak Locust users")
    p.add_argument(
        "--spawn-rate",
        type=_positive(float),
        default=d.spawn_rate,
        help="users started per second while ramping",
    )
    p.add_argument(
        "--user-rps", type=_positive(float), default=d.user_rps, help="requests per second per user"
    )
    p.add_argument(
        "--hold", type=_positive(float), default=d.hold_s, help="seconds to hold the peak load"
    )
    p.add_argument(
        "--p95-max-ms",
        type=_positive(float),
        default=d.p95_max_ms,
        help="p95 latency limit during the hold (ms)",
    )
    p.add_argument(
        "--min-replicas-reached",
        type=_positive(int),
        default=d.min_peak_replicas,
        help="replicas the HPA must reach",
    )
    p.add_argument(
        "--interval",
        type=_positive(float),
        default=d.interval_s,
        help="seconds between HPA samples",
    )


def main(args: argparse.Namespace) -> int:
    if args.hold > 600 or args.users > 500:
        raise PlatformError("the load test is bounded to --hold <= 600 s and --users <= 500")
    opts = Options(
        kubeconfig=args.kubeconfig.expanduser().resolve() if args.kubeconfig else None,
        url=args.url,
        namespace=args.namespace
        or (REQUESTS_NAMESPACE if args.mode == "requests" else Options.namespace),
        release=args.release,
        mode=args.mode,
        users=args.users,
        spawn_rate=args.spawn_rate,
        user_rps=args.user_rps,
        hold_s=args.hold,
        p95_max_ms=args.p95_max_ms,
        min_peak_replicas=args.min_replicas_reached,
        interval_s=args.interval,
        out=args.out,
    )
    return run(opts)
