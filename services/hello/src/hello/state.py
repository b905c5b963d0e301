"""What the service knows about itself: identity, version and whether it is ready."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from importlib import metadata

from hello.settings import Settings

#: Distribution name whose metadata holds the version (services/hello/pyproject.toml).
DISTRIBUTION = "hello"

logger = logging.getLogger("hello")


def package_version() -> str:
    """The service version: the installed ``hello`` package's metadata, the one source."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:  # running from a source tree that is not installed
        return "0.0.0+unknown"


@dataclass
class ServiceState:
    """Identity and lifecycle of one app instance."""

    service: str
    version: str
    revision: str
    build_time: str
    host: str
    #: Lifespan startup has finished.
    started: bool = False
    #: Shutdown has begun (SIGTERM or lifespan shutdown): readiness is 503 from now on.
    draining: bool = False

    @classmethod
    def from_settings(cls, settings: Settings) -> ServiceState:
        return cls(
            service=settings.service_name,
            version=package_version(),
            revision=settings.git_revision,
            build_time=settings.build_time,
            host=settings.host_name,
        )

    @property
    def ready(self) -> bool:
        return self.started and not self.draining

    @property
    def readiness(self) -> str:
        """``ready``, ``starting`` or ``draining``: the body of /readyz."""
        if self.draining:
            return "draining"
        return "ready" if self.started else "starting"

    def begin_drain(self) -> None:
        """Shutdown has begun: from now on /readyz answers 503 (requests still succeed)."""
        if not self.draining:
            self.draining = True
            logger.info("shutdown begun: readiness is now 503")
