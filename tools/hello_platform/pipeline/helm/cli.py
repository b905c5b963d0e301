"""``hello-platform helm check|render|schemas``: the flags, over the helm package API."""

from __future__ import annotations

import argparse
from pathlib import Path

from hello_platform.core import catalogue
from hello_platform.core import cli as shared
from hello_platform.core.errors import PlatformError
from hello_platform.pipeline.helm.chart import (
    helm_binary,
    kubernetes_version,
    profile_files,
    render,
)
from hello_platform.pipeline.helm.schemas import ensure_schemas
from hello_platform.pipeline.helm.verify import check, running_cluster, variant_names


def chosen_profiles(service: catalogue.Service, asked: list[str] | None) -> list[str] | None:
    known = variant_names(service)
    for name in asked or ():
        if name not in known:
            raise PlatformError(
                f"service '{service.name}' has no chart profile '{name}'",
                hint=f"use one of: {', '.join(known)}",
            )
    return asked


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "helm",
        help="static checks of a service's chart, and rendering it",
        description="Static checks of a service's chart (services/catalogue.toml): helm lint "
        "--strict, helm template and kubeconform against the pinned Kubernetes version, for "
        "every values profile.",
    )
    sub = parser.add_subparsers(dest="action", required=True)
    chk = sub.add_parser("check", help="lint + render + kubeconform every profile")
    shared.add_service(chk)
    chk.add_argument(
        "--profile",
        action="append",
        help="only this profile (repeatable; default: all, plus 'features', 'requests')",
    )
    chk.add_argument(
        "--server",
        action="store_true",
        help="also apply each render with a server-side dry run (embedded cluster if it is up)",
    )
    chk.add_argument("--kubeconfig", type=Path, help="cluster for --server")
    chk.set_defaults(func=run_check)
    ren = sub.add_parser("render", help="print the manifests of a profile")
    shared.add_service(ren)
    ren.add_argument("--profile", default="local", help="values profile (default: local)")
    ren.add_argument(
        "--values",
        "-f",
        action="append",
        type=Path,
        default=[],
        help="extra values file (repeatable)",
    )
    ren.add_argument(
        "--set", action="append", default=[], dest="sets", help="key=value (repeatable)"
    )
    ren.set_defaults(func=run_render)
    sch = sub.add_parser("schemas", help="generate the Kubernetes JSON schemas; print their dir")
    sch.set_defaults(func=run_schemas)


def run_check(args: argparse.Namespace) -> int:
    service = shared.service(args)
    names = chosen_profiles(service, args.profile)
    server = running_cluster(args.kubeconfig) if args.server else None
    for line in check(service, names, server=server):
        print(line)
    return 0


def run_render(args: argparse.Namespace) -> int:
    for f in args.values:
        if not f.is_file():
            raise PlatformError(f"values file {f} does not exist")
    service = shared.service(args)
    files = [*profile_files(service, args.profile), *args.values]
    version = kubernetes_version()
    rendered = render(
        helm_binary(), service, values_files=files, sets=args.sets, kube_version=version
    )
    print(rendered, end="")
    return 0


def run_schemas(args: argparse.Namespace) -> int:
    print(ensure_schemas(kubernetes_version()))
    return 0
