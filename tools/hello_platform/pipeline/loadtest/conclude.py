"""A run's conclusion: the assertions, the figures, the plot, the sizing advice and the
report (``summary.json`` and ``report.md``)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from hello_platform.core import paths
from hello_platform.core.errors import PlatformError
from hello_platform.pipeline.loadtest import assertions, sizing, watcher
from hello_platform.pipeline.loadtest.options import Options
from hello_platform.pipeline.loadtest.release import Target
from hello_platform.pipeline.loadtest.watcher import Sample


def _read_verdict(path: Path) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return {}
    return data


@dataclass(frozen=True)
class Run:
    opts: Options
    target: Target
    run_dir: Path
    run_name: str
    started_at: float
    load_start: float
    load_stop: float
    locust_exit: int


def conclude(run: Run, samples: list[Sample], points: list[watcher.LoadPoint]) -> int:
    """Assert, plot, advise and report; 0 when every assertion held, else a PlatformError."""
    opts, verdict = run.opts, _read_verdict(run.run_dir / "locust-verdict.json")
    p95_hold = verdict.get("p95_hold_ms")
    checks = assertions.evaluate(
        samples,
        points,
        load_start=run.load_start,
        load_stop=run.load_stop,
        p95_hold_ms=p95_hold,
        limits=opts,
    )
    advice = sizing.advise(
        samples,
        points,
        hold_start=run.load_start + opts.ramp_s,
        load_start=run.load_start,
        load_stop=run.load_stop,
        p95_hold_ms=p95_hold,
        p95_budget_ms=opts.p95_max_ms,
    )
    figures = _figures(run, samples, points, verdict)
    from hello_platform.pipeline.loadtest.plot import plot_run  # matplotlib is slow to import

    plot_path = plot_run(
        run.run_dir / "timeline.png",
        samples,
        points,
        load_start=run.load_start,
        load_stop=run.load_stop,
        scale_up_s=figures["scale_up_s"],
        title=f"{opts.release} autoscaling under load ({run.run_name})",
    )
    files = write_reports(run, checks, figures, advice, plot_path)
    lines = [c.line() for c in checks]
    lines += ["sizing advice (not applied):", *(f"  {line}" for line in advice.lines())]
    lines += [f"{name}: {files[name]}" for name in ("plot", "report", "summary", "locust_html")]
    print("\n".join(lines), flush=True)
    failed = [c.name for c in checks if not c.passed]
    if failed:
        raise PlatformError(
            f"the autoscaling proof failed: {', '.join(failed)}",
            hint=f"see {run.run_dir / 'report.md'} and {plot_path}",
        )
    print(f"PASS: all {len(checks)} assertions held", flush=True)
    return 0


def write_reports(
    run: Run,
    checks: list[assertions.Check],
    figures: dict[str, Any],
    advice: sizing.Sizing,
    plot_path: Path,
) -> dict[str, str]:
    """summary.json and report.md of the run (``latest`` points at it); every file's path."""
    run_dir = run.run_dir
    files = {
        "plot": str(plot_path),
        "report": str(run_dir / "report.md"),
        "summary": str(run_dir / "summary.json"),
        "locust_html": str(run_dir / "locust.html"),
        "history_csv": str(run_dir / "locust_stats_history.csv"),
        "samples": str(run_dir / "samples.jsonl"),
    }
    summary = Summary(
        run=run.run_name,
        url=run.target.url,
        started_at=run.started_at,
        load_start=run.load_start,
        load_stop=run.load_stop,
        settings=run.opts.settings(),
        checks=checks,
        figures=figures,
        sizing=advice,
        files=files,
    )
    (run_dir / "summary.json").write_text(json.dumps(summary.as_dict(), indent=2) + "\n")
    (run_dir / "report.md").write_text(markdown(summary, plot_name=plot_path.name))
    paths.link_latest(run_dir)
    return files


def _figures(
    run: Run, samples: list[Sample], points: list[watcher.LoadPoint], verdict: dict[str, Any]
) -> dict[str, Any]:
    load_start, load_stop = run.load_start, run.load_stop
    hold_start = load_start + run.opts.ramp_s
    hold_points = [p for p in points if hold_start <= p.t <= load_stop and p.users > 0]
    during = [s.hpa for s in samples if s.hpa and load_start <= s.t <= load_stop]
    cpu = [h.cpu_utilization for h in during if h.cpu_utilization is not None]
    per_pod = [h.external_value for h in during if h.external_value is not None]
    final = points[-1] if points else None
    rps_target = next(
        (s.hpa.external_target for s in samples if s.hpa and s.hpa.external_target is not None),
        None,
    )
    return {
        "scale_up_s": assertions.scale_up_time(samples, load_start),
        "peak_replicas": assertions.peak_replicas(samples, load_start),
        "scale_down_s": assertions.scale_down_time(samples, load_stop),
        "scale_down_window_s": assertions.scale_down_window(samples),
        "requests": final.total_requests if final else 0,
        "failures": final.total_failures if final else 0,
        "hold_rps_mean": round(sum(p.rps for p in hold_points) / len(hold_points), 1)
        if hold_points
        else None,
        "peak_rps": round(max((p.rps for p in points), default=0.0), 1),
        "p95_hold_ms": verdict.get("p95_hold_ms"),
        "p95_total_ms": verdict.get("p95_total_ms"),
        "peak_cpu_utilization_percent": max(cpu) if cpu else None,
        "peak_rps_per_pod": round(max(per_pod), 1) if per_pod else None,
        "target_rps_per_pod": rps_target,
        "samples": len(samples),
        "sample_errors": sum(1 for s in samples if s.errors),
        "locust_exit_code": run.locust_exit,
    }


@dataclass
class Summary:
    """summary.json in its key order (``passed`` is derived), but for ``load_duration_s``."""

    run: str
    passed: bool = field(init=False)
    url: str
    started_at: float
    load_start: float
    load_stop: float
    settings: dict[str, Any]
    checks: list[assertions.Check]
    figures: dict[str, Any]
    sizing: sizing.Sizing
    files: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.passed = all(c.passed for c in self.checks)

    def as_dict(self) -> dict[str, Any]:
        items = list(asdict(self).items())
        at = [key for key, _ in items].index("load_stop") + 1
        items.insert(at, ("load_duration_s", round(self.load_stop - self.load_start, 1)))
        return dict(items)


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 10 else f"{value:.0f}"
    return str(value)


def _with_unit(value: float | None, unit: str) -> str:
    if value is not None and unit == "ratio":
        return f"{value:.2%}"
    return f"{_fmt(value)} {unit}"


def markdown(summary: Summary, *, plot_name: str | None) -> str:
    verdict = "PASS" if summary.passed else "FAIL"
    settings, keys = summary.settings, ("users", "spawn_rate", "user_rps", "hold_s")
    shape = ", ".join(f"{k.replace('_', ' ')} {settings[k]}" for k in keys if k in settings)
    lines = [
        f"# Load test {summary.run}: {verdict}",
        "",
        f"Load against `{summary.url}` for {summary.load_stop - summary.load_start:.0f} s "
        f"({shape}).",
        "",
        "| assertion | result | measured | limit |",
        "| --- | --- | --- | --- |",
    ]
    for c in summary.checks:
        lines.append(
            f"| {c.name} | {'PASS' if c.passed else 'FAIL'} | "
            f"{_with_unit(c.value, c.unit)} | {_with_unit(c.limit, c.unit)} |"
        )
    lines += ["", "## Figures", ""]
    lines += [f"- {k.replace('_', ' ')}: {_fmt(v)}" for k, v in summary.figures.items()]
    lines += ["", "## Sizing advice (not applied)", ""]
    lines += [f"- {line}" for line in summary.sizing.lines()]
    if plot_name:
        lines += ["", "## Timeline", "", f"![rps, p95, replicas and CPU over time]({plot_name})"]
    if summary.files:
        lines += ["", "## Files", ""]
        lines += [f"- {k}: `{v}`" for k, v in summary.files.items()]
    return "\n".join(lines) + "\n"
