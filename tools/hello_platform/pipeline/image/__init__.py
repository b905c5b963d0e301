"""A service's hardened container image: wheelhouse, build, SBOM and push (``build``).

The CLI, ``hello-platform image build``, is cli.py. pip in a container build does not trust
the host's CA bundle (nor a proxy's), so every download runs on the host and the image
installs offline from the wheelhouse; ``docker build`` runs with ``--network=none``. Tags are
``<version>-<commit>`` (immutable) or ``...-dirty-<hash of the diff>`` (a scratch image).
"""

from hello_platform.clients.oci import RemoteImage
from hello_platform.pipeline.image.builder import ImageRef, build
from hello_platform.pipeline.image.cyclonedx import debian_packages, package_of, sbom
from hello_platform.pipeline.image.push import decide_push, reuse_pushed
from hello_platform.pipeline.image.source import (
    UID,
    Source,
    build_args,
    compute_tag,
    docker_build_command,
    image_inputs,
    local_repository,
    read_source,
    read_version,
    source_url,
)
from hello_platform.pipeline.image.wheels import (
    PIP_PLATFORM_ARGS,
    PLATFORMS,
    assemble_context,
    uv_binary,
)

__all__ = [
    "PIP_PLATFORM_ARGS",
    "PLATFORMS",
    "UID",
    "ImageRef",
    "RemoteImage",
    "Source",
    "assemble_context",
    "build",
    "build_args",
    "compute_tag",
    "debian_packages",
    "decide_push",
    "docker_build_command",
    "image_inputs",
    "local_repository",
    "package_of",
    "read_source",
    "read_version",
    "reuse_pushed",
    "sbom",
    "source_url",
    "uv_binary",
]
