"""Whether a build is pushed, reused or refused, given the registry's manifest of its tag."""

from __future__ import annotations

from typing import Literal

from hello_platform.clients.oci import RemoteImage
from hello_platform.core.errors import PlatformError


def decide_push(
    ref: str, *, local_id: str, remote: RemoteImage | None, dirty: bool
) -> Literal["push", "skip", "overwrite"]:
    """Whether to push ``ref``: new tag → push; same content → skip; else refuse (or, for a
    ``-dirty`` scratch tag, overwrite)."""
    if remote is None:
        return "push"
    if remote.config_digest == local_id:
        return "skip"
    if dirty:
        return "overwrite"
    raise PlatformError(
        f"refusing to push {ref}: the registry already has that tag with different content "
        f"(image {remote.config_digest[7:19]}, this build {local_id[7:19]}), and tags are "
        "immutable",
        hint="commit your change to get a new tag; if only the local Docker cache was pruned, "
        f"`docker pull {ref}` reuses the pushed image",
    )


def reuse_pushed(remote: RemoteImage | None, *, dirty: bool, refresh_base: bool) -> bool:
    """Reuse the pushed image of a clean (immutable) tag: a rebuild would differ only in file
    times (the classic builder is not byte-reproducible across checkouts) and be refused."""
    return remote is not None and not dirty and not refresh_base
