"""The service's settings: one class, read from ``HELLO_*`` environment variables."""

from __future__ import annotations

import socket
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

LogLevel = Literal["debug", "info", "warning", "error", "critical"]


class Settings(BaseSettings):
    """Every knob of the service; each field is set by ``HELLO_<FIELD NAME>``."""

    model_config = SettingsConfigDict(env_prefix="HELLO_", frozen=True, extra="ignore")

    #: Name in the greeting, /version and the logs.
    service_name: str = Field(default="hello", min_length=1, max_length=63)
    #: Address and port ``python -m hello`` listens on.
    host: str = "0.0.0.0"  # noqa: S104 - a pod must listen on its own address
    port: int = Field(default=8000, ge=1, le=65535)
    #: Port of the Prometheus metrics (``GET /metrics``), apart from the app's: no Service
    #: that routes users to the app exposes it, and the app's port answers 404 there.
    metrics_port: int = Field(default=9102, ge=1, le=65535)
    #: Log level of the service and uvicorn (logs are JSON, one object per line).
    log_level: LogLevel = "info"
    #: Log one JSON line per request (off by default: probes are noisy and it costs throughput).
    access_log: bool = False
    #: Seconds between SIGTERM (readiness turns 503) and uvicorn starting its shutdown, so
    #: that load balancers and Endpoints stop sending new requests while they still succeed.
    drain_seconds: float = Field(default=5.0, ge=0, le=300)
    #: Seconds uvicorn then waits for in-flight requests before it cancels them and exits.
    grace_period_seconds: int = Field(default=20, ge=1, le=600)
    #: Largest request body accepted; larger ones get 413 before the app reads them.
    max_body_bytes: int = Field(default=64 * 1024, ge=0)
    #: Host/pod name in the greeting; empty means the machine's host name (the pod name).
    pod_name: str = ""
    #: Fault injection, for drills: the share (0 to 1) of real requests (not the probes)
    #: answered 500, and the milliseconds added before each is answered.
    fault_error_rate: float = Field(default=0.0, ge=0, le=1)
    fault_latency_ms: int = Field(default=0, ge=0, le=60_000)
    #: Injected by the image build (ENV in the image); never edited by hand.
    git_revision: str = "unknown"
    build_time: str = "unknown"

    @model_validator(mode="after")
    def _ports_differ(self) -> Settings:
        if self.metrics_port == self.port:
            raise ValueError(f"metrics_port must differ from port ({self.port})")
        return self

    @field_validator("log_level", mode="before")
    @classmethod
    def _lower_log_level(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @property
    def host_name(self) -> str:
        """The name that identifies this replica: ``pod_name`` or the host name."""
        return self.pod_name or socket.gethostname()
