"""A service's hardened container image (the CLI, ``hello-platform image build``, is cli.py).

``build(service)`` (a ``core.catalogue.Service``: folder, package, Dockerfile, repository)
is the API the deploy step calls; it returns an :class:`ImageRef`. The build:

1. makes sure a Docker engine answers (``docker.ensure_engine()``) and that the base image
   exists (:mod:`hello_platform.substrate.baseimage`: Debian bookworm slim + Python 3.11,
   created from Debian's archive because no container registry is reachable here);
2. exports the service's locked dependencies from ``uv.lock`` (``uv export --frozen
   --no-dev --package <package>``: pinned, with hashes) and downloads them **on the host** into
   a wheelhouse for the image's platform (CPython 3.11, manylinux x86_64), cached under
   ``~/.cache/hello-platform/wheelhouse``. pip inside a container build does not trust the
   host's CA bundle (nor a corporate proxy's), so the image installs offline from that
   wheelhouse (``--no-index --require-hashes``) and never talks to PyPI;
3. builds the service's wheel (``uv build``) and assembles a small build context in
   ``out/image/<service>/context`` (only wheels and requirement files: no .dockerignore is needed);
4. ``docker build -f <the service's Dockerfile>`` with the version, revision, build time and
   source as build args (they become OCI labels and ``HELLO_GIT_REVISION`` /
   ``HELLO_BUILD_TIME``);
5. writes a CycloneDX 1.5 SBOM of the image's Python packages to ``out/image/``;
6. pushes to the local registry (or ``target``: any registry, with its login, see
   :mod:`hello_platform.pipeline.image.target`) unless ``push=False``, refusing to overwrite
   a tag whose content differs (see :func:`decide_push`). The login is checked before the
   build; ``docker push`` gets the same login through a throw-away ``docker --config``.
   A clean tag that the registry already holds is pulled and reused instead of built again
   (:func:`reuse_pushed`: build once per commit, deploy many times, from any checkout).

Tags come from the one version source, the service's ``pyproject.toml``:
``<version>-<commit>`` for a clean tree, ``<version>-<commit>-dirty-<hash of the diff>``
when the image's inputs (:func:`image_inputs`) have uncommitted changes. Clean tags are
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

from hello_platform.clients.oci import RemoteImage
from hello_platform.pipeline.image.builder import (
    ImageRef,
    build,
)
from hello_platform.pipeline.image.cyclonedx import (
    DebPackage,
    Package,
    debian_packages,
    normalize,
    package_of,
    purl,
    sbom,
)
from hello_platform.pipeline.image.push import decide_push, reuse_pushed
from hello_platform.pipeline.image.source import (
    COMMON_INPUTS,
    UID,
    Source,
    build_args,
    compute_tag,
    dirty_hash,
    docker_build_command,
    image_inputs,
    local_repository,
    read_source,
    read_version,
    rfc3339,
    source_url,
)
from hello_platform.pipeline.image.wheels import (
    GLIBC_MINOR,
    INSTALLER_GROUP,
    PIP_PLATFORM_ARGS,
    PLATFORMS,
    assemble_context,
    export_requirements,
    pip_python,
    requirement_with_hash,
    uv_binary,
    wheelhouse,
)

__all__ = [
    "COMMON_INPUTS",
    "GLIBC_MINOR",
    "INSTALLER_GROUP",
    "PIP_PLATFORM_ARGS",
    "PLATFORMS",
    "UID",
    "DebPackage",
    "ImageRef",
    "Package",
    "RemoteImage",
    "Source",
    "assemble_context",
    "build",
    "build_args",
    "compute_tag",
    "debian_packages",
    "decide_push",
    "dirty_hash",
    "docker_build_command",
    "export_requirements",
    "image_inputs",
    "local_repository",
    "normalize",
    "package_of",
    "pip_python",
    "purl",
    "read_source",
    "read_version",
    "requirement_with_hash",
    "reuse_pushed",
    "rfc3339",
    "sbom",
    "source_url",
    "uv_binary",
    "wheelhouse",
]
