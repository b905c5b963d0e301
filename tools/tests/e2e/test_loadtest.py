"""The autoscaling proof on the embedded cluster: ``hello-platform loadtest`` must pass.

Needs the cluster and the deployed service (``nox -s deploy``); run by ``nox -s e2e``.
It takes about 4-5 minutes: a 2-minute hold, then the HPA's scale-down.
"""

from __future__ import annotations

import pytest
from hello_platform.core import paths

from e2e.helpers import run_loadtest

pytestmark = pytest.mark.e2e


def test_loadtest_scales_up_and_back_down() -> None:
    run_loadtest(paths.out_dir() / "loadtest")
