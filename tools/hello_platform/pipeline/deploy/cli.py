"""``hello-platform deploy``: the flags, over :mod:`hello_platform.pipeline.deploy`."""

from __future__ import annotations

import argparse

from hello_platform.pipeline import deploy as api
from hello_platform.pipeline import helm
from hello_platform.pipeline.deploy import DEFAULT_NAMESPACE, DEFAULT_TIMEOUT


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--kubeconfig", help="deploy to this cluster instead of the embedded one")
    parser.add_argument("--context", help="kubeconfig context (with --kubeconfig)")
    parser.add_argument(
        "--profile",
        choices=list(helm.PROFILES),
        default="local",
        help="values profile (default: local)",
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
        default=DEFAULT_NAMESPACE,
        help=f"namespace (default: {DEFAULT_NAMESPACE})",
    )
    parser.add_argument(
        "--release", default=helm.RELEASE, help=f"release name (default: {helm.RELEASE})"
    )
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


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "deploy",
        help="build, push and helm-release the service, then test it",
        description=api.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    opts = api.options(args)
    result = api.deploy(opts)
    api.write_summary(result)
    print(api.how_to_reach(result, opts))
    return 0
