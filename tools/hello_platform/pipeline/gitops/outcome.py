"""The release loop owns the outcome: it watches the Application until Synced/Healthy on
the new digest, else commits ``git revert`` of the release, waits for the previous digest to
be healthy again and says why in one sentence; started/promoted/reverted are announced.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, field
from typing import Any

from hello_platform.clients.kube import Kube
from hello_platform.core.catalogue import Service
from hello_platform.core.errors import PlatformError
from hello_platform.core.progress import say, step
from hello_platform.core.wait import Check, until
from hello_platform.pipeline import notify
from hello_platform.pipeline.gitops import argo, gitserver, lifecycle, records, release
from hello_platform.pipeline.notify import Announcer, Event, Notice
from hello_platform.pipeline.rollouts import outcome as rollout

HEALTHY = "healthy"
DEGRADED = "degraded"
SYNC_FAILED = "sync-failed"
TIMED_OUT = "timed-out"
#: Seconds between two ``git ls-remote`` of the environment branch's head.
HEAD_EVERY = 10.0
WEBHOOK_SOURCES = (
    f"${notify.ENV_VAR}, else the key {notify.SECRET_KEY} of the Secret "
    f"{notify.SECRET_NAMESPACE}/{notify.SECRET_NAME}"
)


@dataclass(frozen=True)
class Target:
    """The commit of ``branch`` (or a later one: others may commit meanwhile) and the
    digest (None: any) the Application must reach."""

    app: str
    branch: str
    commit: str
    digest: str | None


def verdict(app: argo.AppStatus | None, target: Target, head: str | None) -> str | None:
    """The outcome ``app`` shows (``head``: the branch's commit now); None: not yet."""
    if app is None:
        return None
    on_target = app.revision in (target.commit, head)
    if app.operation_phase in ("Failed", "Error") and app.operation_revision == target.commit:
        return SYNC_FAILED
    if not on_target:
        return None
    # While Argo CD syncs the commit, the health it shows is the old objects' (a revert of an
    # aborted Rollout still shows it Degraded until the new spec is applied and observed).
    if app.operation_phase == "Running":
        return None
    if app.health == "Degraded":
        return DEGRADED
    # Healthy at the commit means rolled out; when Argo CD shows the images, the digest
    # must also be among them.
    deploys = not (target.digest and app.images) or any(target.digest in i for i in app.images)
    return HEALTHY if app.ok and deploys else None


@dataclass
class Watch:
    verdict: str = TIMED_OUT
    last: argo.AppStatus | None = None
    seconds: float = 0.0


def watch(
    kube: Kube,
    target: Target,
    *,
    timeout: float,
    url: str | None = None,
    poll: float = 1.0,
) -> Watch:
    seen = Watch()
    heads: list[tuple[float, str | None]] = []

    def branch_head() -> str | None:
        now = time.monotonic()
        if not heads or now - heads[-1][0] >= HEAD_EVERY:
            heads.append((now, gitserver.remote_ref(target.branch, url)))
        return heads[-1][1]

    argo.refresh(kube, [argo.ROOT_APP, target.app])
    start = time.monotonic()

    def check() -> Check:
        apps = {a.name: a for a in argo.applications(kube)}
        seen.last = apps.get(target.app)
        found = verdict(seen.last, target, branch_head())
        seen.verdict = found or TIMED_OUT
        last = seen.last
        state = f"{last.sync}/{last.health} at {last.revision[:12]}" if last else "no app"
        return Check(found is not None, state)

    try:
        until(
            check,
            what=f"{target.app} is not Synced/Healthy on {target.commit[:12]}",
            timeout=timeout,
            interval=poll,
            first_note=10,
            every=10,
            progress=lambda s, st: say(f"watching {target.app}: {s:.0f}s, {st}"),
        )
    except PlatformError:
        seen.verdict = TIMED_OUT
    seen.seconds = round(time.monotonic() - start, 1)
    return seen


def why(seen: Watch, target: Target, timeout: float) -> str:
    last = seen.last
    state = f"{last.sync}/{last.health}" if last else "not found"
    detail = f": {last.reason}" if last and last.reason else ""
    digest = (target.digest or target.commit)[:19]
    if seen.verdict == SYNC_FAILED:
        return f"Argo CD could not sync {target.app} to {target.commit[:12]}{detail}"
    if seen.verdict == DEGRADED:
        return f"{target.app} turned Degraded on {digest}{detail}"
    within = f"within {timeout:.0f}s ({state}{detail})"
    return f"{target.app} was not Synced/Healthy on {digest} {within}"


@dataclass
class Outcome:
    ok: bool
    reason: str = ""
    commit_to_healthy_seconds: float | None = None
    revert_commit: str | None = None
    commit_to_revert_seconds: float | None = None
    revert_to_healthy_seconds: float | None = None
    announced: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Release:
    service: str
    env: str
    target: Target
    previous_digest: str | None
    committed_at: float
    #: Where the Application deploys: an aborted Rollout there says why it degraded.
    namespace: str = ""


def own(
    kube: Kube,
    rel: Release,
    announcer: Announcer,
    *,
    timeout: float,
    url: str | None = None,
    poll: float = 1.0,
) -> Outcome:
    """Watch the release to its verdict, revert it when not healthy, announce the outcome;
    the caller raises on ``ok=False`` (after writing the figures)."""
    digest = rel.target.digest or rel.target.commit
    seen = watch(kube, rel.target, timeout=timeout, url=url, poll=poll)
    if seen.verdict == HEALTHY:
        took = round(time.monotonic() - rel.committed_at, 1)
        _record(rel, records.PASSED, url)
        announcer.announce(Notice(Event.PROMOTED, rel.service, rel.env, digest, seconds=took))
        return Outcome(True, commit_to_healthy_seconds=took, announced=announcer.sent)
    reason = why(seen, rel.target, timeout)
    if seen.verdict == DEGRADED and rel.namespace:
        reason = "; ".join([reason, *aborted_rollouts(kube, rel.namespace)])
    say(f"release not healthy: {reason}; reverting {rel.target.commit[:12]}")
    reverted = gitserver.revert(rel.target.branch, rel.target.commit, url=url)
    _record(rel, records.REVERTED, url)
    revert_at = time.monotonic()
    back = Target(rel.target.app, rel.target.branch, reverted, rel.previous_digest)
    again = watch(kube, back, timeout=timeout, url=url, poll=poll)
    if again.verdict != HEALTHY:
        also = why(again, back, timeout)
        reason += f"; its revert {reverted[:12]} is not healthy either ({also})"
    announcer.announce(Notice(Event.REVERTED, rel.service, rel.env, digest, reason=reason))
    return Outcome(
        False,
        reason=reason,
        revert_commit=reverted,
        commit_to_revert_seconds=round(revert_at - rel.committed_at, 1),
        revert_to_healthy_seconds=again.seconds if again.verdict == HEALTHY else None,
        announced=announcer.sent,
    )


def _record(rel: Release, verdict: str, url: str | None) -> None:
    if rel.target.digest:
        records.write(rel.env, rel.target.digest, verdict, rel.target.commit, url=url)


def aborted_rollouts(kube: Kube, namespace: str) -> list[str]:
    """Why Argo CD shows the app Degraded: its health of a Rollout has no message."""
    found = [rollout.outcome(r) for r in kube.find(rollout.ROLLOUT, namespace=namespace)]
    return [o.sentence() for o in found if o.state == rollout.ABORTED]


def failed(outcome: Outcome) -> PlatformError:
    return PlatformError(
        f"the release was reverted ({outcome.revert_commit or '?'}): {outcome.reason}",
        hint="run `nox -s gitops -- status` and `git log` of the environment branch",
    )


def publish_release(opts: argparse.Namespace) -> str:
    """``release``: build, push and commit the image; with a cluster to watch, own the
    outcome."""
    from hello_platform.pipeline import image
    from hello_platform.pipeline.image import cli as image_cli

    registry = image_cli.registry_of(opts)
    local = opts.git_url is None
    if local:
        with step(f"publishing this checkout to {gitserver.URL}"):
            gitserver.publish(opts.env)
    svc = release.env_service(opts.env, opts.service)
    drill = release.fault_values(svc, opts.fault)
    built = image.build(svc, target=registry)
    branch = gitserver.env_branch(opts.env)
    text = gitserver.read_file(branch, release.image_file(opts.env), url=opts.git_url)
    previous = release.current_image(text).get("digest")
    watching = not opts.no_wait and (local or opts.kubeconfig is not None)
    kube = Kube(lifecycle.cluster(opts.kubeconfig, "release")) if watching else None
    if kube is not None and local:
        lifecycle.ensure_rollouts(kube, opts.env)
    announcer = Announcer(notify.webhook_url(opts.webhook_url, kube=kube))
    if not announcer.url:
        say(f"no chat webhook (--webhook-url, else {WEBHOOK_SOURCES}): not announced")
    committed = time.monotonic()
    commit = release.commit_image(opts.env, built, url=opts.git_url, faults=drill)
    say(f"committed {built.tag} to {branch} as {commit[:12]}")
    digest = str(built.digest)
    announcer.announce(Notice(Event.STARTED, svc.name, opts.env, digest))
    figures: dict[str, Any] = {
        "env": opts.env,
        "image": built.pinned,
        "revision": built.tag,
        "gitops_commit": commit,
        "commit_to_serving_seconds": None,
    }
    if kube is None:
        lifecycle.write_figures("release.json", figures)
        where = gitserver.redact(opts.git_url or gitserver.URL)
        return f"released {built.pinned}: commit {commit[:12]} on {where}"
    app = release.env_app(opts.env)
    was = str(previous) if previous else None
    target = Target(app.name, branch, commit, digest)
    rel = Release(svc.name, opts.env, target, was, committed, app.namespace)
    result = own(kube, rel, announcer, timeout=opts.timeout, url=opts.git_url)
    serving = _serving(svc, opts, committed) if result.ok and local else None
    figures["commit_to_serving_seconds"] = serving
    lifecycle.write_figures("release.json", {**figures, **result.to_json()})
    if not result.ok:
        raise failed(result)
    return (
        f"released {built.pinned}: commit {commit[:12]} healthy after "
        f"{result.commit_to_healthy_seconds}s" + (f", serving after {serving}s" if serving else "")
    )


def _serving(svc: Service, opts: argparse.Namespace, committed: float) -> float:
    from hello_platform.pipeline.image import read_source

    remaining = max(30.0, opts.timeout - (time.monotonic() - committed))
    release.wait_serving(
        f"http://127.0.0.1:{release.NODE_PORTS[opts.env]}",
        read_source(svc).revision,
        timeout=remaining,
    )
    return round(time.monotonic() - committed, 1)
