"""Prometheus metrics of one app instance, in its own registry.

Service metrics share one prefix (``hello_``); the process collector adds the standard
``process_*`` families (CPU seconds, resident memory, open fds). They are served on a port
of their own (:func:`exposition_app`), never on the app's. The kubelet's probes
(``/healthz``, ``/readyz``) are not traffic: they are counted in ``hello_probes_total``
only, so a readiness 503 while a pod drains is never an error of the service (nor part
of the request rate an autoscaler reads). The others use base units and bounded labels: the HTTP
method (unknown methods become ``OTHER``), the route *template* (paths that match no
route become ``<unmatched>``) and the status class (``2xx``). Each label set's numbers are
found once and cached, so recording a request allocates nothing.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Iterator
from itertools import accumulate

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Info,
    ProcessCollector,
    disable_created_metrics,
    make_asgi_app,
)
from prometheus_client.metrics_core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.responses import PlainTextResponse
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

# No ``*_created`` series: they double the exposition and nothing here uses them.
disable_created_metrics()  # type: ignore[no-untyped-call]

#: The route label of requests that matched no route (keeps cardinality bounded).
UNMATCHED = "<unmatched>"
#: Methods kept as they are; any other becomes ``OTHER``.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
#: Latency buckets (seconds): a hello answers in well under a millisecond.
BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
#: Probe paths: counted in ``hello_probes_total``, never as HTTP traffic.
PROBES = frozenset({"/healthz", "/readyz"})
#: Where the metrics port serves the exposition (the app's own port answers 404 there).
PATH = "/metrics"

LABELS = ("method", "route", "status")
#: The ``le`` label of each bucket, as prometheus-client writes it ("0.0005", "1.0").
_LE = tuple(str(bound) for bound in BUCKETS)


class Series:
    """The requests of one label set: how many, their total seconds, and how many fell in
    each latency bucket (the last: above the largest bound)."""

    __slots__ = ("buckets", "count", "seconds")

    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0
        self.buckets = [0] * (len(BUCKETS) + 1)

    def observe(self, seconds: float) -> None:
        self.count += 1
        self.seconds += seconds
        self.buckets[bisect_left(BUCKETS, seconds)] += 1  # the first bound >= seconds


class RequestCollector(Collector):
    """``hello_http_requests_total`` and ``hello_http_request_duration_seconds``, from plain
    numbers that the middleware adds to (one thread: the event loop) and a scrape reads.

    A request costs a few additions and no lock: prometheus-client's own counter and
    histogram take a lock per update, which made recording a request cost four times as
    much (1.4 us, a quarter of a static response).
    """

    def __init__(self) -> None:
        self._series: dict[tuple[str, str, str], Series] = {}

    def series(self, method: str, route: str, status: str) -> Series:
        return self._series.setdefault((method, route, status), Series())

    def collect(self) -> Iterator[Metric]:
        requests = CounterMetricFamily(
            "hello_http_requests",
            "HTTP requests answered, by method, route template and status class.",
            labels=LABELS,
        )
        duration = HistogramMetricFamily(
            "hello_http_request_duration_seconds",
            "Time to answer an HTTP request, by method, route template and status class.",
            labels=LABELS,
        )
        for labels, series in self._series.items():
            requests.add_metric(labels, series.count)
            counts = accumulate(series.buckets[:-1])
            buckets = [(le, c) for le, c in zip(_LE, counts, strict=True)]
            duration.add_metric(labels, [*buckets, ("+Inf", series.count)], series.seconds)
        yield requests
        yield duration


def status_class(status: int) -> str:
    """``200`` -> ``"2xx"``."""
    return f"{status // 100}xx"


class Metrics:
    """The ``hello_*`` metrics, registered in a registry of their own."""

    def __init__(self, *, version: str, revision: str, pod: str = "") -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = RequestCollector()
        self.registry.register(self.requests)
        self.in_progress = Gauge(
            "hello_http_requests_in_progress",
            "HTTP requests being answered right now.",
            registry=self.registry,
        )
        # A plain int the middleware counts up and down (one thread: the event loop); the
        # gauge reads it at scrape time, so no lock is taken per request.
        self.active = 0
        self.in_progress.set_function(lambda: self.active)
        self.probes = Counter(
            "hello_probes",
            "Health probes answered (/healthz, /readyz), by probe path and status code.",
            ("probe", "status"),
            registry=self.registry,
        )
        self._probe_children: dict[tuple[str, int], Counter] = {}
        ProcessCollector(registry=self.registry)
        self.build_info = Info(
            "hello_build",
            "Version, git revision and pod of the running service (an Argo Rollouts analysis "
            "finds a new revision's pods by their name, which carries the template hash).",
            registry=self.registry,
        )
        self.build_info.info({"version": version, "revision": revision, "pod": pod})
        self._series: dict[tuple[str, str, int], Series] = {}
        #: Templates of the parameterless routes: the route of a request refused before
        #: routing (413, 400) is its path when it is one of them.
        self.templates: frozenset[str] = frozenset()
        for probe in PROBES:
            self.probe(probe, 200)
        self.probe("/readyz", 503)  # a pod that drains or starts

    def expect(self, routes: Iterable[BaseRoute]) -> None:
        """Learn the route templates, and start each route's 2xx series at 0 (so that they
        exist, and are bound, before the first request)."""
        templates = set(self.templates)
        for route in routes:
            template = getattr(route, "path_format", None)
            if template is None:
                continue
            if "{" not in template:
                templates.add(template)
            for method in getattr(route, "methods", None) or ():
                if template not in PROBES:
                    self.series(method, template, 200)
        self.templates = frozenset(templates)

    def series(self, method: str, route: str, status: int) -> Series:
        """The :class:`Series` of one label set, looked up once per request.

        The cache is bounded: methods are normalised, routes are templates and the status
        is an HTTP status code.
        """
        if method not in KNOWN_METHODS:
            method = "OTHER"
        key = (method, route, status)
        found = self._series.get(key)
        if found is None:
            found = self._series[key] = self.requests.series(method, route, status_class(status))
        return found

    def probe(self, path: str, status: int) -> Counter:
        """The ``hello_probes_total`` child of one probe path and status (bound once)."""
        key = (path, status)
        found = self._probe_children.get(key)
        if found is None:
            found = self._probe_children[key] = self.probes.labels(path, str(status))
        return found

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Record one answered request (a probe only in ``hello_probes_total``)."""
        if route in PROBES:
            self.probe(route, status).inc()
            return
        self.series(method, route, status).observe(seconds)


NOT_FOUND = PlainTextResponse("Not Found", status_code=404)


def exposition_app(registry: CollectorRegistry) -> ASGIApp:
    """The ASGI app of the metrics port: prometheus-client's own exposition at :data:`PATH`
    (text or OpenMetrics as the scraper asks, gzip when accepted), 404 elsewhere."""
    exposition = make_asgi_app(registry)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # served with the lifespan off: nothing else comes
            return
        if scope["path"] == PATH:
            await exposition(scope, receive, send)
        else:
            await NOT_FOUND(scope, receive, send)

    return app
