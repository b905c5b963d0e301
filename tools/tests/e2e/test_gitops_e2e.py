"""GitOps end to end: Argo CD (built here) syncing the hello chart from the git daemon mirror.

Uses pytest-helm-charts' ``kube_cluster`` (``--kubeconfig PATH``; default: the embedded
cluster's admin kubeconfig) and its wait helpers; it never calls helm, Argo CD does.
The tests run in file order and share one ``gitops up``; each one leaves the environment
branch as it found it (by ``git revert``, which is itself under test). Traffic goes only to
127.0.0.1:30081, bounded.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import loopback
import pykube
import pytest
from hello_platform.core.paths import REPO_ROOT
from hello_platform.pipeline.gitops import gitserver, release
from pytest_helm_charts.clusters import Cluster
from pytest_helm_charts.k8s.deployment import wait_for_deployments_to_run

from e2e.helpers import eventually

pytestmark = pytest.mark.e2e

ENV = "local"
BRANCH = gitserver.env_branch(ENV)
NAMESPACE = "hello-gitops"
APP = "hello-local"
BASE = "http://127.0.0.1:30081"
VALUES = "deploy/argocd/envs/local/values.yaml"
SYNC_TIMEOUT = 120
FIGURES = REPO_ROOT / "out" / "gitops" / "e2e-figures.json"
figures: dict[str, float] = {}


@pytest.fixture(scope="module")
def kube_config(pytestconfig: pytest.Config) -> str:
    """``--kubeconfig`` / $KUBECONFIG as pytest-helm-charts reads them, else the embedded
    cluster's (started if needed)."""
    given = pytestconfig.getoption("kubeconfig") or os.environ.get("KUBECONFIG")
    if given:
        return str(given)
    from hello_platform.substrate.cluster import ensure_up

    return str(ensure_up())


def cli(
    *args: str,
    check: bool = True,
    timeout: float = 1200,
    cwd: Path = REPO_ROOT,
    kubeconfig: str = "",
) -> subprocess.CompletedProcess[str]:
    """``hello-platform ARGS`` of the checkout at ``cwd`` (its own glue package)."""
    env = {**os.environ, "PYTHONPATH": str(cwd / "tools")}
    extra = [f"--kubeconfig={kubeconfig}"] if kubeconfig else []
    done = subprocess.run(
        [sys.executable, "-m", "hello_platform.cli", *args, *extra],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and done.returncode != 0:
        raise AssertionError(f"hello-platform {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return done


@pytest.fixture(scope="module")
def gitops(kube_cluster: Cluster, kube_config: str) -> Iterator[pykube.HTTPClient]:
    start = time.monotonic()
    cli("gitops", "up", kubeconfig=kube_config)
    figures["gitops_up_seconds"] = round(time.monotonic() - start, 1)
    up = json.loads((REPO_ROOT / "out" / "gitops" / "up.json").read_text())
    figures["install_to_healthy_seconds"] = up["install_to_healthy_seconds"]
    yield kube_cluster.kube_client
    FIGURES.write_text(json.dumps(figures, indent=2) + "\n")


def application(client: pykube.HTTPClient, name: str) -> dict[str, Any] | None:
    application_kind = pykube.object_factory(client, "argoproj.io/v1alpha1", "Application")
    found = list(
        application_kind.objects(client, namespace="argocd").filter(
            field_selector={"metadata.name": name}
        )
    )
    return found[0].obj if found else None


def state(client: pykube.HTTPClient, name: str = APP) -> tuple[str, str, str]:
    app = application(client, name) or {}
    st = app.get("status") or {}
    return (
        (st.get("sync") or {}).get("status", ""),
        (st.get("health") or {}).get("status", ""),
        (st.get("sync") or {}).get("revision", ""),
    )


def synced_at(client: pykube.HTTPClient, commit: str, name: str = APP) -> Callable[[], bool]:
    def check() -> bool:
        sync, health, rev = state(client, name)
        return sync == "Synced" and health == "Healthy" and rev == commit

    return check


def deployment(client: pykube.HTTPClient) -> pykube.Deployment:
    return pykube.Deployment.objects(client, namespace=NAMESPACE).get(name="hello")


def replicas(client: pykube.HTTPClient) -> int:
    return int(deployment(client).obj["spec"]["replicas"])


def serving() -> bool:
    from hello_platform.pipeline.deploy import http_get

    return http_get(BASE + "/")[0] == 200


def values_with(**changes: str) -> str:
    text = gitserver.read_file(BRANCH, VALUES) or ""
    lines = text.splitlines()
    for key, value in changes.items():
        lines = [f"{key}: {value}" if line.startswith(f"{key}:") else line for line in lines]
    return "\n".join(lines) + "\n"


def kubectl(kube_config: str, *args: str) -> str:
    from hello_platform.toolchain import resolve

    return subprocess.run(
        [str(resolve("kubectl")), f"--kubeconfig={kube_config}", *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout


def test_root_app_syncs_and_hello_is_healthy(gitops: pykube.HTTPClient) -> None:
    head = gitserver.remote_ref(BRANCH)
    for name in ("hello-platform-root", APP):
        eventually(synced_at(gitops, str(head), name), timeout=SYNC_TIMEOUT, what=f"{name} sync")
    wait_for_deployments_to_run(gitops, ["hello"], NAMESPACE, timeout_sec=120)
    assert serving()


def test_a_value_commit_is_synced_then_reverted(gitops: pykube.HTTPClient) -> None:
    start = time.monotonic()
    commit = gitserver.commit_files(
        BRANCH, {VALUES: values_with(replicaCount="2")}, "e2e: two replicas"
    )
    eventually(synced_at(gitops, commit), timeout=SYNC_TIMEOUT, what="sync of replicaCount 2")
    wait_for_deployments_to_run(gitops, ["hello"], NAMESPACE, timeout_sec=120)
    figures["value_commit_to_synced_seconds"] = round(time.monotonic() - start, 1)
    assert replicas(gitops) == 2
    reverted = gitserver.revert(BRANCH, commit)
    eventually(synced_at(gitops, reverted), timeout=SYNC_TIMEOUT, what="sync of the revert")
    eventually(lambda: replicas(gitops) == 1, timeout=60, what="rollback to 1 replica")


def test_manual_drift_is_healed(gitops: pykube.HTTPClient, kube_config: str) -> None:
    kubectl(kube_config, "-n", NAMESPACE, "scale", "deployment/hello", "--replicas=3")
    start = time.monotonic()
    eventually(lambda: replicas(gitops) == 1, timeout=SYNC_TIMEOUT, what="self-heal of the scale")
    figures["drift_healed_seconds"] = round(time.monotonic() - start, 1)
    assert serving()


def undo_to(image_text: str) -> None:
    """Put the environment's image file back to ``image_text`` (one commit), then revert
    the merge of the test's change, so the next run's change merges cleanly."""
    image_file = release.image_file(ENV)
    if gitserver.read_file(BRANCH, image_file) != image_text:
        gitserver.commit_files(BRANCH, {image_file: image_text}, "e2e: the image before the test")
    # Newest first: the test's merge, unless its revert is newer.
    merges = [line for line in gitserver.log(BRANCH, 10) if "publish gitops-e2e-release" in line]
    if merges and "Revert" not in merges[0]:
        gitserver.revert(BRANCH, merges[0].split()[0], mainline=1)


def changed_clone(tmp_path: Path) -> tuple[Path, str]:
    """A clone of this checkout with a one-line change to the service (a new image digest)
    on the branch ``gitops-e2e-release``; the clone and its revision."""
    clone = tmp_path / "clone"
    gitserver.git("clone", "--quiet", str(REPO_ROOT), str(clone))
    gitserver.git(
        "-C",
        str(clone),
        "checkout",
        "--quiet",
        "-B",
        "gitops-e2e-release",
        gitserver.head(REPO_ROOT),
    )
    main = clone / "services" / "hello" / "src" / "hello" / "main.py"
    main.write_text(main.read_text() + f"# e2e release {time.time_ns()}\n")
    gitserver.git("-C", str(clone), "commit", "--quiet", "-am", "e2e: a one-line change")
    return clone, gitserver.head(clone)


def test_release_of_a_one_line_change_serves_within_60s(
    gitops: pykube.HTTPClient, tmp_path: Path, kube_config: str
) -> None:
    clone, revision = changed_clone(tmp_path)
    before = gitserver.remote_ref(BRANCH)
    image_text = gitserver.read_file(BRANCH, release.image_file(ENV)) or ""
    try:
        done = cli("release", "--timeout=180", cwd=clone, kubeconfig=kube_config)
        result = json.loads((clone / "out" / "gitops" / "release.json").read_text())
        info = json.loads(release.http_get(BASE + "/version")[1])
        assert info["revision"] == revision
        seconds = float(result["commit_to_serving_seconds"])
        figures["release_commit_to_serving_seconds"] = seconds
        assert "serving after" in done.stdout
        assert seconds <= 60, f"commit to serving took {seconds}s (goal 60s)"
    finally:
        # Roll the release back (the previous image serves again), then revert the merge.
        undo_to(image_text)
    eventually(
        lambda: (
            json.loads(release.http_get(BASE + "/version")[1] or b"{}").get("revision") != revision
        ),
        timeout=SYNC_TIMEOUT,
        what="rollback of the release",
    )
    assert before


@contextlib.contextmanager
def chat_sink(kube_config: str, host: str = "127.0.0.1") -> Iterator[list[dict[str, Any]]]:
    """A webhook sink on ``host`` (loopback; the node's bridge address for a pod), named in
    the Secret the release loop and Argo CD's notifications controller read the URL from."""
    from hello_platform.pipeline import notify

    loopback.Chat.reset()
    with loopback.serving(loopback.Chat, host=host) as port:
        url = f"http://{host}:{port}/hook"
        secret = ("-n", notify.SECRET_NAMESPACE, "secret", "generic", notify.SECRET_NAME)
        kubectl(kube_config, "create", *secret, f"--from-literal={notify.SECRET_KEY}={url}")
        try:
            yield loopback.Chat.received
        finally:
            kubectl(
                kube_config, "-n", notify.SECRET_NAMESPACE, "delete", "secret", notify.SECRET_NAME
            )


@pytest.fixture
def chat(kube_config: str) -> Iterator[list[dict[str, Any]]]:
    """A loopback webhook sink for the release loop's messages."""
    with chat_sink(kube_config) as received:
        yield received


def on_digest(client: pykube.HTTPClient, digest: str) -> Callable[[], bool]:
    """The Application Synced/Healthy at the branch's head, its Deployment on ``digest``."""

    def check() -> bool:
        pod = deployment(client).obj["spec"]["template"]["spec"]
        image = pod["containers"][0]["image"]
        return synced_at(client, str(gitserver.remote_ref(BRANCH)))() and digest in image

    return check


def test_a_release_that_never_gets_ready_is_reverted_in_git_and_announced(
    gitops: pykube.HTTPClient, tmp_path: Path, kube_config: str, chat: list[dict[str, Any]]
) -> None:
    clone, _ = changed_clone(tmp_path)
    image_file = release.image_file(ENV)
    before = gitserver.read_file(BRANCH, image_file) or ""
    previous = release.current_image(before)["digest"]
    out = clone / "out" / "gitops" / "release.json"
    try:
        bad = cli(
            "release",
            "--timeout=45",
            "--fault=unready=true",
            check=False,
            cwd=clone,
            kubeconfig=kube_config,
        )
        result = json.loads(out.read_text())
        assert bad.returncode != 0, bad.stdout
        assert "the release was reverted" in bad.stderr
        new = result["image"].split("@")[1]
        assert new != previous
        head = gitserver.log(BRANCH, 2)
        assert head[0].startswith(result["revert_commit"][:7]) and "Revert" in head[0]
        assert "release(local)" in head[1]
        eventually(on_digest(gitops, previous), timeout=SYNC_TIMEOUT, what="previous digest")
        texts = [m["text"] for m in chat]
        service = release.env_service(ENV).name
        assert texts[0] == f":rocket: Release of {service} to {ENV} started ({new})"
        reverted = f":rewind: Release of {service} to {ENV} aborted and reverted ({new})"
        assert texts[1].startswith(reverted)
        assert f"Reason: {APP} was not Synced/Healthy on {new[:19]} within 45s" in texts[1]
        assert all(m["blocks"][1]["elements"][0]["text"].endswith(f"`{new}`") for m in chat)
        for key in ("commit_to_revert_seconds", "revert_to_healthy_seconds"):
            figures[f"bad_release_{key}"] = result[key]
        good = cli("release", "--timeout=180", cwd=clone, kubeconfig=kube_config)
        result = json.loads(out.read_text())
        assert "healthy after" in good.stdout
        assert [m["text"].split(" ")[0] for m in chat[2:]] == [":rocket:", ":white_check_mark:"]
        promoted = f":white_check_mark: {service} promoted in {ENV} ({new})"
        assert chat[3]["text"].startswith(promoted)
        assert f"healthy after {result['commit_to_healthy_seconds']:.1f}s" in chat[3]["text"]
        figures["good_release_commit_to_healthy_seconds"] = result["commit_to_healthy_seconds"]
        figures["messages_received"] = len(chat)
    finally:
        undo_to(before)


def test_sync_history_is_visible(gitops: pykube.HTTPClient, kube_config: str) -> None:
    # The last test's undo commits do not wait for their sync: the branch head first.
    head = str(gitserver.remote_ref(BRANCH))
    eventually(synced_at(gitops, head), timeout=SYNC_TIMEOUT, what="sync of the branch head")
    app = application(gitops, APP) or {}
    history = app["status"].get("history") or []
    assert len({h["revision"] for h in history}) >= 3

    def all_healthy() -> str | None:  # exit 0: every Application Synced/Healthy
        done = cli("gitops", "status", check=False, kubeconfig=kube_config)
        return done.stdout if done.returncode == 0 else None

    out = eventually(all_healthy, timeout=SYNC_TIMEOUT, what="gitops status to exit 0")
    assert f"{APP}: sync Synced, health Healthy" in out
    assert "synced " in out
    log = gitserver.log(BRANCH, 20)
    assert any("Revert" in line for line in log)


BROKEN_APP = """\
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: hello-broken
  namespace: argocd
spec:
  project: hello-platform
  source:
    repoURL: git://10.244.0.1:9418/hello-platform.git
    targetRevision: gitops/local
    path: deploy/helm/does-not-exist
  destination:
    server: https://kubernetes.default.svc
    namespace: hello-gitops
  syncPolicy:
    automated:
      prune: true
      selfHeal: true
"""


def _reason(kube_config: str, name: str, needle: str) -> Callable[[], str | None]:
    """`gitops status` once it gives ``name`` a reason that mentions ``needle``."""

    def check() -> str | None:
        done = cli("gitops", "status", check=False, kubeconfig=kube_config)
        block = done.stdout.split(f"\n{name}:", 1)[-1].split("\nhello", 1)[0]
        reasons = [line for line in block.splitlines() if line.startswith("  reason:")]
        found = done.returncode == 1 and any(needle in r for r in reasons)
        return done.stdout if found else None

    return check


def test_an_app_at_a_missing_path_is_reported_and_the_release_keeps_serving(
    gitops: pykube.HTTPClient, kube_config: str
) -> None:
    commit = gitserver.commit_files(
        BRANCH,
        {"deploy/argocd/apps/hello-broken.yaml": BROKEN_APP},
        "e2e: an Application at a missing path",
    )
    out = eventually(
        _reason(kube_config, "hello-broken", "does-not-exist"),
        timeout=SYNC_TIMEOUT,
        what="the missing path reported",
    )
    assert "reason:" in out
    assert serving()
    reverted = gitserver.revert(BRANCH, commit)
    eventually(
        lambda: application(gitops, "hello-broken") is None,
        timeout=SYNC_TIMEOUT,
        what="the broken app pruned",
    )
    eventually(
        synced_at(gitops, reverted, "hello-platform-root"),
        timeout=SYNC_TIMEOUT,
        what="root synced after the revert",
    )


def test_values_failing_the_schema_are_reported_and_the_release_keeps_serving(
    gitops: pykube.HTTPClient, kube_config: str
) -> None:
    commit = gitserver.commit_files(
        BRANCH,
        {VALUES: values_with(replicaCount='"two"')},
        "e2e: values that fail the chart schema",
    )
    out = eventually(
        _reason(kube_config, APP, "replicaCount"),
        timeout=SYNC_TIMEOUT,
        what="the schema failure reported",
    )
    assert "schema" in out.lower()
    assert serving()
    assert replicas(gitops) == 1
    reverted = gitserver.revert(BRANCH, commit)
    eventually(synced_at(gitops, reverted), timeout=SYNC_TIMEOUT, what="sync after the revert")


def test_idle_memory_of_argo_cd(gitops: pykube.HTTPClient, kube_config: str) -> None:
    from hello_platform.clients.kube import Kube
    from hello_platform.pipeline.gitops import argo

    kube = Kube(Path(kube_config))
    usage = eventually(lambda: argo.pod_memory(kube), timeout=90, what="pod metrics")
    assert any(n.startswith("argocd-application-controller") for n in usage)
    figures["argocd_idle_memory_mib"] = round(sum(usage.values()) / 2**20, 1)
    for name, value in usage.items():
        workload = re.sub(r"(-[a-z0-9]{6,10}-[a-z0-9]{5}|-\d+)$", "", name)
        figures[f"memory_mib_{workload}"] = round(value / 2**20, 1)
