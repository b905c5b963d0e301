"""The registry side: a tag's manifest, and whether a build is pushed, reused or refused."""

from __future__ import annotations

import hashlib
import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Literal

from hello_platform.core.errors import PlatformError

MANIFEST_ACCEPT = ", ".join(
    [
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
    ]
)


@dataclass(frozen=True)
class RemoteImage:
    """A tag in the registry: its manifest digest and its config digest (= Docker image ID)."""

    digest: str
    config_digest: str


class RegistryClient:
    """Just enough of the registry HTTP API (v2) to read a tag's manifest."""

    def __init__(self, address: str, *, timeout: float = 10.0) -> None:
        self.address = address
        self.timeout = timeout

    def manifest(self, repository: str, tag: str) -> RemoteImage | None:
        """The image behind ``repository:tag``, or None when the tag does not exist."""
        url = f"http://{self.address}/v2/{repository}/manifests/{tag}"
        req = urllib.request.Request(url, headers={"Accept": MANIFEST_ACCEPT})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # noqa: S310 - http://
                body = resp.read()
                digest = resp.headers.get("Docker-Content-Digest") or (
                    "sha256:" + hashlib.sha256(body).hexdigest()
                )
        except urllib.error.HTTPError as err:
            if err.code == 404:
                return None
            raise PlatformError(
                f"the registry at {self.address} answered {err.code} for {repository}:{tag}"
            ) from err
        except OSError as err:
            raise PlatformError(
                f"the registry at {self.address} did not answer ({err})",
                hint="start it with `hello-platform cluster up`",
            ) from err
        try:
            config = json.loads(body)["config"]["digest"]
        except (ValueError, KeyError, TypeError) as err:
            raise PlatformError(
                f"{repository}:{tag} in the registry is not a single-platform image manifest"
            ) from err
        return RemoteImage(digest=str(digest), config_digest=str(config))


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
    """Whether to reuse the registry's image of this tag instead of building it again.

    A clean tag names one commit and is immutable, so once it is in the registry it *is*
    that commit's image: build once, deploy many. Rebuilding would only differ in file
    times (the classic builder is not byte-reproducible across checkouts) and be refused.
    Dirty scratch tags are always rebuilt; ``--refresh-base`` asks for a rebuild (and its
    push is then refused by :func:`decide_push` if the content differs).
    """
    return remote is not None and not dirty and not refresh_base
