"""``hello-platform``: the command the nox sessions call.

One convention: each feature's command lives in its ``<feature>/cli.py``, which exposes
``register(subparsers)`` (adding the sub-command with ``set_defaults(func=...)``) and only
parses, checks values and calls the feature's importable API. argparse is the one place that
knows the flags: the nox sessions pass their arguments straight through, so a bad flag or
action is named by argparse itself (exit status 2). A :class:`PlatformError` becomes one
line on stderr and exit status 2; nothing else is caught, so real bugs keep their traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from hello_platform.core.errors import PlatformError

#: The modules that contribute sub-commands (under ``hello_platform.``), in menu order.
#: Each is a feature's ``cli`` module.
COMMAND_MODULES: tuple[str, ...] = (
    "toolchain.cli",
    "pipeline.bench.cli",
    "substrate.cluster.cli",
    "pipeline.loadtest.cli",
    "pipeline.helm.cli",
    "pipeline.policy.cli",
    "pipeline.infra.cli",
    "pipeline.deploy.cli",
    "pipeline.image.cli",
    "pipeline.drill.cli",
    "pipeline.monitoring.cli",
    "pipeline.gitops.cli",
    "pipeline.promote.cli",
    "pipeline.rollouts.cli",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hello-platform", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(f"hello_platform.{name}").register(sub)
    return parser


def chosen_parser(
    parser: argparse.ArgumentParser, args: argparse.Namespace
) -> argparse.ArgumentParser:
    """The (sub-)parser of the command that ``args`` ran, e.g. ``hello-platform gitops up``."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            name = getattr(args, action.dest, None)
            if name in action.choices:
                return chosen_parser(action.choices[name], args)
    return parser


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse ``argv``; an unknown flag is named by the command it was given to, with that
    command's usage (``hello-platform deploy: error: unrecognized arguments: --bogus``)."""
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:
        chosen_parser(parser, args).error(f"unrecognized arguments: {' '.join(extra)}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    try:
        result: int | None = args.func(args)
    except PlatformError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return result or 0


if __name__ == "__main__":
    sys.exit(main())
