"""The release loop's outcome without a cluster: the verdict on an Application's state, and
``own`` driving a scripted Argo CD (promoted; reverted on a bound, on Degraded, on a failed
sync), with what it commits and announces; the ``--fault`` values of a release."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from hello_platform.core.errors import PlatformError
from hello_platform.pipeline.gitops import argo, gitserver, outcome, records, release
from hello_platform.pipeline.notify import Announcer

NEW = "sha256:" + "n" * 64
OLD = "sha256:" + "o" * 64
COMMIT, REVERT = "c" * 40, "r" * 40
TARGET = outcome.Target("hello-local", "gitops/local", COMMIT, NEW)


def app(revision: str = COMMIT, health: str = "Healthy", **kw: Any) -> argo.AppStatus:
    fields: dict[str, Any] = {
        "name": "hello-local",
        "sync": "Synced",
        "health": health,
        "revision": revision,
        "target": "gitops/local",
        "path": "deploy/helm/hello",
        "images": (f"127.0.0.1:5000/hello:1@{NEW if revision == COMMIT else OLD}",),
    }
    return argo.AppStatus(**{**fields, **kw})


def test_verdict() -> None:
    assert outcome.verdict(None, TARGET, COMMIT) is None
    assert outcome.verdict(app("p" * 40), TARGET, COMMIT) is None  # not synced to it yet
    assert outcome.verdict(app(health="Progressing"), TARGET, COMMIT) is None
    assert outcome.verdict(app(), TARGET, COMMIT) == outcome.HEALTHY
    assert outcome.verdict(app(images=("x@" + OLD,)), TARGET, COMMIT) is None
    # No pods in Argo CD's tree (the project hides ReplicaSets): the commit names the digest.
    assert outcome.verdict(app(images=()), TARGET, COMMIT) == outcome.HEALTHY
    assert outcome.verdict(app(health="Degraded"), TARGET, COMMIT) == outcome.DEGRADED
    # Still syncing the commit: the health shown is the previous objects'.
    syncing = app(health="Degraded", operation_phase="Running", operation_revision=COMMIT)
    assert outcome.verdict(syncing, TARGET, COMMIT) is None
    failed = app("p" * 40, operation_phase="Failed", operation_revision=COMMIT)
    assert outcome.verdict(failed, TARGET, COMMIT) == outcome.SYNC_FAILED
    # Someone committed after the release: the branch's head is as good as the commit.
    assert outcome.verdict(app(revision="h" * 40, images=(NEW,)), TARGET, "h" * 40) == "healthy"


class _Argo:
    """Argo CD played from a script: each poll shows the next state (the last one stays)."""

    def __init__(self, states: list[argo.AppStatus]) -> None:
        self.states = states
        self.reverted: list[str] = []
        self.head = COMMIT
        self.records: list[tuple[str, str, str, str]] = []
        #: What Argo CD shows once the release is reverted (None: the script goes on).
        self.after_revert: list[argo.AppStatus] | None = None

    def applications(self, kube: Any) -> list[argo.AppStatus]:
        return [self.states.pop(0) if len(self.states) > 1 else self.states[0]]

    def record(self, env: str, digest: str, verdict: str, commit: str, **_: Any) -> None:
        self.records.append((env, digest, verdict, commit))

    def revert(self, branch: str, commit: str, *, url: str | None = None) -> str:
        self.reverted.append(commit)
        self.head = REVERT
        if self.after_revert is not None:
            self.states = self.after_revert
        return REVERT


@pytest.fixture
def scripted(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Argo]:
    fake = _Argo([])
    monkeypatch.setattr(argo, "applications", fake.applications)
    monkeypatch.setattr(argo, "refresh", lambda kube, names: None)
    monkeypatch.setattr(gitserver, "revert", fake.revert)
    monkeypatch.setattr(gitserver, "remote_ref", lambda ref, url=None: fake.head)
    monkeypatch.setattr(records, "write", fake.record)
    yield fake


def _own(timeout: float = 3) -> tuple[outcome.Outcome, list[tuple[str, dict[str, Any]]]]:
    sent: list[tuple[str, dict[str, Any]]] = []
    announcer = Announcer("http://127.0.0.1:9/hook", deliver=lambda u, p: sent.append((u, p)))
    rel = outcome.Release("hello", "local", TARGET, OLD, time.monotonic())
    done = outcome.own(None, rel, announcer, timeout=timeout, poll=0.01)  # type: ignore[arg-type]
    return done, sent


def test_a_healthy_release_is_promoted_with_its_seconds(scripted: _Argo) -> None:
    scripted.states = [app("p" * 40), app(health="Progressing"), app()]
    done, sent = _own()
    assert done.ok and done.commit_to_healthy_seconds is not None
    assert scripted.reverted == []
    assert scripted.records == [("local", NEW, "passed", COMMIT)]  # what promote may take
    assert [p["text"].split(" ")[0] for _, p in sent] == [":white_check_mark:"]
    assert "healthy after" in sent[0][1]["text"]


def test_a_release_not_healthy_within_the_bound_is_reverted(scripted: _Argo) -> None:
    waiting = app(health="Progressing", health_message="Waiting for rollout to finish")
    back = app(REVERT)
    scripted.states, scripted.after_revert = [waiting], [back]
    done, sent = _own(timeout=0.3)
    assert not done.ok
    assert scripted.reverted == [COMMIT]
    assert scripted.records == [("local", NEW, "reverted", COMMIT)]  # never promoted
    assert done.revert_commit == REVERT and done.revert_to_healthy_seconds is not None
    assert done.reason.startswith("hello-local was not Synced/Healthy on sha256:nnnnnnnnnnnn")
    assert "within 0s (Synced/Progressing: health: Waiting for rollout" in done.reason
    assert [p["text"] for _, p in sent] == [
        f":rewind: Release of hello to local aborted and reverted ({NEW}). Reason: {done.reason}."
    ]
    err = outcome.failed(done)
    assert isinstance(err, PlatformError) and "reverted" in str(err)


def test_a_degraded_release_is_reverted_at_once(scripted: _Argo) -> None:
    scripted.states = [app(health="Degraded", health_message="Deadline exceeded"), app(REVERT)]
    done, _ = _own(timeout=30)
    assert done.reason == (
        "hello-local turned Degraded on sha256:nnnnnnnnnnnn: health: Deadline exceeded"
    )
    assert scripted.reverted == [COMMIT]


def test_a_failed_sync_is_reverted_and_announced_once(scripted: _Argo) -> None:
    broken = app("p" * 40, operation_phase="Failed", operation_revision=COMMIT)
    scripted.states = [broken, app(REVERT)]
    done, sent = _own(timeout=30)
    # The failed sync itself is Argo CD's notifications controller's (on-sync-failed).
    assert [p["text"].split(" ")[0] for _, p in sent] == [":rewind:"]
    assert done.reason.startswith("Argo CD could not sync hello-local to cccccccccccc")


def test_a_revert_that_does_not_heal_says_so(scripted: _Argo) -> None:
    scripted.states = [app(health="Degraded")]
    done, _ = _own(timeout=0.3)
    assert "its revert rrrrrrrrrrrr is not healthy either" in done.reason
    assert done.revert_to_healthy_seconds is None


def test_fault_values_are_the_charts_faults() -> None:
    svc = release.env_service("local")
    assert release.fault_values(svc, ["unready=true", "errorRate=0.05"]) == {
        "unready": True,
        "errorRate": 0.05,
    }
    with pytest.raises(PlatformError, match="NAME one of errorRate, latencyMs"):
        release.fault_values(svc, ["nope=1"])
    with pytest.raises(PlatformError, match="not NAME=VALUE"):
        release.fault_values(svc, ["unready"])


def test_a_release_with_faults_carries_them_in_its_image_file() -> None:
    class Img:
        registry, repository, tag, digest = "127.0.0.1:5000", "hello", "1", NEW

    text = release.image_yaml(Img(), {"unready": True})
    assert "faults:\n  unready: true\n" in text
    assert release.current_image(text)["digest"] == NEW


class _Rollouts:
    """The one Kubernetes client's ``find``, answering Rollouts."""

    def __init__(self, *rollouts: dict[str, Any]) -> None:
        self.rollouts = list(rollouts)

    def find(self, res: Any, *, namespace: str) -> list[dict[str, Any]]:
        assert namespace == "hello-gitops"
        return self.rollouts


def _rollout(abort: bool) -> dict[str, Any]:
    status = {"phase": "Degraded" if abort else "Healthy", "abort": abort}
    status |= {"currentPodHash": "new" if abort else "old", "stableRS": "old"}
    status["message"] = "RolloutAborted: metric success-rate assessed Failed" if abort else ""
    return {"metadata": {"name": "hello", "generation": 2}, "status": status}


def test_an_aborted_rollout_says_why_the_app_degraded(scripted: _Argo) -> None:
    scripted.states = [app(health="Degraded"), app(REVERT)]
    kube = _Rollouts(_rollout(abort=True))
    announcer = Announcer(None)
    rel = outcome.Release("hello", "local", TARGET, OLD, time.monotonic(), "hello-gitops")
    done = outcome.own(kube, rel, announcer, timeout=30, poll=0.01)  # type: ignore[arg-type]
    assert done.reason == (
        "hello-local turned Degraded on sha256:nnnnnnnnnnnn; rollout hello aborted revision "
        "new: RolloutAborted: metric success-rate assessed Failed"
    )
    assert outcome.aborted_rollouts(_Rollouts(_rollout(abort=False)), "hello-gitops") == []  # type: ignore[arg-type]


def test_a_progressive_strategy_brings_prometheus_and_rollouts_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from hello_platform.pipeline.gitops import lifecycle
    from hello_platform.substrate import addons

    installed: list[str] = []
    monkeypatch.setattr(addons, "up", lambda kube, *found: installed.extend(a.name for a in found))
    values = {"values.yaml": "replicaCount: 1\n"}
    monkeypatch.setattr(gitserver, "read_file", lambda branch, path, url=None: values[path[-11:]])
    assert lifecycle.strategy("local") == "rolling"
    assert not lifecycle.ensure_rollouts(None, "local")  # type: ignore[arg-type]
    assert installed == []
    values["values.yaml"] = "rollout:\n  strategy: canary\n"
    assert lifecycle.ensure_rollouts(None, "local")  # type: ignore[arg-type]
    assert installed == ["prometheus", "argo-rollouts"]
