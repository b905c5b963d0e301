"""The run's JSON summary and its short markdown report."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from hello_platform.pipeline.loadtest.assertions import Check
from hello_platform.pipeline.loadtest.sizing import Sizing


@dataclass
class Summary:
    run: str
    url: str
    started_at: float
    load_start: float
    load_stop: float
    settings: dict[str, Any]
    checks: list[Check]
    figures: dict[str, Any]
    sizing: Sizing
    files: dict[str, str] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    def as_dict(self) -> dict[str, Any]:
        return {
            "run": self.run,
            "passed": self.passed,
            "url": self.url,
            "started_at": self.started_at,
            "load_start": self.load_start,
            "load_stop": self.load_stop,
            "load_duration_s": round(self.load_stop - self.load_start, 1),
            "settings": self.settings,
            "checks": [asdict(c) for c in self.checks],
            "figures": self.figures,
            "sizing": self.sizing.as_dict(),
            "files": self.files,
        }


def write_json(summary: Summary, path: Path) -> Path:
    path.write_text(json.dumps(summary.as_dict(), indent=2) + "\n")
    return path


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
    lines = [
        f"# Load test {summary.run}: {verdict}",
        "",
        f"Load against `{summary.url}` for {summary.load_stop - summary.load_start:.0f} s "
        f"({_settings_line(summary.settings)}).",
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


def _settings_line(settings: dict[str, Any]) -> str:
    keys = ("users", "spawn_rate", "user_rps", "hold_s")
    return ", ".join(f"{k.replace('_', ' ')} {settings[k]}" for k in keys if k in settings)
