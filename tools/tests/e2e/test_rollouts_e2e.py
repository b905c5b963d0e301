"""Canary drills on the embedded cluster, under steady load on 127.0.0.1.

Prometheus and the Argo Rollouts controller are brought up, the default service's release
is deployed in namespace ``<namespace>-rollouts`` (4 replicas, NodePort 30084,
``rollout.strategy=canary``), then a good canary must be promoted with no
failed request and a bad one (``faults.errorRate=0.05``) aborted by the analysis and rolled
back, within its error budget. Figures land in ``out/drill/<run>/summary.json``.
"""

from __future__ import annotations

import pytest
from hello_platform.core import catalogue
from hello_platform.pipeline import drill
from hello_platform.pipeline.rollouts import drills

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
