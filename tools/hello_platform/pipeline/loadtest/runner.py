"""One autoscaling proof, end to end: rest, load, scale down, then assert and report."""

from __future__ import annotations

import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

from hello_platform.clients.kube import Kube
from hello_platform.core import paths
from hello_platform.core.errors import PlatformError
from hello_platform.core.progress import say
from hello_platform.pipeline.loadtest.conclude import Run, conclude
from hello_platform.pipeline.loadtest.kube import KubeReader
from hello_platform.pipeline.loadtest.options import Options, locust_command
from hello_platform.pipeline.loadtest.release import (
    Target,
    ensure_deployed,
    validate_url,
    wait_ready,
    wait_scraped,
    wait_until,
)
from hello_platform.pipeline.loadtest.watcher import (
    HpaWatcher,
    LoadPoint,
    Sample,
    load_window,
    read_history,
)


def _kube(kubeconfig: Path) -> Kube:
    """A seam for the tests' fake API server."""
    return Kube(kubeconfig)


def progress_line(elapsed: float, point: LoadPoint | None, sample: Sample | None) -> str:
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


def run(opts: Options) -> int:
    """The whole proof; returns 0 when every assertion passes, else raises PlatformError."""
    started_at = time.time()
    kube, target = _target(opts)
    run_name = datetime.fromtimestamp(time.time(), UTC).strftime("%Y%m%dT%H%M%SZ")
    run_dir = (opts.out or paths.out_dir() / "loadtest") / run_name
    run_dir.mkdir(parents=True, exist_ok=True)
    hpa, window = target.hpa, target.hpa.scale_down_window_s
    aim = (
        f"cpu target {hpa.cpu_target}%"
        if hpa.external_target is None
        else f"target {hpa.external_target:g} rps per pod"
    )
    say(
        f"target {target.url} (HPA {hpa.name}: min {hpa.min_replicas}, max {hpa.max_replicas}, "
        f"{aim}, scale-down window {window}s); results in {run_dir}"
    )
    wait_ready(target.url)
    with HpaWatcher(
        kube,
        hpa.name,
        target.selector,
        interval_s=opts.interval_s,
        max_duration_s=window + 60 + opts.run_time_s + window + 90,
        log=run_dir / "samples.jsonl",
    ) as watcher:
        _rest_first(target, watcher, started_at)
        points, load_start, load_stop, locust_exit = _load(opts, target, watcher, run_dir)
        say(
            f"load stopped after {load_stop - load_start:.0f}s (Locust exit {locust_exit}); "
            f"waiting at most {window + 30}s for the scale-down"
        )
        wait_until(
            lambda: _resting(watcher.latest(), since=load_stop),
            timeout_s=max(0.0, load_stop + window + 30 + 2 * opts.interval_s - time.time()),
            report_line=lambda: progress_line(time.time() - load_start, None, watcher.latest()),
        )
    run = Run(opts, target, run_dir, run_name, started_at, load_start, load_stop, locust_exit)
    return conclude(run, watcher.snapshot(), points)


def _target(opts: Options) -> tuple[KubeReader, Target]:
    """The release under load, deployed first on the embedded cluster when it is missing."""
    if opts.url:
        validate_url(opts.url)  # refuse a non-loopback target before touching anything
    embedded = opts.kubeconfig is None
    if opts.kubeconfig is None:
        from hello_platform.substrate.cluster import ensure_up

        kubeconfig = ensure_up()
    else:
        kubeconfig = opts.kubeconfig
    if not kubeconfig.exists():
        raise PlatformError(
            f"kubeconfig {kubeconfig} does not exist",
            hint="pass --kubeconfig PATH, or omit it to use the embedded cluster",
        )
    if embedded and opts.mode == "requests":
        from hello_platform.pipeline.monitoring.stack import up as monitoring_up

        monitoring_up()  # Prometheus and KEDA (idempotent; quick when they run)
    kube = KubeReader(_kube(kubeconfig), opts.namespace)
    target = ensure_deployed(kube, opts, may_deploy=embedded and not opts.url)
    if embedded and opts.mode == "requests":
        wait_scraped(opts, target)
    return kube, target


def _resting(sample: Sample | None, *, since: float = 0.0) -> bool:
    """Whether ``sample`` (taken at ``since`` or later) finds the HPA at minReplicas."""
    return (
        sample is not None and sample.t >= since and sample.hpa is not None and sample.hpa.at_rest
    )


def _rest_first(target: Target, watcher: HpaWatcher, started_at: float) -> None:
    """Wait (bounded) for the HPA to rest at minReplicas, and for the watcher's first sample."""
    window = target.hpa.scale_down_window_s
    if not target.hpa.at_rest:
        say(f"waiting (at most {window + 60}s) for the HPA to rest at minReplicas first")
        rested = wait_until(
            lambda: _resting(watcher.latest()),
            timeout_s=window + 60,
            report_line=lambda: progress_line(time.time() - started_at, None, watcher.latest()),
        )
        if not rested:
            say("the HPA is still above minReplicas; scale-up is measured from where it is")
    wait_until(lambda: watcher.latest() is not None, timeout_s=15, report_line=lambda: "")


def _load(
    opts: Options, target: Target, watcher: HpaWatcher, run_dir: Path
) -> tuple[list[LoadPoint], float, float, int]:
    """Run Locust (killed past its bound): its points, the load's start and stop, its exit code."""
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
    points = read_history(history_csv)
    span = load_window(points)
    if span is None:
        raise PlatformError(
            f"Locust made no load (exit {proc.returncode})", hint="see its log", log=str(log_path)
        )
    return points, span[0], max(span[1], min(proc_stop, span[1] + 5)), proc.returncode


def _live_line(history_csv: Path, proc_start: float, watcher: HpaWatcher) -> str:
    points = read_history(history_csv)
    point = points[-1] if points else None
    start = load_window(points)
    origin = start[0] if start else proc_start
    return progress_line(time.time() - origin, point, watcher.latest())
