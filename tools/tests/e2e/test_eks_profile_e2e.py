"""The eks profile, proven on the embedded cluster: ``deploy --profile eks`` as it is.

Its own release (``hello``) in its own namespace (``hello-e2e-eks``), with the image the
deploy builds and pushes to the local registry (as the local profile does). The node is
labelled with a zone (``topology.kubernetes.io/zone``), so the profile's zone spread
(``DoNotSchedule``) can place its pods; the ALB Ingress is created but not served (no
controller runs here), with a stand-in certificate ARN. Then the cluster must hold what the
profile says: probes, the PodDisruptionBudget (and it allows a disruption), the spread, the
production HPA windows (and the HPA reads its metric), and the metrics on their own port:
``/metrics`` answers 404 on the public port and 200 on the metrics port.

Requests go to the Service's cluster IP and the pods' IPs from this host, a few each.
About 2 minutes.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from hello_platform.core import catalogue
from hello_platform.pipeline import deploy, helm

from e2e.helpers import Kube, eventually

pytestmark = pytest.mark.e2e

SERVICE = catalogue.service()
NAMESPACE = f"{SERVICE.namespace}-e2e-eks"
ZONE_LABEL = "topology.kubernetes.io/zone"
#: What a real deploy gives with --set (the certificate is the user's); nothing serves it here.
SETS = ("ingress.certificateArn=arn:aws:acm:us-east-1:000000000000:certificate/e2e",)


@pytest.fixture(scope="module")
def node(kube: Kube) -> Iterator[str]:
    """The node, labelled with a zone for the test (the label removed after, if it was ours)."""
    (found,) = kube.get("nodes")["items"]
    name = str(found["metadata"]["name"])
    ours = ZONE_LABEL not in found["metadata"].get("labels", {})
    if ours:
        kube.run("label", "node", name, f"{ZONE_LABEL}=e2e-zone-a")
    yield name
    if ours:
        kube.run("label", "node", name, f"{ZONE_LABEL}-", check=False)


@pytest.fixture(scope="module")
def release(kube: Kube, node: str) -> Iterator[deploy.Result]:
    kube.run("delete", "namespace", NAMESPACE, "--ignore-not-found", "--wait=true", timeout=180)
    opts = deploy.Options(profile="eks", namespace=NAMESPACE, sets=SETS, timeout=300)
    result = deploy.deploy(opts)  # helm test included
    yield result
    kube.run("delete", "namespace", NAMESPACE, "--wait=false", check=False)


@pytest.fixture(scope="module")
def rendered(release: deploy.Result) -> dict[str, dict[str, Any]]:
    """The eks profile as the chart renders it, by kind (one object each)."""
    text = helm.render(
        release.helm,
        SERVICE,
        values_files=helm.profile_files(SERVICE, "eks"),
        sets=SETS,
        release=release.release,
        namespace=NAMESPACE,
    )
    docs = helm.documents(text)
    return {d["kind"]: d for d in docs if d["kind"] != "Pod"}  # not the helm test pod


def live(kube: Kube, kind: str, name: str) -> dict[str, Any]:
    doc: dict[str, Any] = kube.get("-n", NAMESPACE, kind, name)
    return doc


def holds(wanted: Any, held: Any, where: str = "") -> None:
    """Every field of ``wanted`` is in ``held`` with the same value (the API server may add
    defaults, never change what was given)."""
    if isinstance(wanted, dict):
        assert isinstance(held, dict), where
        for key, value in wanted.items():
            holds(value, held.get(key), f"{where}.{key}")
    elif isinstance(wanted, list):
        assert isinstance(held, list) and len(held) == len(wanted), where
        for i, (w, h) in enumerate(zip(wanted, held, strict=True)):
            holds(w, h, f"{where}[{i}]")
    else:
        assert held == wanted, f"{where}: the cluster holds {held!r}, the profile says {wanted!r}"


def status_of(url: str) -> int:
    assert url.startswith("http://10."), url  # the cluster's own addresses only
    try:
        with urllib.request.urlopen(url, timeout=3) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as err:
        return err.code


def pods(kube: Kube, release: deploy.Result) -> list[dict[str, Any]]:
    selector = f"app.kubernetes.io/instance={release.release}"
    items: list[dict[str, Any]] = kube.get("-n", NAMESPACE, "pods", "-l", selector)["items"]
    return [p for p in items if p["metadata"]["labels"].get("app.kubernetes.io/component") == "api"]


def test_probes_are_the_profiles(
    kube: Kube, release: deploy.Result, rendered: dict[str, dict[str, Any]]
) -> None:
    name = rendered["Deployment"]["metadata"]["name"]
    (want,) = rendered["Deployment"]["spec"]["template"]["spec"]["containers"]
    (held,) = live(kube, "deployment", name)["spec"]["template"]["spec"]["containers"]
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        holds(want[probe], held[probe], probe)
    assert held["readinessProbe"]["httpGet"]["path"] == "/readyz"


def test_the_pdb_holds_and_allows_one_disruption(
    kube: Kube, release: deploy.Result, rendered: dict[str, dict[str, Any]]
) -> None:
    want = rendered["PodDisruptionBudget"]
    held = live(kube, "pdb", want["metadata"]["name"])
    holds(want["spec"], held["spec"], "spec")
    assert held["spec"]["minAvailable"] == 2

    def settled() -> dict[str, Any]:
        status: dict[str, Any] = live(kube, "pdb", want["metadata"]["name"]).get("status", {})
        return status if status.get("currentHealthy", 0) >= 3 else {}

    status = eventually(settled, timeout=60, what="3 healthy pods under the PDB")
    assert status["disruptionsAllowed"] == status["currentHealthy"] - 2 >= 1


def test_pods_spread_over_the_labelled_zone(
    kube: Kube, node: str, release: deploy.Result, rendered: dict[str, dict[str, Any]]
) -> None:
    want = rendered["Deployment"]
    held = live(kube, "deployment", want["metadata"]["name"])
    spread = held["spec"]["template"]["spec"]["topologySpreadConstraints"]
    holds(want["spec"]["template"]["spec"]["topologySpreadConstraints"], spread, "spread")
    zone = {t["topologyKey"]: t["whenUnsatisfiable"] for t in spread}[ZONE_LABEL]
    assert zone == "DoNotSchedule"
    running = [p for p in pods(kube, release) if p["status"].get("phase") == "Running"]
    assert len(running) >= 3 and {p["spec"]["nodeName"] for p in running} == {node}


def test_the_hpa_has_the_production_windows_and_reads_its_metric(
    kube: Kube, release: deploy.Result, rendered: dict[str, dict[str, Any]]
) -> None:
    want = rendered["HorizontalPodAutoscaler"]
    name = want["metadata"]["name"]
    held = live(kube, "hpa", name)
    holds(want["spec"], held["spec"], "spec")
    behavior = held["spec"]["behavior"]
    assert behavior["scaleDown"]["stabilizationWindowSeconds"] == 300
    assert behavior["scaleUp"]["stabilizationWindowSeconds"] == 30
    assert (held["spec"]["minReplicas"], held["spec"]["maxReplicas"]) == (3, 20)

    def scaling_active() -> bool:
        conditions = live(kube, "hpa", name).get("status", {}).get("conditions", [])
        return any(c["type"] == "ScalingActive" and c["status"] == "True" for c in conditions)

    eventually(scaling_active, timeout=150, interval=5, what="the HPA reading pod CPU")


def test_metrics_answer_on_the_metrics_port_only(
    kube: Kube, release: deploy.Result, rendered: dict[str, dict[str, Any]]
) -> None:
    svc = live(kube, "service", release.service)
    assert [p["name"] for p in svc["spec"]["ports"]] == ["http"]  # what users reach
    front = f"http://{svc['spec']['clusterIP']}:{svc['spec']['ports'][0]['port']}"
    assert status_of(f"{front}/") == 200
    assert status_of(f"{front}/metrics") == 404
    for pod in pods(kube, release):
        (container,) = pod["spec"]["containers"]
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        ip = pod["status"]["podIP"]
        assert status_of(f"http://{ip}:{ports['http']}/metrics") == 404
        with urllib.request.urlopen(f"http://{ip}:{ports['metrics']}/metrics", timeout=3) as r:
            assert r.status == 200 and b"hello_http_requests_total" in r.read()


def test_the_alb_ingress_is_held_but_not_served(
    kube: Kube, release: deploy.Result, rendered: dict[str, dict[str, Any]]
) -> None:
    want = rendered["Ingress"]
    held = live(kube, "ingress", want["metadata"]["name"])
    holds(want["metadata"]["annotations"], held["metadata"]["annotations"], "annotations")
    holds(want["spec"], held["spec"], "spec")
    paths = [p["path"] for r in held["spec"]["rules"] for p in r["http"]["paths"]]
    assert "/metrics" not in paths and held["spec"]["ingressClassName"] == "alb"
    assert not held.get("status", {}).get("loadBalancer", {}).get("ingress")  # no controller
