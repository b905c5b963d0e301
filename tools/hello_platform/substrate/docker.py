"""A Docker engine for image builds: the user's if one answers, else our own dockerd (from
Debian's pinned .deb) with its own socket and directories and no host networking (no
bridge, iptables or sysctls); then ``DOCKER_HOST`` points at it."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from hello_platform.core.errors import PlatformError
from hello_platform.core.paths import cache_dir, state_dir
from hello_platform.core.progress import say
from hello_platform.substrate import daemons, process
from hello_platform.toolchain.apt import ensure_debian_packages


def run_dir() -> Path:
    return state_dir() / "docker"


def pidfile() -> Path:
    return run_dir() / "dockerd.pid"


def our_host() -> str:
    return f"unix://{run_dir() / 'docker.sock'}"


def dockerd_argv(dockerd: Path) -> list[str]:
    run = run_dir()
    return [
        str(dockerd),
        f"--host={our_host()}",
        f"--data-root={cache_dir() / 'docker'}",
        f"--exec-root={run / 'exec'}",
        f"--pidfile={run / 'dockerd-own.pid'}",
        "--bridge=none",
        "--iptables=false",
        "--ip6tables=false",
        "--ip-forward=false",
        "--ip-masq=false",
        "--userland-proxy=false",
        "--storage-driver=overlay2",
    ]


def engine_answers(timeout: float = 10.0, *, host: str | None = None) -> bool:
    docker = shutil.which("docker")
    if docker is None:
        return False
    env = {**os.environ, "DOCKER_HOST": host} if host else None
    try:
        done = subprocess.run(
            [docker, "info", "--format", "{{.ServerVersion}}"],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env=env,
        )
    except subprocess.TimeoutExpired:
        return False
    return done.returncode == 0 and bool(done.stdout.strip())


def ensure_engine() -> None:
    if os.environ.get("DOCKER_HOST") != our_host() and engine_answers():
        return
    if process.running(pidfile()) is None or not engine_answers(5, host=our_host()):
        if os.geteuid() != 0:
            raise PlatformError(
                "no Docker engine answers, and starting one needs root",
                hint="start Docker (or run as root so hello-platform can start its own dockerd)",
            )
        _start()
    os.environ["DOCKER_HOST"] = our_host()


def daemon(dockerd: Path) -> daemons.Daemon:
    return daemons.Daemon(
        name="dockerd",
        argv=tuple(dockerd_argv(dockerd)),
        probe=daemons.Probe(
            command=("docker", "info", "--format", "{{.ServerVersion}}"),
            env={"DOCKER_HOST": our_host()},
        ),
        run_dir=run_dir(),
        env={"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
        start_timeout=60.0,
        stop_timeout=20.0,
    )


def _start() -> None:
    from hello_platform.toolchain import bin_dir, resolve

    ensure_debian_packages(("containerd", "runc", "libdevmapper1.02.1"), why="building images")
    dockerd = resolve("dockerd")
    if shutil.which("docker") is None:  # no docker CLI on PATH: use the one from the same package
        os.environ["PATH"] = f"{bin_dir(['docker'])}{os.pathsep}{os.environ.get('PATH', '')}"
    if process.running(pidfile()) is None:
        say(f"starting hello-platform's dockerd on {our_host()} (log: {run_dir() / 'dockerd.log'})")
    daemons.ensure(daemon(dockerd))
