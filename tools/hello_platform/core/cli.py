"""The flag every feature's ``cli.py`` shares: ``--service`` (the service catalogue)."""

from __future__ import annotations

import argparse

from hello_platform.core import catalogue


def add_service(parser: argparse.ArgumentParser) -> None:
    """``--service NAME``: the catalogue entry the command works on."""
    parser.add_argument(
        "--service",
        metavar="NAME",
        help=f"the service of {catalogue.CATALOGUE} to work on (default: the catalogue's default)",
    )


def service(args: argparse.Namespace) -> catalogue.Service:
    """The service named by a parsed ``--service``, or the catalogue's default."""
    return catalogue.service(getattr(args, "service", None))
