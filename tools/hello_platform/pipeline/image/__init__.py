"""A service's hardened container image: wheelhouse, build, SBOM and push (``build``).

The CLI, ``hello-platform image build``, is cli.py. pip in a container build does not trust
the host's CA bundle (nor a proxy's), so every download runs on the host and the image
installs offline from the wheelhouse; ``docker build`` runs with ``--network=none``. Tags are
``<version>-<commit>`` (immutable) or ``...-dirty-<hash of the diff>`` (a scratch image).
"""

from hello_platform.pipeline.image.builder import ImageRef, build
from hello_platform.pipeline.image.source import read_source
from hello_platform.pipeline.image.wheels import uv_binary

__all__ = ["ImageRef", "build", "read_source", "uv_binary"]
