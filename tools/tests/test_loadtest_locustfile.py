"""The load shape's stages and the locustfile's thresholds, without starting Locust.

Importing the real ``locust`` would monkey-patch this whole test process with gevent, so the
two files are loaded against a small stand-in module.
"""

from __future__ import annotations

import importlib.util
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

LOADTESTS = Path(__file__).resolve().parents[2] / "loadtests"


class _Hook:
    def add_listener(self, func: Any) -> Any:
        return func


class _Shape:
    runner: Any = None

    def __init__(self) -> None:
        self.now = 0.0

    def get_run_time(self) -> float:
        return self.now


def _fake_locust() -> tuple[types.ModuleType, types.ModuleType]:
    locust = types.ModuleType("locust")
    stats = types.ModuleType("locust.stats")
    stats.CSV_STATS_FLUSH_INTERVAL_SEC = 5  # type: ignore[attr-defined]
    locust.stats = stats  # type: ignore[attr-defined]
    locust.LoadTestShape = _Shape  # type: ignore[attr-defined]
    locust.FastHttpUser = object  # type: ignore[attr-defined]
    locust.constant_throughput = lambda rps: lambda user: 1.0 / rps  # type: ignore[attr-defined]
    locust.task = lambda weight=1: lambda func: func  # type: ignore[attr-defined]
    locust.events = types.SimpleNamespace(  # type: ignore[attr-defined]
        init_command_line_parser=_Hook(), request=_Hook(), init=_Hook(), quitting=_Hook()
    )
    return locust, stats


def _load(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, LOADTESTS / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def modules(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Any]]:
    locust, stats = _fake_locust()
    monkeypatch.setitem(sys.modules, "locust", locust)
    monkeypatch.setitem(sys.modules, "locust.stats", stats)
    try:
        shape = _load("shape")
        locustfile = _load("locustfile")
        yield shape, locustfile
    finally:
        sys.modules.pop("shape", None)
        sys.modules.pop("locustfile", None)


def test_plan_ramp_then_hold(modules: tuple[Any, Any]) -> None:
    shape, _ = modules
    stages = shape.plan(40, 4.0, 120.0)
    assert [(s.name, s.end_s, s.users) for s in stages] == [("ramp", 10.0, 40), ("hold", 130.0, 40)]
    assert shape.stage_at(stages, 0.0).name == "ramp"
    assert shape.stage_at(stages, 9.99).name == "ramp"
    assert shape.stage_at(stages, 10.0).name == "hold"
    assert shape.stage_at(stages, 129.9).name == "hold"
    assert shape.stage_at(stages, 130.0) is None


def test_plan_rounds_the_ramp_up(modules: tuple[Any, Any]) -> None:
    shape, _ = modules
    assert shape.plan(10, 3.0, 5.0)[0].end_s == 4.0


@pytest.mark.parametrize(("users", "rate", "hold"), [(0, 1.0, 1.0), (1, 0.0, 1.0), (1, 1.0, -1.0)])
def test_plan_rejects_bad_input(
    modules: tuple[Any, Any], users: int, rate: float, hold: float
) -> None:
    shape, _ = modules
    with pytest.raises(ValueError):
        shape.plan(users, rate, hold)


def test_shape_reads_common_options_and_stops(modules: tuple[Any, Any]) -> None:
    shape, _ = modules
    s = shape.RampHoldShape()
    opts = types.SimpleNamespace(num_users=20, spawn_rate=5.0, hold_time=30.0)
    s.runner = types.SimpleNamespace(environment=types.SimpleNamespace(parsed_options=opts))
    assert s.use_common_options is True
    s.now = 1.0
    assert s.tick() == (20, 5.0) and s.stage == "ramp"
    s.now = 10.0
    assert s.tick() == (20, 5.0) and s.stage == "hold"
    s.now = 34.0
    assert s.tick() is None and s.stage == "stop"


def test_thresholds(modules: tuple[Any, Any]) -> None:
    _, lf = modules
    ok = dict(fail_ratio_max=0.01, p95_max_ms=500.0)
    assert lf.violations(requests=1000, failures=10, p95_ms=499.0, **ok) == []
    assert lf.violations(requests=1000, failures=11, p95_ms=10.0, **ok) == [
        "failure ratio 1.10% > 1.00%"
    ]
    assert lf.violations(requests=1000, failures=0, p95_ms=501.0, **ok) == [
        "p95 latency during hold 501 ms > 500 ms"
    ]
    assert lf.violations(requests=0, failures=0, p95_ms=None, **ok) == ["no requests were made"]


def test_hold_latency_percentile(modules: tuple[Any, Any]) -> None:
    _, lf = modules
    hold = lf.HoldLatency()
    assert hold.percentile(0.95) is None
    for ms in range(1, 101):  # 1..100 ms
        hold.add(float(ms))
    assert hold.percentile(0.95) == 95.0
    hold.add(1234.0)  # rounded to 10 ms above 100 ms, like Locust
    assert 1230 in hold.counts


def test_locustfile_flushes_history_every_second(modules: tuple[Any, Any]) -> None:
    assert sys.modules["locust.stats"].CSV_STATS_FLUSH_INTERVAL_SEC == 1
