"""Copy an image by digest between registries: manifests byte for byte (so the digest cannot
change), blobs skipped, mounted or read and pushed; verified by reading the digest back."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from hello_platform.clients import oci
from hello_platform.clients.oci import OCI_INDEX
from hello_platform.core.errors import PlatformError

INDEX_TYPES = (OCI_INDEX, oci.DOCKER_LIST)


@dataclass(frozen=True)
class Repo:
    client: oci.Client
    repository: str

    @property
    def name(self) -> str:
        return f"{self.client.registry.address}/{self.repository}"


@dataclass
class Copied:
    digest: str
    manifests: int = 0
    blobs_copied: int = 0
    blobs_mounted: int = 0
    blobs_present: int = 0
    bytes_copied: int = 0
    #: The sizes of every blob the manifests name (what a cold copy moves).
    bytes_total: int = 0
    seconds: float = 0.0
    media_types: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def fetch_manifest(repo: Repo, reference: str) -> tuple[bytes, str]:
    got = repo.client.call(
        "GET", f"/v2/{repo.repository}/manifests/{reference}", headers=oci.ACCEPT
    )
    if got.status_code == 404:
        raise PlatformError(f"{repo.name} has no manifest {reference}")
    if got.status_code != 200:
        raise PlatformError(f"{repo.name} answered {got.status_code} for the manifest {reference}")
    media = got.headers.get("content-type", "").split(";")[0].strip()
    if not media or media == "application/json":
        media = str(json.loads(got.content).get("mediaType") or oci.OCI_MANIFEST)
    return got.content, media


def mount(src: Repo, dst: Repo, digest: str) -> bool:
    """Mount ``digest`` from ``src`` (same registry only); True if it did."""
    if src.client.registry.address != dst.client.registry.address:
        return False
    path = f"/v2/{dst.repository}/blobs/uploads/?mount={digest}&from={src.repository}"
    return dst.client.call("POST", path).status_code == 201


def copy_blob(src: Repo, dst: Repo, digest: str, done: Copied) -> None:
    if dst.client.call("HEAD", f"/v2/{dst.repository}/blobs/{digest}").status_code == 200:
        done.blobs_present += 1
    elif mount(src, dst, digest):
        done.blobs_mounted += 1
    else:
        # A redirect to storage is followed without the login, as presigned URLs want.
        got = src.client.call("GET", f"/v2/{src.repository}/blobs/{digest}")
        if got.status_code in (301, 302, 303, 307, 308) and "location" in got.headers:
            try:
                got = httpx.get(got.headers["location"], timeout=120)
            except httpx.HTTPError as err:
                raise PlatformError(f"the storage of {src.name} did not answer ({err})") from err
        if got.status_code != 200:
            raise PlatformError(f"{src.name} answered {got.status_code} for the blob {digest}")
        data = got.content
        if oci.digest_of(data) != digest:
            raise PlatformError(f"the blob {digest} of {src.name} does not match its digest")
        dst.client.push_blob(dst.repository, data)
        done.blobs_copied += 1
        done.bytes_copied += len(data)


def copy_manifest(src: Repo, dst: Repo, digest: str, done: Copied) -> tuple[bytes, str]:
    body, media = fetch_manifest(src, digest)
    if oci.digest_of(body) != digest:
        raise PlatformError(f"the manifest {digest} of {src.name} does not match its digest")
    doc = json.loads(body)
    if media in INDEX_TYPES:
        for child in doc.get("manifests") or []:
            copy_manifest(src, dst, str(child["digest"]), done)
    else:
        for blob in [doc["config"], *(doc.get("layers") or [])]:
            copy_blob(src, dst, str(blob["digest"]), done)
            done.bytes_total += int(blob.get("size") or 0)
    dst.client.push_manifest(dst.repository, digest, body, media)
    done.manifests += 1
    done.media_types.append(media)
    return body, media


def copy(src: Repo, dst: Repo, digest: str, tag: str) -> Copied:
    start = time.monotonic()
    done = Copied(digest)
    body, media = copy_manifest(src, dst, digest, done)
    dst.client.push_manifest(dst.repository, tag, body, media)
    by_tag = dst.client.manifest_digest(dst.repository, tag)
    by_digest = oci.digest_of(fetch_manifest(dst, digest)[0])
    if by_tag != digest or by_digest != digest:
        raise PlatformError(
            f"the copy to {dst.name} reads back as {by_tag or 'nothing'} (tag {tag}) and "
            f"{by_digest} (by digest), not {digest}"
        )
    done.seconds = round(time.monotonic() - start, 2)
    return done
