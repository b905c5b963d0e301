"""``hello-platform``: the command the nox sessions call.

Each feature module exposes ``register(subparsers)``, adding its sub-command with
``set_defaults(func=...)``. A :class:`PlatformError` becomes one line on stderr and
exit status 2; nothing else is caught, so real bugs keep their traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from hello_platform.core.errors import PlatformError

#: Modules that contribute sub-commands, in menu order.
COMMAND_MODULES: tuple[str, ...] = (
    "toolchain",
    "pipeline.bench",
    "substrate.cluster",
    "pipeline.loadtest",
    "pipeline.helm",
    "pipeline.policy",
    "pipeline.infra",
    "pipeline.deploy",
    "pipeline.image",
    "pipeline.drill",
    "pipeline.monitoring",
    "pipeline.gitops",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hello-platform", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(f"hello_platform.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
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
