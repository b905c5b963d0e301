"""What every feature's ``cli.py`` shares: its command's help, and ``--service`` (the service
catalogue)."""

from __future__ import annotations

import argparse
from types import ModuleType

from hello_platform.core import catalogue


def add_command(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    feature: ModuleType,
    *,
    help: str,
) -> argparse.ArgumentParser:
    """The sub-command named as the feature package, its docstring as its ``--help``."""
    return subparsers.add_parser(
        feature.__name__.rpartition(".")[2],
        help=help,
        description=feature.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def add_service(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--service",
        metavar="NAME",
        help=f"the service of {catalogue.CATALOGUE} to work on (default: the catalogue's default)",
    )


def service(args: argparse.Namespace) -> catalogue.Service:
    return catalogue.service(getattr(args, "service", None))
