"""Starting the node's daemons and waiting for them: a daemon that ends while starting is
named with how it ended (its exit status, the last line of its log) and, if its component
allows, started again; a daemon that runs is never called "exited"."""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable
from pathlib import Path

from hello_platform.core.errors import PlatformError
from hello_platform.core.proc import last_line
from hello_platform.core.progress import say
from hello_platform.core.wait import Check, until
from hello_platform.substrate import process
from hello_platform.substrate.cluster.components import COMPONENTS, Component
from hello_platform.substrate.cluster.health import Health
from hello_platform.substrate.cluster.layout import Layout

#: Environment of every daemon: a full PATH (runc, iptables, mount, the CNI plugins' tools).
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
    """Poll ``check`` until healthy; progress every few seconds; return seconds waited.

    With ``pidfile``, the wait ends at once if that daemon ends, naming how it ended and
    the last line of its log.
    """

    def look() -> Check:
        health = check()
        return Check(health.ok, health.detail)

    def exited() -> str | None:
        how = process.ended(pidfile) if pidfile is not None else None
        if how is None:
            return None
        said = f": {_last_log_line(log)}" if log is not None else ""
        return f"{label} {how} while starting{said}"

    return until(
        look,
        what=f"{label} is not healthy",
        timeout=timeout,
        interval=POLL,
        progress=lambda s, detail: say(f"[{step}/{TOTAL}] {label}: waiting ({detail}) ({s:.1f}s)"),
        abort=exited,
        hint="see its log",
        log=str(log) if log else None,
    )


def _last_log_line(log: Path, tail: int = 4096) -> str:
    """The last line of a daemon's log (its error, usually)."""
    try:
        with log.open("rb") as fh:
            fh.seek(max(0, log.stat().st_size - tail))
            text = fh.read().decode(errors="replace")
    except OSError:
        return "no log"
    return last_line(text)[:300]


def _exited(pidfile: Path) -> bool:
    """True only if the process in ``pidfile`` has certainly ended (``process.gone``)."""
    return process.vacant(pidfile)


def start_component(lay: Layout, comp: Component) -> int | None:
    """Start ``comp`` unless its recorded process may still run; return the new pid (None
    if it was left alone)."""
    if not _exited(comp.pidfile(lay)):
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
    """Say so when the recorded process is not gone yet not confirmed as recorded: the
    case that once started a daemon twice, named with what /proc shows."""
    record = process.read_pidfile(pidfile)
    if record is not None and not process.alive(record):
        say(
            f"{name} (pid {record.pid}) may still run but does not look as recorded "
            f"(start time {process.start_time(record.pid)} vs {record.start_time}, "
            f"executable {process.exe_of(record.pid)} vs {record.exe}); not starting another"
        )


def scaled(timeout: float, slowest: float) -> float:
    """A wait's bound on this host: ``timeout``, or twice the slowest start seen so far.

    A host that took 50 s to start one daemon (a small VM, UML) gets 100 s for the next,
    instead of failing a fixed guess made on a fast one.
    """
    return max(timeout, 2.0 * slowest)


def wait_started(lay: Layout, comp: Component, step: int, *, slowest: float = 0.0) -> float:
    """Wait until ``comp`` is healthy (bounded by :func:`scaled`); one that exits while
    starting is started again, up to ``comp.start_retries`` times. Return the seconds
    waited (the last start's)."""
    tries = 0
    # Not a poll: each pass is one start waited for with core.wait.until (wait_for); the
    # loop restarts a component that exited, a bounded number of times.
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
            if tries >= comp.start_retries or not _exited(comp.pidfile(lay)):
                raise  # out of retries, or it may run on: never start a second one
            tries += 1
            say(
                f"[{step}/{TOTAL}] {comp.name} exited while starting; starting it again "
                f"({tries}/{comp.start_retries})"
            )
            time.sleep(1.0)
            start_component(lay, comp)
