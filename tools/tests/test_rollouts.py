"""Argo Rollouts: the controller's add-on rendered as data, a Rollout's outcome read from
its status, and the release's watcher (promotion timed; abort rolled back and explained)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hello_platform.core.errors import PlatformError
from hello_platform.pipeline.rollouts import addon, outcome, watch
from hello_platform.pipeline.rollouts.outcome import Outcome
from hello_platform.substrate import addons
from test_addons import FakeApi, kube_of

REF = "127.0.0.1:5000/hello-platform/argo-rollouts:sha-1@sha256:" + "a" * 64
ABORT_MESSAGE = (
    'RolloutAborted: Rollout aborted update to revision 2: Metric "success-rate" assessed '
    "Failed due to failed (2) > failureLimit (1)"
)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    work = tmp_path_factory.mktemp("rollouts")
    return addons.documents(addon.render("v1.10.2", REF, work))


def by(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def test_the_controller_is_a_registered_addon_of_the_pinned_version() -> None:
    from hello_platform.cli import build_parser

    build_parser()  # imports every feature's cli, and so every add-on module
    assert addons.get("argo-rollouts") is addon.ADDON
    assert addons.pins(addon.ADDON) == "argo-rollouts v1.10.2"


def test_the_crds_rbac_and_controller_come_from_upstream(rendered: list[dict[str, Any]]) -> None:
    crds = set(by(rendered, "CustomResourceDefinition"))
    assert {"rollouts.argoproj.io", "analysistemplates.argoproj.io"} <= crds
    assert {"analysisruns.argoproj.io", "experiments.argoproj.io"} <= crds
    (binding,) = by(rendered, "ClusterRoleBinding").values()
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "argo-rollouts", "namespace": addon.NAMESPACE}
    ]
    namespaced = [d for d in rendered if d["metadata"].get("namespace")]
    assert {d["metadata"]["namespace"] for d in namespaced} == {addon.NAMESPACE}
    assert rendered[0]["kind"] == "Namespace"


def test_the_controller_runs_our_image_by_digest_under_restricted_pod_security(
    rendered: list[dict[str, Any]],
) -> None:
    labels = by(rendered, "Namespace")[addon.NAMESPACE]["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    pod = by(rendered, "Deployment")[addon.CONTROLLER]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["image"] == REF.split(":sha-1")[0] + "@sha256:" + "a" * 64
    assert container["imagePullPolicy"] == "IfNotPresent"
    assert container["resources"]["requests"] == addon.RESOURCES["requests"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    security = container["securityContext"]
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"] == {"drop": ["ALL"]}
    assert security["seccompProfile"] == {"type": "RuntimeDefault"}
    assert addon.IMAGE.user.split(":")[0] != "0"  # numeric non-root: runAsNonRoot can check


def rollout(generation: int = 2, **status: Any) -> dict[str, Any]:
    base = {"observedGeneration": str(generation), "currentPodHash": "new", "stableRS": "old"}
    return {"metadata": {"name": "hello", "generation": generation}, "status": {**base, **status}}


@pytest.mark.parametrize(
    ("obj", "state"),
    [
        (rollout(phase="Healthy", stableRS="new"), outcome.PROMOTED),
        (rollout(phase="Degraded", abort=True, message=ABORT_MESSAGE), outcome.ABORTED),
        (rollout(phase="Paused", pauseConditions=[{"reason": "CanaryPauseStep"}]), "progressing"),
        (
            rollout(phase="Paused", pauseConditions=[{"reason": "InconclusiveAnalysisRun"}]),
            outcome.PAUSED,
        ),
        (rollout(phase="Progressing"), "progressing"),
        (rollout(phase="Healthy", stableRS="new", observedGeneration="1"), "progressing"),
        (None, "missing"),
    ],
    ids=["promoted", "aborted", "timed-step", "inconclusive", "going", "not-seen-yet", "missing"],
)
def test_the_outcome_is_read_from_the_status(obj: dict[str, Any] | None, state: str) -> None:
    assert outcome.outcome(obj, "hello").state == state


def test_an_abort_says_why_in_one_sentence() -> None:
    found = outcome.outcome(rollout(phase="Degraded", abort=True, message=ABORT_MESSAGE))
    assert found.done
    assert found.sentence() == f"rollout hello aborted revision new: {ABORT_MESSAGE}"


def test_rollout_outcome_reads_the_rollout_through_the_client(tmp_path: Path) -> None:
    api = FakeApi()
    path = "/apis/argoproj.io/v1alpha1/namespaces/hello/rollouts/hello"
    api.objects[path] = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        **rollout(phase="Healthy", stableRS="new"),
    }
    kube = kube_of(tmp_path, api)
    assert outcome.rollout_outcome(kube, "hello", "hello").state == outcome.PROMOTED
    assert outcome.rollout_outcome(kube, "gone", "hello").state == "missing"


@pytest.fixture
def states(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    """The Rollouts the watcher reads, one per poll (the last one repeats)."""
    seen: list[dict[str, Any]] = []

    def read(api: object, name: str, namespace: str) -> Outcome:
        return outcome.outcome(seen.pop(0) if len(seen) > 1 else seen[0], name)

    monkeypatch.setattr(watch, "rollout_outcome", read)
    yield seen


def settle(rollbacks: list[str]) -> float:
    def rollback() -> str:
        rollbacks.append("helm rollback")
        return "revision 1"

    return watch.settle(object(), "hello", "hello", rollback=rollback, timeout=5, interval=0.01)


def test_a_promotion_is_timed_and_not_rolled_back(states: list[dict[str, Any]]) -> None:
    states += [rollout(phase="Progressing"), rollout(phase="Healthy", stableRS="new")]
    rollbacks: list[str] = []
    assert settle(rollbacks) >= 0
    assert rollbacks == []


def test_an_abort_rolls_the_release_back_and_fails_saying_why(
    states: list[dict[str, Any]],
) -> None:
    states += [rollout(phase="Progressing"), rollout(phase="Degraded", abort=True, message="x")]
    rollbacks: list[str] = []
    with pytest.raises(PlatformError, match=r"aborted revision new: x; .* back to revision 1"):
        settle(rollbacks)
    assert rollbacks == ["helm rollback"]


def test_too_little_traffic_holds_the_rollout_for_a_person(states: list[dict[str, Any]]) -> None:
    states.append(rollout(phase="Paused", pauseConditions=[{"reason": "InconclusiveAnalysisRun"}]))
    rollbacks: list[str] = []
    with pytest.raises(PlatformError, match=r"inconclusive \(too little traffic") as err:
        settle(rollbacks)
    assert rollbacks == []
    assert "promote hello" in (err.value.hint or "")


def test_the_cli_prints_the_outcome_as_json(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from hello_platform import cli
    from hello_platform.pipeline.rollouts import cli as rollouts_cli

    monkeypatch.setattr(rollouts_cli, "_kube", lambda action, start=False: object())
    monkeypatch.setattr(
        rollouts_cli,
        "rollout_outcome",
        lambda kube, name, ns: outcome.outcome(rollout(phase="Degraded", abort=True), name),
    )
    assert cli.main(["rollouts", "outcome", "--namespace", "hello"]) == 1
    printed = json.loads(capsys.readouterr().out)
    assert (printed["state"], printed["name"]) == ("aborted", "hello")


def test_the_bad_canarys_errors_are_counted_from_its_first_answer_to_the_abort() -> None:
    from hello_platform.pipeline.drill.load import Load, Sample
    from hello_platform.pipeline.rollouts import drills

    load = Load("http://127.0.0.1:30084/", rps=10)
    load.samples = [
        Sample(1.0, 200, 1.0, host="hello-old-a"),
        Sample(2.0, 200, 1.0, host="hello-new5-b"),  # the canary's first answer
        *(Sample(2.0 + i / 10, 200, 1.0, host="hello-old-a") for i in range(1, 400)),
        Sample(30.0, 500, 1.0),
        Sample(50.0, 200, 1.0, host="hello-old-a"),  # after the abort
    ]
    found = drills._errors(load, "new5", abort=42.0, error_rate=0.05)
    assert found["first_canary_answer_s"] == 2.0
    assert found["abort_after_first_answer_s"] == 40.0
    assert found["requests_during_canary"] == 401
    assert found["errors"] == 1
    # 2 x 1/4 of the pods x 5 % x 401 requests, rounded up, + 3 for chance
    assert found["error_budget"] == 11 + 3


def test_an_unknown_canary_drill_is_named_by_argparse(capsys: pytest.CaptureFixture[str]) -> None:
    from hello_platform import cli

    with pytest.raises(SystemExit):
        cli.main(["rollouts", "drill", "--only", "canary-ugly"])
    assert "invalid choice: 'canary-ugly'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("only", "classic", "canaries"),
    [
        ([], [[]], []),
        (["pod-delete", "canary-bad"], [["pod-delete"]], [["canary-bad"]]),
        (["canary-good"], [], [["canary-good"]]),
    ],
)
def test_nox_drill_runs_the_canary_drills_only_when_named(
    monkeypatch: pytest.MonkeyPatch,
    only: list[str],
    classic: list[list[str]],
    canaries: list[list[str]],
) -> None:
    from hello_platform import cli
    from hello_platform.pipeline import drill
    from hello_platform.pipeline.rollouts import drills

    ran: dict[str, list[list[str]]] = {"classic": [], "canary": []}

    def run(svc: object, names: list[str], rps: float, table: object = None, *_: object) -> None:
        ran["canary" if table is drills.DRILLS else "classic"].append(names)

    monkeypatch.setattr(drill, "run", run)
    assert cli.main(["drill", *(["--only", *only] if only else [])]) == 0
    assert ran == {"classic": classic, "canary": canaries}


class Rollouts:
    """A Kubernetes API holding Rollouts by name; records the patches it gets."""

    def __init__(self, **replicas: int) -> None:
        self.replicas = dict(replicas)
        self.patches: list[tuple[str, Any]] = []

    def get(self, res: Any, name: str, *, namespace: str | None = None) -> dict[str, Any] | None:
        assert res is outcome.ROLLOUT and namespace == "ns"
        return {"spec": {"replicas": self.replicas[name]}} if name in self.replicas else None

    def patch(self, res: Any, name: str, body: Any, *, namespace: str | None = None) -> None:
        self.patches.append((name, body))
        self.replicas[name] = body["spec"]["replicas"]


def _rollout(name: str, replicas: int | None) -> dict[str, Any]:
    spec = {} if replicas is None else {"replicas": replicas}
    return {"kind": "Rollout", "metadata": {"name": name}, "spec": spec}


def test_a_rollout_without_an_autoscaler_gets_its_charts_count_back() -> None:
    # The drift helm leaves: the chart says 4 before and after, an HPA had set 2.
    api = Rollouts(web=2)
    restored = watch.restore_replicas(api, [_rollout("web", 4)], "ns")
    assert restored == ["web (2 -> 4)"]
    assert api.patches == [("web", {"spec": {"replicas": 4}})]


@pytest.mark.parametrize("scaler", ["HorizontalPodAutoscaler", "ScaledObject"])
def test_a_scaled_or_matching_rollout_is_left_alone(scaler: str) -> None:
    hpa = {"kind": scaler, "metadata": {"name": "x"}, "spec": {"scaleTargetRef": {"name": "web"}}}
    api = Rollouts(web=2, api=3)
    objects = [_rollout("web", 4), hpa, _rollout("api", 3), _rollout("gone", 1)]
    assert watch.restore_replicas(api, objects, "ns") == []
    assert watch.restore_replicas(api, [_rollout("none", None)], "ns") == []
    assert api.patches == []
