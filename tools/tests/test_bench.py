"""hello_platform.pipeline.bench: wrk parsing, ratios, the table and the command lines (no load)."""

from __future__ import annotations

import argparse
import asyncio
import os
from typing import Any

import pytest
from hello_platform.core import catalogue
from hello_platform.core.errors import PlatformError
from hello_platform.pipeline import bench, bench_raw

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
    result = bench.parse_wrk(WRK_MS)
    assert result == bench.WrkResult(rps=20995.05, p99_ms=6.84, requests=209957)


def test_parse_wrk_microseconds_and_errors() -> None:
    result = bench.parse_wrk(WRK_US_ERRORS)
    assert result.p99_ms == pytest.approx(0.9505)
    assert (result.requests, result.non_2xx, result.socket_errors) == (57000, 12, 6)


def test_parse_wrk_seconds() -> None:
    assert bench.parse_wrk(WRK_SECONDS).p99_ms == pytest.approx(1200.0)


def test_parse_wrk_without_latency_distribution_says_so() -> None:
    without = "\n".join(line for line in WRK_MS.splitlines() if "%  " not in line)
    with pytest.raises(ValueError, match="99% latency"):
        bench.parse_wrk(without)
    with pytest.raises(ValueError, match="Requests/sec"):
        bench.parse_wrk("wrk: connection refused")


def rounds(rps: float, requests: int, cpu: float) -> bench.Round:
    wrk = bench.WrkResult(rps=rps, p99_ms=2.0, requests=requests)
    return bench.Round(wrk, seconds=10.0, cpu_seconds=cpu)


def test_summary_medians_and_ratios() -> None:
    raw = bench.Summary(
        "raw", (rounds(100, 1000, 10), rounds(300, 3000, 10), rounds(200, 2000, 10))
    )
    app = bench.Summary("app", (rounds(50, 500, 10), rounds(90, 900, 9), rounds(80, 800, 8)))
    assert (raw.rps, raw.per_cpu_second, raw.cpu_share) == (200, 200, 1.0)
    assert app.rps == 80
    assert app.per_cpu_second == 100
    ratios = bench.Ratios.of(app, raw)
    assert ratios == bench.Ratios(rps=0.4, per_cpu_second=0.5)
    assert ratios.meets(0.40) and not ratios.meets(0.45)


def test_table_shows_both_targets_and_the_verdict() -> None:
    raw = bench.Summary("raw", (rounds(20000, 200000, 10),))
    app = bench.Summary("app", (rounds(9000, 90000, 10),))
    ratios = bench.Ratios.of(app, raw)
    table = bench.render_table([raw, app], ratios, 0.40)
    lines = table.splitlines()
    assert lines[1].split()[:2] == ["raw", "20000"]
    assert lines[2].split()[:2] == ["app", "9000"]
    assert "0.450 by rps" in lines[-1] and "meets" in lines[-1]
    assert "MISSES" in bench.render_table([raw, app], ratios, 0.5)


def test_both_targets_run_under_the_same_uvicorn_flags() -> None:
    raw = bench.server_command(bench.RAW_APP, 9001, cpu=1)
    app_name = catalogue.service().app
    app = bench.server_command(app_name, 9001, cpu=1)
    assert raw[:3] == ["taskset", "-c", "1"]
    assert [a for a in raw if a != bench.RAW_APP] == [a for a in app if a != app_name]
    for flag in ("--http", "httptools", "--loop", "uvloop", "--no-access-log", "127.0.0.1"):
        assert flag in raw


def test_wrk_is_pinned_and_asks_for_the_latency_distribution() -> None:
    cmd = bench.wrk_command("http://127.0.0.1:1/", seconds=10, connections=64, cpu=0)
    assert cmd[:4] == ["taskset", "-c", "0", "wrk"]
    assert "--latency" in cmd and "-d10s" in cmd and "-c64" in cmd


def test_cpu_seconds_of_this_process() -> None:
    before = bench.cpu_seconds(os.getpid())
    sum(i * i for i in range(200_000))
    assert bench.cpu_seconds(os.getpid()) >= before >= 0


def test_the_same_cpu_twice_is_refused() -> None:
    with pytest.raises(PlatformError, match="two distinct usable CPUs"):
        bench.check_host(0, 0)


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    bench.register(parser.add_subparsers())
    return parser.parse_args(["bench", *argv])


def test_arguments_and_defaults() -> None:
    args = parse()
    assert (args.duration, args.rounds, args.min_ratio, args.no_assert) == (10, 3, 0.40, False)
    args = parse("--duration", "2", "--rounds", "1", "--no-assert", "--min-ratio", "0.5")
    assert (args.duration, args.rounds, args.min_ratio, args.no_assert) == (2, 1, 0.5, True)
    assert args.func is bench.run
    assert args.app is None and args.service is None  # the service's app, from the catalogue
    assert catalogue.service().app == "hello.main:app"
    with pytest.raises(SystemExit):
        parse("--duration", "0")


def test_raw_app_answers_json_and_lifespan() -> None:
    sent: list[dict[str, Any]] = []
    inbox = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]

    async def receive() -> dict[str, Any]:
        return inbox.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(bench_raw.app({"type": "lifespan"}, receive, send))
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    sent.clear()
    asyncio.run(bench_raw.app({"type": "http"}, receive, send))
    assert sent[0]["status"] == 200
    assert sent[1]["body"].startswith(b'{"message":')


@pytest.mark.slow
def test_a_short_real_run(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Both servers, wrk and the report, for two seconds each (needs wrk and 2 cores)."""
    monkeypatch.setattr(bench.paths, "out_dir", lambda: tmp_path)
    args = parse("--duration", "2", "--rounds", "1", "--warmup", "0", "--no-assert")
    assert bench.run(args) == 0
    assert (tmp_path / "bench" / "bench.json").exists()
