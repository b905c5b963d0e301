"""``hello-platform rollouts up|status|down|outcome|drill``."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict

from hello_platform.clients.kube import Kube
from hello_platform.core.cli import add_service, service
from hello_platform.pipeline import drill
from hello_platform.pipeline.drill.cli import add_rps
from hello_platform.pipeline.rollouts import addon, drills
from hello_platform.pipeline.rollouts.outcome import PROMOTED, rollout_outcome
from hello_platform.substrate import addons


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "rollouts",
        help="Argo Rollouts on the embedded cluster: up, status, down, outcome",
        description="The pinned Argo Rollouts controller (namespace argo-rollouts), which "
        "runs the chart's canary and blueGreen strategies (rollout.strategy).",
    )
    sub = parser.add_subparsers(dest="action", required=True)
    p_up = sub.add_parser("up", help="build the image, apply the CRDs and the controller, wait")
    p_up.set_defaults(func=run_up)
    sub.add_parser("status", help="the controller's readiness").set_defaults(func=run_status)
    sub.add_parser(
        "down", help="remove the controller and its CRDs (every Rollout and its pods go too)"
    ).set_defaults(func=run_down)
    p_out = sub.add_parser("outcome", help="a Rollout's state as JSON (exit 0 only when promoted)")
    add_service(p_out)
    p_out.add_argument("--name", help="the Rollout (default: the service's release name)")
    p_out.add_argument("--namespace", help="its namespace (default: the service's)")
    p_out.set_defaults(func=run_outcome)
    p_drill = sub.add_parser(
        "drill",
        help="canary drills under steady load on 127.0.0.1 (good: promoted; bad: aborted)",
        description=drills.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_service(p_drill)
    p_drill.add_argument(
        "--only", nargs="+", default=[], choices=drills.NAMES, metavar="NAME",
        help=f"run these: {', '.join(drills.NAMES)}",
    )  # fmt: skip
    add_rps(p_drill)
    p_drill.set_defaults(func=run_drill)


def _kube(action: str, *, start: bool = False) -> Kube:
    from hello_platform.substrate.cluster import ensure_up, require_up

    return Kube(ensure_up() if start else require_up(f"nox -s rollouts -- {action}"))


def run_up(args: argparse.Namespace) -> int:
    addons.up(_kube("up", start=True), addon.ADDON)
    return 0


def run_status(args: argparse.Namespace) -> int:
    rows = addons.status(_kube("status"), addon.ADDON)
    for r in rows:
        state = "ok" if r.ok else "NOT READY"
        print(f"{r.addon} ({addon.NAMESPACE}) {r.part}: {state} ({r.detail})")
    return 0 if all(r.ok for r in rows) else 1


def run_down(args: argparse.Namespace) -> int:
    addons.down(_kube("down"), addon.ADDON)
    return 0


def run_outcome(args: argparse.Namespace) -> int:
    svc = service(args)
    found = rollout_outcome(
        _kube("outcome"), args.name or svc.release, args.namespace or svc.namespace
    )
    print(json.dumps({**asdict(found), "sentence": found.sentence()}, indent=2))
    return 0 if found.state == PROMOTED else 1


def run_drill(args: argparse.Namespace) -> int:
    drill.run(service(args), args.only, args.rps, drills.DRILLS, drills.setup)
    return 0
