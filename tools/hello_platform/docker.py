"""A Docker engine for image builds: use the one that answers, or start Debian's dockerd.

``ensure_engine()`` returns when ``docker info`` works. If no engine answers it starts
``dockerd`` in the background (as root, pidfile and log under the state dir) and waits
for it; otherwise it raises a PlatformError that says what to do.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from hello_platform.cluster import process
from hello_platform.errors import PlatformError
from hello_platform.paths import state_dir
from hello_platform.progress import say
from hello_platform.system import ensure_debian_packages

#: Seconds to wait for a freshly started dockerd to answer.
START_TIMEOUT = 60.0
DAEMON_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def run_dir() -> Path:
    return state_dir() / "docker"


def pidfile() -> Path:
    return run_dir() / "dockerd.pid"


def log_path() -> Path:
    return run_dir() / "dockerd.log"


def engine_answers(timeout: float = 10.0) -> bool:
    """True if ``docker info`` succeeds (some engine, ours or not, is up)."""
    docker = shutil.which("docker")
    if docker is None:
        return False
    try:
        done = subprocess.run(
            [docker, "info", "--format", "{{.ServerVersion}}"],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return False
    return done.returncode == 0 and bool(done.stdout.strip())


def ensure_engine() -> None:
    """Make sure a Docker engine answers, starting Debian's dockerd if none does."""
    if engine_answers():
        return
    if os.geteuid() != 0:
        raise PlatformError(
            "no Docker engine answers, and starting one needs root",
            hint="start Docker (or run as root so hello-platform can start dockerd)",
        )
    with process.exclusive(run_dir() / ".lock"):
        _start()


def _start() -> None:
    if engine_answers():  # someone else started it while we waited for the lock
        return
    ensure_debian_packages(["docker.io"], why="building images")
    dockerd = shutil.which("dockerd") or "/usr/sbin/dockerd"
    if process.running(pidfile()) is None:
        run_dir().mkdir(parents=True, exist_ok=True)
        say(f"starting dockerd (log: {log_path()})")
        env = {**os.environ, "PATH": DAEMON_PATH}
        process.start([dockerd], pidfile=pidfile(), log=log_path(), env=env)
    outcome = process.wait_started(
        lambda: engine_answers(timeout=5), pidfile(), timeout=START_TIMEOUT, poll=0.5
    )
    if outcome == "ready":
        return
    if outcome == "exited":
        raise PlatformError(
            "dockerd exited while starting", hint="see its log", log=str(log_path())
        )
    raise PlatformError(
        f"dockerd did not answer within {START_TIMEOUT:.0f}s",
        hint="see its log",
        log=str(log_path()),
    )
