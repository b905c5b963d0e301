"""Argo CD's notifications controller end to end: the pod posts Argo CD's events to a
Slack-compatible sink on the node (the cluster bridge, where the git daemon listens too),
whose URL is in the Secret ``argocd/argocd-notifications-secret``.

A value commit on the environment branch must be announced as deployed (on-deployed, the
env's Application subscribes to it), and an Application whose Deployment never becomes
available as Degraded (on-health-degraded) after its sync (on-sync-succeeded); each
message names the app, the commit and the status. Every commit is reverted.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pykube
import pytest
from hello_platform.pipeline.gitops import gitserver
from hello_platform.substrate.cluster.layout import NODE_IP

from e2e.helpers import eventually
from e2e.test_gitops_e2e import (  # noqa: F401 - fixtures
    APP,
    BRANCH,
    NAMESPACE,
    SYNC_TIMEOUT,
    application,
    chat_sink,
    figures,
    gitops,
    kube_config,
    kubectl,
    synced_at,
    values_with,
)

pytestmark = pytest.mark.e2e

VALUES = "deploy/argocd/envs/local/values.yaml"
DEGRADED_APP = "hello-notify-degraded"
DEGRADED_DIR = "deploy/argocd/e2e-notify-degraded"
#: The Application and its one Deployment: an image that cannot be pulled and a progress
#: deadline of 10 s, so Argo CD turns it Degraded soon after the sync.
DEGRADED_FILES = {
    f"deploy/argocd/apps/{DEGRADED_APP}.yaml": f"""\
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: {DEGRADED_APP}
  namespace: argocd
  annotations:
    notifications.argoproj.io/subscribe.on-sync-succeeded.chat: ""
    notifications.argoproj.io/subscribe.on-health-degraded.chat: ""
  finalizers:
    - resources-finalizer.argocd.argoproj.io
spec:
  project: hello-platform
  source:
    repoURL: {gitserver.URL}
    targetRevision: {BRANCH}
    path: {DEGRADED_DIR}
  destination:
    server: https://kubernetes.default.svc
    namespace: {NAMESPACE}
  syncPolicy:
    automated:
      prune: true
""",
    f"{DEGRADED_DIR}/deployment.yaml": """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: notify-degraded
spec:
  replicas: 1
  progressDeadlineSeconds: 10
  selector:
    matchLabels: {app: notify-degraded}
  template:
    metadata:
      labels: {app: notify-degraded}
    spec:
      securityContext:
        runAsNonRoot: true
        runAsUser: 65532
        seccompProfile: {type: RuntimeDefault}
      containers:
        - name: app
          image: 127.0.0.1:5000/hello-platform/does-not-exist:e2e
          securityContext:
            allowPrivilegeEscalation: false
            capabilities: {drop: [ALL]}
          resources:
            requests: {cpu: 1m, memory: 8Mi}
""",
}


@pytest.fixture
def argo_chat(kube_config: str) -> Iterator[list[dict[str, Any]]]:  # noqa: F811
    """A sink on the node's bridge address (the pod posts to it), named in the Secret."""
    with chat_sink(kube_config, NODE_IP) as received:
        yield received


def message(chat: list[dict[str, Any]], start: str) -> Callable[[], dict[str, Any] | None]:
    """The first message received whose text starts with ``start``."""

    def found() -> dict[str, Any]:
        got = next((m for m in list(chat) if m.get("text", "").startswith(start)), None)
        assert got is not None, f"received: {[m.get('text') for m in chat]}"
        return got

    return found


def announced(chat: list[dict[str, Any]], start: str, *, since: float, figure: str) -> Any:
    """The message starting with ``start``, once received; its delay (from ``since``) is
    the figure ``figure``."""
    msg = eventually(message(chat, start), timeout=SYNC_TIMEOUT, what=f"the message {start!r}")
    figures[figure] = round(time.monotonic() - since, 1)
    return msg


def context(msg: dict[str, Any]) -> str:
    return str(msg["blocks"][1]["elements"][0]["text"])


def test_a_value_commit_is_announced_as_deployed(
    gitops: pykube.HTTPClient,  # noqa: F811
    argo_chat: list[dict[str, Any]],
) -> None:
    start = time.monotonic()
    commit = gitserver.commit_files(
        BRANCH, {VALUES: values_with(replicaCount="2")}, "e2e: two replicas, announced"
    )
    try:
        msg = announced(
            argo_chat,
            f":ship: Argo CD deployed {APP} at {commit}",
            since=start,
            figure="notification_commit_to_deployed_message_seconds",
        )
        assert msg["text"].endswith("Synced/Healthy")
        assert context(msg) == (
            f"app *{APP}* · revision `{commit}` · sync *Synced* · health *Healthy*"
        )
        assert msg["blocks"][0]["text"]["text"] == msg["text"]
    finally:
        reverted = gitserver.revert(BRANCH, commit)
    eventually(synced_at(gitops, reverted), timeout=SYNC_TIMEOUT, what="sync of the revert")


def test_a_degraded_app_is_announced_after_its_sync(
    gitops: pykube.HTTPClient,  # noqa: F811
    argo_chat: list[dict[str, Any]],
) -> None:
    start = time.monotonic()
    commit = gitserver.commit_files(BRANCH, DEGRADED_FILES, "e2e: an app that turns Degraded")
    try:
        synced = announced(
            argo_chat,
            f":arrows_counterclockwise: Argo CD synced {DEGRADED_APP} to",
            since=start,
            figure="notification_commit_to_synced_message_seconds",
        )
        assert commit in synced["text"]
        degraded = announced(
            argo_chat,
            f":warning: Argo CD: {DEGRADED_APP} is Degraded at {commit}",
            since=start,
            figure="notification_commit_to_degraded_message_seconds",
        )
        assert "health *Degraded*" in context(degraded)
        assert f"revision `{commit}`" in context(degraded)
    finally:
        gitserver.revert(BRANCH, commit)
    eventually(
        lambda: application(gitops, DEGRADED_APP) is None,
        timeout=SYNC_TIMEOUT,
        what="the degraded app pruned",
    )
