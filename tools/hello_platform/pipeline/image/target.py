"""Where an image goes: ``--registry`` and its login, shared by build, deploy and release.

No ``--registry``: the local plain registry on 127.0.0.1:5000 (started on demand). Any
other registry is spoken to over TLS, verified against the system's trust store or
``--registry-ca``, with the login from ``--registry-username`` (password in
``$HELLO_PLATFORM_REGISTRY_PASSWORD`` or ``--registry-password-stdin``) or Docker's
``config.json`` (:mod:`hello_platform.clients.ocicreds`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from hello_platform.clients import oci, ocicreds
from hello_platform.core.errors import PlatformError

LOCAL = "127.0.0.1:5000"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The registry flags of every session that pushes or pulls a service image."""
    group = parser.add_argument_group("registry (default: the local one on 127.0.0.1:5000)")
    group.add_argument(
        "--registry",
        metavar="HOST[:PORT][/NAMESPACE]",
        help="push to this registry over TLS, e.g. ACCOUNT.dkr.ecr.REGION.amazonaws.com "
        "or ghcr.io/OWNER",
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


def split(text: str) -> tuple[str, str]:
    """``HOST[:PORT][/NAMESPACE]`` as ``(host, namespace)``."""
    host, _, namespace = text.strip().strip("/").partition("/")
    if not host or " " in text:
        raise PlatformError(
            f"--registry {text} is not of the form HOST[:PORT][/NAMESPACE]",
            hint="e.g. --registry 123456789012.dkr.ecr.us-east-1.amazonaws.com",
        )
    return host, namespace


def from_args(args: argparse.Namespace, host: str | None = None) -> oci.Registry | None:
    """The registry the flags name (``host`` when the image names it), or None for the
    local one."""
    address = args.registry or host
    if not address or address == LOCAL:
        if args.registry_username or args.registry_ca:
            raise PlatformError(
                "--registry-username and --registry-ca need --registry (the local registry "
                f"on {LOCAL} has no login)"
            )
        return None
    address, namespace = split(address)
    ca = Path(args.registry_ca).expanduser() if args.registry_ca else None
    if ca is not None and not ca.is_file():
        raise PlatformError(f"--registry-ca {ca} is not a file", hint="pass a PEM CA bundle")
    creds = ocicreds.resolve(
        address, args.registry_username, password_stdin=args.registry_password_stdin
    )
    return oci.Registry(address, credentials=creds, ca=ca, namespace=namespace)
