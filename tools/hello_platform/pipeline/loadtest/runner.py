"""One autoscaling proof, end to end.

Find the service and its HPA, wait until it rests at minReplicas, run Locust (headless,
bounded) against the NodePort on 127.0.0.1 while a watcher samples the HPA and the pods,
wait (bounded) for the scale-down, then assert, plot, advise and report.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hello_platform.clients.kube import Kube
from hello_platform.core import paths
from hello_platform.core.errors import PlatformError
from hello_platform.core.progress import say
from hello_platform.core.wait import until
from hello_platform.pipeline.loadtest import assertions, history, report, sizing
from hello_platform.pipeline.loadtest.kube import (
    HpaStatus,
    KubeReader,
    node_port_url,
    selector_string,
)
from hello_platform.pipeline.loadtest.target import validate_url, wait_ready
from hello_platform.pipeline.loadtest.watcher import HpaWatcher, Sample

LOCUSTFILE = paths.REPO_ROOT / "loadtests" / "locustfile.py"


@dataclass
class Options:
    """What one run does; defaults drive >= 3 replicas on the local profile (2 cores)."""

    kubeconfig: Path | None = None
    url: str | None = None
    namespace: str = "hello"
    release: str = "hello"
    #: what the release scales on: "cpu" (the chart's HPA) or "requests" (KEDA's HPA)
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
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ramp_s(self) -> float:
        return float(math.ceil(self.users / self.spawn_rate))

    @property
    def run_time_s(self) -> int:
        """Locust's hard bound: the shape's ramp + hold, and a little slack."""
        return int(self.ramp_s + self.hold_s + 10)

    def settings(self) -> dict[str, Any]:
        return {
            "users": self.users,
            "spawn_rate": self.spawn_rate,
            "user_rps": self.user_rps,
            "hold_s": self.hold_s,
            "ramp_s": self.ramp_s,
            "run_time_s": self.run_time_s,
            "p95_max_ms": self.p95_max_ms,
            "fail_ratio_max": self.fail_ratio_max,
            "namespace": self.namespace,
            "release": self.release,
            "mode": self.mode,
            "interval_s": self.interval_s,
        }


def _kube(kubeconfig: Path) -> Kube:
    """The cluster the run targets (a seam for the tests' fake API server)."""
    return Kube(kubeconfig)


def _cluster_kubeconfig() -> Path:
    """The embedded cluster's kubeconfig, starting the cluster if it is not running."""
    from hello_platform.substrate.cluster import ensure_up

    return ensure_up()


@dataclass(frozen=True)
class Target:
    """The deployed service: its HPA, its pods' selector and the URL to load."""

    hpa: HpaStatus
    selector: str
    url: str


class NotDeployedError(PlatformError):
    """The release's HPA is not in the cluster."""


def fullname(release: str) -> str:
    """The chart's resource name for ``release`` (as ``hello.fullname`` renders it)."""
    return release if "hello" in release else f"{release}-hello"


#: Scaling modes: the HPA's name for a release's fullname, and how the run deploys it.
MODES = ("cpu", "requests")
#: Where ``--mode requests`` deploys its own release when none is there (NodePort 30082).
REQUESTS_NAMESPACE = "hello-keda"
REQUESTS_NODE_PORT = 30082


def hpa_name(release: str, mode: str) -> str:
    """The HPA that scales the release: the chart's, or the one KEDA makes for its
    ScaledObject (``keda-hpa-<name>``)."""
    name = fullname(release)
    return f"keda-hpa-{name}" if mode == "requests" else name


def find_target(kube: KubeReader, opts: Options) -> Target:
    """The HPA, pod selector and NodePort URL of the release, or a clear error."""
    name = fullname(opts.release)
    try:
        hpa = kube.hpa(hpa_name(opts.release, opts.mode))
    except PlatformError as err:
        raise NotDeployedError(
            f"no HPA '{hpa_name(opts.release, opts.mode)}' in namespace '{opts.namespace}' "
            f"({err.message})",
            hint="deploy first with nox -s deploy, or pass --namespace/--release/--mode",
        ) from err
    workload = kube.object(hpa.target_api_version, hpa.target_kind, hpa.target_name)
    labels = ((workload.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    if not labels:
        raise PlatformError(f"{hpa.target_kind} '{hpa.target_name}' has no matchLabels selector")
    if opts.url:
        url = validate_url(opts.url)
    else:
        url = validate_url(node_port_url(kube.object("v1", "Service", name), "http"))
    return Target(hpa=hpa, selector=selector_string(labels), url=url)


def ensure_deployed(kube: KubeReader, opts: Options, *, may_deploy: bool) -> Target:
    """The target; on the embedded cluster, deploy the service first if it is not there."""
    try:
        return find_target(kube, opts)
    except NotDeployedError:
        if not may_deploy:
            raise
    from hello_platform.pipeline import deploy

    say(f"release '{opts.release}' is not deployed; deploying it first (as nox -s deploy does)")
    deploy.deploy(
        deploy.Options(
            namespace=opts.namespace,
            release=opts.release,
            run_tests=False,
            sets=deploy_sets(opts),
        )
    )
    if opts.mode == "requests":
        wait_until(
            lambda: _has_hpa(kube, opts),
            timeout_s=60,
            report_line=lambda: "waiting for KEDA to create the HPA of the ScaledObject",
        )
    return find_target(kube, opts)


#: How long a fresh release may take to appear in Prometheus: its pods are found through
#: DNS SRV records, and CoreDNS caches the "no such name" from before the release for 30 s.
SCRAPE_WAIT_S = 150.0


def wait_scraped(opts: Options, *, timeout_s: float = SCRAPE_WAIT_S) -> None:
    """Wait until the embedded Prometheus scrapes the release: without its metric KEDA
    sees 0 rps, and the proof would measure discovery instead of scaling."""
    from hello_platform.pipeline.monitoring import prometheus

    up = f'count(up{{namespace="{opts.namespace}",service="{fullname(opts.release)}"}} == 1)'

    def scraped() -> bool:
        try:
            return (prometheus.scalar(up) or 0) >= 1
        except PlatformError:
            return False

    if not wait_until(
        scraped,
        timeout_s=timeout_s,
        report_line=lambda: f"waiting for Prometheus to scrape {opts.namespace}/{opts.release}",
        poll_s=2.0,
    ):
        raise PlatformError(
            f"Prometheus does not scrape release '{opts.release}' in '{opts.namespace}' after "
            f"{timeout_s:.0f}s",
            hint="is metrics.podsService on, and the namespace in "
            "hello_platform.pipeline.monitoring.prometheus.RELEASES? (nox -s monitoring -- status)",
        )


def deploy_sets(opts: Options) -> tuple[str, ...]:
    """The ``--set`` items a run's own deploy needs for its mode."""
    if opts.mode != "requests":
        return ()
    return ("autoscaling.mode=requests", f"service.nodePort={REQUESTS_NODE_PORT}")


def _has_hpa(kube: KubeReader, opts: Options) -> bool:
    try:
        kube.hpa(hpa_name(opts.release, opts.mode))
    except PlatformError:
        return False
    return True


def progress_line(elapsed: float, point: history.LoadPoint | None, sample: Sample | None) -> str:
    """``t=40s users=30 rps=210 p95=12ms replicas=2→3 cpu=128%``."""
    parts = [f"t={elapsed:.0f}s"]
    if point is not None:
        parts.append(f"users={point.users} rps={point.rps:.0f}")
        if point.p95_ms is not None:
            parts.append(f"p95={point.p95_ms:.0f}ms")
    hpa = sample.hpa if sample else None
    if hpa is not None:
        parts.append(f"replicas={hpa.current_replicas}→{hpa.desired_replicas}")
        if hpa.external_target is not None:
            per_pod = hpa.external_value
            parts.append(
                f"rps/pod={per_pod:.0f}/{hpa.external_target:g}"
                if per_pod is not None
                else "rps/pod=?"
            )
        else:
            cpu = hpa.cpu_utilization
            parts.append(f"cpu={cpu}%" if cpu is not None else "cpu=?")
    elif sample is not None and sample.errors:
        parts.append(f"(hpa unreadable: {sample.errors[0][:80]})")
    return " ".join(parts)


def _at_rest(hpa: HpaStatus | None) -> bool:
    return (
        hpa is not None
        and hpa.current_replicas <= hpa.min_replicas
        and hpa.desired_replicas <= hpa.min_replicas
    )


def wait_until(
    done: Callable[[], bool],
    *,
    timeout_s: float,
    every_s: float = 10.0,
    report_line: Callable[[], str],
    poll_s: float = 1.0,
) -> bool:
    """Poll ``done`` until true or ``timeout_s``, printing ``report_line()`` every ``every_s``."""
    try:
        until(
            done,
            what="not done",
            timeout=timeout_s,
            interval=poll_s,
            progress=lambda _s, _d: say(report_line()),
            first_note=every_s,
            every=every_s,
        )
    except PlatformError:
        return False
    return True


def locust_command(opts: Options, url: str, run_dir: Path) -> list[str]:
    """The bounded, headless Locust command line of a run."""
    return [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(LOCUSTFILE),
        "--headless",
        "-u",
        str(opts.users),
        "-r",
        f"{opts.spawn_rate:g}",
        "--run-time",
        f"{opts.run_time_s}s",
        "--stop-timeout",
        f"{opts.stop_timeout_s:g}",
        "--host",
        url,
        "--hold-time",
        f"{opts.hold_s:g}",
        "--user-rps",
        f"{opts.user_rps:g}",
        "--p95-max-ms",
        f"{opts.p95_max_ms:g}",
        "--fail-ratio-max",
        f"{opts.fail_ratio_max:g}",
        "--verdict-file",
        str(run_dir / "locust-verdict.json"),
        "--csv",
        str(run_dir / "locust"),
        "--csv-full-history",
        "--html",
        str(run_dir / "locust.html"),
        "--only-summary",
    ]


def run(opts: Options) -> int:
    """The whole proof; returns 0 when every assertion passes, else raises PlatformError."""
    if opts.url:
        validate_url(opts.url)  # refuse a non-loopback target before touching anything
    started_at = time.time()
    embedded = opts.kubeconfig is None
    kubeconfig = opts.kubeconfig or _cluster_kubeconfig()
    if not kubeconfig.exists():
        raise PlatformError(
            f"kubeconfig {kubeconfig} does not exist",
            hint="pass --kubeconfig PATH, or omit it to use the embedded cluster",
        )
    if opts.mode not in MODES:
        raise PlatformError(f"--mode must be one of {', '.join(MODES)}, not '{opts.mode}'")
    if embedded and opts.mode == "requests":
        from hello_platform.pipeline.monitoring.stack import up as monitoring_up

        monitoring_up()  # Prometheus and KEDA (idempotent; quick when they run)
    kube = KubeReader(_kube(kubeconfig), opts.namespace)
    target = ensure_deployed(kube, opts, may_deploy=embedded and not opts.url)
    if embedded and opts.mode == "requests":
        wait_scraped(opts)
    run_name = datetime.fromtimestamp(time.time(), UTC).strftime("%Y%m%dT%H%M%SZ")
    run_dir = (opts.out or paths.out_dir() / "loadtest") / run_name
    run_dir.mkdir(parents=True, exist_ok=True)
    aim = (
        f"cpu target {target.hpa.cpu_target}%"
        if target.hpa.external_target is None
        else f"target {target.hpa.external_target:g} rps per pod"
    )
    say(
        f"target {target.url} (HPA {target.hpa.name}: min {target.hpa.min_replicas}, "
        f"max {target.hpa.max_replicas}, {aim}, "
        f"scale-down window {target.hpa.scale_down_window_s}s); results in {run_dir}"
    )
    wait_ready(target.url)

    window = target.hpa.scale_down_window_s
    watcher = HpaWatcher(
        kube,
        target.hpa.name,
        target.selector,
        interval_s=opts.interval_s,
        max_duration_s=window + 60 + opts.run_time_s + window + 90,
        log=run_dir / "samples.jsonl",
    )
    watcher.start()
    try:
        return _run_with_watcher(opts, target, watcher, run_dir, run_name, started_at)
    finally:
        watcher.stop()


def _run_with_watcher(
    opts: Options,
    target: Target,
    watcher: HpaWatcher,
    run_dir: Path,
    run_name: str,
    started_at: float,
) -> int:
    window = target.hpa.scale_down_window_s
    if not _at_rest(target.hpa):
        say(f"waiting (at most {window + 60}s) for the HPA to rest at minReplicas first")
        rested = wait_until(
            lambda: _at_rest(getattr(watcher.latest(), "hpa", None)),
            timeout_s=window + 60,
            report_line=lambda: progress_line(time.time() - started_at, None, watcher.latest()),
        )
        if not rested:
            say("the HPA is still above minReplicas; scale-up is measured from where it is")
    wait_until(lambda: watcher.latest() is not None, timeout_s=15, report_line=lambda: "")

    history_csv = run_dir / "locust_stats_history.csv"
    log_path = run_dir / "locust.log"
    cmd = locust_command(opts, target.url, run_dir)
    say(
        f"load: {opts.users} users ({opts.user_rps:g} rps each) ramped at "
        f"{opts.spawn_rate:g}/s, held {opts.hold_s:g}s; Locust log {log_path}"
    )
    proc_start = time.time()
    with log_path.open("w") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=paths.REPO_ROOT)
        try:
            finished = wait_until(
                lambda: proc.poll() is not None,
                timeout_s=opts.run_time_s + opts.stop_timeout_s + 60,
                report_line=lambda: _live_line(history_csv, proc_start, watcher),
            )
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
    proc_stop = time.time()
    if not finished:
        raise PlatformError(
            "Locust did not stop within its time bound and was killed", log=str(log_path)
        )
    points = history.read_history(history_csv)
    span = history.load_window(points)
    if span is None:
        raise PlatformError(
            f"Locust made no load (exit {proc.returncode})", hint="see its log", log=str(log_path)
        )
    load_start, load_stop = span[0], max(span[1], min(proc_stop, span[1] + 5))
    say(
        f"load stopped after {load_stop - load_start:.0f}s (Locust exit {proc.returncode}); "
        f"waiting at most {window + 30}s for the scale-down"
    )

    wait_until(
        lambda: _back_at_min(watcher, load_stop),
        timeout_s=max(0.0, load_stop + window + 30 + 2 * opts.interval_s - time.time()),
        report_line=lambda: progress_line(time.time() - load_start, None, watcher.latest()),
    )
    watcher.stop()
    samples = watcher.snapshot()
    return _conclude(
        opts,
        target,
        samples,
        points,
        run_dir,
        run_name,
        started_at,
        load_start,
        load_stop,
        proc.returncode,
    )


def _back_at_min(watcher: HpaWatcher, load_stop: float) -> bool:
    last = watcher.latest()
    return last is not None and last.t >= load_stop and _at_rest(last.hpa)


def _live_line(history_csv: Path, proc_start: float, watcher: HpaWatcher) -> str:
    points = history.read_history(history_csv)
    point = points[-1] if points else None
    start = history.load_window(points)
    origin = start[0] if start else proc_start
    return progress_line(time.time() - origin, point, watcher.latest())


def _read_verdict(path: Path) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return {}
    return data


def _conclude(
    opts: Options,
    target: Target,
    samples: list[Sample],
    points: list[history.LoadPoint],
    run_dir: Path,
    run_name: str,
    started_at: float,
    load_start: float,
    load_stop: float,
    locust_exit: int,
) -> int:
    verdict = _read_verdict(run_dir / "locust-verdict.json")
    p95_hold = verdict.get("p95_hold_ms")
    limits = assertions.Limits(
        scale_up_within_s=opts.scale_up_within_s,
        min_peak_replicas=opts.min_peak_replicas,
        fail_ratio_max=opts.fail_ratio_max,
        p95_max_ms=opts.p95_max_ms,
    )
    checks = assertions.evaluate(
        samples,
        points,
        load_start=load_start,
        load_stop=load_stop,
        p95_hold_ms=p95_hold,
        limits=limits,
    )
    hold_start = load_start + opts.ramp_s
    advice = sizing.advise(
        samples,
        points,
        hold_start=hold_start,
        load_start=load_start,
        load_stop=load_stop,
        p95_hold_ms=p95_hold,
        p95_budget_ms=opts.p95_max_ms,
    )
    figures = _figures(samples, points, load_start, load_stop, hold_start, verdict, locust_exit)

    from hello_platform.pipeline.loadtest.plot import plot_run  # matplotlib is slow to import

    up = assertions.scale_up_time(samples, load_start)
    plot_path = plot_run(
        run_dir / "timeline.png",
        samples,
        points,
        load_start=load_start,
        load_stop=load_stop,
        scale_up_s=up,
        title=f"hello autoscaling under load ({run_name})",
    )
    files = {
        "plot": str(plot_path),
        "report": str(run_dir / "report.md"),
        "summary": str(run_dir / "summary.json"),
        "locust_html": str(run_dir / "locust.html"),
        "history_csv": str(run_dir / "locust_stats_history.csv"),
        "samples": str(run_dir / "samples.jsonl"),
    }
    summary = report.Summary(
        run=run_name,
        url=target.url,
        started_at=started_at,
        load_start=load_start,
        load_stop=load_stop,
        settings=opts.settings(),
        checks=checks,
        figures=figures,
        sizing=advice,
        files=files,
    )
    report.write_json(summary, run_dir / "summary.json")
    (run_dir / "report.md").write_text(report.markdown(summary, plot_name=plot_path.name))
    paths.link_latest(run_dir)

    for line in report.print_checks(checks):
        print(line, flush=True)
    print("sizing advice (not applied):", flush=True)
    for line in advice.lines():
        print(f"  {line}", flush=True)
    for name in ("plot", "report", "summary", "locust_html"):
        print(f"{name}: {files[name]}", flush=True)
    failed = [c.name for c in checks if not c.passed]
    if failed:
        raise PlatformError(
            f"the autoscaling proof failed: {', '.join(failed)}",
            hint=f"see {run_dir / 'report.md'} and {plot_path}",
        )
    print(f"PASS: all {len(checks)} assertions held", flush=True)
    return 0


def _figures(
    samples: list[Sample],
    points: list[history.LoadPoint],
    load_start: float,
    load_stop: float,
    hold_start: float,
    verdict: dict[str, Any],
    locust_exit: int,
) -> dict[str, Any]:
    hold_points = [p for p in points if hold_start <= p.t <= load_stop and p.users > 0]
    cpu = [
        s.hpa.cpu_utilization
        for s in samples
        if s.hpa and s.hpa.cpu_utilization is not None and load_start <= s.t <= load_stop
    ]
    final = points[-1] if points else None
    per_pod = [
        s.hpa.external_value
        for s in samples
        if s.hpa and s.hpa.external_value is not None and load_start <= s.t <= load_stop
    ]
    rps_target = next(
        (s.hpa.external_target for s in samples if s.hpa and s.hpa.external_target is not None),
        None,
    )
    return {
        "scale_up_s": assertions.scale_up_time(samples, load_start),
        "peak_replicas": assertions.peak_replicas(samples, load_start),
        "scale_down_s": assertions.scale_down_time(samples, load_stop),
        "scale_down_window_s": assertions.scale_down_window(samples),
        "requests": final.total_requests if final else 0,
        "failures": final.total_failures if final else 0,
        "hold_rps_mean": round(sum(p.rps for p in hold_points) / len(hold_points), 1)
        if hold_points
        else None,
        "peak_rps": round(max((p.rps for p in points), default=0.0), 1),
        "p95_hold_ms": verdict.get("p95_hold_ms"),
        "p95_total_ms": verdict.get("p95_total_ms"),
        "peak_cpu_utilization_percent": max(cpu) if cpu else None,
        "peak_rps_per_pod": round(max(per_pod), 1) if per_pod else None,
        "target_rps_per_pod": rps_target,
        "samples": len(samples),
        "sample_errors": sum(1 for s in samples if s.errors),
        "locust_exit_code": locust_exit,
    }
