"""``hello-platform image build``: the flags, over the image package API."""

from __future__ import annotations

import argparse

from hello_platform.core import cli as shared
from hello_platform.pipeline.image import target
from hello_platform.pipeline.image.builder import build


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("image", help="build the hardened service image")
    sub = parser.add_subparsers(dest="action", required=True)
    b = sub.add_parser("build", help="build (and push) the service image; see `nox -s build`")
    shared.add_service(b)
    b.add_argument(
        "--no-push",
        action="store_true",
        help="build and tag locally only; do not start or push to the registry",
    )
    b.add_argument(
        "--refresh-base",
        action="store_true",
        help="recreate the Debian base image (pulls new security fixes)",
    )
    target.add_arguments(b)
    b.set_defaults(func=run_build)


def run_build(args: argparse.Namespace) -> int:
    result = build(
        shared.service(args),
        push=not args.no_push,
        refresh_base=args.refresh_base,
        target=target.from_args(args),
    )
    print(f"image:  {result.ref}")
    print(f"digest: {result.digest or '(not pushed)'}")
    print(f"id:     {result.image_id}")
    print(f"size:   {result.size_bytes / 1e6:.1f} MB ({result.size_bytes} bytes)")
    print(f"sbom:   {result.sbom}")
    return 0
