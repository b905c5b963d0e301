"""Synthetic load-test data shared by the ``test_loadtest_*`` modules."""

from __future__ import annotations

from hello_platform.pipeline.loadtest.kube import HpaStatus

#: An HPA at rest: one replica of 1..5, little CPU, a 30 s scale-down window.
IDLE_HPA = HpaStatus(
    name="hello",
    target_kind="Deployment",
    target_name="hello",
    min_replicas=1,
    max_replicas=5,
    current_replicas=1,
    desired_replicas=1,
    cpu_utilization=4,
    cpu_target=50,
    scale_down_window_s=30,
    last_scale_time=None,
)
