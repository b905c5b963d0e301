"""Starting the node's daemons and waiting for them (again, if one exits while starting)."""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable
from pathlib import Path

from hello_platform.core.errors import PlatformError
from hello_platform.core.proc import last_line
from hello_platform.core.progress import say
from hello_platform.core.wait import until
from hello_platform.substrate import process
from hello_platform.substrate.cluster.components import COMPONENTS, Component
from hello_platform.substrate.cluster.health import Health
from hello_platform.substrate.cluster.layout import Layout

#: A full PATH (runc, iptables, mount, the CNI plugins' tools).
DAEMON_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
POLL = 0.1
#: Total steps shown as [n/TOTAL]: the registry, each daemon, the add-ons.
TOTAL = len(COMPONENTS) + 2


def _daemon_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "NOX"))}
    env["PATH"] = DAEMON_PATH
    return env


def wait_for(
    label: str,
    check: Callable[[], Health],
    *,
    timeout: float,
    step: int,
    pidfile: Path | None = None,
    log: Path | None = None,
) -> float:
    """Poll ``check`` until healthy (or ``pidfile``'s daemon ends); return seconds waited."""

    def exited() -> str | None:
        how = process.ended(pidfile) if pidfile is not None else None
        if how is None:
            return None
        said = f": {_last_log_line(log)}" if log is not None else ""
        return f"{label} {how} while starting{said}"

    return until(
        check,
        what=f"{label} is not healthy",
        timeout=timeout,
        interval=POLL,
        progress=lambda s, detail: say(f"[{step}/{TOTAL}] {label}: waiting ({detail}) ({s:.1f}s)"),
        abort=exited,
        hint="see its log",
        log=str(log) if log else None,
    )


def _last_log_line(log: Path, tail: int = 4096) -> str:
    try:
        with log.open("rb") as fh:
            fh.seek(max(0, log.stat().st_size - tail))
            text = fh.read().decode(errors="replace")
    except OSError:
        return "no log"
    return last_line(text)[:300]


def start_component(lay: Layout, comp: Component) -> int | None:
    """Start ``comp`` unless its recorded process may still run; return the new pid."""
    if not process.vacant(comp.pidfile(lay)):
        _note_doubt(comp.name, comp.pidfile(lay))
        return None
    return process.start(
        comp.argv(lay),
        pidfile=comp.pidfile(lay),
        log=lay.log(comp.name),
        env=_daemon_env(),
        cwd=lay.root,
    )


def _note_doubt(name: str, pidfile: Path) -> None:
    record = process.read_pidfile(pidfile)
    if record is not None and not process.alive(record):
        say(
            f"{name} (pid {record.pid}) may still run but does not look as recorded "
            f"(start time {process.start_time(record.pid)} vs {record.start_time}, "
            f"executable {process.exe_of(record.pid)} vs {record.exe}); not starting another"
        )


def scaled(timeout: float, slowest: float) -> float:
    """``timeout``, or twice the slowest start seen so far on this (maybe slow) host."""
    return max(timeout, 2.0 * slowest)


def wait_started(lay: Layout, comp: Component, step: int, *, slowest: float = 0.0) -> float:
    """Wait until ``comp`` is healthy, starting it again (up to ``start_retries`` times) when
    it exits while starting; return the seconds the last start took."""
    tries = 0
    while True:
        try:
            return wait_for(
                comp.name,
                functools.partial(comp.health, lay),
                timeout=scaled(comp.timeout, slowest),
                step=step,
                pidfile=comp.pidfile(lay),
                log=lay.log(comp.name),
            )
        except PlatformError:
            if tries >= comp.start_retries or not process.vacant(comp.pidfile(lay)):
                raise  # out of retries, or it may run on: never start a second one
            tries += 1
            say(
                f"[{step}/{TOTAL}] {comp.name} exited while starting; starting it again "
                f"({tries}/{comp.start_retries})"
            )
            time.sleep(1.0)
            start_component(lay, comp)
