"""Fetch an official release artifact whose SHA-256 is pinned for this platform.

A network failure means "build from source instead"; a digest mismatch is an error."""

from __future__ import annotations

import hashlib
import io
import platform
import tarfile
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

from hello_platform.core.errors import PlatformError
from hello_platform.core.progress import say
from hello_platform.toolchain.gobuild import BuildStats
from hello_platform.toolchain.pins import Download, Tool

TIMEOUT_SECONDS = 60.0
_ARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}


class UnavailableError(Exception):
    """The artifact could not be fetched: build from source instead."""


def platform_key() -> str:
    machine = platform.machine().lower()
    return f"{platform.system().lower()}-{_ARCH.get(machine, machine)}"


def usable(tool: Tool) -> Download | None:
    if tool.download is not None and platform_key() in tool.download.sha256:
        return tool.download
    return None


def _extract(data: bytes, url: str, wanted: dict[str, str]) -> dict[str, bytes]:
    """Binary name -> content, from a .tar.gz/.tgz/.zip or a bare binary."""
    files: dict[str, bytes] = {}
    if url.endswith((".tar.gz", ".tgz")):
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            for member in tar.getmembers():
                if (fh := tar.extractfile(member)) is not None and member.isfile():
                    files[member.name] = fh.read()
    elif url.endswith(".zip"):
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            files = {info.filename: zf.read(info) for info in zf.infolist()}
    elif len(wanted) == 1:
        return {next(iter(wanted)): data}
    return {
        name: content
        for name, path in wanted.items()
        for member, content in files.items()
        if member == path or member.endswith("/" + path)
    }


def fetch(tool: Tool, spec: Download, dest_bin: Path, log: Path, label: str = "") -> BuildStats:
    """``spec`` (the tool's :func:`usable` download) into ``dest_bin``."""
    os_name, arch = platform_key().split("-", 1)
    nov = tool.version.removeprefix("v")
    url = spec.url.format(version=tool.version, version_nov=nov, os=os_name, arch=arch)
    start = time.monotonic()
    say(f"{label}downloading {tool.name} {tool.version} from {url}")
    with log.open("a") as fh:
        fh.write(f"# download {url}\n")
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as resp:  # noqa: S310
            data = resp.read()
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        with log.open("a") as fh:
            fh.write(f"# download failed: {exc}\n")
        raise UnavailableError(f"download of {url} failed: {exc}") from exc
    digest = hashlib.sha256(data).hexdigest()
    pinned = spec.sha256[platform_key()]
    with log.open("a") as fh:
        fh.write(f"# sha256 {digest} (pinned {pinned}), {len(data)} bytes\n")
    if digest != pinned:
        raise PlatformError(
            f"the download of {tool.name} {tool.version} has SHA-256 {digest}, not the pinned "
            f"{pinned}, so it was not installed",
            hint=f"check [tools.{tool.name}.download] in toolchain.toml against the release's "
            "checksums file",
            log=str(log),
        )
    wanted = {b.name: spec.members.get(b.name, b.name) for b in tool.binaries}
    found = _extract(data, url, wanted)
    missing = sorted(set(wanted) - set(found))
    if missing:
        raise PlatformError(
            f"the release archive of {tool.name} has no {', '.join(missing)}",
            hint=f"set members in [tools.{tool.name}.download]",
            log=str(log),
        )
    dest_bin.mkdir(parents=True)
    for name, content in found.items():
        (dest_bin / name).write_bytes(content)
        (dest_bin / name).chmod(0o755)
    return BuildStats(time.monotonic() - start, 0.0, 0, how="downloaded")
