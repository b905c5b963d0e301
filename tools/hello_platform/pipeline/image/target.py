"""Where an image goes: ``--registry`` and its login (the flags are in ``image/cli.py``).

None: the local plain registry on 127.0.0.1:5000; any other is spoken to over TLS."""

from __future__ import annotations

import os
from pathlib import Path

from hello_platform.clients import oci, ocicreds
from hello_platform.core.errors import PlatformError

LOCAL = "127.0.0.1:5000"
#: The registry when no ``--registry`` is given (CI sets it to the ECR login's registry).
REGISTRY_ENV = "HELLO_PLATFORM_REGISTRY"


def split(text: str) -> tuple[str, str]:
    host, _, namespace = text.strip().strip("/").partition("/")
    if not host or " " in text:
        raise PlatformError(
            f"--registry {text} is not of the form HOST[:PORT][/NAMESPACE]",
            hint="e.g. --registry 123456789012.dkr.ecr.us-east-1.amazonaws.com",
        )
    return host, namespace


def resolve(
    address: str | None,
    *,
    username: str | None = None,
    password_stdin: bool = False,
    ca_file: str | None = None,
) -> oci.Registry | None:
    """The registry ``address`` names (else ``$HELLO_PLATFORM_REGISTRY``), None if local."""
    address = address or os.environ.get(REGISTRY_ENV)
    if not address or address == LOCAL:
        if username or ca_file:
            raise PlatformError(
                "--registry-username and --registry-ca need --registry (the local registry "
                f"on {LOCAL} has no login)"
            )
        return None
    address, namespace = split(address)
    ca = Path(ca_file).expanduser() if ca_file else None
    if ca is not None and not ca.is_file():
        raise PlatformError(f"--registry-ca {ca} is not a file", hint="pass a PEM CA bundle")
    creds = ocicreds.resolve(address, username, password_stdin=password_stdin)
    return oci.Registry(address, credentials=creds, ca=ca, namespace=namespace)
