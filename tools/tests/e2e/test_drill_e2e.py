"""Every drill of ``hello_platform.pipeline.drill`` on the embedded cluster, under steady load.

Run by ``nox -s e2e`` (marker ``e2e``), last (conftest orders it: ``cluster-restart``
stops and starts the whole node). The default service's release ``<release>-drill``
(namespace ``<namespace>-drill``, 2 replicas, NodePort 30083) is deployed first; each
drill's figures land in ``out/drill/<run>/summary.json``. Every request goes to 127.0.0.1,
bounded in rate, count and time.
"""

from __future__ import annotations

import pytest
from hello_platform.core import catalogue
from hello_platform.pipeline import drill

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def env() -> drill.Env:
    return drill.setup(catalogue.service())


@pytest.fixture(scope="module")
def report() -> drill.Report:
    return drill.Report()


@pytest.mark.parametrize("name", drill.NAMES)
def test_drill(env: drill.Env, report: drill.Report, name: str) -> None:
    summary = drill.run_drill(env, name, report)
    assert summary.passed, summary.line()
