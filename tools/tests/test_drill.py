"""``hello_platform.pipeline.drill``: the load generator against real HTTP servers on 127.0.0.1, the
summary figures, the report files and the CLI's argument checks (no cluster needed)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from hello_platform import cli
from hello_platform.core.errors import PlatformError
from hello_platform.pipeline import deploy
from hello_platform.pipeline.drill import drills
from hello_platform.pipeline.drill.drills import Report, longest_outage, percentile, summarize
from hello_platform.pipeline.drill.load import MAX_RPS, Load, Sample, check_loopback
from hello_platform.pipeline.drill.release import BASE_SETS, REPLICAS, Env


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, *, close: bool = False, status: int = 200) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.close, self.status = close, status
        self.requests = 0
        self.connections = 0
        self.per_connection: dict[int, int] = {}
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive unless the server says close
    server: Server

    def setup(self) -> None:
        super().setup()
        with self.server.lock:
            self.server.connections += 1
            self.number = self.server.connections

    def do_GET(self) -> None:
        with self.server.lock:
            self.server.requests += 1
            counts = self.server.per_connection
            counts[self.number] = counts.get(self.number, 0) + 1
            body = json.dumps({"host": f"pod-{self.server.requests % 2}"}).encode()
        self.send_response(self.server.status)
        self.send_header("Content-Length", str(len(body)))
        if self.server.close:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[Server]:
    srv = Server()
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ------------------------------------------------------------------------------ loopback


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:30083/",
        "http://127.0.0.2:8080/x",
        "http://127.1.2.3:1",
        "http://localhost:8080/",
        "http://[::1]:8080/",
    ],
)
def test_loopback_urls_are_accepted(url: str) -> None:
    assert check_loopback(url).port


@pytest.mark.parametrize(
    "url",
    [
        "http://10.244.0.1:30083/",
        "http://192.168.1.5:30083/",
        "https://127.0.0.1:30083/",
        "http://127.0.0.1/",
        "http://example.com:80/",
        "http://128.0.0.1:80/",
        "http://localhost.example.com:80/",
        "http://0.0.0.0:30083/",
    ],
)
def test_other_addresses_are_refused(url: str) -> None:
    with pytest.raises(PlatformError, match="this machine only"):
        check_loopback(url)
    with pytest.raises(PlatformError):
        Load(url)


@pytest.mark.parametrize("rps", [0, -1, MAX_RPS + 1])
def test_the_rate_is_bounded(rps: float) -> None:
    with pytest.raises(PlatformError, match="out of range"):
        Load("http://127.0.0.1:1/", rps=rps)


# ------------------------------------------------------------------------------ the load


def test_load_keeps_its_rate_on_keep_alive_connections(server: Server) -> None:
    load = Load(server.url + "/", rps=40, connections=2, max_seconds=1.0, per_connection=100)
    with load:
        threading.Event().wait(1.3)
    samples = load.stop()
    assert 38 <= len(samples) <= 41  # 41 slots due in [0, 1.0] s
    assert all(s.ok and s.status == 200 and s.ms > 0 for s in samples)
    assert [s.t for s in samples] == sorted(s.t for s in samples)
    assert samples[-1].t <= 1.0 + load.late_s
    assert server.requests == len(samples)
    assert server.connections == 2  # one keep-alive connection per thread
    assert {s.host for s in samples} == {"pod-0", "pod-1"}


def test_a_connection_is_closed_after_its_request_cap(server: Server) -> None:
    load = Load(server.url + "/", rps=50, connections=2, max_requests=30, per_connection=5)
    with load:
        threading.Event().wait(0.8)
    samples = load.stop()
    assert len(samples) == 30 and all(s.ok for s in samples)
    # Each thread's last connection may carry fewer (the threads need not split 15/15).
    assert max(server.per_connection.values()) == 5
    assert sorted(server.per_connection.values())[2:] == [5] * (server.connections - 2)


def test_a_connection_the_server_closes_is_reopened(server: Server) -> None:
    server.close = True
    load = Load(server.url + "/", rps=50, connections=2, max_requests=20)
    with load:
        threading.Event().wait(0.6)
    samples = load.stop()
    assert len(samples) == 20  # max_requests caps the run
    assert all(s.ok for s in samples)
    assert server.connections == 20


def test_an_error_status_is_a_failure(server: Server) -> None:
    server.status = 503
    load = Load(server.url + "/", rps=50, max_requests=10)
    with load:
        threading.Event().wait(0.4)
    samples = load.stop()
    assert len(samples) == 10 and not any(s.ok for s in samples)
    assert {s.status for s in samples} == {503}


def test_nothing_listening_is_a_failure_with_its_error() -> None:
    load = Load(f"http://127.0.0.1:{_closed_port()}/", rps=50, max_seconds=0.3)
    with load:
        threading.Event().wait(0.5)
    samples = load.stop()
    assert samples and all(s.status == 0 for s in samples)
    assert {s.error for s in samples} == {"ConnectionRefusedError"}
    summary = summarize("x", samples, rps=50)
    assert summary.failed == summary.sent == len(samples)
    assert summary.unavailable_s == pytest.approx(samples[-1].t - samples[0].t, abs=0.05)


def test_overdue_slots_are_skipped_not_burst() -> None:
    """After 10 s with every connection stuck, the next request is the one due now."""
    load = Load("http://127.0.0.1:1/", rps=100, late_s=0.05)
    load._t0 = time.monotonic() - 10  # started 10 s ago, nothing sent since
    due = load._slot()
    assert due is not None and 9.94 <= due <= 10.01
    assert 990 <= load.skipped <= 1000


def test_mark_records_events_in_load_time(server: Server) -> None:
    with Load(server.url + "/", rps=20, max_seconds=0.2) as load:
        t = load.mark("disrupt")
    assert load.events == {"disrupt": t} and 0 <= t < 0.5


# ---------------------------------------------------------------------------- summaries


def _samples(pattern: str, every: float = 0.1) -> list[Sample]:
    """``.`` a success, ``x`` a failure, one every ``every`` s."""
    return [
        Sample(round(i * every, 3), 200 if c == "." else 0, 5.0, "" if c == "." else "E")
        for i, c in enumerate(pattern)
    ]


@pytest.mark.parametrize(
    ("pattern", "length"),
    [
        ("......", 0.0),
        ("..x...", 0.1),
        ("..xxx..x.", 0.3),
        ("x..xxxx", 0.305),  # to the end of the last failure (5 ms)
        ("xxxxx", 0.405),
    ],
)
def test_the_longest_outage_is_the_longest_run_of_failures(pattern: str, length: float) -> None:
    assert longest_outage(_samples(pattern)) == pytest.approx(length)


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50
    assert percentile(values, 99) == 99
    assert percentile(values, 100) == 100
    assert percentile([7.0], 99) == 7
    assert percentile([], 99) == 0


def test_summary_counts_and_passes_only_when_every_check_holds() -> None:
    samples = [*_samples("...xx..."), Sample(0.9, 503, 2.0)]
    samples[0] = Sample(0.0, 200, 5.0, host="pod-a")
    summary = summarize(
        "pod-delete",
        samples,
        rps=10,
        skipped=3,
        events={"delete": 0.25},
        checks={"a": True, "b": False},
        recovery_s=1.234,
    )
    assert (summary.sent, summary.failed, summary.skipped) == (9, 3, 3)
    assert summary.statuses == {"0": 2, "200": 6, "503": 1}
    assert summary.errors == {"E": 2}
    assert summary.failures == [(0.3, 0, "E"), (0.4, 0, "E"), (0.9, 503, "")]
    assert summary.hosts == {"pod-a": 1}
    assert summary.unavailable_s == pytest.approx(0.2)
    assert summary.p99_ms == 5.0 and summary.recovery_s == 1.23
    assert not summary.passed
    line = summary.line()
    assert line.startswith("drill pod-delete: FAIL  sent 9  failed 3  ")
    assert "p99 5.0ms" in line and "unavailable 0.2s" in line and "failed checks: b" in line
    assert summarize("x", samples, rps=10, checks={"a": True}).passed


def test_the_report_is_rewritten_after_each_drill_and_latest_links_it(tmp_path: Path) -> None:
    report = Report(tmp_path, run="20260101T000000Z")
    report.add(summarize("pod-delete", _samples("...."), rps=10, checks={"ok": True}))
    report.add(summarize("cluster-restart", _samples(".xx."), rps=10, checks={"ok": False}))
    body = json.loads((tmp_path / "latest" / "summary.json").read_text())
    assert body["run"] == "20260101T000000Z" and body["passed"] is False
    assert [d["drill"] for d in body["drills"]] == ["pod-delete", "cluster-restart"]
    assert body["drills"][1]["unavailable_s"] == pytest.approx(0.2)
    assert (tmp_path / "latest").resolve() == report.dir.resolve()


# --------------------------------------------------------------------------- the drills


def test_select_keeps_the_run_order_and_names_unknown_drills() -> None:
    assert drills.select([]) == list(drills.NAMES)
    assert drills.select(["cluster-restart", "pod-delete"]) == ["pod-delete", "cluster-restart"]
    with pytest.raises(PlatformError, match="unknown drill pod-kill"):
        drills.select(["pod-kill"])
    table = {"b": drills.DRILLS["pod-delete"], "a": drills.DRILLS["pod-delete"]}
    assert drills.select(["a", "b"], table) == ["b", "a"]
    assert set(drills.DRILLS) == set(drills.NAMES)


def test_the_drill_release_has_two_replicas_on_its_own_node_port() -> None:
    assert "autoscaling.enabled=false" in BASE_SETS
    assert f"replicaCount={REPLICAS}" in BASE_SETS and REPLICAS >= 2
    assert "service.nodePort=30083" in BASE_SETS
    env = Env(None, deploy.Options(sets=BASE_SETS), "http://127.0.0.1:1")  # type: ignore[arg-type]
    opts = env.options("faults.unready=true", timeout=40)
    assert opts.sets == (*BASE_SETS, "faults.unready=true")
    assert (opts.timeout, opts.run_tests) == (40, False)
    assert env.files[-1].name == "image-values.json"


def test_run_drill_checks_failures_and_writes_the_report(
    server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(drills, "WARMUP_S", 0.2)
    monkeypatch.setattr(drills, "TAIL_S", 0.1)

    def flap(env: Env, load: Load) -> drills.Outcome:
        t = load.mark("503s")
        server.status = 503
        threading.Event().wait(0.3)
        server.status = 200
        return drills.Outcome({"came back": True}, load.mark("200s") - t, {"k": 1})

    monkeypatch.setitem(drills.DRILLS, "flap", (flap, True))
    env = Env(None, deploy.Options(), server.url, rps=50)  # type: ignore[arg-type]
    report = Report(tmp_path, run="r")
    summary = drills.run_drill(env, "flap", report)
    assert not summary.passed and summary.failed > 5
    assert summary.checks == {
        "came back": True,
        "no request failed": False,
        "enough requests": True,
        "2+ pods answered": True,
    }
    assert summary.unavailable_s == pytest.approx(0.3, abs=0.1)
    assert summary.recovery_s == pytest.approx(0.3, abs=0.1) and summary.figures == {"k": 1}
    assert json.loads(report.path.read_text())["drills"][0]["drill"] == "flap"

    monkeypatch.setitem(drills.DRILLS, "flap", (flap, False))  # failures only reported
    assert drills.run_drill(env, "flap").passed


def test_run_drill_draws_the_drills_plot_next_to_its_summary(
    server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(drills, "WARMUP_S", 0.2)
    monkeypatch.setattr(drills, "TAIL_S", 0.1)
    drawn: list[int] = []

    def draw(samples: Sequence[Sample], events: Mapping[str, float], path: Path) -> Path:
        drawn.append(len(samples))
        path.write_bytes(b"png")
        return path

    def quiet(env: Env, load: Load) -> drills.Outcome:
        return drills.Outcome({"done": True}, plot=draw)

    env = Env(None, deploy.Options(), server.url, rps=50)  # type: ignore[arg-type]
    report = Report(tmp_path, run="r")
    summary = drills.run_drill(env, "quiet", report, {"quiet": (quiet, True)})
    assert drawn == [summary.sent] and summary.sent > 0
    assert summary.figures["plot"] == str(tmp_path / "r" / "quiet.png")
    assert (tmp_path / "r" / "quiet.png").exists()


def test_a_drill_that_raises_fails_without_a_traceback(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(drills, "WARMUP_S", 0.1)

    def broken(env: Env, load: Load) -> drills.Outcome:
        raise PlatformError("the release vanished")

    monkeypatch.setitem(drills.DRILLS, "broken", (broken, True))
    env = Env(None, deploy.Options(), server.url, rps=50)  # type: ignore[arg-type]
    summary = drills.run_drill(env, "broken")
    assert not summary.passed and summary.checks["drill completed"] is False
    assert any("the release vanished" in e for e in summary.events)


# ---------------------------------------------------------------------------- the CLI


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["drill", "--rps", "0"], "--rps 0 is out of range"),
        (["drill", "--rps", "500"], "--rps 500 is out of range"),
        (["rollouts", "drill", "--rps", "0"], "--rps 0 is out of range"),
        (["drill", "--only", "pod-kill"], "unknown drill pod-kill"),
    ],
)
def test_bad_arguments_are_one_sentence_before_anything_runs(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {message}") and "Traceback" not in err
