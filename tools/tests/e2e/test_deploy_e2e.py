"""``hello-platform deploy`` on the embedded cluster: release, helm test, smoke, rollback.

Run by ``nox -s e2e`` (marker ``e2e``); it starts the cluster if it is down and builds and
pushes the image. Every request goes to the NodePort on 127.0.0.1, bounded in count and time.
The release is left serving (the load test runs after this file).
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hello_platform import deploy, helm
from hello_platform.errors import PlatformError

pytestmark = pytest.mark.e2e


def _get(url: str) -> tuple[int, bytes]:
    assert url.startswith("http://127.0.0.1:")
    try:
        with urllib.request.urlopen(url, timeout=3) as resp:
            return int(resp.status), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, b""
    except (urllib.error.URLError, OSError):
        return 0, b""


@contextlib.contextmanager
def _polling(url: str, every: float) -> Iterator[Counter[int]]:
    """GET ``url`` every ``every`` s in a thread while the block runs (at most 150 s);
    yield the count of each status seen."""
    seen: Counter[int] = Counter()
    stop = threading.Event()

    def poll() -> None:
        deadline = time.monotonic() + 150
        while not stop.is_set() and time.monotonic() < deadline:
            status, _ = _get(url)
            seen[status] += 1
            time.sleep(every)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    try:
        yield seen
    finally:
        stop.set()
        poller.join(timeout=10)


def _release_files(opts: deploy.Options) -> list[Path]:
    """The values files of the deployed release: its profile, then the built image."""
    image_values = Path(deploy.paths.out_dir() / "deploy" / "image-values.json")
    return [*helm.profile_files(opts.profile), image_values]


@pytest.fixture(scope="module")
def deployed() -> tuple[deploy.Options, deploy.Result]:
    opts = deploy.Options(profile="local", timeout=300)
    result = deploy.deploy(opts)
    print(deploy.how_to_reach(result, opts))
    return opts, result


@pytest.fixture(scope="module")
def kube(deployed: tuple[deploy.Options, deploy.Result]) -> deploy.Kube:
    from hello_platform.cluster import ensure_up
    from hello_platform.toolchain import resolve

    return deploy.Kube(resolve("helm"), resolve("kubectl"), ensure_up())


def test_deploy_answers_on_the_node_port(deployed: tuple[deploy.Options, deploy.Result]) -> None:
    _, result = deployed
    assert result.url == "http://127.0.0.1:30080"
    status, body = _get(result.url + "/")
    assert status == 200 and body
    status, body = _get(result.url + "/version")
    assert status == 200
    assert json.loads(body)["revision"] == result.version["revision"]
    assert result.revision >= 1


def test_helm_test_passes_again(
    deployed: tuple[deploy.Options, deploy.Result], kube: deploy.Kube
) -> None:
    opts, _ = deployed
    deploy.run_tests(kube, opts)


def test_namespace_enforces_restricted(
    deployed: tuple[deploy.Options, deploy.Result], kube: deploy.Kube
) -> None:
    opts, _ = deployed
    done = kube.kubectl_cmd("get", "namespace", opts.namespace, "-o", "json", what="get ns")
    labels = json.loads(done.stdout)["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"


def test_a_rolling_update_drops_no_request(
    deployed: tuple[deploy.Options, deploy.Result], kube: deploy.Kube
) -> None:
    """preStop pause + the app's drain: replacing the pod loses no request (bounded polling)."""
    opts, result = deployed
    assert result.url
    files = _release_files(opts)
    roll = deploy.Options(
        profile=opts.profile,
        sets=(f"podAnnotations.e2e-rollout=r{int(time.time())}",),
        timeout=120,
        namespace=opts.namespace,
        release=opts.release,
    )
    with _polling(result.url + "/", every=0.05) as seen:
        deploy.upgrade(kube, roll, files, flag=deploy.rollback_flag(kube.helm))
        time.sleep(12)  # the old pod's preStop + drain + shutdown happen after helm returns
    print(f"rolling update: {dict(seen)}")
    assert sum(seen.values()) >= 50
    assert set(seen) == {200}, f"requests failed during the rolling update: {dict(seen)}"


def test_a_release_that_never_becomes_ready_is_rolled_back_while_the_old_one_serves(
    deployed: tuple[deploy.Options, deploy.Result], kube: deploy.Kube
) -> None:
    opts, result = deployed
    assert result.url
    before = deploy.release_status(kube, opts.release, opts.namespace)
    assert before is not None
    files = _release_files(opts)
    bad = deploy.Options(
        profile=opts.profile,
        sets=("faults.unready=true",),
        timeout=40,
        namespace=opts.namespace,
        release=opts.release,
    )

    # Poll the old release through the whole failed upgrade and rollback (bounded).
    with _polling(result.url + "/readyz", every=0.2) as seen:
        started = time.monotonic()
        with pytest.raises(PlatformError) as err:
            deploy.upgrade(kube, bad, files, flag=deploy.rollback_flag(kube.helm))
    took = time.monotonic() - started
    print(f"failed upgrade + rollback took {took:.0f}s; old release answered {dict(seen)}")

    assert "rolled back" in str(err.value) and "keeps serving" in str(err.value)
    assert sum(seen.values()) >= 20
    assert set(seen) == {200}, f"the old release did not answer every request: {dict(seen)}"

    after = deploy.release_status(kube, opts.release, opts.namespace)
    assert after is not None and after["info"]["status"] == "deployed"
    assert after["version"] == before["version"] + 2  # the failed one, then the rollback
    deployment = json.loads(
        kube.kubectl_cmd(
            "get", "deployment", "hello", "-n", opts.namespace, "-o", "json", what="get deploy"
        ).stdout
    )
    probe: dict[str, Any] = deployment["spec"]["template"]["spec"]["containers"][0][
        "readinessProbe"
    ]
    assert probe["httpGet"]["path"] == "/readyz"
    status, body = _get(result.url + "/version")
    assert status == 200 and json.loads(body)["revision"] == result.version["revision"]
