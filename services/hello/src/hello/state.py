"""What the service knows about itself: identity, version and whether it is ready.

Response bodies that never change are rendered once here, so the hot path and the
FastAPI routes send the very same bytes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import metadata

from hello.settings import Settings

#: Distribution name whose metadata holds the version (services/hello/pyproject.toml).
DISTRIBUTION = "hello"


def package_version() -> str:
    """The service version: the installed ``hello`` package's metadata, the one source."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:  # running from a source tree that is not installed
        return "0.0.0+unknown"


def render(payload: dict[str, str]) -> bytes:
    """Compact JSON, as FastAPI's JSONResponse renders it."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


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
    greeting_body: bytes = field(init=False)
    version_body: bytes = field(init=False)

    def __post_init__(self) -> None:
        self.greeting_body = render(
            {
                "message": f"Hello from {self.service}!",
                "service": self.service,
                "version": self.version,
                "host": self.host,
            }
        )
        self.version_body = render(
            {
                "service": self.service,
                "version": self.version,
                "revision": self.revision,
                "build_time": self.build_time,
            }
        )

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


#: Bodies of the probes, rendered once.
HEALTH_BODY = render({"status": "ok"})
READINESS_BODIES = {s: render({"status": s}) for s in ("ready", "starting", "draining")}
