"""``hello-platform policy [PATH ...]`` (``nox -s policy``)."""

from __future__ import annotations

import argparse

from hello_platform.core import cli as shared
from hello_platform.pipeline.policy.run import gate


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "policy",
        help="the policy gate: Rego (opa, conftest), checkov and tflint over the repo or PATHs",
        description="Check the Rego policies (opa fmt, opa check --strict, opa test), then "
        "the repository (or the files and folders given: Terraform, plan JSON, charts, "
        "manifests, Dockerfiles, workflows, Argo CD manifests) with conftest, checkov and "
        "tflint. Findings are grouped by file and rule id; any finding fails.",
    )
    parser.add_argument(
        "paths", nargs="*", metavar="PATH", help="files or folders (default: the repository)"
    )
    shared.add_service(parser)
    parser.add_argument(
        "--profile",
        action="append",
        help="only this chart profile of the service (repeatable; default: all, plus "
        "'features', 'requests')",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    gate(args.paths or None, shared.service(args), args.profile)
    return 0
