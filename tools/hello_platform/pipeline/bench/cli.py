"""``hello-platform bench``: the flags, over the bench package API."""

from __future__ import annotations

import argparse
from dataclasses import fields

from hello_platform.core import cli as shared
from hello_platform.pipeline import bench as api
from hello_platform.pipeline.bench.flow import Settings, bench
from hello_platform.pipeline.bench.results import PAIRS


def run(args: argparse.Namespace) -> int:
    settings = Settings(**{f.name: getattr(args, f.name) for f in fields(Settings)})
    bench(shared.service(args), settings)
    return 0


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = shared.add_command(
        subparsers, api, help="what the service's stack costs: two pairs of servers side by side"
    )
    shared.add_service(parser)
    parser.add_argument("--duration", type=_positive_int, default=5, help="seconds per run")
    parser.add_argument("--rounds", type=_positive_int, default=5, help="rounds per pair")
    parser.add_argument("--warmup", type=int, default=2, help="warm-up seconds per side")
    parser.add_argument("--connections", type=_positive_int, default=64, help="wrk connections")
    parser.add_argument(
        "--pair",
        action="append",
        choices=[p.name for p in PAIRS],
        help="measure only this pair (repeatable; default: all)",
    )
    parser.add_argument("--no-assert", action="store_true", help="report, never fail on a goal")
    parser.add_argument("--server-cpu", type=int, default=1, help="core for uvicorn (default: 1)")
    parser.add_argument("--client-cpu", type=int, default=0, help="core for wrk (default: 0)")
    parser.set_defaults(func=run)
