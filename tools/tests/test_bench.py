"""hello_platform.pipeline.bench: wrk parsing, ratios, the table, the command lines
and the baselines (no load)."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
from typing import Any

import pytest
from hello.main import create_app
from hello_platform.core import catalogue, paths
from hello_platform.core.errors import PlatformError
from hello_platform.pipeline.bench import cli as bench_cli
from hello_platform.pipeline.bench import flow, results

WRK_MS = """\
Running 10s test @ http://127.0.0.1:41234/
  1 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     3.05ms  810.21us  21.47ms   91.02%
    Req/Sec    21.10k     1.02k   22.65k    83.00%
  Latency Distribution
     50%    2.87ms
     75%    3.11ms
     90%    3.52ms
     99%    6.84ms
  209957 requests in 10.00s, 33.24MB read
Requests/sec:  20995.05
Transfer/sec:      3.32MB
"""

WRK_US_ERRORS = """\
Running 3s test @ http://127.0.0.1:8000/
  1 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   412.10us   90.00us   2.10ms   75.00%
    Req/Sec    19.00k   500.00     20.00k    70.00%
  Latency Distribution
     50%  400.00us
     75%  450.00us
     90%  500.00us
     99%  950.50us
  57000 requests in 3.00s, 9.00MB read
  Socket errors: connect 0, read 3, write 1, timeout 2
  Non-2xx or 3xx responses: 12
Requests/sec:  18999.90
Transfer/sec:      3.00MB
"""

WRK_SECONDS = WRK_MS.replace("     99%    6.84ms", "     99%    1.20s")


def test_parse_wrk_milliseconds() -> None:
    result = results.parse_wrk(WRK_MS)
    assert result == results.WrkResult(rps=20995.05, p99_ms=6.84, requests=209957)


def test_parse_wrk_microseconds_and_errors() -> None:
    result = results.parse_wrk(WRK_US_ERRORS)
    assert result.p99_ms == pytest.approx(0.9505)
    assert (result.requests, result.non_2xx, result.socket_errors) == (57000, 12, 6)


def test_parse_wrk_seconds() -> None:
    assert results.parse_wrk(WRK_SECONDS).p99_ms == pytest.approx(1200.0)


def test_parse_wrk_without_latency_distribution_says_so() -> None:
    without = "\n".join(line for line in WRK_MS.splitlines() if "%  " not in line)
    with pytest.raises(ValueError, match="99% latency"):
        results.parse_wrk(without)
    with pytest.raises(ValueError, match="Requests/sec"):
        results.parse_wrk("wrk: connection refused")


def run(rps: float, requests: int, cpu: float) -> results.Run:
    return results.Run(results.WrkResult(rps=rps, p99_ms=2.0, requests=requests), 10.0, cpu)


def outcome(*rounds: tuple[results.Run, results.Run]) -> results.Outcome:
    return results.Outcome(results.PAIRS[1], tuple(results.Round(b, s) for b, s in rounds))


def test_the_verdict_is_the_median_of_the_rounds_ratios_by_cpu_time() -> None:
    result = outcome(
        (run(100, 1000, 10), run(50, 450, 5)),  # 0.90 by CPU time, 0.5 by rps
        (run(100, 1000, 10), run(200, 1600, 20)),  # 0.80, 2.0
        (run(100, 1000, 10), run(100, 950, 10)),  # 0.95, 1.0
    )
    assert [round(r.cpu_ratio, 3) for r in result.rounds] == [0.9, 0.8, 0.95]
    assert result.cpu_ratio == pytest.approx(0.9)
    assert result.rps_ratio == pytest.approx(1.0)
    assert result.meets  # the route pair's goal is 0.90
    assert not outcome((run(100, 1000, 10), run(100, 890, 10))).meets
    assert result.runs("service")[1].cpu_share == 2.0


def test_the_pairs_and_their_goals() -> None:
    assert [(p.name, p.path, p.baseline, p.goal) for p in results.PAIRS] == [
        ("static", "/", "baselines:raw", 0.70),
        ("route", "/version", "baselines:bare", 0.90),
    ]


def test_table_shows_both_sides_all_rounds_and_the_verdict() -> None:
    static = results.Outcome(
        results.PAIRS[0], (results.Round(run(20000, 200000, 10), run(15000, 150000, 10)),)
    )
    route = outcome((run(2000, 20000, 10), run(1700, 17000, 10)))
    lines = results.render_table([static, route]).splitlines()
    assert lines[1].split()[:3] == ["static", "baseline", "20000"]
    assert lines[2].split()[:3] == ["static", "service", "15000"]
    assert "0.750x by requests per CPU-second (rounds: 0.750)" in lines[-2]
    assert "meets the goal >= 0.70x" in lines[-2]
    assert "MISSES the goal >= 0.90x" in lines[-1]


def test_every_server_runs_under_the_same_uvicorn_flags() -> None:
    hello = catalogue.service()
    where = flow.baselines_dir(hello)
    raw = flow.server_command("baselines:raw", 9001, cpu=1, app_dir=where)
    app = flow.server_command(hello.app, 9001, cpu=1, app_dir=where)
    assert raw[:3] == ["taskset", "-c", "1"]
    assert [a for a in raw if a != "baselines:raw"] == [a for a in app if a != hello.app]
    for flag in ("--http", "httptools", "--loop", "uvloop", "--no-access-log", "127.0.0.1"):
        assert flag in raw
    assert raw[raw.index("--app-dir") + 1] == str(hello.folder / "bench")


def test_wrk_is_pinned_and_asks_for_the_latency_distribution() -> None:
    cmd = results.wrk_command("http://127.0.0.1:1/", seconds=10, connections=64, cpu=0)
    assert cmd[:4] == ["taskset", "-c", "0", "wrk"]
    assert "--latency" in cmd and "-d10s" in cmd and "-c64" in cmd


def test_cpu_seconds_of_this_process() -> None:
    before = results.cpu_seconds(os.getpid())
    sum(i * i for i in range(200_000))
    assert results.cpu_seconds(os.getpid()) >= before >= 0


def test_the_same_cpu_twice_is_refused() -> None:
    with pytest.raises(PlatformError, match="two distinct usable CPUs"):
        flow.check_host(0, 0)


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    bench_cli.register(parser.add_subparsers())
    return parser.parse_args(["bench", *argv])


def test_arguments_and_defaults() -> None:
    args = parse()
    assert (args.duration, args.rounds, args.pair, args.no_assert) == (5, 5, None, False)
    args = parse("--duration", "2", "--rounds", "1", "--no-assert", "--pair", "route")
    assert (args.duration, args.rounds, args.pair, args.no_assert) == (2, 1, ["route"], True)
    assert args.func is bench_cli.run
    for bad in (("--duration", "0"), ("--pair", "nope")):
        with pytest.raises(SystemExit):
            parse(*bad)


@pytest.fixture
def baselines(monkeypatch: pytest.MonkeyPatch) -> Any:
    """The baselines module, imported from where uvicorn --app-dir finds it."""
    monkeypatch.syspath_prepend(str(flow.baselines_dir(catalogue.service())))
    return importlib.import_module("baselines")


def test_raw_baseline_answers_json_and_lifespan(baselines: Any) -> None:
    sent: list[dict[str, Any]] = []
    inbox = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]

    async def receive() -> dict[str, Any]:
        return inbox.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(baselines.raw({"type": "lifespan"}, receive, send))
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    sent.clear()
    asyncio.run(baselines.raw({"type": "http"}, receive, send))
    assert sent[0]["status"] == 200
    assert sent[1]["body"].startswith(b'{"message":')


def test_bare_baseline_is_the_services_app_without_middleware(baselines: Any) -> None:
    from fastapi.testclient import TestClient

    assert baselines.bare.user_middleware == []
    with TestClient(baselines.bare) as client, TestClient(create_app()) as service:
        bare, full = client.get("/version"), service.get("/version")
    assert (bare.status_code, bare.content) == (full.status_code, full.content)


@pytest.mark.slow
def test_a_short_real_run(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """All servers, wrk and the report, one second per run (needs wrk and 2 cores)."""
    monkeypatch.setattr(paths, "out_dir", lambda: tmp_path)
    args = parse("--duration", "1", "--rounds", "1", "--warmup", "0", "--no-assert")
    assert bench_cli.run(args) == 0
    assert (tmp_path / "bench" / "bench.json").exists()
