"""The drills' load: a fixed request rate on keep-alive connections, bounded, loopback only."""

from __future__ import annotations

import http.client
import json
import threading
import time
import urllib.parse
from dataclasses import dataclass

from hello_platform.core.errors import PlatformError
from hello_platform.core.net import is_loopback
from hello_platform.core.progress import say

DEFAULT_RPS = 50
MAX_RPS = 200
#: Hard caps of one load run, whatever the drill does.
MAX_SECONDS = 420.0
MAX_REQUESTS = 30_000


def check_loopback(url: str) -> urllib.parse.SplitResult:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "http" or not is_loopback(parts.hostname or "") or not parts.port:
        raise PlatformError(
            f"drill load goes to this machine only (http://127.x.y.z:PORT, localhost or [::1]),"
            f" not {url}"
        )
    return parts


@dataclass(frozen=True)
class Sample:
    """One request: sent at ``t`` (s since the load started); status 0 when nothing answered."""

    t: float
    status: int
    ms: float
    error: str = ""
    #: The ``host`` the answer names (the service's pod name), when it names one.
    host: str = ""

    @property
    def ok(self) -> bool:
        return self.status == 200


class Load:
    """GET ``url`` at ``rps`` a second from ``connections`` keep-alive connections, bounded.

    A connection is closed after ``per_connection`` requests: kube-proxy balances connections,
    not requests, so a few long-lived ones may all land on one replica. The schedule is
    open-loop: a slot more than ``late_s`` overdue is skipped and counted (no burst after a
    recovery).
    """

    def __init__(
        self,
        url: str,
        *,
        rps: float = DEFAULT_RPS,
        connections: int = 8,
        timeout: float = 2.0,
        max_seconds: float = MAX_SECONDS,
        max_requests: int = MAX_REQUESTS,
        late_s: float = 1.0,
        per_connection: int = 20,
    ) -> None:
        parts = check_loopback(url)
        if not 0 < rps <= MAX_RPS:
            raise PlatformError(f"rps {rps} is out of range", hint=f"give 1 to {MAX_RPS}")
        self.host, self.port = parts.hostname or "", int(parts.port or 0)
        self.path = parts.path or "/"
        self.rps, self.connections, self.timeout = rps, connections, timeout
        self.max_seconds, self.max_requests = min(max_seconds, MAX_SECONDS), max_requests
        self.late_s = late_s
        self.per_connection = max(1, per_connection)
        self.samples: list[Sample] = []
        self.skipped = 0
        self.events: dict[str, float] = {}
        self._next = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._t0 = 0.0

    def now(self) -> float:
        return time.monotonic() - self._t0

    def mark(self, event: str) -> float:
        self.events[event] = round(self.now(), 3)
        sent = len(self.samples)
        say(f"{event} at {self.events[event]:.1f}s ({sent} sent, {self.failed()} failed)")
        return self.events[event]

    def failed(self) -> int:
        with self._lock:
            return sum(1 for s in self.samples if not s.ok)

    def __enter__(self) -> Load:
        self._t0 = time.monotonic()
        for n in range(self.connections):
            t = threading.Thread(target=self._work, name=f"drill-load-{n}", daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> list[Sample]:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=self.timeout + 5)
        with self._lock:
            self.samples.sort(key=lambda s: s.t)
            return list(self.samples)

    def _slot(self) -> float | None:
        with self._lock:
            while True:
                if self._next >= self.max_requests:
                    return None
                due = self._next / self.rps
                self._next += 1
                if due > self.max_seconds:
                    return None
                if self.now() - due <= self.late_s:
                    return due
                self.skipped += 1

    def _work(self) -> None:
        conn: http.client.HTTPConnection | None = None
        used = 0
        while not self._stop.is_set():
            due = self._slot()
            if due is None:
                break
            if self._stop.wait(max(0.0, due - self.now())):
                break
            if conn is None:
                conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
                used = 0
            used += 1
            sent = self.now()
            try:
                conn.request("GET", self.path, headers={"User-Agent": "hello-platform-drill"})
                resp = conn.getresponse()
                body = resp.read()
                sample = Sample(sent, resp.status, (self.now() - sent) * 1000, host=_host(body))
                closing = resp.will_close
            except (OSError, http.client.HTTPException) as err:
                sample = Sample(sent, 0, (self.now() - sent) * 1000, type(err).__name__)
                closing = True
            if closing or used >= self.per_connection:
                conn.close()
                conn = None
            with self._lock:
                self.samples.append(sample)
        if conn is not None:
            conn.close()


def _host(body: bytes) -> str:
    try:
        found = json.loads(body).get("host", "")
    except (ValueError, AttributeError):
        return ""
    return found if isinstance(found, str) else ""
