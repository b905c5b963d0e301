"""Plot, report, watcher and the runner's small pieces, all on synthetic data."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

import pytest
from hello_platform import cli
from hello_platform.core.errors import PlatformError
from hello_platform.pipeline.loadtest import conclude
from hello_platform.pipeline.loadtest.assertions import evaluate
from hello_platform.pipeline.loadtest.kube import HpaStatus, KubeReader, PodCounts, PodUsage
from hello_platform.pipeline.loadtest.options import Options, locust_command
from hello_platform.pipeline.loadtest.plot import plot_run
from hello_platform.pipeline.loadtest.runner import progress_line
from hello_platform.pipeline.loadtest.sizing import advise
from hello_platform.pipeline.loadtest.watcher import HpaWatcher, LoadPoint, Sample, take_sample
from loadtest_data import IDLE_HPA as HPA

T0 = 1_800_000_000.0


def synthetic() -> tuple[list[Sample], list[LoadPoint]]:
    samples = []
    for i in range(-3, 70):
        t = T0 + 3 * i
        replicas = 1 if i < 8 or i > 58 else (3 if i < 12 else 5)
        cpu = 4 if i < 3 or i > 46 else 240 // replicas
        samples.append(
            Sample(
                t=t,
                hpa=replace(
                    HPA, current_replicas=replicas, desired_replicas=replicas, cpu_utilization=cpu
                ),
                pods=PodCounts(total=replicas, ready=replicas),
                usage=tuple(PodUsage(f"p{j}", cpu * 1.0, 50.0) for j in range(replicas)),
            )
        )
    points = [
        LoadPoint(
            t=T0 + s,
            users=min(40, 4 * s) if s < 130 else 0,
            rps=min(200.0, 20.0 * s) if s < 130 else 0.0,
            fail_per_s=0.0,
            p95_ms=15.0 + (s % 7),
            total_requests=180 * s,
            total_failures=0,
        )
        for s in range(135)
    ]
    return samples, points


def test_plot_writes_a_png(tmp_path: Path) -> None:
    samples, points = synthetic()
    path = plot_run(
        tmp_path / "sub" / "timeline.png",
        samples,
        points,
        load_start=T0,
        load_stop=T0 + 130,
        scale_up_s=24.0,
    )
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 10_000


def test_plot_copes_with_no_cluster_readings(tmp_path: Path) -> None:
    _, points = synthetic()
    samples = [Sample(t=T0, errors=("hpa: down",))]
    assert plot_run(tmp_path / "t.png", samples, points, load_start=T0, load_stop=T0 + 130).exists()


def test_summary_json_and_markdown(tmp_path: Path) -> None:
    samples, points = synthetic()
    checks = evaluate(samples, points, load_start=T0, load_stop=T0 + 130, p95_hold_ms=21.0)
    sizing = advise(
        samples,
        points,
        hold_start=T0 + 10,
        load_start=T0,
        load_stop=T0 + 130,
        p95_hold_ms=21.0,
        p95_budget_ms=1000.0,
    )
    summary = conclude.Summary(
        run="20261130T030000Z",
        url="http://127.0.0.1:30080",
        started_at=T0 - 20,
        load_start=T0,
        load_stop=T0 + 130,
        settings=Options().settings(),
        checks=checks,
        figures={"peak_replicas": 5, "scale_up_s": 24.0},
        sizing=sizing,
        files={"plot": "timeline.png"},
    )
    data = json.loads(json.dumps(summary.as_dict()))
    assert data["passed"] is summary.passed
    assert data["load_duration_s"] == 130.0
    assert data["checks"][0]["name"] == "scale-up starts"
    assert data["sizing"]["hpa_target_percent"] in (50, 60, 70)
    text = conclude.markdown(summary, plot_name="timeline.png")
    assert text.startswith("# Load test 20261130T030000Z: ")
    assert "| scale-up starts | PASS |" in text
    assert "| failed requests | PASS | 0.00% | 1.00% |" in text
    assert "![rps, p95, replicas and CPU over time](timeline.png)" in text
    assert "## Sizing advice (not applied)" in text


class FakeReader:
    def __init__(self) -> None:
        self.calls = 0

    def hpa(self, name: str) -> HpaStatus:
        self.calls += 1
        if self.calls == 2:
            raise PlatformError("kubectl get hpa hello failed: connection refused")
        return HPA

    def pods(self, selector: str) -> PodCounts:
        return PodCounts(1, 1)

    def pod_usage(self, selector: str) -> list[PodUsage]:
        raise PlatformError("metrics API not available")


def test_take_sample_records_errors_and_goes_on() -> None:
    reader = FakeReader()
    first = take_sample(reader, "hello", "app=hello", clock=lambda: 5.0)
    assert first.t == 5.0 and first.hpa == HPA and first.pods == PodCounts(1, 1)
    assert first.usage is None and first.errors == ("metrics: metrics API not available.",)
    second = take_sample(reader, "hello", "app=hello")
    assert second.hpa is None and len(second.errors) == 2


def test_watcher_is_bounded_and_logs(tmp_path: Path) -> None:
    log = tmp_path / "samples.jsonl"
    watcher = HpaWatcher(
        FakeReader(), "hello", "app=hello", interval_s=0.01, max_duration_s=0.2, log=log
    )
    watcher.start()
    watcher.join(5)
    assert not watcher.is_alive()
    assert len(watcher.snapshot()) >= 2
    assert json.loads(log.read_text().splitlines()[0])["hpa"]["name"] == "hello"


def test_watcher_stops_on_request() -> None:
    watcher = HpaWatcher(FakeReader(), "hello", "app=hello", interval_s=30, max_duration_s=600)
    watcher.start()
    watcher.stop(timeout=5)
    assert not watcher.is_alive()
    assert watcher.latest() is not None


def test_progress_line() -> None:
    point = LoadPoint(
        t=T0, users=30, rps=210.4, fail_per_s=0.0, p95_ms=12.0, total_requests=1, total_failures=0
    )
    sample = Sample(
        t=T0, hpa=replace(HPA, current_replicas=2, desired_replicas=3, cpu_utilization=128)
    )
    assert progress_line(40.2, point, sample) == (
        "t=40s users=30 rps=210 p95=12ms replicas=2→3 cpu=128%"
    )
    assert progress_line(3, None, Sample(t=T0, errors=("hpa: x",))) == (
        "t=3s (hpa unreadable: hpa: x)"
    )


def test_locust_command_is_headless_and_bounded(tmp_path: Path) -> None:
    opts = Options(users=40, spawn_rate=4, hold_s=120)
    cmd = locust_command(opts, "http://127.0.0.1:30080", tmp_path)
    joined = " ".join(cmd)
    for flag in (
        "--headless",
        "-u 40",
        "-r 4",
        "--run-time 140s",
        "--stop-timeout 5",
        "--csv-full-history",
        "--html",
        "--host http://127.0.0.1:30080",
    ):
        assert flag in joined
    assert str(tmp_path / "locust") in cmd


def test_cli_refuses_a_remote_url_before_doing_anything(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(cli, "COMMAND_MODULES", ("pipeline.loadtest.cli",))
    code = cli.main(["loadtest", "--url", "http://10.1.2.3:80", "--out", str(tmp_path)])
    assert code == 2
    assert "refusing to send load to 10.1.2.3" in capsys.readouterr().err


def test_cli_rejects_unbounded_runs(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli, "COMMAND_MODULES", ("pipeline.loadtest.cli",))
    assert cli.main(["loadtest", "--hold", "3600"]) == 2
    assert "bounded" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["loadtest", "--users", "0"])


KEDA_HPA = replace(
    HPA,
    name="keda-hpa-hello",
    cpu_utilization=None,
    cpu_target=None,
    external_value=260.04,
    external_target=100.0,
)


def test_progress_line_in_requests_mode_shows_rps_per_pod() -> None:
    sample = Sample(t=T0, hpa=replace(KEDA_HPA, current_replicas=5, desired_replicas=5))
    assert progress_line(9, None, sample) == "t=9s replicas=5→5 rps/pod=260/100"
    unknown = Sample(t=T0, hpa=replace(KEDA_HPA, external_value=None))
    assert progress_line(9, None, unknown) == "t=9s replicas=1→1 rps/pod=?"


class LabelledObjects:
    """A KubeReader's ``labelled`` over fixed objects (what the cluster holds)."""

    def __init__(self, *objects: dict[str, Any]) -> None:
        self.objects = objects

    def labelled(self, api_version: str, kind: str, release: str) -> list[dict[str, Any]]:
        return [
            o
            for o in self.objects
            if o["kind"] == kind and o["metadata"]["labels"][INSTANCE] == release
        ]


INSTANCE = "app.kubernetes.io/instance"


def _obj(kind: str, name: str, release: str, **extra: Any) -> dict[str, Any]:
    return {"kind": kind, "metadata": {"name": name, "labels": {INSTANCE: release}}, **extra}


def test_the_hpa_is_found_by_the_release_label_not_by_its_name() -> None:
    from hello_platform.pipeline.loadtest import release

    cluster = LabelledObjects(
        _obj("HorizontalPodAutoscaler", "web", "web"),  # fullnameOverride=web: not web-hello
        _obj("ScaledObject", "web", "web", status={"hpaName": "keda-hpa-web"}),
        _obj("HorizontalPodAutoscaler", "other", "other"),
    )
    reader = cast(KubeReader, cluster)
    assert release.hpa_name(reader, Options(release="web", mode="cpu")) == "web"
    assert release.hpa_name(reader, Options(release="web", mode="requests")) == "keda-hpa-web"
    with pytest.raises(PlatformError, match="release 'nope' has 0 HorizontalPodAutoscalers"):
        release.hpa_name(reader, Options(release="nope", mode="cpu"))


def test_requests_mode_deploys_its_own_release() -> None:
    from hello_platform.pipeline.loadtest import release

    assert release.deploy_sets(Options(mode="cpu")) == ()
    assert release.deploy_sets(Options(mode="requests")) == (
        "autoscaling.mode=requests",
        "service.nodePort=30082",
    )
    args = cli.build_parser().parse_args(["loadtest", "--mode", "requests"])
    assert (args.mode, args.namespace) == ("requests", None)  # hello-keda is filled in later
    assert Options(mode="requests").namespace == "hello-keda"  # the service's, + "-keda"
    assert Options(mode="cpu").namespace == "hello" and Options().release == "hello"
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["loadtest", "--mode", "memory"])


def test_plot_in_requests_mode_draws_rps_per_pod(tmp_path: Path) -> None:
    samples = [Sample(t=T0 + i, hpa=replace(KEDA_HPA, external_value=50.0 * i)) for i in range(5)]
    points = [
        LoadPoint(
            t=T0 + i,
            users=10,
            rps=100.0,
            fail_per_s=0,
            p95_ms=5.0,
            total_requests=i,
            total_failures=0,
        )
        for i in range(5)
    ]
    path = plot_run(tmp_path / "p.png", samples, points, load_start=T0, load_stop=T0 + 4)
    assert path.read_bytes()[:4] == b"\x89PNG"


def test_requests_mode_waits_until_prometheus_scrapes_the_release(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from hello_platform.pipeline.loadtest import release
    from hello_platform.pipeline.monitoring import prometheus

    asked: list[str] = []
    answers = iter([None, 0.0, 1.0])

    def scalar(query: str) -> float | None:
        asked.append(query)
        return next(answers)

    monkeypatch.setattr(prometheus, "scalar", scalar)
    monkeypatch.setattr(time, "sleep", lambda _s: None)
    # The Service's name is the one found in the cluster (fullnameOverride=web, say).
    target = release.Target(hpa=KEDA_HPA, service="web", selector="x=y", url="http://127.0.0.1:1")
    release.wait_scraped(Options(namespace="ns", mode="requests"), target, timeout_s=5)
    assert asked == ['count(up{namespace="ns",service="web"} == 1)'] * 3
    monkeypatch.setattr(prometheus, "scalar", lambda q: None)
    with pytest.raises(PlatformError, match="does not scrape release 'hello' in 'ns'"):
        release.wait_scraped(Options(namespace="ns", mode="requests"), target, timeout_s=0)
