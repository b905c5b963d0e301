"""Prometheus metrics of one app instance, in its own registry.

Service metrics share one prefix (``hello_``); the process collector adds the standard
``process_*`` families (CPU seconds, resident memory, open fds). The kubelet's probes
(``/healthz``, ``/readyz``) are not traffic: they are counted in ``hello_probes_total``
only, so a readiness 503 while a pod drains is never an error of the service (nor part
of the request rate an autoscaler reads). The others use base units and bounded labels: the HTTP
method (unknown methods become ``OTHER``), the route *template* (paths that match no
route become ``<unmatched>``) and the status class (``2xx``). Label children are bound
once per label set and cached, so recording a request allocates nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Info,
    ProcessCollector,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.routing import BaseRoute

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
#: Media type of the exposition format served on /metrics.
CONTENT_TYPE = CONTENT_TYPE_LATEST

_Children = tuple[Counter, Histogram]


def status_class(status: int) -> str:
    """``200`` -> ``"2xx"``."""
    return f"{status // 100}xx"


class Metrics:
    """The ``hello_*`` metrics, registered in a registry of their own."""

    def __init__(self, *, version: str, revision: str) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "hello_http_requests",
            "HTTP requests answered, by method, route template and status class.",
            ("method", "route", "status"),
            registry=self.registry,
        )
        self.duration = Histogram(
            "hello_http_request_duration_seconds",
            "Time to answer an HTTP request, by method, route template and status class.",
            ("method", "route", "status"),
            buckets=BUCKETS,
            registry=self.registry,
        )
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
            "Version and git revision of the running service.",
            registry=self.registry,
        )
        self.build_info.info({"version": version, "revision": revision})
        self._children: dict[tuple[str, str, int], _Children] = {}
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
                    self.children(method, template, 200)
        self.templates = frozenset(templates)

    def children(self, method: str, route: str, status: int) -> _Children:
        """The (counter, histogram) children for one label set, bound once and cached.

        The cache is bounded: methods are normalised, routes are templates and the status
        is an HTTP status code.
        """
        if method not in KNOWN_METHODS:
            method = "OTHER"
        key = (method, route, status)
        found = self._children.get(key)
        if found is None:
            labels = (method, route, status_class(status))
            found = (self.requests.labels(*labels), self.duration.labels(*labels))
            self._children[key] = found
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
        counter, histogram = self.children(method, route, status)
        counter.inc()
        histogram.observe(seconds)

    def exposition(self) -> bytes:
        """The registry in Prometheus text format."""
        return generate_latest(self.registry)
