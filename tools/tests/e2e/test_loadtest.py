"""The autoscaling proof on the embedded cluster: ``hello-platform loadtest`` must pass.

Needs the cluster and the deployed service (``nox -s deploy``); run by ``nox -s e2e``.
It takes about 4-5 minutes: a 2-minute hold, then the HPA's scale-down.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hello_platform import paths

pytestmark = pytest.mark.e2e


def test_loadtest_scales_up_and_back_down() -> None:
    out = paths.out_dir() / "loadtest"
    done = subprocess.run(
        [sys.executable, "-m", "hello_platform.cli", "loadtest", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=480,
        check=False,
    )
    print(done.stdout)
    print(done.stderr, file=sys.stderr)
    assert done.returncode == 0, done.stderr.strip().splitlines()[-1:]

    summary_path = Path(out / "latest" / "summary.json")
    summary = json.loads(summary_path.read_text())
    assert summary["passed"] is True
    checks = {c["name"]: c for c in summary["checks"]}
    assert checks["scale-up starts"]["value"] <= 45
    assert checks["replicas reach"]["value"] >= 3
    assert checks["failed requests"]["value"] <= 0.01
    assert Path(summary["files"]["plot"]).read_bytes()[:4] == b"\x89PNG"
    for name in checks:
        assert f"PASS  {name}" in done.stdout
