"""Running external commands with clear errors instead of tracebacks."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from hello_platform.core.errors import PlatformError


def last_line(output: str) -> str:
    return (output.strip().splitlines() or ["no output"])[-1]


def venv_binary(name: str, *, hint: str) -> str:
    """A console script of the running interpreter's venv, else on PATH."""
    beside = Path(sys.executable).with_name(name)
    if beside.is_file():
        return str(beside)
    return which(name, hint=hint)


def which(name: str, *, hint: str) -> str:
    found = shutil.which(name)
    if not found:
        raise PlatformError(f"'{name}' was not found on PATH", hint=hint)
    return found


def run(
    cmd: Sequence[str | Path],
    *,
    what: str,
    hint: str | None = None,
    log: Path | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float | None = None,
    capture: bool = False,
) -> str:
    """Run ``cmd``, a PlatformError naming ``what`` on failure; output appended to ``log``, or
    returned with ``capture``, or inherited."""
    args, where = [str(c) for c in cmd], str(log) if log else None
    how: dict[str, Any] = {"env": env, "cwd": cwd, "timeout": timeout, "text": True, "check": False}
    try:
        if log is None:
            done = subprocess.run(args, capture_output=capture, **how)
        else:
            log.parent.mkdir(parents=True, exist_ok=True)
            with log.open("a") as fh:
                fh.write("$ " + " ".join(args) + "\n")
                fh.flush()
                done = subprocess.run(args, stdout=fh, stderr=subprocess.STDOUT, **how)
    except FileNotFoundError as exc:
        raise PlatformError(f"{what} failed: '{args[0]}' is not installed", hint=hint) from exc
    except subprocess.TimeoutExpired as exc:
        raise PlatformError(
            f"{what} did not finish within {timeout:.0f}s", hint=hint, log=where
        ) from exc
    if done.returncode != 0:
        detail = ""
        if capture and log is None and done.stderr:
            detail = ": " + done.stderr.strip().splitlines()[-1]
        raise PlatformError(f"{what} failed (exit {done.returncode}){detail}", hint=hint, log=where)
    return done.stdout if capture and log is None else ""


def succeeds(
    cmd: Sequence[str | Path], *, env: Mapping[str, str] | None = None, timeout: float = 30.0
) -> bool:
    """Whether ``cmd`` exits 0 within ``timeout`` (output discarded)."""
    args, null = [str(c) for c in cmd], subprocess.DEVNULL
    try:
        done = subprocess.run(args, stdout=null, stderr=null, env=env, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def end(process: subprocess.Popen[Any], *, timeout: float) -> None:
    """SIGTERM, SIGKILL after ``timeout`` s; reaped either way."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout)
