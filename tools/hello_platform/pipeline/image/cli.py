"""``hello-platform image build``: the flags, over the image package API."""

from __future__ import annotations

import argparse

from hello_platform.clients import oci
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
    add_registry_arguments(b)
    b.set_defaults(func=run_build)


def add_registry_arguments(parser: argparse.ArgumentParser) -> None:
    """The registry flags of every session that pushes or pulls a service image."""
    group = parser.add_argument_group("registry (default: the local one on 127.0.0.1:5000)")
    group.add_argument(
        "--registry",
        metavar="HOST[:PORT][/NAMESPACE]",
        help="push to this registry over TLS, e.g. ACCOUNT.dkr.ecr.REGION.amazonaws.com "
        f"or ghcr.io/OWNER (default: ${target.REGISTRY_ENV}, else the local one)",
    )
    group.add_argument(
        "--registry-username",
        metavar="USER",
        help=f"log in as USER (password: ${oci.PASSWORD_ENV} or --registry-password-stdin; "
        "default: Docker's config.json login for the host)",
    )
    group.add_argument(
        "--registry-password-stdin",
        action="store_true",
        help="read the password from stdin (`aws ecr get-login-password | ...`)",
    )
    group.add_argument(
        "--registry-ca",
        metavar="PEM",
        help="CA bundle to verify the registry's TLS certificate (default: the system's)",
    )


def registry_of(args: argparse.Namespace, host: str | None = None) -> oci.Registry | None:
    """The registry of the flags (``host`` when a given image names it; None: the local)."""
    return target.resolve(
        args.registry or host,
        username=args.registry_username,
        password_stdin=args.registry_password_stdin,
        ca_file=args.registry_ca,
    )


def run_build(args: argparse.Namespace) -> int:
    result = build(
        shared.service(args),
        push=not args.no_push,
        refresh_base=args.refresh_base,
        target=registry_of(args),
    )
    print(f"image:  {result.ref}")
    print(f"digest: {result.digest or '(not pushed)'}")
    print(f"id:     {result.image_id}")
    print(f"size:   {result.size_bytes / 1e6:.1f} MB ({result.size_bytes} bytes)")
    print(f"sbom:   {result.sbom}")
    return 0
