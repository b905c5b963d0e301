"""Promotion by git end to end, between two environments on the embedded cluster: ``local``
(registry 127.0.0.1:5000, namespace hello-gitops) and ``staging`` (the registry that needs
a login, 127.0.0.1:5443, namespace hello-staging), as ``deploy/argocd/environments.toml``
declares them.

A one-line change is released in local and passes (Argo CD Synced/Healthy: recorded);
``promote --from local --to staging --wait`` copies that digest into 5443 (read back: the
same digest), commits it to ``gitops/staging`` and watches staging's Application (applied
before, with nothing to run yet) until Synced/Healthy at that commit, its pods running the
digest pulled through a pull Secret; that is recorded, so it could go further. Then the
same digest is released in local with a fault, is reverted, and promoting it is refused in
one sentence; so is a promotion with a wrong password.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pykube
import pytest
from hello_platform.clients import oci
from hello_platform.core.paths import REPO_ROOT
from hello_platform.pipeline.gitops import gitserver, records, release
from hello_platform.pipeline.promote import promotion
from hello_platform.substrate import registry

from e2e import test_gitops_e2e as gitops_e2e
from e2e.helpers import eventually
from e2e.test_gitops_e2e import (
    BASE,
    BRANCH,
    SYNC_TIMEOUT,
    changed_clone,
    cli,
    kubectl,
    synced_at,
    undo_to,
)

pytestmark = pytest.mark.e2e
#: The GitOps e2e's fixtures: the embedded cluster's kubeconfig, and `gitops up` once.
kube_config = gitops_e2e.kube_config
gitops = gitops_e2e.gitops

STAGING = promotion.environments()["staging"]
STAGING_NS = "hello-staging"
STAGING_APP = "hello-staging"
STAGING_BASE = "http://127.0.0.1:30082"
FIGURES = REPO_ROOT / "out" / "gitops" / "e2e-promote-figures.json"


@pytest.fixture
def staging(gitops: pykube.HTTPClient, kube_config: str) -> Iterator[registry.AuthRegistry]:
    """The login registry, the branch gitops/staging (from gitops/local) in the mirror, and
    the namespace with its pull Secret; the Application is removed afterwards."""
    auth = registry.ensure_auth_running()
    mirror = gitserver.source(None)
    gitserver.git("-C", mirror, "branch", "-f", STAGING.branch, BRANCH, what="gitops/staging")
    labels = ("pod-security.kubernetes.io/enforce=restricted",)
    if STAGING_NS not in kubectl(kube_config, "get", "namespaces", "-o", "name"):
        kubectl(kube_config, "create", "namespace", STAGING_NS)
    kubectl(kube_config, "label", "--overwrite", "namespace", STAGING_NS, *labels)
    kubectl(kube_config, "-n", STAGING_NS, "delete", "secret", "hello-registry",
            "--ignore-not-found")  # fmt: skip
    kubectl(
        kube_config, "-n", STAGING_NS, "create", "secret", "docker-registry", "hello-registry",
        f"--docker-server={auth.address}", f"--docker-username={auth.username}",
        f"--docker-password={auth.password}",
    )  # fmt: skip
    try:
        yield auth
    finally:
        kubectl(kube_config, "-n", "argocd", "delete", "application", STAGING_APP,
                "--ignore-not-found", "--wait=true", "--timeout=120s")  # fmt: skip


def promote(auth: registry.AuthRegistry, password: str, *extra: str) -> tuple[int, str, float]:
    os.environ[oci.PASSWORD_ENV] = password
    try:
        start = time.monotonic()
        done = cli(
            "promote", "--from", "local", "--to", "staging", "--registry-ca", str(auth.ca),
            "--registry-username", auth.username, *extra, check=False, timeout=600,
        )  # fmt: skip
        return done.returncode, done.stdout + done.stderr, round(time.monotonic() - start, 1)
    finally:
        del os.environ[oci.PASSWORD_ENV]


def staging_on(client: pykube.HTTPClient, commit: str, digest: str) -> bool:
    if not synced_at(client, commit, STAGING_APP)():
        return False
    pods = pykube.Pod.objects(client, namespace=STAGING_NS).filter(
        selector={"app.kubernetes.io/instance": "hello"}
    )
    running = [p.obj for p in pods if not p.obj["metadata"].get("deletionTimestamp")]
    return bool(running) and all(
        p["status"].get("phase") == "Running"
        and digest in p["spec"]["containers"][0]["image"]
        and digest in (p["status"].get("containerStatuses") or [{}])[0].get("imageID", "")
        for p in running
    )


def test_a_passed_release_is_promoted_and_a_reverted_one_refused(
    gitops: pykube.HTTPClient,
    staging: registry.AuthRegistry,
    kube_config: str,
    tmp_path: Path,
) -> None:
    figures: dict[str, float] = {}
    clone, revision = changed_clone(tmp_path)
    image_text = gitserver.read_file(BRANCH, release.image_file("local")) or ""
    try:
        cli("release", "--timeout=180", cwd=clone, kubeconfig=kube_config)
        released = json.loads((clone / "out" / "gitops" / "release.json").read_text())
        digest = released["image"].split("@")[1]

        code, out, seconds = promote(staging, "not-the-password")
        assert code == 2 and out.count("error: ") == 1 and "Traceback" not in out
        assert f"the registry {staging.address} refused the login" in out

        kubectl(kube_config, "apply", "-f", str(REPO_ROOT / STAGING.app))  # nothing there yet
        code, out, seconds = promote(staging, staging.password, "--wait", "--timeout=180",
                                     f"--kubeconfig={kube_config}")  # fmt: skip
        assert code == 0, out[-3000:]
        assert "healthy after" in out
        figures["promote_and_wait_seconds"] = seconds
        done = json.loads((REPO_ROOT / "out" / "gitops" / "promote.json").read_text())
        assert done["digest"] == digest and done["copied"]["digest"] == digest
        figures["promote_seconds"] = done["seconds"]
        figures["copy_seconds"] = done["copied"]["seconds"]
        figures["copy_bytes"] = done["copied"]["bytes_copied"]
        figures["image_bytes"] = done["copied"]["bytes_total"]
        figures["commit_to_healthy_seconds"] = done["outcome"]["commit_to_healthy_seconds"]
        target = oci.Client(oci.Registry(staging.address, oci.Credentials(
            staging.username, staging.password), ca=staging.ca))  # fmt: skip
        repository, tag = done["image"].split("/", 1)[1].split("@")[0].rsplit(":", 1)
        assert target.manifest_digest(repository, tag) == digest  # the same digest in 5443
        head = gitserver.log(STAGING.branch, 1)[0]
        assert f"promote(staging): {repository} {digest} from local" in head
        commit = str(gitserver.remote_ref(STAGING.branch))
        assert commit.startswith(done["commit"][:12])
        assert records.passed("staging", digest).commit == commit  # it may go further
        eventually(lambda: staging_on(gitops, commit, digest), timeout=SYNC_TIMEOUT,
                   what="staging Synced/Healthy on the promoted digest")  # fmt: skip
        info = json.loads(release.http_get(STAGING_BASE + "/version")[1])
        assert info["revision"] == revision

        bad = cli("release", "--timeout=45", "--fault=unready=true", check=False, cwd=clone,
                  kubeconfig=kube_config)  # fmt: skip
        assert bad.returncode != 0 and "the release was reverted" in bad.stderr
        assert json.loads((clone / "out" / "gitops" / "release.json").read_text())[
            "image"
        ].endswith(digest)  # the same digest, reverted this time
        code, out, _ = promote(staging, staging.password)
        assert code == 2 and out.count("error: ") == 1, out[-3000:]
        assert f"error: {digest} cannot be promoted: its last release in environment 'local'" in out
        assert "failed its checks and was reverted" in out
        assert str(gitserver.remote_ref(STAGING.branch)) == commit  # nothing committed
    finally:
        undo_to(image_text)
        FIGURES.write_text(json.dumps(figures, indent=2) + "\n")
    eventually(
        lambda: (
            json.loads(release.http_get(BASE + "/version")[1] or b"{}").get("revision") != revision
        ),
        timeout=SYNC_TIMEOUT,
        what="local back on its previous release",
    )
