"""What is built: the version, revision and tag of the source, and the docker build command."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import time
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from hello_platform.core import proc
from hello_platform.core.catalogue import Service
from hello_platform.core.errors import PlatformError
from hello_platform.substrate import baseimage

#: What every image is made from besides its service's folder and Dockerfile.
COMMON_INPUTS: tuple[str, ...] = (
    "uv.lock",
    "pyproject.toml",
    "tools/hello_platform/pipeline/image",
    "tools/hello_platform/substrate/baseimage.py",
)


def image_inputs(service: Service) -> tuple[str, ...]:
    own = {str(p.relative_to(service.root)) for p in (service.folder, service.dockerfile)}
    return (*sorted(own), *COMMON_INPUTS)


def local_repository(service: Service) -> str:
    return f"hello-platform/{service.repository}"


_TAG_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


@dataclass(frozen=True)
class Source:
    """Where an image comes from: the service version and the state of the checkout."""

    version: str
    commit: str
    dirty_hash: str | None  # of the uncommitted changes to image_inputs(); None when clean
    created: str  # RFC 3339 UTC
    source_url: str

    @property
    def dirty(self) -> bool:
        return self.dirty_hash is not None

    @property
    def tag(self) -> str:
        return compute_tag(self.version, self.commit, self.dirty_hash)

    @property
    def revision(self) -> str:
        return self.commit + ("-dirty" if self.dirty else "")


def compute_tag(version: str, commit: str, dirty_hash: str | None) -> str:
    """``<version>-<short commit>`` (+ ``-dirty-<hash>``), made safe as a Docker tag."""
    tag = f"{version}-{commit[:7]}"
    if dirty_hash:
        tag += f"-dirty-{dirty_hash[:8]}"
    return _TAG_UNSAFE.sub("_", tag)[:128]


def read_version(pyproject: Path) -> str:
    try:
        data = tomllib.loads(pyproject.read_text())
        version = data["project"]["version"]
    except (OSError, tomllib.TOMLDecodeError, KeyError) as err:
        raise PlatformError(
            f"cannot read the service version from {pyproject}: {err}",
            hint="it must have a [project] version",
        ) from err
    if not isinstance(version, str) or not version:
        raise PlatformError(f"{pyproject} has no usable [project] version")
    return version


def rfc3339(epoch: float) -> str:
    return datetime.fromtimestamp(int(epoch), tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _git(repo: Path, *args: str) -> str:
    return proc.run(
        ["git", "-C", repo, *args],
        what=f"git {args[0]}",
        capture=True,
        hint="the image is tagged from git: build from a git checkout",
    )


def dirty_hash(repo: Path, inputs: Sequence[str]) -> str | None:
    """Hash of the uncommitted (and untracked) changes under ``inputs``; None when clean."""
    status = _git(repo, "status", "--porcelain", "--untracked-files=all", "--", *inputs)
    if not status.strip():
        return None
    digest = hashlib.sha256()
    digest.update(_git(repo, "diff", "HEAD", "--binary", "--", *inputs).encode())
    untracked = _git(repo, "ls-files", "--others", "--exclude-standard", "--", *inputs)
    for name in sorted(untracked.splitlines()):
        digest.update(name.encode() + b"\0")
        path = repo / name
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def source_url(repo: Path, env: Mapping[str, str]) -> str:
    """The repository's URL: GitHub Actions' variables, else ``origin``, else ``unknown``."""
    if env.get("GITHUB_SERVER_URL") and env.get("GITHUB_REPOSITORY"):
        return f"{env['GITHUB_SERVER_URL']}/{env['GITHUB_REPOSITORY']}"
    done = subprocess.run(
        ["git", "-C", str(repo), "remote", "get-url", "origin"],
        capture_output=True,
        text=True,
        check=False,
    )
    url = done.stdout.strip()
    return re.sub(r"//[^/@]+@", "//", url) if done.returncode == 0 and url else "unknown"


def read_source(service: Service, env: Mapping[str, str] | None = None) -> Source:
    env = os.environ if env is None else env
    repo = service.root
    version = read_version(service.pyproject)
    commit = _git(repo, "rev-parse", "HEAD").strip()
    dirty = dirty_hash(repo, image_inputs(service))
    if env.get("SOURCE_DATE_EPOCH"):
        created = rfc3339(float(env["SOURCE_DATE_EPOCH"]))
    elif dirty is None:
        created = rfc3339(float(_git(repo, "show", "-s", "--format=%ct", "HEAD").strip()))
    else:
        created = rfc3339(time.time())
    return Source(
        version=version,
        commit=commit,
        dirty_hash=dirty,
        created=created,
        source_url=source_url(repo, env),
    )


def build_args(base: baseimage.BaseImages, source: Source) -> dict[str, str]:
    """The Dockerfile's ARGs: they become OCI labels and the service's build-info env."""
    return {
        "BASE_IMAGE": base.runtime,
        "BUILDER_IMAGE": base.builder,
        "VERSION": source.version,
        "REVISION": source.revision,
        "CREATED": source.created,
        "SOURCE": source.source_url,
    }


def docker_build_command(
    dockerfile: Path, context: Path, ref: str, args: Mapping[str, str]
) -> list[str]:
    cmd = ["docker", "build", "--network=none", "--file", str(dockerfile), "--tag", ref]
    for key, value in args.items():
        cmd += ["--build-arg", f"{key}={value}"]
    return [*cmd, str(context)]
