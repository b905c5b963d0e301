"""``hello-platform deploy`` on the embedded cluster: release, helm test, smoke.

Run by ``nox -s e2e`` (marker ``e2e``); it starts the cluster if it is down and builds and
pushes the image. Every request goes to the NodePort on 127.0.0.1, bounded in count and time.
The release is left serving (the load test runs after this file). The rolling update and the
rolled-back failed release are drills under steady load: test_drill_e2e.py.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from hello_platform.pipeline import deploy

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


@pytest.fixture(scope="module")
def deployed() -> tuple[deploy.Options, deploy.Result]:
    opts = deploy.Options(profile="local", timeout=300)
    result = deploy.deploy(opts)
    print(deploy.how_to_reach(result, opts))
    return opts, result


@pytest.fixture(scope="module")
def kube(deployed: tuple[deploy.Options, deploy.Result]) -> deploy.Kube:
    from hello_platform.substrate.cluster import ensure_up
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
    from lightkube.resources.core_v1 import Namespace

    found = kube.api.get(Namespace, opts.namespace)
    assert found is not None
    labels = found["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
