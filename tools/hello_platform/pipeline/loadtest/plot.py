"""The proof's picture: rps, p95, replicas and the metric that drove the HPA, on one time
axis; :func:`panels`, :func:`plot_load` and :func:`save` are shared with ``rollouts.timeline``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt

from hello_platform.pipeline.loadtest.watcher import LoadPoint, Sample


def plot_run(
    path: Path,
    samples: Sequence[Sample],
    points: Sequence[LoadPoint],
    *,
    load_start: float,
    load_stop: float,
    title: str = "autoscaling under load",
    scale_up_s: float | None = None,
) -> Path:
    """Write a PNG to ``path``; x is seconds since the load started, the load window shaded."""
    fig, axes = panels(4)
    ax_rps, ax_p95, ax_rep, ax_cpu = axes
    plot_load(ax_rps, ax_p95, points, load_start)
    _plot_replicas(ax_rep, samples, load_start, scale_up_s)
    _plot_driver(ax_cpu, samples, load_start)
    marks = {f"scale-up +{scale_up_s:.0f}s": scale_up_s} if scale_up_s is not None else {}
    return save(fig, path, title=title, shade=(0, load_stop - load_start), marks=marks)


def panels(rows: int) -> tuple[Any, list[Any]]:
    fig, axes = plt.subplots(
        rows, 1, sharex=True, figsize=(10, 2.5 * rows), constrained_layout=True
    )
    axes[-1].set_xlabel("seconds since load start")
    return fig, list(axes)


def save(
    fig: Any,
    path: Path,
    *,
    title: str,
    shade: tuple[float, float] | None = None,
    marks: Mapping[str, float] | None = None,
) -> Path:
    """Grid every panel, shade a time window, mark ``marks`` (label: time), write a PNG."""
    for ax in fig.axes:
        if shade is not None:
            ax.axvspan(*shade, color="tab:blue", alpha=0.08)
        for x in (marks or {}).values():
            ax.axvline(x, color="tab:green", alpha=0.5, linewidth=1)
        ax.grid(True, alpha=0.3)
    fig.suptitle(title)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def plot_load(
    ax_rps: Any, ax_p95: Any, points: Sequence[LoadPoint], load_start: float, *, users: bool = True
) -> None:
    """Requests and failures per second (with the users, if ``users``), and the p95 latency."""
    xs = [p.t - load_start for p in points]
    ax_rps.plot(xs, [p.rps for p in points], color="tab:blue", label="requests/s")
    ax_rps.plot(xs, [p.fail_per_s for p in points], color="tab:red", label="failures/s")
    ax_rps.set_ylabel("rps")
    p95 = [(p.t - load_start, p.p95_ms) for p in points if p.p95_ms is not None]
    ax_p95.plot([x for x, _ in p95], [y for _, y in p95], color="tab:purple")
    ax_p95.set_ylabel("p95 latency (ms)")
    if not users:
        ax_rps.legend(loc="upper left")
        return
    twin = ax_rps.twinx()
    twin.plot(xs, [p.users for p in points], color="tab:gray", linestyle=":", label="users")
    twin.set_ylabel("users")
    handles = ax_rps.get_legend_handles_labels()
    extra = twin.get_legend_handles_labels()
    ax_rps.legend(handles[0] + extra[0], handles[1] + extra[1], loc="center right")


def _plot_replicas(
    ax_rep: Any, samples: Sequence[Sample], load_start: float, scale_up_s: float | None
) -> None:
    """The HPA's current and desired replicas, and the ready pods."""
    with_hpa = [s for s in samples if s.hpa is not None]
    pods = [s for s in samples if s.pods is not None]
    hx, px = [s.t - load_start for s in with_hpa], [s.t - load_start for s in pods]
    series: list[tuple[str, list[float], list[int], str, str]] = [
        ("current", hx, [s.hpa.current_replicas for s in with_hpa if s.hpa], "tab:green", "-"),
        ("desired", hx, [s.hpa.desired_replicas for s in with_hpa if s.hpa], "tab:orange", "--"),
        ("pods ready", px, [s.pods.ready for s in pods if s.pods], "tab:olive", ":"),
    ]
    for label, xs, ys, color, style in series:
        ax_rep.step(xs, ys, where="post", color=color, linestyle=style, label=label)
    if with_hpa and with_hpa[-1].hpa:
        ax_rep.set_ylim(0, with_hpa[-1].hpa.max_replicas + 0.5)
    ax_rep.set_ylabel("replicas")
    ax_rep.legend(loc="upper left")
    if scale_up_s is not None:
        ax_rep.annotate(f" scale-up +{scale_up_s:.0f}s", (scale_up_s, 0.3), color="tab:green")


#: By whether KEDA's external metric drove the HPA: the HpaStatus value and target fields,
#: the series label, the unit and the y label.
DRIVERS = {
    True: (
        "external_value",
        "external_target",
        "requests/s per pod (HPA external metric, from Prometheus via KEDA)",
        "rps",
        "rps per pod",
    ),
    False: ("cpu_utilization", "cpu_target", "CPU utilization (HPA)", "%", "CPU (% of request)"),
}


def _plot_driver(ax: Any, samples: Sequence[Sample], load_start: float) -> None:
    """The metric that drove the HPA, against its target: requests per pod (KEDA), else CPU
    utilization."""
    hpas = [(s.t - load_start, s.hpa) for s in samples if s.hpa is not None]
    value, target_of, label, unit, ylabel = DRIVERS[
        any(h.external_target is not None for _, h in hpas)
    ]
    known = [(x, getattr(h, value)) for x, h in hpas if getattr(h, value) is not None]
    target = next((getattr(h, target_of) for _, h in reversed(hpas) if getattr(h, target_of)), None)
    ax.plot(
        [x for x, _ in known], [y for _, y in known], color="tab:brown", marker=".", label=label
    )
    if target is not None:
        ax.axhline(target, color="tab:red", linestyle="--", label=f"target {target:g}{unit}")
    ax.set_ylabel(ylabel)
    ax.legend(loc="upper right")
