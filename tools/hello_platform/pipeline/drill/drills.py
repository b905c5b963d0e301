"""The drills, running them under load one after the other, and what they report (failures,
the longest outage, percentiles, the run's ``summary.json``)."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from lightkube.resources.apps_v1 import Deployment
from lightkube.resources.core_v1 import Pod

from hello_platform.core import paths
from hello_platform.core.catalogue import Service
from hello_platform.core.errors import PlatformError
from hello_platform.core.progress import say
from hello_platform.pipeline import deploy
from hello_platform.pipeline.drill.load import DEFAULT_RPS, MAX_RPS, Load, Sample
from hello_platform.pipeline.drill.release import REPLICAS, Env, setup, wait_until


@dataclass
class Outcome:
    checks: dict[str, bool] = field(default_factory=dict)
    recovery_s: float | None = None
    figures: dict[str, Any] = field(default_factory=dict)
    #: Draws the drill's PNG at the given path from the load's records and its events.
    plot: Plot | None = None


Plot = Callable[[Sequence[Sample], Mapping[str, float], Path], Path]
Drill = Callable[[Env, Load], Outcome]
#: name: (the drill, whether every request must succeed), in the order a run takes them.
Table = Mapping[str, tuple[Drill, bool]]
#: Load before the disruption, and after the drill's condition held (s).
WARMUP_S = 3.0
TAIL_S = 2.0
#: How long the kill drills leave the daemon dead before ``cluster up``, and keep the load on
#: once it is repaired (s).
DEAD_S = 10.0
AFTER_S = 10.0


def pod_delete(env: Env, load: Load) -> Outcome:
    """Delete one serving pod; its replacement must be Ready, and nothing may fail."""
    ready = [p for p in env.pods() if not p["metadata"].get("deletionTimestamp")]
    victim = ready[0]["metadata"]["name"]
    t = load.mark(f"delete pod {victim}")
    env.kube.api.delete(Pod, victim, namespace=env.opts.namespace)

    def replaced() -> bool:
        return env.settled() and victim not in {p["metadata"]["name"] for p in env.pods()}

    wait_until(replaced, timeout=90, what=f"{victim} to be replaced")
    recovered = load.mark("replacement Ready, old pod gone")
    return Outcome(recovery_s=recovered - t)


def rolling_update(env: Env, load: Load) -> Outcome:
    """A config change (a pod annotation) replaces every pod; nothing may fail."""
    t = load.mark("helm upgrade (new pod annotation)")
    env.upgrade(f"podAnnotations.drill-rollout=r{int(time.time())}")
    load.mark("helm upgrade returned")
    wait_until(env.settled, timeout=90, what="the old pods to terminate")
    recovered = load.mark("old pods gone")
    return Outcome(recovery_s=recovered - t)


def failed_release(env: Env, load: Load) -> Outcome:
    """An upgrade whose pods never become Ready is rolled back; the old pods serve."""
    before = env.status()
    revision = _serving_revision(env)
    t = load.mark("helm upgrade faults.unready=true")
    try:
        env.upgrade("faults.unready=true", timeout=40)
        message = "the upgrade succeeded"
    except PlatformError as err:
        message = str(err)
    load.mark("helm upgrade failed")
    wait_until(env.settled, timeout=90, what="the rolled-back release to settle")
    recovered = load.mark("rolled back, settled")
    after = env.status()
    return Outcome(
        {
            "upgrade reported rolled back": "rolled back" in message and "keeps serving" in message,
            "release deployed at revision +2": after["info"]["status"] == "deployed"
            and after["version"] == before["version"] + 2,
            "old revision still serving": _serving_revision(env) == revision,
            "readiness probe back on /readyz": _readiness_path(env) == "/readyz",
        },
        recovered - t,
        {"revision_before": before["version"], "revision_after": after["version"]},
    )


def _readiness_path(env: Env) -> str:
    dep = env.kube.api.get(Deployment, env.deployment, namespace=env.opts.namespace) or {}
    containers = dep.get("spec", {}).get("template", {}).get("spec", {}).get("containers", [{}])
    return str(((containers[0].get("readinessProbe") or {}).get("httpGet") or {}).get("path", ""))


def _serving_revision(env: Env) -> str | None:
    status, body = deploy.http_get(env.url + "/version")
    revision: str | None = json.loads(body).get("revision") if status == 200 else None
    return revision


def kill(component: str) -> Drill:
    def run(env: Env, load: Load) -> Outcome:
        from hello_platform.substrate import process
        from hello_platform.substrate.cluster import node
        from hello_platform.substrate.cluster.components import by_name
        from hello_platform.substrate.cluster.layout import Layout

        lay = Layout.default()
        pidfile = by_name(component).pidfile(lay)
        pid = process.running(pidfile)
        if pid is None:
            raise PlatformError(f"{component} is not running", hint="run: nox -s cluster -- up")
        os.kill(pid, signal.SIGKILL)
        t = load.mark(f"kill -9 {component} (pid {pid})")
        wait_until(lambda: process.running(pidfile) is None, timeout=10, what="the kill")
        failed_before = load.failed()
        time.sleep(DEAD_S)
        failed_dead = load.failed() - failed_before
        up_at = load.mark(f"cluster up (after {DEAD_S:.0f}s with {component} dead)")
        node.up(lay)
        up_done = load.mark("cluster up returned")
        wait_until(env.settled, timeout=120, what="the release to be Ready")
        recovered = load.mark("node and release Ready")
        time.sleep(AFTER_S)  # a restarted kubelet re-probes every pod: watch that too
        return Outcome(
            {"node and release Ready again": True},
            recovered - t,
            {
                "failed_while_dead": failed_dead,
                "failed_after_repair": load.failed() - failed_before - failed_dead,
                "dead_s": round(up_at - t, 1),
                "up_s": round(up_done - up_at, 1),
                "repair_s": round(recovered - up_at, 1),
            },
        )

    run.__doc__ = f"kill -9 {component}, then cluster up."
    return run


def cluster_restart(env: Env, load: Load) -> Outcome:
    """``cluster down`` + ``cluster up`` (data kept): the release comes back Ready."""
    from hello_platform.substrate.cluster import node

    t = load.mark("cluster down")
    node.down()
    down_done = load.mark("cluster down returned; cluster up")
    started = dt.datetime.now(dt.UTC)
    node.up()
    up_done = load.mark("cluster up returned")
    wait_until(lambda: env.settled(since=started), timeout=180, what="the release to be Ready")
    recovered = load.mark("release Ready")
    wait_until(lambda: deploy.http_get(env.url + "/")[0] == 200, timeout=30, what="a 200")
    return Outcome(
        {"release Ready again": True},
        recovered - t,
        {"down_s": round(down_done - t, 1), "up_s": round(up_done - down_done, 1)},
    )


DRILLS: Table = {
    "pod-delete": (pod_delete, True),
    "rolling-update": (rolling_update, True),
    "failed-release": (failed_release, True),
    "kill-kubelet": (kill("kubelet"), False),
    "kill-containerd": (kill("containerd"), False),
    "cluster-restart": (cluster_restart, False),
}
NAMES = tuple(DRILLS)


def run_drill(env: Env, name: str, report: Report | None = None, table: Table = DRILLS) -> Summary:
    """Run drill ``name`` of ``table`` under load; print its line."""
    drill, zero_failures = table[name]
    say(f"drill {name}: {drill.__doc__}")
    with Load(env.url + "/", rps=env.rps) as load:
        time.sleep(WARMUP_S)
        try:
            outcome = drill(env, load)
            time.sleep(TAIL_S)
        except PlatformError as err:
            load.mark(f"error: {err}")
            outcome = Outcome({"drill completed": False})
        samples = load.stop()
    checks, figures = dict(outcome.checks), dict(outcome.figures)
    if outcome.plot is not None and report is not None:
        report.dir.mkdir(parents=True, exist_ok=True)
        png = outcome.plot(samples, load.events, report.dir / f"{name}.png")
        say(f"drill {name}: plot {png}")
        figures["plot"] = str(png)
    if zero_failures:
        checks["no request failed"] = all(s.ok for s in samples)
    checks["enough requests"] = len(samples) >= WARMUP_S * env.rps
    checks[f"{REPLICAS}+ pods answered"] = (
        len({s.host for s in samples if s.ok and s.host}) >= REPLICAS
    )
    summary = summarize(
        name,
        samples,
        rps=env.rps,
        skipped=load.skipped,
        events=load.events,
        checks=checks,
        recovery_s=outcome.recovery_s,
        figures=figures,
    )
    print(summary.line(), flush=True)
    if report is not None:
        report.add(summary)
    return summary


def select(only: Sequence[str], table: Table = DRILLS) -> list[str]:
    unknown = [n for n in only if n not in table]
    if unknown:
        raise PlatformError(
            f"unknown drill {', '.join(unknown)}", hint=f"choose from: {', '.join(table)}"
        )
    return [n for n in table if not only or n in only]


def run(
    service: Service,
    names: Sequence[str],
    rps: float = DEFAULT_RPS,
    table: Table = DRILLS,
    prepare: Callable[[Service, float], Env] = setup,
) -> Report:
    """Run drills ``names`` of ``table`` (all when none) on the release ``prepare`` deploys."""
    if not 0 < rps <= MAX_RPS:
        raise PlatformError(f"--rps {rps:g} is out of range", hint=f"give 1 to {MAX_RPS}")
    names = select(names, table)
    report = Report()
    env = prepare(service, rps)
    for name in names:
        run_drill(env, name, report, table)
    say(f"drills took {time.monotonic() - report.started:.0f}s; summary: {report.path}")
    failed = [s.drill for s in report.summaries if not s.passed]
    if failed:
        raise PlatformError(
            f"drill {', '.join(failed)} failed", hint=f"see {report.path} and {env.kube.log}"
        )
    return report


#: Failed requests listed one by one in a summary.
FIRST_FAILURES = 20


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-q * len(ordered) // 100))))
    return ordered[rank - 1]


def longest_outage(samples: Sequence[Sample]) -> float:
    """The seconds of the longest run of failed requests: to the next answer, or to the end of
    the last failure."""
    best, start, end = 0.0, None, 0.0
    for s in sorted(samples, key=lambda s: s.t):
        if not s.ok:
            start = s.t if start is None else start
            end = s.t + s.ms / 1000
        elif start is not None:
            best, start = max(best, s.t - start), None
    if start is not None:
        best = max(best, end - start)
    return round(best, 3)


@dataclass
class Summary:
    drill: str
    passed: bool
    sent: int
    failed: int
    skipped: int
    rps: float
    seconds: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    unavailable_s: float
    #: From the disruption until the drill's "back to normal" condition held (s).
    recovery_s: float | None
    statuses: dict[str, int]
    errors: dict[str, int]
    events: dict[str, float]
    checks: dict[str, bool]
    figures: dict[str, Any] = field(default_factory=dict)
    hosts: dict[str, int] = field(default_factory=dict)
    #: The first failed requests: [sent at (s), status, error].
    failures: list[tuple[float, int, str]] = field(default_factory=list)

    def line(self) -> str:
        recovery = f"{self.recovery_s:.1f}s" if self.recovery_s is not None else "-"
        failing = [name for name, ok in self.checks.items() if not ok]
        return (
            f"drill {self.drill}: {'PASS' if self.passed else 'FAIL'}  sent {self.sent}  "
            f"failed {self.failed}  p50 {self.p50_ms:.1f}ms  p99 {self.p99_ms:.1f}ms  "
            f"unavailable {self.unavailable_s:.1f}s  recovery {recovery}  "
            f"pods {len(self.hosts)}  ({self.seconds:.0f}s at {self.rps:g} rps)"
            + (f"  failed checks: {', '.join(failing)}" if failing else "")
        )


def summarize(
    drill: str,
    samples: Sequence[Sample],
    *,
    rps: float,
    skipped: int = 0,
    events: dict[str, float] | None = None,
    checks: dict[str, bool] | None = None,
    recovery_s: float | None = None,
    figures: dict[str, Any] | None = None,
) -> Summary:
    latencies = [s.ms for s in samples if s.ok]
    checks = dict(checks or {})
    return Summary(
        drill=drill,
        passed=all(checks.values()),
        sent=len(samples),
        failed=sum(1 for s in samples if not s.ok),
        skipped=skipped,
        rps=rps,
        seconds=round(max((s.t for s in samples), default=0.0), 1),
        p50_ms=round(percentile(latencies, 50), 2),
        p99_ms=round(percentile(latencies, 99), 2),
        max_ms=round(max(latencies, default=0.0), 2),
        unavailable_s=longest_outage(samples),
        recovery_s=None if recovery_s is None else round(recovery_s, 2),
        statuses={str(k): v for k, v in sorted(Counter(s.status for s in samples).items())},
        errors=dict(Counter(s.error for s in samples if s.error)),
        events=dict(events or {}),
        checks=checks,
        figures=dict(figures or {}),
        hosts=dict(Counter(s.host for s in samples if s.ok and s.host)),
        failures=[(round(s.t, 3), s.status, s.error) for s in samples if not s.ok][:FIRST_FAILURES],
    )


class Report:
    """``out/drill/<run>/summary.json``, rewritten after every drill; ``latest`` links it."""

    def __init__(self, root: Path | None = None, run: str | None = None) -> None:
        self.run = run or dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        self.dir = (root or paths.out_dir() / "drill") / self.run
        self.summaries: list[Summary] = []
        self.started = time.monotonic()

    @property
    def path(self) -> Path:
        return self.dir / "summary.json"

    def add(self, summary: Summary) -> None:
        self.summaries.append(summary)
        self.dir.mkdir(parents=True, exist_ok=True)
        body = {
            "run": self.run,
            "passed": all(s.passed for s in self.summaries),
            "seconds": round(time.monotonic() - self.started, 1),
            "drills": [asdict(s) for s in self.summaries],
        }
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(body, indent=2) + "\n")
        tmp.replace(self.path)
        paths.link_latest(self.dir)
