"""``hello-platform drill``: failure drills under steady, bounded load on 127.0.0.1.

Each drill runs :class:`Load` (a fixed request rate on keep-alive connections, capped in
time and count, loopback only) against the release ``hello-drill`` (2 replicas, no HPA,
NodePort 30083) while it disrupts something, then prints one line and adds a
:class:`Summary` to ``out/drill/<run>/summary.json`` (``out/drill/latest`` names the run):

* ``pod-delete``: ``kubectl delete pod`` of a serving pod: no request may fail;
* ``rolling-update``: a config change replaces every pod: no request may fail;
* ``failed-release``: an upgrade whose pods never become Ready (``faults.unready``) is
  rolled back while the old pods serve: no request may fail;
* ``kill-kubelet`` / ``kill-containerd``: SIGKILL the daemon by its pidfile, keep the load
  on while it is dead (the pods should keep serving), then ``cluster up`` repairs it: the
  failed requests and the time until the node and the release are Ready again;
* ``cluster-restart``: ``cluster down`` + ``cluster up`` (data kept): the release must come
  back Ready; the longest unavailable stretch is reported.

A failed request is anything but HTTP 200: an error status, a timeout, a refused or reset
connection. Requests are never retried.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import signal
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from hello_platform.core import paths
from hello_platform.core.errors import PlatformError
from hello_platform.core.progress import say
from hello_platform.pipeline import deploy, helm

NAMESPACE = "hello-drill"
RELEASE = "hello-drill"
NODE_PORT = 30083
#: The drill release: a fixed 2 replicas (no HPA), on its own node port.
REPLICAS = 2
BASE_SETS = (
    f"service.nodePort={NODE_PORT}",
    "autoscaling.enabled=false",
    f"replicaCount={REPLICAS}",
)
#: Drill names, in the order a full run takes them (the disruptive ones last).
NAMES = (
    "pod-delete",
    "rolling-update",
    "failed-release",
    "kill-kubelet",
    "kill-containerd",
    "cluster-restart",
)
USAGE = "usage: nox -s drill -- [--only NAME ...] [--rps N]"
FLAGS = ("--only", "--rps", "-h", "--help")
DEFAULT_RPS = 50
MAX_RPS = 200
#: Hard caps of one load run, whatever the drill does.
MAX_SECONDS = 420.0
MAX_REQUESTS = 30_000
#: Failed requests listed one by one in a summary.
FIRST_FAILURES = 20


def check_loopback(url: str) -> urllib.parse.SplitResult:
    """``url`` split, if it is plain http to 127.0.0.0/8; else a PlatformError."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme != "http" or not host.startswith("127.") or not parts.port:
        raise PlatformError(
            f"drill load goes to this machine only (http://127.x.y.z:PORT), not {url}"
        )
    return parts


# ------------------------------------------------------------------------------ the load


@dataclass(frozen=True)
class Sample:
    """One request: when it was sent (s since the load started), its status (0 when
    nothing answered), how long it took, and the error when it failed."""

    t: float
    status: int
    ms: float
    error: str = ""
    #: The ``host`` the answer names (the service's pod name), when it names one.
    host: str = ""

    @property
    def ok(self) -> bool:
        return self.status == 200


class Load:
    """GET ``url`` at ``rps`` requests a second from ``connections`` threads, each on its
    own keep-alive connection (reopened after an error or ``Connection: close``), until
    stopped, ``max_seconds`` pass or ``max_requests`` are sent.

    A connection is closed after ``per_connection`` requests, as a client pool with a
    request cap does: kube-proxy balances connections, not requests, so without it eight
    long-lived connections may all land on one replica (1 in 128 runs with two) and a
    replacement pod would never see traffic.

    The schedule is open-loop: request ``i`` is due at ``i / rps``; a slot more than
    ``late_s`` overdue (every connection was waiting on a timeout) is skipped and counted,
    so a recovery is never followed by a burst.
    """

    def __init__(
        self,
        url: str,
        *,
        rps: float = DEFAULT_RPS,
        connections: int = 8,
        timeout: float = 2.0,
        max_seconds: float = MAX_SECONDS,
        max_requests: int = MAX_REQUESTS,
        late_s: float = 1.0,
        per_connection: int = 20,
    ) -> None:
        parts = check_loopback(url)
        if not 0 < rps <= MAX_RPS:
            raise PlatformError(f"rps {rps} is out of range", hint=f"give 1 to {MAX_RPS}")
        self.host, self.port = parts.hostname or "", int(parts.port or 0)
        self.path = parts.path or "/"
        self.rps, self.connections, self.timeout = rps, connections, timeout
        self.max_seconds, self.max_requests = min(max_seconds, MAX_SECONDS), max_requests
        self.late_s = late_s
        self.per_connection = max(1, per_connection)
        self.samples: list[Sample] = []
        self.skipped = 0
        self.events: dict[str, float] = {}
        self._next = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._t0 = 0.0

    def now(self) -> float:
        """Seconds since the load started."""
        return time.monotonic() - self._t0

    def mark(self, event: str) -> float:
        """Record that ``event`` happened now; returns its time."""
        self.events[event] = round(self.now(), 3)
        say(f"{event} at {self.events[event]:.1f}s ({self.progress()})")
        return self.events[event]

    def failed(self) -> int:
        """Failed requests so far."""
        with self._lock:
            return sum(1 for s in self.samples if not s.ok)

    def progress(self) -> str:
        with self._lock:
            sent = len(self.samples)
        return f"{sent} sent, {self.failed()} failed"

    def __enter__(self) -> Load:
        self._t0 = time.monotonic()
        for n in range(self.connections):
            t = threading.Thread(target=self._work, name=f"drill-load-{n}", daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> list[Sample]:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=self.timeout + 5)
        with self._lock:
            self.samples.sort(key=lambda s: s.t)
            return list(self.samples)

    def _slot(self) -> float | None:
        """The due time of the next request, or None when the load is over."""
        with self._lock:
            while True:
                if self._next >= self.max_requests:
                    return None
                due = self._next / self.rps
                self._next += 1
                if due > self.max_seconds:
                    return None
                if self.now() - due <= self.late_s:
                    return due
                self.skipped += 1

    def _work(self) -> None:
        conn: http.client.HTTPConnection | None = None
        used = 0
        while not self._stop.is_set():
            due = self._slot()
            if due is None:
                break
            if self._stop.wait(max(0.0, due - self.now())):
                break
            if conn is None:
                conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
                used = 0
            used += 1
            sent = self.now()
            try:
                conn.request("GET", self.path, headers={"User-Agent": "hello-platform-drill"})
                resp = conn.getresponse()
                body = resp.read()
                sample = Sample(sent, resp.status, (self.now() - sent) * 1000, host=_host(body))
                closing = resp.will_close
            except (OSError, http.client.HTTPException) as err:
                sample = Sample(sent, 0, (self.now() - sent) * 1000, type(err).__name__)
                closing = True
            if closing or used >= self.per_connection:
                conn.close()
                conn = None
            with self._lock:
                self.samples.append(sample)
        if conn is not None:
            conn.close()


def _host(body: bytes) -> str:
    try:
        found = json.loads(body).get("host", "")
    except (ValueError, AttributeError):
        return ""
    return found if isinstance(found, str) else ""


# ---------------------------------------------------------------------------- summaries


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (nearest rank) of ``values``; 0 when there are none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-q * len(ordered) // 100))))
    return ordered[rank - 1]


def longest_outage(samples: Sequence[Sample]) -> tuple[float, float | None]:
    """The longest stretch of consecutive failed requests (by send time): its length in
    seconds (from the first failure to the next success, or to the end of the last
    failure) and its start (None when nothing failed)."""
    best, best_start = 0.0, None
    start: float | None = None
    last_end = 0.0
    for s in sorted(samples, key=lambda s: s.t):
        if not s.ok:
            if start is None:
                start = s.t
            last_end = s.t + s.ms / 1000
            continue
        if start is not None:
            if s.t - start > best:
                best, best_start = s.t - start, start
            start = None
    if start is not None and last_end - start > best:
        best, best_start = last_end - start, start
    return round(best, 3), best_start


@dataclass
class Summary:
    """What one drill measured and whether it passed (latencies: of the answered requests)."""

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
    #: Longest stretch of consecutive failures (s).
    unavailable_s: float
    #: From the disruption until the drill's "back to normal" condition held (s).
    recovery_s: float | None
    statuses: dict[str, int]
    errors: dict[str, int]
    events: dict[str, float]
    checks: dict[str, bool]
    figures: dict[str, Any] = field(default_factory=dict)
    #: The pods that answered (by the ``host`` they name).
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
    """The :class:`Summary` of one load run; it passes when every check holds."""
    latencies = [s.ms for s in samples if s.ok]
    unavailable, _ = longest_outage(samples)
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
        unavailable_s=unavailable,
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


# ------------------------------------------------------------------------ the release


@dataclass
class Env:
    """The drill release and how to reach it."""

    kube: deploy.Kube
    opts: deploy.Options
    url: str
    rps: float = DEFAULT_RPS

    @property
    def files(self) -> list[Path]:
        return release_files(self.opts)

    def options(self, *sets: str, timeout: int = 120) -> deploy.Options:
        """The release's options with ``sets`` on top (helm resets what is not given)."""
        return deploy.Options(
            profile=self.opts.profile,
            sets=(*self.opts.sets, *sets),
            namespace=self.opts.namespace,
            release=self.opts.release,
            timeout=timeout,
            run_tests=False,
        )

    def upgrade(self, *sets: str, timeout: int = 120) -> dict[str, Any]:
        opts = self.options(*sets, timeout=timeout)
        return deploy.upgrade(
            self.kube, opts, self.files, flag=deploy.rollback_flag(self.kube.helm)
        )

    def status(self) -> dict[str, Any]:
        status = deploy.release_status(self.kube, self.opts.release, self.opts.namespace)
        if status is None:
            raise PlatformError(f"release {self.opts.release} has no status")
        return status

    def pods(self) -> list[dict[str, Any]]:
        """The release's pods (terminating ones included)."""
        done = self.kube.kubectl_cmd(
            "get", "pods", "--namespace", self.opts.namespace, "--selector",
            f"app.kubernetes.io/instance={self.opts.release}", "--output", "json",
            what="kubectl get pods", timeout=15,
        )  # fmt: skip
        items: list[dict[str, Any]] = json.loads(done.stdout)["items"]
        return items

    def settled(self, since: dt.datetime | None = None) -> bool:
        """The Deployment is rolled out with every replica Ready (since ``since``, when
        given) and no other pod of the release is left (none terminating)."""
        from hello_platform.substrate.cluster import health
        from hello_platform.substrate.cluster.layout import Layout

        name = self.opts.release
        if not health.deployment(Layout.default(), self.opts.namespace, name, since).ok:
            return False
        try:
            return len(self.pods()) == REPLICAS
        except PlatformError:
            return False


def release_files(opts: deploy.Options) -> list[Path]:
    """The values files of a release deployed by ``deploy``: its profile, then the image."""
    return [*helm.profile_files(opts.profile), paths.out_dir() / "deploy" / "image-values.json"]


def setup(rps: float = DEFAULT_RPS) -> Env:
    """Deploy (or update) the drill release and wait until it has settled."""
    opts = deploy.Options(
        profile="local",
        sets=BASE_SETS,
        namespace=NAMESPACE,
        release=RELEASE,
        timeout=300,
        run_tests=False,
    )
    result = deploy.deploy(opts)
    if not result.url:
        raise PlatformError("the drill release has no node port on 127.0.0.1")
    env = Env(deploy.Kube(result.helm, result.kubectl, result.kubeconfig), opts, result.url, rps)
    wait_until(env.settled, timeout=120, what="the drill release to settle")
    return env


def wait_until(
    check: Callable[[], bool], *, timeout: float, what: str, every: float = 0.5
) -> float:
    """Poll ``check`` until true; the seconds it took (a PlatformError after ``timeout``)."""
    started = time.monotonic()
    while True:
        try:
            if check():
                return time.monotonic() - started
        except (OSError, ValueError, PlatformError):
            pass
        if time.monotonic() - started > timeout:
            raise PlatformError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(every)


# --------------------------------------------------------------------------- the drills


@dataclass
class Outcome:
    """What a drill's disruption reports besides the load's samples."""

    checks: dict[str, bool] = field(default_factory=dict)
    recovery_s: float | None = None
    figures: dict[str, Any] = field(default_factory=dict)


Drill = Callable[[Env, Load], Outcome]
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
    env.kube.kubectl_cmd(
        "delete", "pod", victim, "--namespace", env.opts.namespace, "--wait=false",
        what="kubectl delete pod",
    )  # fmt: skip

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
    done = env.kube.kubectl_cmd(
        "get", "deployment", env.opts.release, "--namespace", env.opts.namespace,
        "--output", "jsonpath={.spec.template.spec.containers[0].readinessProbe.httpGet.path}",
        what="kubectl get deployment",
    )  # fmt: skip
    return done.stdout.strip()


def _serving_revision(env: Env) -> str | None:
    status, body = deploy.http_get(env.url + "/version")
    revision: str | None = json.loads(body).get("revision") if status == 200 else None
    return revision


def kill(component: str) -> Drill:
    """SIGKILL ``component`` by its pidfile, hold the load while it is dead, then let
    ``cluster up`` repair it; report the failures and the recovery time."""

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


DRILLS: dict[str, tuple[Drill, bool]] = {
    # name: (the drill, whether every request must succeed)
    "pod-delete": (pod_delete, True),
    "rolling-update": (rolling_update, True),
    "failed-release": (failed_release, True),
    "kill-kubelet": (kill("kubelet"), False),
    "kill-containerd": (kill("containerd"), False),
    "cluster-restart": (cluster_restart, False),
}


def run_drill(env: Env, name: str, report: Report | None = None) -> Summary:
    """Run drill ``name`` under load; print its line, add it to ``report``."""
    drill, zero_failures = DRILLS[name]
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
    checks = dict(outcome.checks)
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
        figures=outcome.figures,
    )
    print(summary.line(), flush=True)
    if report is not None:
        report.add(summary)
    return summary


def select(only: Sequence[str]) -> list[str]:
    """The drills to run, in :data:`NAMES` order; a PlatformError names an unknown one."""
    unknown = [n for n in only if n not in DRILLS]
    if unknown:
        raise PlatformError(
            f"unknown drill {', '.join(unknown)}", hint=f"choose from: {', '.join(NAMES)}"
        )
    return [n for n in NAMES if not only or n in only]


@contextmanager
def _timed(report: Report) -> Iterator[None]:
    yield
    say(f"drills took {time.monotonic() - report.started:.0f}s; summary: {report.path}")


def run(names: Sequence[str], rps: float = DEFAULT_RPS) -> Report:
    """Set the release up and run ``names``; a PlatformError when any drill failed."""
    names = select(names)
    report = Report()
    with _timed(report):
        env = setup(rps)
        for name in names:
            run_drill(env, name, report)
    failed = [s.drill for s in report.summaries if not s.passed]
    if failed:
        raise PlatformError(
            f"drill {', '.join(failed)} failed", hint=f"see {report.path} and {env.kube.log}"
        )
    return report


# ---------------------------------------------------------------------------- the CLI


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "drill",
        help="failure drills under steady load (pod delete, rollouts, kills, restart)",
        description=__doc__,
        usage="hello-platform drill " + USAGE.removeprefix("usage: nox -s drill -- "),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--only", nargs="+", default=[], metavar="NAME", help=f"run these: {', '.join(NAMES)}"
    )
    parser.add_argument(
        "--rps", type=float, default=DEFAULT_RPS, help=f"requests a second (default {DEFAULT_RPS})"
    )
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    if not 0 < args.rps <= MAX_RPS:
        raise PlatformError(f"--rps {args.rps:g} is out of range", hint=f"give 1 to {MAX_RPS}")
    run(args.only, args.rps)
    return 0
