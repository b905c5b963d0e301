"""``hello-platform deploy``: the flags, over :mod:`hello_platform.pipeline.deploy`."""

from __future__ import annotations

import argparse

from hello_platform.core import cli as shared
from hello_platform.pipeline import deploy as api
from hello_platform.pipeline.deploy.flow import deploy, how_to_reach, write_summary
from hello_platform.pipeline.deploy.inputs import DEFAULT_TIMEOUT, options
from hello_platform.pipeline.image import cli as image_cli


def add_arguments(parser: argparse.ArgumentParser) -> None:
    shared.add_service(parser)
    parser.add_argument("--kubeconfig", help="deploy to this cluster instead of the embedded one")
    parser.add_argument("--context", help="kubeconfig context (with --kubeconfig)")
    parser.add_argument(
        "--profile",
        default="local",
        help="values profile: default or one of the service's (default: local)",
    )
    parser.add_argument(
        "--values",
        "-f",
        action="append",
        default=[],
        help="extra values file, applied after the profile (repeatable)",
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        dest="sets",
        help="key=value, applied last (repeatable)",
    )
    parser.add_argument(
        "--namespace",
        "-n",
        help="namespace (default: the service's, from services/catalogue.toml)",
    )
    parser.add_argument("--release", help="release name (default: the service's)")
    parser.add_argument(
        "--timeout",
        type=int,
        default=DEFAULT_TIMEOUT,
        help=f"seconds the rollout may take (default: {DEFAULT_TIMEOUT})",
    )
    parser.add_argument(
        "--image",
        help="release this pushed image (REPO:TAG[@DIGEST]) instead of building one",
    )
    parser.add_argument("--no-test", action="store_true", help="skip helm test")
    image_cli.add_registry_arguments(parser)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = shared.add_command(
        subparsers, api, help="build, push and helm-release a service, then test it"
    )
    add_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    opts = options(args)
    result = deploy(opts)
    write_summary(result)
    print(how_to_reach(result, opts))
    return 0
