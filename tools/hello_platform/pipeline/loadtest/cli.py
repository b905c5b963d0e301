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


#: The load's shape and the thresholds, each a positive number: flag, Options field, type, help.
LOAD_ARGUMENTS: tuple[tuple[str, str, type[int] | type[float], str], ...] = (
    ("--users", "users", int, "peak Locust users"),
    ("--spawn-rate", "spawn_rate", float, "users started per second while ramping"),
    ("--user-rps", "user_rps", float, "requests per second per user"),
    ("--hold", "hold_s", float, "seconds to hold the peak load"),
    ("--p95-max-ms", "p95_max_ms", float, "p95 latency limit during the hold (ms)"),
    ("--min-replicas-reached", "min_peak_replicas", int, "replicas the HPA must reach"),
    ("--interval", "interval_s", float, "seconds between HPA samples"),
)


def add_load_arguments(p: argparse.ArgumentParser, d: Options) -> None:
    for flag, name, kind, text in LOAD_ARGUMENTS:
        p.add_argument(
            flag,
            dest=name,
            metavar=flag.removeprefix("--").replace("-", "_").upper(),
            type=_positive(kind),
            default=getattr(d, name),
            help=text,
        )


def main(args: argparse.Namespace) -> int:
    if args.hold_s > 600 or args.users > 500:
        raise PlatformError("the load test is bounded to --hold <= 600 s and --users <= 500")
    opts = Options(
        service=shared.service(args),
        kubeconfig=args.kubeconfig.expanduser().resolve() if args.kubeconfig else None,
        url=args.url,
        namespace=args.namespace or "",
        release=args.release or "",
        mode=args.mode,
        out=args.out,
        **{name: getattr(args, name) for _, name, _, _ in LOAD_ARGUMENTS},
    )
    return run(opts)
