"""The service's hardened container image: ``hello-platform image build [--no-push]``.

``build()`` is the API the deploy step calls; it returns an :class:`ImageRef`. The build:

1. makes sure a Docker engine answers (``docker.ensure_engine()``) and that the base image
   exists (:mod:`hello_platform.substrate.baseimage`: Debian bookworm slim + Python 3.11,
   created from Debian's archive because no container registry is reachable here);
2. exports the service's locked dependencies from ``uv.lock`` (``uv export --frozen
   --no-dev --package hello``: pinned, with hashes) and downloads them **on the host** into
   a wheelhouse for the image's platform (CPython 3.11, manylinux x86_64), cached under
   ``~/.cache/hello-platform/wheelhouse``. pip inside a container build does not trust the
   host's CA bundle (nor a corporate proxy's), so the image installs offline from that
   wheelhouse (``--no-index --require-hashes``) and never talks to PyPI;
3. builds the service's wheel (``uv build``) and assembles a small build context in
   ``out/image/context`` (only wheels and requirement files: no .dockerignore is needed);
4. ``docker build -f services/hello/Dockerfile`` with the version, revision, build time and
   source as build args (they become OCI labels and ``HELLO_GIT_REVISION`` /
   ``HELLO_BUILD_TIME``);
5. writes a CycloneDX 1.5 SBOM of the image's Python packages to ``out/image/``;
6. pushes to the local registry unless ``push=False``, refusing to overwrite a tag whose
   content differs (see :func:`decide_push`). A clean tag that the registry already holds
   is pulled and reused instead of built again (:func:`reuse_pushed`: build once per
   commit, deploy many times, from any checkout).

Tags come from the one version source, ``services/hello/pyproject.toml``:
``<version>-<commit>`` for a clean tree, ``<version>-<commit>-dirty-<hash of the diff>``
when the image's inputs (:data:`IMAGE_INPUTS`) have uncommitted changes. Clean tags are
immutable. Dirty tags are content-addressed by the diff, so a different change never reuses
one; rebuilding the *same* diff may overwrite its tag (it is a developer's scratch image).
A clean build's ``created`` time is the commit's time (the ``SOURCE_DATE_EPOCH`` convention),
so rebuilding a commit on a warm cache gives the identical image and pushing it is a no-op.

Behind a proxy or with a private mirror: everything that reaches the network runs on the
host, with the host's trust store and settings. pip honours ``PIP_INDEX_URL`` /
``PIP_CERT`` / ``HTTPS_PROXY``, uv its ``UV_*`` settings, debootstrap and apt ``http_proxy``,
and ``HELLO_PLATFORM_DEBIAN_MIRROR`` points the base image at another Debian mirror. The
``docker build`` itself runs with ``--network=none``.
"""

from __future__ import annotations

import argparse
import email.parser
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.error
import urllib.parse
import urllib.request
import uuid
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from hello_platform.core import paths, proc
from hello_platform.core.errors import PlatformError
from hello_platform.core.progress import say, step
from hello_platform.substrate import baseimage

#: The registry's repository of the service image.
REPOSITORY = "hello"
#: The engine-local name a build gets before it is tagged for the registry.
LOCAL_REPOSITORY = "hello-platform/hello"
SERVICE_DIR = Path("services/hello")
DOCKERFILE = SERVICE_DIR / "Dockerfile"
#: Everything the image is made from: a change under these paths makes a tag ``-dirty``.
IMAGE_INPUTS: tuple[str, ...] = (
    "services/hello",
    "uv.lock",
    "pyproject.toml",
    "tools/hello_platform/pipeline/image.py",
    "tools/hello_platform/substrate/baseimage.py",
)
#: glibc of the image (Debian bookworm): wheels for manylinux up to 2.36 run there.
GLIBC_MINOR = 36
#: The platform tags of the image's wheels, newest first. pip does not expand one
#: ``--platform manylinux_2_36`` to the older tags, so all are listed.
PLATFORMS: tuple[str, ...] = (
    *(f"manylinux_2_{minor}_x86_64" for minor in range(GLIBC_MINOR, 4, -1)),
    "manylinux2014_x86_64",
    "manylinux2010_x86_64",
    "manylinux1_x86_64",
)
#: The image's Python platform for ``pip download`` (CPython 3.11, glibc 2.36, x86_64).
PIP_PLATFORM_ARGS: tuple[str, ...] = (
    "--only-binary=:all:",
    *(a for p in PLATFORMS for a in ("--platform", p)),
    "--python-version",
    "3.11",
    "--implementation",
    "cp",
    "--abi",
    "cp311",
)
#: The dependency group (root pyproject) that pins the pip used to fetch and install wheels.
INSTALLER_GROUP = "image"
#: The numeric user the service runs as (also in the Dockerfile; checked by a unit test).
UID = 10001
MANIFEST_ACCEPT = ", ".join(
    [
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
    ]
)
_TAG_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


# --- what is built: version, revision, tag ---------------------------------------------------


@dataclass(frozen=True)
class Source:
    """Where an image comes from: the service version and the state of the checkout."""

    version: str
    commit: str
    #: Hash of the uncommitted changes to :data:`IMAGE_INPUTS`, or None for a clean tree.
    dirty_hash: str | None
    #: Build time, RFC 3339 UTC (``2026-11-30T02:46:00Z``).
    created: str
    source_url: str

    @property
    def dirty(self) -> bool:
        return self.dirty_hash is not None

    @property
    def tag(self) -> str:
        return compute_tag(self.version, self.commit, self.dirty_hash)

    @property
    def revision(self) -> str:
        """The full commit, with ``-dirty`` when the image has uncommitted changes."""
        return self.commit + ("-dirty" if self.dirty else "")


def compute_tag(version: str, commit: str, dirty_hash: str | None) -> str:
    """``<version>-<short commit>`` (+ ``-dirty-<hash>``), made safe as a Docker tag."""
    tag = f"{version}-{commit[:7]}"
    if dirty_hash:
        tag += f"-dirty-{dirty_hash[:8]}"
    return _TAG_UNSAFE.sub("_", tag)[:128]


def read_version(pyproject: Path) -> str:
    """The service version from its pyproject (the single version source)."""
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


def dirty_hash(repo: Path, inputs: Sequence[str] = IMAGE_INPUTS) -> str | None:
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


def read_source(repo: Path = paths.REPO_ROOT, env: Mapping[str, str] | None = None) -> Source:
    """The :class:`Source` of the checkout at ``repo``."""
    env = os.environ if env is None else env
    version = read_version(repo / SERVICE_DIR / "pyproject.toml")
    commit = _git(repo, "rev-parse", "HEAD").strip()
    dirty = dirty_hash(repo)
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


# --- docker build arguments ------------------------------------------------------------------


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


# --- wheelhouse ------------------------------------------------------------------------------


def _uv() -> str:
    return proc.which("uv", hint="install the build tools: pip install -r requirements-nox.txt")


def export_requirements(repo: Path, *extra: str) -> str:
    """``uv export --frozen`` (pinned, hashed requirements) with ``extra`` selection flags."""
    uv = _uv()
    return proc.run(
        [uv, "export", "--frozen", "--no-header", "--no-annotate", "--no-emit-workspace", *extra],
        what="uv export (the locked requirements)",
        capture=True,
        cwd=repo,
        hint="run `uv lock` and commit uv.lock",
    )


def pip_python(installer_requirements: str, log: Path) -> Path:
    """A Python with the locked pip (the ``image`` group), in a small cached venv.

    The glue may run in any environment (a nox session, CI, a laptop's venv); this way the
    host always downloads with the same, hash-checked pip the image installs with.
    """
    key = hashlib.sha256(installer_requirements.encode()).hexdigest()[:16]
    venv = paths.cache_dir() / "pip" / key
    python = venv / "bin" / "python"
    if (venv / ".complete").exists():
        return python
    uv = _uv()
    if venv.exists():
        shutil.rmtree(venv)
    with step("preparing the locked pip for the wheelhouse"):
        reqs = venv.parent / f"{key}.txt"
        venv.parent.mkdir(parents=True, exist_ok=True)
        reqs.write_text(installer_requirements)
        proc.run(
            [uv, "venv", "--quiet", "--python", sys.executable, venv],
            what="uv venv for pip",
            log=log,
        )
        proc.run(
            [
                uv,
                "pip",
                "install",
                "--quiet",
                "--python",
                python,
                "--require-hashes",
                "--no-deps",
                "-r",
                reqs,
            ],
            what="installing the locked pip",
            log=log,
            hint="check that PyPI is reachable",
        )
        (venv / ".complete").write_text(installer_requirements)
    return python


def wheelhouse(requirements: str, *, pip: Path, log: Path) -> Path:
    """Download the wheels of ``requirements`` for the image's platform (cached by content)."""
    key = hashlib.sha256((requirements + repr(PIP_PLATFORM_ARGS)).encode()).hexdigest()[:16]
    root = paths.cache_dir() / "wheelhouse"
    target = root / key
    if (target / ".complete").exists():
        say(f"wheelhouse: cached ({target})")
        return target
    root.mkdir(parents=True, exist_ok=True)
    with (
        step(
            f"downloading the wheelhouse on the host (pip download, cp311 manylinux x86_64)"
            f" into {target}"
        ),
        tempfile.TemporaryDirectory(dir=root) as tmp,
    ):
        reqs = Path(tmp) / "requirements.txt"
        reqs.write_text(requirements)
        dest = Path(tmp) / "wheels"
        proc.run(
            [
                pip,
                "-m",
                "pip",
                "download",
                "--disable-pip-version-check",
                "--no-deps",
                "--require-hashes",
                *PIP_PLATFORM_ARGS,
                "--dest",
                dest,
                "-r",
                reqs,
            ],
            what="pip download of the wheelhouse",
            log=log,
            hint="check that PyPI is reachable (pip honours PIP_INDEX_URL and HTTPS_PROXY)",
        )
        (dest / ".complete").write_text(requirements)
        if target.exists():
            shutil.rmtree(target)
        dest.rename(target)
    return target


def _link(src: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dest)
    except OSError:
        shutil.copy2(src, dest)


def requirement_with_hash(name: str, wheel: Path, where: str) -> str:
    """A hashed requirement line for a local wheel, installable with ``--require-hashes``."""
    sha = hashlib.sha256(wheel.read_bytes()).hexdigest()
    return f"{name} @ file://{where}/{wheel.name} --hash=sha256:{sha}\n"


def assemble_context(
    context: Path, *, wheels: Path, requirements: str, installer: Path, app_wheel: Path
) -> None:
    """The build context the Dockerfile expects (documented at its top)."""
    if context.exists():
        shutil.rmtree(context)
    (context / "deps").mkdir(parents=True)
    for wheel in sorted(wheels.glob("*.whl")):
        _link(wheel, context / "deps" / "wheels" / wheel.name)
    (context / "deps" / "requirements.txt").write_text(requirements)
    _link(installer, context / "installer" / "pip.whl")
    _link(app_wheel, context / "app" / app_wheel.name)
    (context / "app" / "requirements.txt").write_text(
        requirement_with_hash("hello", app_wheel, "/build/app")
    )


# --- SBOM (CycloneDX 1.5 JSON) ----------------------------------------------------------------


@dataclass(frozen=True)
class Package:
    """One Python distribution in the image, from its wheel."""

    name: str
    version: str
    sha256: str
    filename: str
    license: str | None = None


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def package_of(wheel: Path) -> Package:
    """Name, version, hash and (when declared) license of a wheel file."""
    name, version = wheel.name.split("-")[:2]
    license_: str | None = None
    with zipfile.ZipFile(wheel) as zf:
        meta = next((n for n in zf.namelist() if n.endswith(".dist-info/METADATA")), None)
        if meta:
            msg = email.parser.HeaderParser().parsestr(zf.read(meta).decode("utf-8", "replace"))
            expr = msg.get("License-Expression") or ""
            plain = msg.get("License") or ""
            if expr.strip():
                license_ = expr.strip()
            elif plain.strip() and "\n" not in plain.strip() and len(plain) <= 64:
                license_ = plain.strip()
    return Package(
        normalize(name),
        version,
        hashlib.sha256(wheel.read_bytes()).hexdigest(),
        wheel.name,
        license_,
    )


def purl(pkg: Package) -> str:
    return f"pkg:pypi/{pkg.name}@{pkg.version}"


@dataclass(frozen=True)
class DebPackage:
    """One Debian package installed in the image (from its ``/var/lib/dpkg/status``)."""

    name: str
    version: str
    arch: str

    @property
    def purl(self) -> str:
        version = urllib.parse.quote(self.version, safe=".+~-")
        return f"pkg:deb/debian/{self.name}@{version}?arch={self.arch}&distro=debian-12"


def debian_packages(status: str) -> list[DebPackage]:
    """The installed packages listed in a dpkg status file."""
    found = []
    for stanza in status.split("\n\n"):
        fields = dict(
            line.split(": ", 1)
            for line in stanza.splitlines()
            if ": " in line and not line.startswith(" ")
        )
        if fields.get("Status", "").endswith(" installed") and "Package" in fields:
            found.append(
                DebPackage(
                    fields["Package"], fields.get("Version", ""), fields.get("Architecture", "")
                )
            )
    return sorted(found, key=lambda p: p.name)


def sbom(
    packages: Sequence[Package],
    *,
    source: Source,
    image: str,
    os_packages: Sequence[DebPackage] = (),
) -> dict[str, Any]:
    """A CycloneDX 1.5 BOM: the image as the subject; its Python packages (from the wheels
    installed) and its Debian packages (from dpkg's status) as components."""
    components: list[dict[str, Any]] = []
    for pkg in sorted(packages, key=lambda p: p.name):
        comp: dict[str, Any] = {
            "type": "application" if pkg.name == REPOSITORY else "library",
            "bom-ref": purl(pkg),
            "name": pkg.name,
            "version": pkg.version,
            "purl": purl(pkg),
            "hashes": [{"alg": "SHA-256", "content": pkg.sha256}],
            "properties": [{"name": "python:wheel", "value": pkg.filename}],
        }
        if pkg.license:
            comp["licenses"] = [{"license": {"name": pkg.license}}]
        components.append(comp)
    for deb in os_packages:
        components.append(
            {
                "type": "library",
                "bom-ref": deb.purl,
                "name": deb.name,
                "version": deb.version,
                "purl": deb.purl,
            }
        )
    subject = f"{image}:{source.tag}"
    return {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "serialNumber": uuid.uuid5(uuid.NAMESPACE_URL, f"{subject}#{source.revision}").urn,
        "version": 1,
        "metadata": {
            "timestamp": source.created,
            "tools": {"components": [{"type": "application", "name": "hello-platform"}]},
            "component": {
                "type": "container",
                "bom-ref": subject,
                "name": image,
                "version": source.tag,
                "properties": [
                    {"name": "org.opencontainers.image.revision", "value": source.revision},
                    {"name": "org.opencontainers.image.source", "value": source.source_url},
                ],
            },
        },
        "components": components,
        "dependencies": [{"ref": subject, "dependsOn": [c["bom-ref"] for c in components]}],
    }


# --- registry: immutable tags ----------------------------------------------------------------


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


# --- the build -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImageRef:
    """A built image: the API between ``nox -s build`` and ``nox -s deploy``."""

    registry: str
    repository: str
    tag: str
    #: Manifest digest in the registry (``sha256:...``); None when not pushed.
    digest: str | None
    #: The local image ID (config digest).
    image_id: str
    size_bytes: int
    sbom: Path

    @property
    def ref(self) -> str:
        """``127.0.0.1:5000/hello:<tag>``."""
        return f"{self.registry}/{self.repository}:{self.tag}"

    @property
    def pinned(self) -> str:
        """``ref@digest`` when pushed, else ``ref``."""
        return f"{self.ref}@{self.digest}" if self.digest else self.ref

    def to_json(self) -> dict[str, Any]:
        return {
            "registry": self.registry,
            "repository": self.repository,
            "tag": self.tag,
            "ref": self.ref,
            "digest": self.digest,
            "image_id": self.image_id,
            "size_bytes": self.size_bytes,
            "sbom": str(self.sbom),
        }


def _inspect(ref: str, fmt: str) -> str:
    return proc.run(
        ["docker", "image", "inspect", "--format", fmt, ref],
        what=f"docker image inspect {ref}",
        capture=True,
    ).strip()


def _tag(source: str, target: str) -> None:
    proc.run(["docker", "tag", source, target], what=f"docker tag {target}")


def _tail(log: Path, lines: int = 15) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _engine() -> None:
    from hello_platform.substrate import docker

    docker.ensure_engine()


def _registry() -> str:
    from hello_platform.substrate import registry

    return registry.ensure_running()


def build(push: bool = True, *, refresh_base: bool = False) -> ImageRef:
    """Build the service image (and push it to the local registry); see the module doc."""
    started = time.monotonic()
    repo = paths.REPO_ROOT
    work = paths.out_dir() / "image"
    work.mkdir(parents=True, exist_ok=True)
    log = work / "build.log"
    log.write_text("")
    source = read_source(repo)
    address = _registry() if push else "127.0.0.1:5000"
    ref = f"{address}/{REPOSITORY}:{source.tag}"
    say(f"image {ref} (version {source.version}, revision {source.revision})")
    _engine()
    base = baseimage.ensure_base(refresh=refresh_base)

    with step("exporting the locked requirements (uv export)"):
        requirements = export_requirements(repo, "--no-dev", "--package", REPOSITORY)
        installer_req = export_requirements(repo, "--only-group", INSTALLER_GROUP)
    pip = pip_python(installer_req, log)
    deps = wheelhouse(requirements, pip=pip, log=log)
    installer_dir = wheelhouse(installer_req, pip=pip, log=log)
    installer = next(iter(sorted(installer_dir.glob("pip-*.whl"))), None)
    if installer is None:
        raise PlatformError(
            f"the '{INSTALLER_GROUP}' dependency group has no pip wheel",
            hint="add pip to it in pyproject.toml and run `uv lock`",
        )
    with step("building the service wheel (uv build)"), tempfile.TemporaryDirectory() as tmp:
        uv = _uv()
        proc.run(
            [uv, "build", "--wheel", "--package", REPOSITORY, "--out-dir", tmp],
            what="uv build of the service wheel",
            log=log,
            cwd=repo,
        )
        app_wheel = next(Path(tmp).glob("*.whl"))
        context = work / "context"
        assemble_context(
            context,
            wheels=deps,
            requirements=requirements,
            installer=installer,
            app_wheel=app_wheel,
        )
        app_package = package_of(app_wheel)

    client = RegistryClient(address) if push else None
    pushed = client.manifest(REPOSITORY, source.tag) if client else None
    if reuse_pushed(pushed, dirty=source.dirty, refresh_base=refresh_base):
        local = ref
        with step(f"{ref} is already in the registry (clean tags are immutable): pulling it"):
            proc.run(["docker", "pull", ref], what=f"docker pull {ref}", log=log)
    else:
        # Built under a local name first: the registry's name is given to it only once the
        # push is allowed, so a refused build never shadows the pushed image of the same tag.
        local = f"{LOCAL_REPOSITORY}:{source.tag}"
        cmd = docker_build_command(repo / DOCKERFILE, context, local, build_args(base, source))
        with step(f"docker build {local} (log: {log})"):
            try:
                proc.run(
                    cmd, what="docker build", log=log, hint="see the end of the log printed above"
                )
            except PlatformError:
                print(_tail(log), file=sys.stderr)
                raise
    image_id, size_text = _inspect(local, "{{.Id}} {{.Size}}").split()
    size = int(size_text)

    packages = [package_of(w) for w in sorted(deps.glob("*.whl"))] + [app_package]
    status = proc.run(
        [
            "docker",
            "run",
            "--rm",
            "--network=none",
            "--entrypoint=cat",
            local,
            "/var/lib/dpkg/status",
        ],
        what="reading the image's Debian package list",
        capture=True,
    )
    debs = debian_packages(status)
    bom = sbom(packages, source=source, image=f"{address}/{REPOSITORY}", os_packages=debs)
    sbom_path = work / f"sbom-{source.tag}.cdx.json"
    sbom_path.write_text(json.dumps(bom, indent=2) + "\n")
    say(f"SBOM (CycloneDX 1.5: {len(packages)} Python, {len(debs)} Debian packages): {sbom_path}")

    digest: str | None = None
    if client is not None:
        action = decide_push(ref, local_id=image_id, remote=pushed, dirty=source.dirty)
        _tag(local, ref)
        if action == "skip":
            say(f"{ref} is already in the registry with this content: not pushed again")
        else:
            if action == "overwrite":
                say(f"overwriting the scratch tag {source.tag} (uncommitted changes)")
            with step(f"docker push {ref}"):
                proc.run(
                    ["docker", "push", ref],
                    what="docker push",
                    log=log,
                    hint=f"check the registry at {address}",
                )
        remote = client.manifest(REPOSITORY, source.tag)
        if remote is None or remote.config_digest != image_id:
            raise PlatformError(
                f"the registry does not hold {ref} as built after the push", log=str(log)
            )
        digest = remote.digest
    else:
        _tag(local, ref)

    result = ImageRef(
        registry=address,
        repository=REPOSITORY,
        tag=source.tag,
        digest=digest,
        image_id=image_id,
        size_bytes=size,
        sbom=sbom_path,
    )
    (work / "image.json").write_text(json.dumps(result.to_json(), indent=2) + "\n")
    say(f"image built in {time.monotonic() - started:.0f}s: {result.pinned}, {size / 1e6:.1f} MB")
    return result


def _cmd_build(args: argparse.Namespace) -> int:
    result = build(push=not args.no_push, refresh_base=args.refresh_base)
    print(f"image:  {result.ref}")
    print(f"digest: {result.digest or '(not pushed)'}")
    print(f"id:     {result.image_id}")
    print(f"size:   {result.size_bytes / 1e6:.1f} MB ({result.size_bytes} bytes)")
    print(f"sbom:   {result.sbom}")
    return 0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("image", help="build the hardened service image")
    sub = parser.add_subparsers(dest="image_command", required=True)
    b = sub.add_parser("build", help="build (and push) the service image; see `nox -s build`")
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
    b.set_defaults(func=_cmd_build)
