"""The Argo CD bootstrap onto a cluster given only by a kubeconfig file (as for EKS or any
existing cluster): `gitops up --kubeconfig FILE --repo-url URL --env local`, the same code
path as `--env eks` but with the images built here and the git daemon's mirror as the
repository (the embedded cluster cannot pull upstream's images or reach GitHub).

The kubeconfig is a copy of the embedded cluster's admin file in a temporary folder, so
nothing treats it as the embedded cluster. Ends with `gitops down` through the same file.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hello_platform.core.paths import REPO_ROOT
from hello_platform.pipeline.gitops import gitserver

from e2e.test_gitops_e2e import cli

pytestmark = pytest.mark.e2e

ROOT = "hello-platform-root"
BRANCH = gitserver.env_branch("local")
APP = "hello-local"


@pytest.fixture(scope="module")
def kubeconfig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A kubeconfig file of its own for the embedded cluster (started if needed)."""
    from hello_platform.substrate.cluster import ensure_up

    copy = tmp_path_factory.mktemp("any-cluster") / "kubeconfig"
    shutil.copy(ensure_up(), copy)
    yield str(copy)
    cli("gitops", "down", kubeconfig=str(copy), check=False)


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A clone of this checkout (`up` publishes it; a clash with what other checkouts
    published to gitops/local is settled by the publish itself: the source wins outside the
    environment's folder). Afterwards gitops/local gets its tree back."""
    clone = tmp_path_factory.mktemp("bootstrap") / "clone"
    git = gitserver.git
    git("clone", "--quiet", str(REPO_ROOT), str(clone))
    git("-C", str(clone), "checkout", "--quiet", "-B", "gitops-e2e-bootstrap", "HEAD")
    before = gitserver.remote_ref(BRANCH)
    yield clone
    after = gitserver.remote_ref(BRANCH)
    if before and after and after != before:
        # A commit that gives gitops/local its tree from before the test back.
        with gitserver.checkout(BRANCH) as work:
            git("-C", str(work), "read-tree", "-u", "--reset", before)
            message = f"e2e: gitops/local back to {before[:12]} after the bootstrap test"
            git("-C", str(work), "commit", "--quiet", "--allow-empty", "-m", message)
            gitserver.push(work, BRANCH)


def kubectl_json(kubeconfig: str, *args: str) -> dict[str, object]:
    from hello_platform.toolchain import resolve

    out = subprocess.run(
        [str(resolve("kubectl")), f"--kubeconfig={kubeconfig}", *args, "-o", "json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    loaded: dict[str, object] = json.loads(out)
    return loaded


def test_a_wrong_repository_is_refused_before_anything_is_installed(kubeconfig: str) -> None:
    done = cli(
        "gitops",
        "up",
        "--repo-url",
        "https://git.example/other.git",
        check=False,
        kubeconfig=kubeconfig,
    )
    assert done.returncode != 0
    assert "these Applications read another repository than https://git.example/other.git" in (
        done.stderr
    )
    assert "Traceback" not in done.stderr


def test_bootstrap_through_a_kubeconfig_syncs_the_environment(
    kubeconfig: str, checkout: Path
) -> None:
    start = time.monotonic()
    args = ("gitops", "up", "--env", "local", "--repo-url", gitserver.URL)
    done = cli(*args, kubeconfig=kubeconfig, cwd=checkout)
    seconds = time.monotonic() - start
    assert "Argo CD is up" in done.stdout
    project = kubectl_json(kubeconfig, "-n", "argocd", "get", "appproject", "hello-platform")
    assert project["spec"]["sourceRepos"] == [gitserver.URL]  # type: ignore[index]
    for name in (ROOT, APP):
        app = kubectl_json(kubeconfig, "-n", "argocd", "get", "application", name)
        status = app["status"]
        assert status["sync"]["status"] == "Synced", name  # type: ignore[index]
        assert status["health"]["status"] == "Healthy", name  # type: ignore[index]
        assert app["spec"]["source"]["repoURL"] == gitserver.URL  # type: ignore[index]
    out = REPO_ROOT / "out" / "gitops" / "bootstrap-e2e.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"gitops_up_by_kubeconfig_seconds": round(seconds, 1)}) + "\n")
