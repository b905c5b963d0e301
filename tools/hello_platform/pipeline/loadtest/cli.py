"""``hello-platform loadtest``: the flags, over :mod:`hello_platform.pipeline.loadtest.runner`."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from hello_platform.core import catalogue
from hello_platform.core import cli as shared
from hello_platform.core.errors import PlatformError
from hello_platform.pipeline import loadtest as api
from hello_platform.pipeline.loadtest.options import MODES, REQUESTS_NODE_PORT, Options
from hello_platform.pipeline.loadtest.runner import run


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
    d = Options(service=catalogue.service())
    p = subparsers.add_parser(
        "loadtest",
        help="drive the HPA with Locust and assert that it scales",
        description=api.__doc__,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument(
        "--kubeconfig",
        type=Path,
        help="cluster with the service deployed; omitted: the embedded cluster",
    )
    shared.add_service(p)
    p.add_argument("--url", help="load this loopback URL instead of the NodePort on 127.0.0.1")
    p.add_argument(
        "--mode",
        choices=MODES,
        default=d.mode,
        help="what the release scales on: cpu (the chart's HPA) or requests (KEDA on the "
        "request rate per pod; brings up Prometheus and KEDA, deploys into "
        f"<the service's namespace>-keda on NodePort {REQUESTS_NODE_PORT})",
    )
    p.add_argument(
        "--namespace",
        help="namespace of the release (default: the service's; <that>-keda with --mode requests)",
    )
    p.add_argument("--release", help="Helm release (default: the service's)")
    add_load_arguments(p, d)
    p.add_argument("--out", type=Path, help="results folder; omitted: out/loadtest")
    p.set_defaults(func=main)


def add_load_arguments(p: argparse.ArgumentParser, d: Options) -> None:
    """The load's shape and the thresholds, each a positive number."""
    numbers: tuple[tuple[str, type[int] | type[float], float, str], ...] = (
        ("--users", int, d.users, "peak Locust users"),
        ("--spawn-rate", float, d.spawn_rate, "users started per second while ramping"),
        ("--user-rps", float, d.user_rps, "requests per second per user"),
        ("--hold", float, d.hold_s, "seconds to hold the peak load"),
        ("--p95-max-ms", float, d.p95_max_ms, "p95 latency limit during the hold (ms)"),
        ("--min-replicas-reached", int, d.min_peak_replicas, "replicas the HPA must reach"),
        ("--interval", float, d.interval_s, "seconds between HPA samples"),
    )
    for flag, kind, default, text in numbers:
        p.add_argument(flag, type=_positive(kind), default=default, help=text)


def main(args: argparse.Namespace) -> int:
    if args.hold > 600 or args.users > 500:
        raise PlatformError("the load test is bounded to --hold <= 600 s and --users <= 500")
    opts = Options(
        service=shared.service(args),
        kubeconfig=args.kubeconfig.expanduser().resolve() if args.kubeconfig else None,
        url=args.url,
        namespace=args.namespace or "",
        release=args.release or "",
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
