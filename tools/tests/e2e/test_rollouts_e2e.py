"""Canary drills on the embedded cluster, under steady load on 127.0.0.1.

Prometheus and the Argo Rollouts controller are brought up, the default service's release
is deployed in namespace ``<namespace>-rollouts`` (4 replicas, NodePort 30084,
``rollout.strategy=canary``), then a good canary must be promoted with no
failed request and a bad one (``faults.errorRate=0.05``) aborted by the analysis and rolled
back, within its error budget; a blue/green switch loses nothing; and a good canary while the
load steps up and down (the HPA on the Rollout) is promoted without the HPA and the Rollout
fighting. Figures land in ``out/drill/<run>/summary.json``, each drill's replicas over time in
``out/drill/<run>/<drill>.png``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hello_platform.core import catalogue
from hello_platform.pipeline import drill
from hello_platform.pipeline.rollouts import autoscale, drills

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def env() -> drill.Env:
    return drills.setup(catalogue.service(), rps=30)


@pytest.fixture(scope="module")
def report() -> drill.Report:
    return drill.Report()


@pytest.mark.parametrize("name", drills.NAMES)
def test_canary(env: drill.Env, report: drill.Report, name: str) -> None:
    summary = drill.run_drill(env, name, report, drills.DRILLS)
    assert summary.passed, summary.line()
    png = Path(summary.figures["plot"])
    assert png.parent == report.dir and png.name == f"{name}.png"
    assert png.read_bytes()[:4] == b"\x89PNG" and png.stat().st_size > 20_000


def test_the_autoscaled_canary_did_not_fight_its_hpa(report: drill.Report) -> None:
    ran = {s.drill: s for s in report.summaries}
    if "canary-autoscale" not in ran:
        pytest.fail("run with the canary-autoscale drill (-k autoscale)")
    found = ran["canary-autoscale"]
    f = found.figures
    print(
        f"canary-autoscale: requests {found.sent + f['peak_requests']} failed "
        f"{found.failed + f['peak_failed']} promoted in {f['seconds_to_promotion']}s replicas "
        f"{f['min_replicas']}-{f['max_replicas']} (ready {f['min_ready_replicas']}-"
        f"{f['max_ready_replicas']}) HPA desired {f['min_desired']}-{f['max_desired']} "
        f"turns {f['hpa_reversals']} plot {f['plot']}"
    )
    assert found.failed + f["peak_failed"] == 0
    assert autoscale.LOW <= f["min_replicas"] <= f["max_replicas"] <= autoscale.HIGH
    assert f["max_desired"] > autoscale.LOW and f["hpa_reversals"] <= 2
    assert f["replica_reversals"] <= 2 and not f["stable_short_at_s"]
    assert f["peak_requests"] >= autoscale.PEAK_RPS * autoscale.PEAK_S * 0.8
    assert f["replicas_min_at_switch_on"] >= autoscale.LOW  # the chart kept the live count
