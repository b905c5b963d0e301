"""The hello_* metrics: names, bounded labels, one registry per app."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hello.main import create_app
from hello.metrics import Metrics, status_class
from hello.settings import Settings

Sample = Callable[..., float | None]


def test_requests_are_counted_by_method_route_template_and_status_class(
    sample: Sample, app: FastAPI, client: TestClient
) -> None:
    for _ in range(3):
        client.get("/")
    client.get("/version")
    client.post("/")
    assert sample(app, "hello_http_requests_total", method="GET", route="/", status="2xx") == 3
    assert (
        sample(app, "hello_http_requests_total", method="GET", route="/version", status="2xx") == 1
    )
    assert sample(app, "hello_http_requests_total", method="POST", route="/", status="4xx") == 1
    assert (
        sample(
            app, "hello_http_request_duration_seconds_count", method="GET", route="/", status="2xx"
        )
        == 3
    )


def test_head_is_counted_under_its_route(sample: Sample, app: FastAPI, client: TestClient) -> None:
    client.head("/")  # through FastAPI: nothing kept yet
    client.get("/")
    client.head("/")  # from the kept response
    assert sample(app, "hello_http_requests_total", method="HEAD", route="/", status="2xx") == 2
    assert sample(app, "hello_http_requests_total", method="GET", route="/", status="2xx") == 1


def test_every_routes_series_starts_at_zero(sample: Sample, app: FastAPI) -> None:
    for method, route in (("GET", "/"), ("HEAD", "/"), ("GET", "/version")):
        labels = {"method": method, "route": route, "status": "2xx"}
        assert sample(app, "hello_http_requests_total", **labels) == 0
    assert sample(app, "hello_probes_total", probe="/readyz", status="503") == 0


def test_unknown_paths_collapse_into_one_label(
    sample: Sample, app: FastAPI, client: TestClient, metrics_client: TestClient
) -> None:
    for n in range(20):
        client.get(f"/random/{n}")
    assert (
        sample(app, "hello_http_requests_total", method="GET", route="<unmatched>", status="4xx")
        == 20
    )
    exposition = metrics_client.get("/metrics").text
    assert "/random/" not in exposition


def test_unknown_methods_collapse_into_other(
    sample: Sample, app: FastAPI, client: TestClient
) -> None:
    client.request("BREW", "/")
    client.request("FROBNICATE", "/")
    assert sample(app, "hello_http_requests_total", method="OTHER", route="/", status="4xx") == 2


def test_probes_are_not_traffic(
    sample: Sample, app: FastAPI, client: TestClient, metrics_client: TestClient
) -> None:
    for _ in range(2):  # rendered by the route, then a kept response
        client.get("/healthz")
        client.get("/readyz")
    client.head("/healthz")
    app.state.hello.begin_drain()
    client.get("/readyz")  # 503 while draining: not an error of the service
    assert sample(app, "hello_probes_total", probe="/healthz", status="200") == 3
    assert sample(app, "hello_probes_total", probe="/readyz", status="200") == 2
    assert sample(app, "hello_probes_total", probe="/readyz", status="503") == 1
    text = metrics_client.get("/metrics").text
    http = [line for line in text.splitlines() if line.startswith("hello_http_requests_total{")]
    assert http, "the routes' series start at 0"
    assert not [line for line in http if "healthz" in line or "readyz" in line]
    assert 'status="5xx"' not in text


def test_process_collector_reports_cpu_memory_and_fds(metrics_client: TestClient) -> None:
    text = metrics_client.get("/metrics").text
    for name in (
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
        "process_open_fds",
        "process_start_time_seconds",
    ):
        assert f"\n{name} " in text, name


def test_build_info_and_exposition(metrics_client: TestClient) -> None:
    response = metrics_client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert re.search(r'hello_build_info\{pod="[^"]+",revision="0123abc",version="', text)
    for name in (
        "hello_http_requests_total",
        "hello_http_request_duration_seconds_bucket",
        "hello_http_requests_in_progress",
    ):
        assert name in text
    assert "_created" not in text
    # Every metric family shares the prefix, but the standard process_* ones.
    families = {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE")}
    assert all(f.startswith(("hello_", "process_")) for f in families)


def test_in_progress_reads_the_live_count(sample: Sample, app: FastAPI) -> None:
    app.state.metrics.active = 2  # two requests being answered (the middleware counts them)
    assert sample(app, "hello_http_requests_in_progress") == 2
    app.state.metrics.active = 0
    assert sample(app, "hello_http_requests_in_progress") == 0


def test_metrics_are_served_on_their_own_port_only(
    client: TestClient, metrics_client: TestClient, sample: Sample, app: FastAPI
) -> None:
    """The app's port answers 404 on /metrics (counted as unmatched, like any unknown path);
    the metrics app answers /metrics alone, and a scrape is not a request of the service."""
    assert client.get("/metrics").status_code == 404
    assert "/metrics" not in client.get("/openapi.json").json()["paths"]
    for _ in range(3):
        assert metrics_client.get("/metrics").status_code == 200
    assert metrics_client.get("/").status_code == 404
    assert metrics_client.get("/metrics/x").status_code == 404
    labels = {"method": "GET", "route": "<unmatched>", "status": "4xx"}
    assert sample(app, "hello_http_requests_total", **labels) == 1
    scraped = {"method": "GET", "route": "/metrics", "status": "2xx"}
    assert sample(app, "hello_http_requests_total", **scraped) is None


def test_the_metrics_port_speaks_openmetrics_and_gzip_when_asked(
    metrics_client: TestClient,
) -> None:
    """prometheus-client's own exposition: what a Prometheus scrape asks for."""
    openmetrics = "application/openmetrics-text;version=1.0.0"
    response = metrics_client.get(
        "/metrics", headers={"Accept": openmetrics, "Accept-Encoding": "gzip"}
    )
    assert response.headers["content-type"].startswith("application/openmetrics-text")
    assert response.headers["content-encoding"] == "gzip"
    assert response.text.rstrip().endswith("# EOF")  # httpx decoded the gzip body


def test_each_app_has_its_own_registry(sample: Sample, settings: Settings) -> None:
    first, second = create_app(settings), create_app(settings)
    with TestClient(first) as client:
        client.get("/")
    assert sample(first, "hello_http_requests_total", method="GET", route="/", status="2xx") == 1
    assert sample(second, "hello_http_requests_total", method="GET", route="/", status="2xx") == 0


def test_series_are_found_once_and_bounded() -> None:
    metrics = Metrics(version="1", revision="r")
    first = metrics.series("GET", "/", 200)
    assert metrics.series("GET", "/", 200) is first
    assert metrics.series("GET", "/", 204) is first  # one status class
    for n in range(50):
        metrics.series(f"M{n}", "/", 200)
    assert metrics.series("M1", "/", 200) is metrics.series("OTHER", "/", 200)
    assert len({k[0] for k in metrics._series}) == 2  # GET and OTHER


def test_the_histogram_counts_each_request_in_its_bucket(sample: Sample, app: FastAPI) -> None:
    metrics = app.state.metrics
    for seconds in (0.0001, 0.0005, 0.0007, 3.0, 99.0):
        metrics.observe("GET", "/version", 200, seconds)
    labels = {"method": "GET", "route": "/version", "status": "2xx"}
    name = "hello_http_request_duration_seconds"
    buckets = {
        le: sample(app, f"{name}_bucket", le=le, **labels)
        for le in ("0.0005", "0.001", "5.0", "10.0", "+Inf")
    }
    assert buckets == {"0.0005": 2, "0.001": 3, "5.0": 4, "10.0": 4, "+Inf": 5}
    assert sample(app, f"{name}_count", **labels) == 5
    assert sample(app, f"{name}_sum", **labels) == pytest.approx(102.0013)
    assert sample(app, "hello_http_requests_total", **labels) == 5


def test_status_class() -> None:
    assert [status_class(s) for s in (101, 200, 204, 308, 404, 413, 503)] == [
        "1xx",
        "2xx",
        "2xx",
        "3xx",
        "4xx",
        "4xx",
        "5xx",
    ]


def test_build_info_names_the_pod() -> None:
    """The analysis of a canary joins on it: the pod name carries the template hash."""
    metrics = Metrics(version="1", revision="r", pod="hello-5d7f6b686b-x2k4q")
    labels = {"pod": "hello-5d7f6b686b-x2k4q", "revision": "r", "version": "1"}
    assert metrics.registry.get_sample_value("hello_build_info", labels) == 1.0
