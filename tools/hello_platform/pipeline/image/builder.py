"""The build itself: wheelhouse, context, docker build, SBOM and push (or reuse), in order."""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from hello_platform.clients import oci, ocicreds
from hello_platform.core import paths, proc
from hello_platform.core.catalogue import Service
from hello_platform.core.errors import PlatformError
from hello_platform.core.progress import say, step
from hello_platform.pipeline.image.cyclonedx import Package, debian_packages, package_of, sbom
from hello_platform.pipeline.image.source import (
    Source,
    build_args,
    docker_build_command,
    local_repository,
    read_source,
)
from hello_platform.pipeline.image.wheels import (
    INSTALLER_GROUP,
    assemble_context,
    export_requirements,
    pip_python,
    uv_binary,
    wheelhouse,
)
from hello_platform.substrate import baseimage


@dataclass(frozen=True)
class ImageRef:
    """A built image: the API between ``nox -s build`` and ``nox -s deploy``."""

    registry: str
    repository: str
    tag: str
    digest: str | None  # the manifest's in the registry; None when not pushed
    image_id: str  # the local config digest
    size_bytes: int
    sbom: Path

    @property
    def ref(self) -> str:
        return f"{self.registry}/{self.repository}:{self.tag}"

    @property
    def pinned(self) -> str:
        """``ref@digest`` when pushed, else ``ref``."""
        return f"{self.ref}@{self.digest}" if self.digest else self.ref

    def to_json(self) -> dict[str, Any]:
        keys = ("registry", "repository", "tag", "ref", "digest", "image_id", "size_bytes")
        return {**{k: getattr(self, k) for k in keys}, "sbom": str(self.sbom)}


def _tag(source: str, target: str) -> None:
    proc.run(["docker", "tag", source, target], what=f"docker tag {target}")


def _tail(log: Path, lines: int = 15) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def local_registry(start: bool) -> oci.Registry:
    """The local plain registry on 127.0.0.1:5000 (started when ``start``)."""
    from hello_platform.substrate import registry

    return oci.Registry(registry.ensure_running() if start else registry.ADDRESS, plain_http=True)


@contextmanager
def docker_login(target: oci.Registry) -> Iterator[list[str]]:
    """``docker`` with a throw-away ``--config`` holding only the given login (the user's
    config.json is never written)."""
    if target.credentials is None:
        yield ["docker"]
        return
    with tempfile.TemporaryDirectory(prefix="hello-docker-") as tmp:
        config = Path(tmp) / "config.json"
        config.touch(mode=0o600)
        config.write_text(ocicreds.docker_config_json(target.address, target.credentials))
        yield ["docker", "--config", tmp]


@dataclass(frozen=True)
class Context:
    """What one build works with, including the registry's image of its tag."""

    service: Service
    work: Path
    log: Path
    source: Source
    target: oci.Registry
    client: oci.Client | None
    pushed: oci.RemoteImage | None

    @property
    def repository(self) -> str:
        return self.target.repository(self.service.repository)

    @property
    def ref(self) -> str:
        return f"{self.target.address}/{self.repository}:{self.source.tag}"


def prepare(service: Service, push: bool, target: oci.Registry | None = None) -> Context:
    """The build's :class:`Context`; the registry's login is checked before any build."""
    work = paths.out_dir() / "image" / service.name
    work.mkdir(parents=True, exist_ok=True)
    log = work / "build.log"
    log.write_text("")
    source = read_source(service)
    target = target or local_registry(start=push)
    client = oci.Client(target) if push else None
    if client is not None:
        client.check_login()
    repository = target.repository(service.repository)
    pushed = client.manifest(repository, source.tag) if client else None
    return Context(service, work, log, source, target, client, pushed)


def build_context(ctx: Context) -> tuple[Path, list[Package]]:
    """The docker build context (wheels and requirement files) and the Python packages."""
    repo, package = ctx.service.root, ctx.service.package
    with step("exporting the locked requirements (uv export)"):
        requirements = export_requirements(repo, "--no-dev", "--package", package)
        installer_req = export_requirements(repo, "--only-group", INSTALLER_GROUP)
    pip = pip_python(installer_req, ctx.log)
    deps = wheelhouse(requirements, pip=pip, log=ctx.log)
    installer_dir = wheelhouse(installer_req, pip=pip, log=ctx.log)
    installer = min(installer_dir.glob("pip-*.whl"), default=None)
    if installer is None:
        raise PlatformError(
            f"the '{INSTALLER_GROUP}' dependency group has no pip wheel",
            hint="add pip to it in pyproject.toml and run `uv lock`",
        )
    context = ctx.work / "context"
    with step("building the service wheel (uv build)"), tempfile.TemporaryDirectory() as tmp:
        proc.run(
            [uv_binary(), "build", "--wheel", "--package", package, "--out-dir", tmp],
            what="uv build of the service wheel",
            log=ctx.log,
            cwd=repo,
        )
        app_wheel = next(Path(tmp).glob("*.whl"))
        assemble_context(
            context,
            wheels=deps,
            requirements=requirements,
            installer=installer,
            app_wheel=app_wheel,
            app=package,
        )
        packages = [package_of(w) for w in sorted(deps.glob("*.whl"))] + [package_of(app_wheel)]
    return context, packages


def docker_build(ctx: Context, context: Path, base: baseimage.BaseImages) -> str:
    """``docker build`` under a local name, returned: the registry's name is given only once
    the push is allowed, so a refused build never shadows the pushed image."""
    local = f"{local_repository(ctx.service)}:{ctx.source.tag}"
    args = build_args(base, ctx.source)
    cmd = docker_build_command(ctx.service.dockerfile, context, local, args)
    with step(f"docker build {local} (log: {ctx.log})"):
        try:
            proc.run(
                cmd, what="docker build", log=ctx.log, hint="see the end of the log printed above"
            )
        except PlatformError:
            print(_tail(ctx.log), file=sys.stderr)
            raise
    return local


def write_sbom(ctx: Context, local: str, packages: list[Package]) -> Path:
    """The CycloneDX SBOM of the image ``local`` (Python and Debian packages); its path."""
    status = proc.run(
        ["docker", "run", "--rm", "--network=none", "--entrypoint=cat", local,
         "/var/lib/dpkg/status"],
        what="reading the image's Debian package list",
        capture=True,
    )  # fmt: skip
    debs = debian_packages(status)
    image = f"{ctx.target.address}/{ctx.repository}"
    bom = sbom(packages, source=ctx.source, image=image, os_packages=debs, app=ctx.service.package)
    sbom_path = ctx.work / f"sbom-{ctx.source.tag}.cdx.json"
    sbom_path.write_text(json.dumps(bom, indent=2) + "\n")
    say(f"SBOM (CycloneDX 1.5: {len(packages)} Python, {len(debs)} Debian packages): {sbom_path}")
    return sbom_path


def decide_push(
    ref: str, *, local_id: str, remote: oci.RemoteImage | None, dirty: bool
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


def reuse_pushed(remote: oci.RemoteImage | None, *, dirty: bool, refresh_base: bool) -> bool:
    """Reuse the pushed image of a clean (immutable) tag: a rebuild would differ only in file
    times (the classic builder is not byte-reproducible across checkouts) and be refused."""
    return remote is not None and not dirty and not refresh_base


def push_image(ctx: Context, client: oci.Client, local: str, image_id: str) -> str:
    """Push ``local`` as the tag (unless the registry has it already); the manifest digest."""
    ref = ctx.ref
    action = decide_push(ref, local_id=image_id, remote=ctx.pushed, dirty=ctx.source.dirty)
    _tag(local, ref)
    if action == "skip":
        say(f"{ref} is already in the registry with this content: not pushed again")
    else:
        if action == "overwrite":
            say(f"overwriting the scratch tag {ctx.source.tag} (uncommitted changes)")
        with step(f"docker push {ref}"), docker_login(ctx.target) as docker:
            proc.run(
                [*docker, "push", ref],
                what="docker push",
                log=ctx.log,
                hint=f"check the registry at {ctx.target.address}",
            )
    remote = client.manifest(ctx.repository, ctx.source.tag)
    if remote is None or remote.config_digest != image_id:
        raise PlatformError(
            f"the registry does not hold {ref} as built after the push", log=str(ctx.log)
        )
    return remote.digest


def build(
    service: Service,
    push: bool = True,
    *,
    refresh_base: bool = False,
    target: oci.Registry | None = None,
) -> ImageRef:
    started = time.monotonic()
    ctx = prepare(service, push, target)
    source, ref = ctx.source, ctx.ref
    say(f"image {ref} (version {source.version}, revision {source.revision})")
    from hello_platform.substrate.docker import ensure_engine

    ensure_engine()
    base = baseimage.ensure_base(refresh=refresh_base)
    context, packages = build_context(ctx)
    if reuse_pushed(ctx.pushed, dirty=source.dirty, refresh_base=refresh_base):
        local = ref
        with (
            step(f"{ref} is already in the registry (clean tags are immutable): pulling it"),
            docker_login(ctx.target) as docker,
        ):
            proc.run([*docker, "pull", ref], what=f"docker pull {ref}", log=ctx.log)
    else:
        local = docker_build(ctx, context, base)
    inspect = ["docker", "image", "inspect", "--format", "{{.Id}} {{.Size}}", local]
    image_id, size_text = proc.run(
        inspect, what=f"docker image inspect {local}", capture=True
    ).split()
    size = int(size_text)
    sbom_path = write_sbom(ctx, local, packages)
    digest: str | None = None
    if ctx.client is not None:
        digest = push_image(ctx, ctx.client, local, image_id)
    else:
        _tag(local, ref)
    result = ImageRef(
        ctx.target.address, ctx.repository, source.tag, digest, image_id, size, sbom_path
    )
    (ctx.work / "image.json").write_text(json.dumps(result.to_json(), indent=2) + "\n")
    say(f"image built in {time.monotonic() - started:.0f}s: {result.pinned}, {size / 1e6:.1f} MB")
    return result
