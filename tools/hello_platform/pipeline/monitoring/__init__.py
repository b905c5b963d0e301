"""Request-rate autoscaling on the embedded cluster: Prometheus (``monitoring``) and KEDA
(``keda``), both pinned in toolchain.toml, built or unpacked here and packed into
single-layer images. ``hello-platform monitoring up|status``; ``nox -s monitoring``.
"""

from __future__ import annotations

from hello_platform.pipeline.monitoring.cli import register

__all__ = ["register"]
