"""``hello-platform drill``: the flags, over the drill package API."""

from __future__ import annotations

import argparse

from hello_platform.core import cli as shared
from hello_platform.pipeline import drill as api
from hello_platform.pipeline.drill.drills import NAMES
from hello_platform.pipeline.drill.load import DEFAULT_RPS
from hello_platform.pipeline.rollouts import drills as canary


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = shared.add_command(
        subparsers,
        api,
        help="failure drills under steady load (pod delete, rollouts, kills, restart)",
    )
    shared.add_service(parser)
    parser.add_argument(
        "--only",
        nargs="+",
        default=[],
        metavar="NAME",
        help=f"run these: {', '.join(NAMES)}; or the canary drills (Prometheus and Argo "
        f"Rollouts; only when named): {', '.join(canary.NAMES)}",
    )
    add_rps(parser)
    parser.set_defaults(func=run)


def add_rps(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--rps", type=float, default=DEFAULT_RPS, help=f"requests a second (default {DEFAULT_RPS})"
    )


def run(args: argparse.Namespace) -> int:
    canaries = [n for n in args.only if n in canary.NAMES]
    others = [n for n in args.only if n not in canaries]
    if others or not canaries:
        api.run(shared.service(args), others, args.rps)
    if canaries:
        api.run(shared.service(args), canaries, args.rps, canary.DRILLS, canary.setup)
    return 0
