"""One load-test run's options and its bounded, headless Locust command."""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hello_platform.core import catalogue, paths
from hello_platform.core.catalogue import Service

LOCUSTFILE = paths.REPO_ROOT / "loadtests" / "locustfile.py"


@dataclass
class Options:
    """Defaults drive >= 3 replicas on the local profile (2 cores); an empty namespace or
    release is the service's (``<namespace>-keda`` in requests mode)."""

    service: Service = field(default_factory=catalogue.service)
    kubeconfig: Path | None = None
    url: str | None = None
    namespace: str = ""
    release: str = ""
    mode: str = "cpu"
    users: int = 50
    spawn_rate: float = 10.0
    user_rps: float = 30.0
    hold_s: float = 120.0
    stop_timeout_s: float = 5.0
    p95_max_ms: float = 1000.0
    fail_ratio_max: float = 0.01
    scale_up_within_s: float = 45.0
    min_peak_replicas: int = 3
    interval_s: float = 3.0
    out: Path | None = None

    def __post_init__(self) -> None:
        keda = f"{self.service.namespace}-keda" if self.mode == "requests" else None
        self.namespace = self.namespace or keda or self.service.namespace
        self.release = self.release or self.service.release

    @property
    def ramp_s(self) -> float:
        return float(math.ceil(self.users / self.spawn_rate))

    @property
    def run_time_s(self) -> int:
        """Locust's hard bound: the shape's ramp + hold, and a little slack."""
        return int(self.ramp_s + self.hold_s + 10)

    def settings(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in SETTINGS}


#: The settings summary.json records, in its order.
SETTINGS = [
    "users",
    "spawn_rate",
    "user_rps",
    "hold_s",
    "ramp_s",
    "run_time_s",
    "p95_max_ms",
    "fail_ratio_max",
    "namespace",
    "release",
    "mode",
    "interval_s",
]
MODES = ("cpu", "requests")
#: The node port of the release ``--mode requests`` deploys when none is there.
REQUESTS_NODE_PORT = 30082


def locust_command(opts: Options, url: str, run_dir: Path) -> list[str]:
    valued = {
        "-u": str(opts.users),
        "-r": f"{opts.spawn_rate:g}",
        "--run-time": f"{opts.run_time_s}s",
        "--stop-timeout": f"{opts.stop_timeout_s:g}",
        "--host": url,
        "--hold-time": f"{opts.hold_s:g}",
        "--user-rps": f"{opts.user_rps:g}",
        "--p95-max-ms": f"{opts.p95_max_ms:g}",
        "--fail-ratio-max": f"{opts.fail_ratio_max:g}",
        "--verdict-file": str(run_dir / "locust-verdict.json"),
        "--csv": str(run_dir / "locust"),
    }
    return [
        *(sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless"),
        *(part for flag, value in valued.items() for part in (flag, value)),
        *("--csv-full-history", "--html", str(run_dir / "locust.html"), "--only-summary"),
    ]
