"""The service catalogue, proven: a second service next to hello, from a catalogue entry.

The test makes a temporary workspace (a clone of this checkout, with its uncommitted
changes), adds a small service ``greeter`` there (hello's code with its package renamed
and another greeting, a uv workspace member, locked with ``uv lock``) and its catalogue
entry (hello's chart, its own release, namespace and node port). From that workspace it
builds, deploys and smoke-tests ``--service greeter`` while hello serves in its own
namespace: both answer, with different greetings, and the names of greeter's objects are
read from the cluster by the release's label. The real repository is not touched; the
release and its namespace are removed afterwards. Requests go to 127.0.0.1 only.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hello_platform.core import catalogue
from hello_platform.core.paths import REPO_ROOT
from hello_platform.pipeline import deploy, image

from e2e.helpers import Kube

pytestmark = pytest.mark.e2e

NAME = "greeter"
NAMESPACE = "greeter-e2e"
NODE_PORT = 30085  # 30080-30084 belong to deploy, gitops, loadtest, drill, rollouts
GIT_ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "e2e",
    "GIT_AUTHOR_EMAIL": "e2e@example.invalid",
    "GIT_COMMITTER_NAME": "e2e",
    "GIT_COMMITTER_EMAIL": "e2e@example.invalid",
}
ENTRY = f"""
[services.{NAME}]
folder = "services/{NAME}"
chart = "deploy/helm/hello"
profiles = ["local"]
namespace = "{NAMESPACE}"
port = 8000
"""


def _run(argv: list[str], cwd: Path, timeout: float = 300, **kw: Any) -> str:
    done = subprocess.run(
        argv, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=GIT_ENV, **kw
    )
    assert done.returncode == 0, f"{argv[:3]} failed: {done.stderr[-2000:]}"
    return done.stdout


def clone_checkout(ws: Path) -> None:
    """A clone of this checkout at HEAD, plus its uncommitted and untracked changes."""
    _run(["git", "clone", "--quiet", "--shared", str(REPO_ROOT), str(ws)], REPO_ROOT)
    head = _run(["git", "rev-parse", "HEAD"], REPO_ROOT).strip()
    _run(["git", "checkout", "--quiet", "--detach", head], ws)
    patch = _run(["git", "diff", "HEAD", "--binary"], REPO_ROOT)
    if patch.strip():
        _run(["git", "apply", "--whitespace=nowarn", "-"], ws, input=patch)
    untracked = _run(["git", "ls-files", "--others", "--exclude-standard"], REPO_ROOT)
    for rel in untracked.splitlines():
        (ws / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO_ROOT / rel, ws / rel)


def add_greeter(ws: Path) -> None:
    """``services/greeter``: hello's code as package ``greeter``, greeting differently."""
    svc = ws / "services" / NAME
    shutil.copytree(
        ws / "services/hello", svc, ignore=shutil.ignore_patterns("tests", "__pycache__")
    )
    (svc / "src/hello").rename(svc / "src" / NAME)
    edits = {
        "from hello": f"from {NAME}",
        "import hello": f"import {NAME}",
        'DISTRIBUTION = "hello"': f'DISTRIBUTION = "{NAME}"',
        'default="hello"': f'default="{NAME}"',
        '"Hello from ': '"Greetings from ',
    }
    for path in (svc / "src" / NAME).glob("*.py"):
        text = path.read_text()
        for old, new in edits.items():
            text = text.replace(old, new)
        path.write_text(text)
    _edit(svc / "pyproject.toml", ('name = "hello"', f'name = "{NAME}"'),
          ('hello = "hello.server:main"', f'{NAME} = "{NAME}.server:main"'),
          ('"src/hello"', f'"src/{NAME}"'))  # fmt: skip
    _edit(svc / "Dockerfile", ('"-m", "hello"]', f'"-m", "{NAME}"]'))
    _edit(ws / "pyproject.toml", ('members = ["services/hello"]',
                                  f'members = ["services/hello", "services/{NAME}"]'))  # fmt: skip
    with (ws / catalogue.CATALOGUE).open("a") as fh:
        fh.write(ENTRY)
    _run([str(image.uv_binary()), "lock", "--quiet"], ws, timeout=300)
    _run(["git", "add", "-A"], ws)
    _run(["git", "commit", "--quiet", "-m", f"e2e: add {NAME}"], ws)


def _edit(path: Path, *pairs: tuple[str, str]) -> None:
    text = path.read_text()
    for old, new in pairs:
        assert old in text, f"{path}: '{old}' not found"
        text = text.replace(old, new)
    path.write_text(text)


def glue(ws: Path, *args: str, timeout: float = 540) -> str:
    """``hello-platform ARGS`` run from the workspace's own code (its REPO_ROOT is ``ws``)."""
    code = "import sys; from hello_platform.cli import main; sys.exit(main(sys.argv[1:]))"
    env = {**GIT_ENV, "PYTHONPATH": str(ws / "tools")}
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=ws, capture_output=True, text=True, timeout=timeout, env=env,
    )  # fmt: skip
    assert done.returncode == 0, f"hello-platform {args[0]} failed: {done.stderr[-3000:]}"
    return done.stdout


def _get(url: str) -> dict[str, Any]:
    assert url.startswith("http://127.0.0.1:")
    with urllib.request.urlopen(url, timeout=5) as resp:
        body: dict[str, Any] = json.loads(resp.read())
        return body


@pytest.fixture(scope="module")
def hello() -> deploy.Result:
    """hello, released from this checkout as `nox -s deploy` does (the default service)."""
    return deploy.deploy(deploy.Options(profile="local", timeout=300))


@pytest.fixture(scope="module")
def greeter(
    tmp_path_factory: pytest.TempPathFactory, kube: Kube, hello: deploy.Result
) -> Iterator[dict[str, Any]]:
    """greeter, added in a workspace, then built and deployed from it with ``--service``."""
    started = time.monotonic()
    ws = tmp_path_factory.mktemp("catalogue") / "ws"
    clone_checkout(ws)
    add_greeter(ws)
    print(f"workspace with {NAME}: {time.monotonic() - started:.0f}s")
    try:
        glue(ws, "deploy", "--service", NAME, "--set", f"service.nodePort={NODE_PORT}")
        summary: dict[str, Any] = json.loads((ws / "out/deploy/last.json").read_text())
        print(f"{NAME} deployed after {time.monotonic() - started:.0f}s: {summary['seconds']}")
        yield summary
    finally:
        subprocess.run(
            [str(hello.helm), "uninstall", NAME, "--namespace", NAMESPACE, "--wait",
             "--timeout", "120s", "--kubeconfig", str(hello.kubeconfig)],
            capture_output=True, timeout=180, check=False,
        )  # fmt: skip
        kube.run("delete", "namespace", NAMESPACE, "--wait=false", check=False)


def test_the_second_service_answers_next_to_hello(
    hello: deploy.Result, greeter: dict[str, Any]
) -> None:
    assert (greeter["release"], greeter["namespace"]) == (NAME, NAMESPACE)
    assert greeter["url"] == f"http://127.0.0.1:{NODE_PORT}"
    assert hello.url and hello.url != greeter["url"]
    ours, theirs = _get(greeter["url"] + "/"), _get(hello.url + "/")
    assert ours["message"] == f"Greetings from {NAME}!"
    assert theirs["message"].startswith("Hello from ")
    assert _get(greeter["url"] + "/version")["revision"] == greeter["version"]["revision"]
    assert greeter["image"].split("/")[-1].startswith(f"{NAME}:")


def test_the_names_are_the_clusters(kube: Kube, greeter: dict[str, Any]) -> None:
    """The deploy's Service is the one the cluster holds for the release's label (hello's
    chart under release greeter names it greeter-hello: read, not assumed)."""
    selector = f"app.kubernetes.io/instance={NAME}"
    services = kube.get("services", "--namespace", NAMESPACE, "--selector", selector)["items"]
    front = [s["metadata"]["name"] for s in services if s["spec"].get("clusterIP") != "None"]
    assert front == [greeter["service"]]
    deployments = kube.get("deployments", "--namespace", NAMESPACE, "--selector", selector)
    (dep,) = deployments["items"]
    assert dep["status"].get("readyReplicas", 0) >= 1
    image_ref = dep["spec"]["template"]["spec"]["containers"][0]["image"]
    assert f"/{NAME}:" in image_ref
