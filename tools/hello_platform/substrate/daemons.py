"""One supervisor for the background daemons (registry, dockerd, git daemon): each is declared
as a :class:`Daemon` and recorded as JSON, so ``cluster down``/``up`` stop and restart them
without importing the feature that declared them."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

from hello_platform.core import proc
from hello_platform.core.errors import PlatformError
from hello_platform.core.paths import state_dir
from hello_platform.substrate import process


@dataclass(frozen=True)
class Probe:
    """A daemon answers: a TCP connect, an HTTP 200, or a command's exit 0."""

    tcp: str = ""
    http: str = ""
    command: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)

    def ok(self, timeout: float = 1.0) -> bool:
        if self.tcp:
            host, port = self.tcp.rsplit(":", 1)
            try:
                with socket.create_connection((host, int(port)), timeout=timeout):
                    return True
            except OSError:
                return False
        if self.http:
            try:
                with urllib.request.urlopen(self.http, timeout=timeout) as resp:  # noqa: S310
                    return bool(resp.status == 200)
            except (OSError, urllib.error.URLError):
                return False
        env = {**os.environ, **self.env}
        return proc.succeeds(self.command, env=env, timeout=max(timeout, 5.0))

    def target(self) -> str:
        return self.tcp or self.http or " ".join(self.command)


@dataclass(frozen=True)
class Daemon:
    name: str
    argv: tuple[str, ...]
    probe: Probe
    run_dir: Path
    env: Mapping[str, str] = field(default_factory=dict)
    start_timeout: float = 20.0
    stop_timeout: float = 10.0
    #: Its address is on the cluster bridge: ``cluster up`` starts it again.
    bound_to_node: bool = False
    #: The refusal when the probe answers but the process is not ours (None: no check).
    foreign: str | None = None
    foreign_hint: str = ""

    @property
    def pidfile(self) -> Path:
        return self.run_dir / f"{self.name}.pid"

    @property
    def log(self) -> Path:
        return self.run_dir / f"{self.name}.log"

    def pid(self) -> int | None:
        return process.running(self.pidfile)

    def answers(self, timeout: float = 1.0) -> bool:
        return self.pid() is not None and self.probe.ok(timeout)


def _record_path(name: str) -> Path:
    return state_dir() / "daemons" / f"{name}.json"


def load(name: str) -> Daemon | None:
    try:
        doc = json.loads(_record_path(name).read_text())
        raw = doc.pop("probe")
        probe = Probe(**{**raw, "command": tuple(raw["command"])})
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return Daemon(
        **{**doc, "argv": tuple(doc["argv"]), "run_dir": Path(doc["run_dir"]), "probe": probe}
    )


def recorded() -> list[Daemon]:
    found = (load(p.stem) for p in sorted((state_dir() / "daemons").glob("*.json")))
    return [d for d in found if d is not None]


def ensure(daemon: Daemon) -> None:
    if daemon.answers():
        return
    with process.exclusive(daemon.run_dir / ".lock"):
        if daemon.answers():  # someone else started it while we waited for the lock
            return
        refuse_foreign(daemon)
        daemon.run_dir.mkdir(parents=True, exist_ok=True)
        record = _record_path(daemon.name)
        record.parent.mkdir(parents=True, exist_ok=True)
        record.write_text(json.dumps(asdict(daemon), indent=2, default=str) + "\n")
        if daemon.pid() is None:
            env = {**os.environ, **daemon.env}
            process.start(daemon.argv, pidfile=daemon.pidfile, log=daemon.log, env=env)
        outcome = process.wait_started(
            lambda: daemon.probe.ok(0.5),
            daemon.pidfile,
            timeout=daemon.start_timeout,
            poll=0.1,
        )
    if outcome == "ready":
        return
    what = (
        "exited while starting"
        if outcome == "exited"
        else f"did not answer on {daemon.probe.target()} within {daemon.start_timeout:.0f}s"
    )
    raise PlatformError(f"{daemon.name} {what}", hint="see its log", log=str(daemon.log))


def refuse_foreign(daemon: Daemon) -> None:
    if daemon.foreign is not None and daemon.pid() is None and daemon.probe.ok():
        raise PlatformError(daemon.foreign, hint=daemon.foreign_hint)


def stop(name: str, *, forget: bool = False) -> bool:
    daemon = load(name)
    stopped = daemon is not None and process.stop(daemon.pidfile, timeout=daemon.stop_timeout)
    if forget:
        _record_path(name).unlink(missing_ok=True)
    return stopped


def stop_all() -> dict[str, float]:
    """Stop every recorded daemon in parallel; the seconds each running one took."""
    took: dict[str, float] = {}

    def one(daemon: Daemon) -> None:
        start = time.monotonic()
        if process.stop(daemon.pidfile, timeout=daemon.stop_timeout):
            took[daemon.name] = time.monotonic() - start

    threads = [threading.Thread(target=one, args=(d,)) for d in recorded()]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return took


def restart_bound() -> list[str]:
    started = []
    for daemon in recorded():
        if daemon.bound_to_node and not daemon.answers():
            ensure(daemon)
            started.append(daemon.name)
    return started
