"""A GitOps release aborted by Argo Rollouts' analysis and reverted in git, under load.

The local environment's values on its branch get ``rollout.strategy: canary`` (Prometheus
and the Argo Rollouts controller up first: the release loop brings them up too), then
``hello-platform release --fault errorRate=0.05`` of a one-line change runs while a bounded
load (127.0.0.1:30081, :data:`RPS`) reaches the canary: the analysis aborts it, Argo CD
shows the Rollout Degraded, the loop commits the revert to the environment branch and waits
until Argo CD is Synced/Healthy on the previous digest, the Rollout healthy on its stable
set. Timeline (seconds since the load started): first canary answer, abort, revert commit,
Synced/Healthy again. Everything is reverted at the end (values, image).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pykube
import pytest
from hello_platform.clients.kube import Kube
from hello_platform.pipeline.drill.load import Load
from hello_platform.pipeline.gitops import argo, gitserver, release
from hello_platform.pipeline.monitoring import prometheus
from hello_platform.pipeline.rollouts import addon
from hello_platform.pipeline.rollouts.outcome import PROMOTED, ROLLOUT, outcome
from hello_platform.substrate import addons

from e2e.helpers import eventually
from e2e.test_gitops_e2e import (  # noqa: F401 - fixtures
    APP,
    BASE,
    BRANCH,
    ENV,
    NAMESPACE,
    SYNC_TIMEOUT,
    VALUES,
    changed_clone,
    chat,
    cli,
    figures,
    gitops,
    kube_config,
    synced_at,
    undo_to,
)

pytestmark = pytest.mark.e2e

RPS = 20
ERROR_RATE = 0.05
#: The analysis must abort within this many seconds of the canary's first answer.
ABORT_WITHIN_S = 60.0


@pytest.fixture(scope="module")
def canary(gitops: pykube.HTTPClient, kube_config: str) -> Iterator[Kube]:  # noqa: F811
    """The environment's values with ``rollout.strategy: canary``, synced as a Rollout; the
    values commit reverted afterwards."""
    kube = Kube(Path(kube_config))
    addons.up(kube, prometheus.ADDON, addon.ADDON)
    text = gitserver.read_file(BRANCH, VALUES) or ""
    commit = gitserver.commit_files(
        BRANCH, {VALUES: text + "\nrollout:\n  strategy: canary\n"}, "e2e: canary strategy"
    )
    eventually(synced_at(gitops, commit), timeout=SYNC_TIMEOUT * 2, what="sync of the canary")
    try:
        yield kube
    finally:
        reverted = gitserver.revert(BRANCH, commit)
        eventually(synced_at(gitops, reverted), timeout=SYNC_TIMEOUT, what="back to rolling")


@dataclass
class Timeline:
    """When (load seconds) the branch moved, the Rollout aborted, and Argo CD was
    Synced/Healthy on the revert with the Rollout promoted again; sampled every second."""

    kube: Kube
    load: Load
    start_head: str
    seen: dict[str, float] = field(default_factory=dict)
    #: Each new head of the branch and when it showed (publish, release, revert).
    heads: dict[str, float] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)

    def __enter__(self) -> Timeline:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _note(self, name: str) -> None:
        self.seen.setdefault(name, round(self.load.now(), 1))

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            head = str(gitserver.remote_ref(BRANCH))
            if head != self.start_head and head not in self.heads:
                self.heads[head] = round(self.load.now(), 1)
            rollouts = [outcome(r) for r in self.kube.find(ROLLOUT, namespace=NAMESPACE)]
            if any(r.state == "aborted" for r in rollouts):
                self._note("abort")
            apps = {a.name: a for a in argo.applications(self.kube)}
            app = apps.get(APP)
            promoted = bool(rollouts) and all(r.state == PROMOTED for r in rollouts)
            if "abort" in self.seen and app and app.ok and app.revision == head and promoted:
                self._note("synced_healthy_again")


def first_canary_answer(load: Load, before: set[str]) -> float | None:
    """When a pod that was not serving before the release first answered."""
    return next((s.t for s in sorted(load.samples, key=lambda s: s.t) if s.host not in before
                 and s.host), None)  # fmt: skip


def test_a_canary_aborted_by_analysis_is_reverted_in_git_and_announced(
    gitops: pykube.HTTPClient,  # noqa: F811
    canary: Kube,
    tmp_path: Path,
    kube_config: str,  # noqa: F811
    chat: list[dict[str, Any]],  # noqa: F811
) -> None:
    clone, _ = changed_clone(tmp_path)
    image_text = gitserver.read_file(BRANCH, release.image_file(ENV)) or ""
    previous = release.current_image(image_text)["digest"]
    out = clone / "out" / "gitops" / "release.json"
    try:
        with Load(f"{BASE}/", rps=RPS, max_seconds=400) as load:
            eventually(lambda: len(load.samples) >= RPS, timeout=30, what="load answered")
            before = {s.host for s in load.samples}
            start = str(gitserver.remote_ref(BRANCH))
            with Timeline(canary, load, start) as timeline:
                bad = cli(
                    "release",
                    "--timeout=240",
                    f"--fault=errorRate={ERROR_RATE}",
                    check=False,
                    cwd=clone,
                    kubeconfig=kube_config,
                )
                eventually(
                    lambda: "synced_healthy_again" in timeline.seen,
                    timeout=SYNC_TIMEOUT,
                    what="Synced/Healthy on the stable set again",
                )
            first = first_canary_answer(load, before)
        result = json.loads(out.read_text())
        assert bad.returncode != 0, bad.stdout
        assert "the release was reverted" in bad.stderr
        assert f"{APP} turned Degraded" in result["reason"]
        assert "aborted revision" in result["reason"], result["reason"]
        assert "not healthy either" not in result["reason"], result["reason"]
        assert result["revert_to_healthy_seconds"] is not None
        log = gitserver.log(BRANCH, 2)
        assert log[0].startswith(result["revert_commit"][:7]) and "Revert" in log[0]
        assert "release(local)" in log[1]
        (rollout,) = canary.find(ROLLOUT, namespace=NAMESPACE)
        image = rollout["spec"]["template"]["spec"]["containers"][0]["image"]
        assert previous in image and outcome(rollout).state == PROMOTED
        texts = [m["text"] for m in chat]
        assert texts[0].startswith(":rocket:") and texts[1].startswith(":rewind:"), texts
        assert "aborted revision" in texts[1]
        seen = timeline.seen
        assert first is not None and "abort" in seen, (first, seen)
        assert seen["abort"] - first <= ABORT_WITHIN_S, (first, seen)
        figures.update(
            {
                "canary_first_answer_to_abort_seconds": round(seen["abort"] - first, 1),
                "canary_first_answer_to_revert_commit_seconds": round(
                    timeline.heads[result["revert_commit"]] - first, 1
                ),
                "canary_first_answer_to_synced_healthy_seconds": round(
                    seen["synced_healthy_again"] - first, 1
                ),
                "canary_release_commit_to_revert_seconds": result["commit_to_revert_seconds"],
                "canary_revert_to_healthy_seconds": result["revert_to_healthy_seconds"],
                "canary_requests": len(load.samples),
                "canary_failed_requests": sum(1 for s in load.samples if not s.ok),
            }
        )
    finally:
        undo_to(image_text)
