"""A benchmark run: servers up, warm-up, the pairs round by round, the report, the verdict."""

from __future__ import annotations

import json
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from pathlib import Path

from hello_platform.core import paths
from hello_platform.core.catalogue import Service
from hello_platform.core.errors import PlatformError
from hello_platform.core.progress import say, step
from hello_platform.pipeline.bench.results import PAIRS, Outcome, Pair, Round, render_table
from hello_platform.pipeline.bench.servers import (
    Load,
    Server,
    baselines_dir,
    check_host,
    running_server,
)


@dataclass(frozen=True)
class Settings:
    duration: int = 5
    rounds: int = 5
    warmup: int = 2
    connections: int = 64
    pair: Sequence[str] | None = None
    no_assert: bool = False
    server_cpu: int = 1
    client_cpu: int = 0


def measure_pairs(
    pairs: Sequence[Pair], servers: dict[str, Server], load: Load, rounds: int, app: str
) -> list[Outcome]:
    runs: dict[str, list[Round]] = {p.name: [] for p in pairs}
    for n in range(rounds):
        for pair in pairs:
            baseline, service = load.measure([servers[pair.baseline], servers[app]], pair.path)
            result = Round(baseline, service)
            runs[pair.name].append(result)
            say(
                f"round {n + 1}/{rounds} {pair.name}: service {service.rps:.0f} rps, "
                f"baseline {baseline.rps:.0f} rps; {result.cpu_ratio:.3f}x by requests per "
                f"CPU-second (servers got {service.cpu_share:.0%} and {baseline.cpu_share:.0%} "
                "of a core)"
            )
    return [Outcome(p, tuple(runs[p.name])) for p in pairs]


def bench(service: Service, settings: Settings) -> list[Outcome]:
    check_host(settings.server_cpu, settings.client_cpu)
    out = paths.out_dir() / "bench"
    out.mkdir(parents=True, exist_ok=True)
    load = Load(settings.duration, settings.connections, settings.client_cpu, out / "wrk.log")
    load.log.write_text("")
    pairs = [p for p in PAIRS if settings.pair is None or p.name in settings.pair]
    targets = [service.app, *(p.baseline for p in pairs)]
    say(
        f"benchmark: {', '.join(p.name for p in pairs)}; {settings.rounds} rounds x "
        f"{settings.duration}s per side, {settings.connections} connections (logs: {out})"
    )
    with ExitStack() as stack:
        servers = _start(stack, targets, settings.server_cpu, out, baselines_dir(service))
        if settings.warmup:
            with step(f"warming up ({settings.warmup}s per pair)"):
                warm = Load(settings.warmup, settings.connections, settings.client_cpu, load.log)
                for pair in pairs:
                    warm.measure([servers[pair.baseline], servers[service.app]], pair.path)
        outcomes = measure_pairs(pairs, servers, load, settings.rounds, service.app)
    print(render_table(outcomes))
    report = {
        "settings": {"service": service.name, **asdict(settings)},
        "pairs": {o.pair.name: o.report() for o in outcomes},
    }
    (out / "bench.json").write_text(json.dumps(report, indent=2) + "\n")
    judge(outcomes, service, settings.no_assert)
    return outcomes


def _start(
    stack: ExitStack, targets: Sequence[str], cpu: int, out: Path, app_dir: Path
) -> dict[str, Server]:
    with step("starting uvicorn for " + " and ".join(targets)):
        return {
            t: stack.enter_context(
                running_server(t, cpu, out / f"{t.replace(':', '-')}.log", app_dir)
            )
            for t in targets
        }


def judge(outcomes: Sequence[Outcome], service: Service, no_assert: bool) -> None:
    missed = [o for o in outcomes if not o.meets]
    if missed and not no_assert:
        raise PlatformError(
            "below the goal: "
            + "; ".join(f"{o.pair.name} {o.cpu_ratio:.2f}x < {o.pair.goal:.2f}x" for o in missed),
            hint=f"profile the middleware of {service.app} ({service.folder}), or pass "
            "--no-assert to only measure",
        )
