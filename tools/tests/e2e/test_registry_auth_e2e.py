"""A registry that needs a login, end to end: push, release, a pull through a pull Secret.

The second local registry (127.0.0.1:5443: htpasswd over TLS from the cluster CA, the
same Distribution binary) stands in for ECR or GHCR. Through the real CLI, as a user runs
it: ``release`` builds, pushes there and commits the digest to a throw-away GitOps
repository; ``deploy --image`` of that digest makes the pull Secret, the embedded node's
containerd pulls through it (trusting the CA by its hosts.toml) and the pod serves. A wrong
password is one sentence and a non-zero exit, before anything is built.
"""

from __future__ import annotations

import base64
import json
import os
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml
from hello_platform.substrate import registry

from e2e import helpers
from e2e.helpers import Kube

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def auth(kube: Kube) -> registry.AuthRegistry:
    """The registry with a login, started once the cluster (and so its CA) is up."""
    return registry.ensure_auth_running()


def glue(*argv: str, password: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HELLO_PLATFORM_REGISTRY_PASSWORD": password}
    return helpers.glue(*argv, timeout=timeout, env=env)


def login(auth: registry.AuthRegistry) -> list[str]:
    return ["--registry-ca", str(auth.ca), "--registry-username", auth.username]


def gitops_repo(tmp: Path) -> str:
    """A bare repository with an empty ``gitops/local`` branch, as on GitHub."""
    bare, work = tmp / "gitops.git", tmp / "seed"
    subprocess.run(["git", "init", "--quiet", "--bare", str(bare)], check=True)
    subprocess.run(["git", "init", "--quiet", "-b", "gitops/local", str(work)], check=True)
    ident = ["-c", "user.name=e2e", "-c", "user.email=e2e@localhost"]
    subprocess.run(["git", "-C", str(work), *ident, "commit", "--quiet", "--allow-empty",
                    "-m", "seed"], check=True)  # fmt: skip
    subprocess.run(["git", "-C", str(work), "push", "--quiet", str(bare), "gitops/local"],
                   check=True)  # fmt: skip
    return f"file://{bare}"


def test_a_wrong_password_is_one_sentence(auth: registry.AuthRegistry) -> None:
    done = glue(
        "image", "build", "--registry", auth.address, *login(auth), password="wrong", timeout=120
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert (
        f"error: the registry {auth.address} refused the login of user '{auth.username}'"
        in done.stderr
    )


def test_release_to_the_registry_then_the_cluster_pulls_through_a_pull_secret(
    auth: registry.AuthRegistry, kube: Kube, tmp_path: Path
) -> None:
    url = gitops_repo(tmp_path)
    started = time.monotonic()
    released = glue(
        "release", "--git-url", url, "--no-wait", "--registry", auth.address, *login(auth),
        password=auth.password,
    )  # fmt: skip
    assert released.returncode == 0, released.stderr[-3000:]
    print(f"release to {auth.address}: {time.monotonic() - started:.1f}s")
    check = tmp_path / "check"
    subprocess.run(["git", "clone", "--quiet", "-b", "gitops/local", url, str(check)], check=True)
    image = yaml.safe_load((check / "deploy/argocd/envs/local/image.yaml").read_text())["image"]
    assert image["repository"].startswith(f"{auth.address}/")
    ref = f"{image['repository']}:{image['tag']}@{image['digest']}"

    anonymous = urllib.request.Request(f"https://{auth.address}/v2/")
    trust = ssl.create_default_context(cafile=str(auth.ca))
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(anonymous, timeout=5, context=trust)
    assert refused.value.code == 401  # no login, no pull: the Secret is what lets the node in

    started = time.monotonic()
    deployed = glue("deploy", "--image", ref, *login(auth), password=auth.password)
    assert deployed.returncode == 0, deployed.stderr[-3000:]
    print(f"deploy from {auth.address}: {time.monotonic() - started:.1f}s")
    secret = kube.get("secret", "hello-registry", "-n", "hello")
    assert secret["type"] == "kubernetes.io/dockerconfigjson"
    config = json.loads(base64.b64decode(secret["data"][".dockerconfigjson"]))
    assert auth.address in config["auths"]
    pods = kube.get("pods", "-n", "hello", "-l", "app.kubernetes.io/instance=hello")["items"]
    current = [p for p in pods if not p["metadata"].get("deletionTimestamp")]
    assert current and all(p["status"].get("phase") == "Running" for p in current)
    for pod in current:
        assert pod["spec"]["imagePullSecrets"] == [{"name": "hello-registry"}]
        assert pod["spec"]["containers"][0]["image"] == ref
    with urllib.request.urlopen("http://127.0.0.1:30080/version", timeout=5) as resp:
        assert resp.status == 200
