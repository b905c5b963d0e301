"""Background daemons started in their own session, recorded in a JSON pidfile (pid, start
time, executable) that is checked again before the pid is trusted or signalled."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from hello_platform.core.errors import PlatformError
from hello_platform.core.progress import say
from hello_platform.core.wait import until, within

PROC = Path("/proc")


@dataclass(frozen=True)
class PidRecord:
    pid: int
    start_time: int
    exe: str


def _stat(pid: int, proc: Path) -> list[str]:
    """/proc/PID/stat after the command name (which may hold spaces and parentheses)."""
    return (proc / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()


def start_time(pid: int, proc: Path = PROC) -> int | None:
    try:
        return int(_stat(pid, proc)[19])
    except OSError:
        return None


def exe_of(pid: int, proc: Path = PROC) -> str | None:
    try:
        return str((proc / str(pid) / "exe").readlink())
    except OSError:
        return None


def exited(pid: int, proc: Path = PROC) -> bool:
    """True if ``pid`` has exited (a Z leader with other threads still runs)."""
    try:
        if _stat(pid, proc)[0] != "Z":
            return False
        return sum(1 for _ in (proc / str(pid) / "task").iterdir()) <= 1
    except OSError:
        return True


def read_pidfile(path: Path) -> PidRecord | None:
    try:
        data = json.loads(path.read_text())
        return PidRecord(int(data["pid"]), int(data["start_time"]), str(data["exe"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_pidfile(path: Path, record: PidRecord) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(record.__dict__) + "\n")
    tmp.replace(path)


_REAPED: dict[int, int] = {}


def reap(pid: int) -> int | None:
    """The exit code of ``pid`` if it is our exited child (reaped), else None."""
    if pid in _REAPED:
        return _REAPED[pid]
    try:
        got, status = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return None
    if got != pid:
        return None
    _REAPED[pid] = os.waitstatus_to_exitcode(status)
    return _REAPED[pid]


def alive(record: PidRecord, proc: Path = PROC) -> bool:
    """True if ``record.pid`` still runs the recorded program (an exited child is reaped)."""
    if start_time(record.pid, proc) != record.start_time or exited(record.pid, proc):
        if proc == PROC:
            reap(record.pid)
        return False
    exe = exe_of(record.pid, proc)
    # A binary replaced on disk shows as "PATH (deleted)": still the same program.
    return exe is None or exe.removesuffix(" (deleted)") == record.exe


def running(pidfile: Path, proc: Path = PROC) -> int | None:
    record = read_pidfile(pidfile)
    if record is None or not alive(record, proc):
        return None
    return record.pid


def gone(record: PidRecord, proc: Path = PROC) -> bool:
    """True only if ``record``'s process has certainly ended; anything unsure is not "gone",
    so a daemon is never started twice on a guess."""
    try:
        fields = _stat(record.pid, proc)
        if int(fields[19]) != record.start_time:
            return True  # the pid was reused
        if fields[0] != "Z":
            return False
        return sum(1 for _ in (proc / str(record.pid) / "task").iterdir()) <= 1
    except (FileNotFoundError, ProcessLookupError):
        return True
    except (OSError, ValueError, IndexError):
        return False


def vacant(pidfile: Path, proc: Path = PROC) -> bool:
    record = read_pidfile(pidfile)
    return record is None or gone(record, proc)


def ended(pidfile: Path, *, recheck: float = 0.5, proc: Path = PROC) -> str | None:
    """None while the process in ``pidfile`` may still run, else how it ended. It is looked
    at again after ``recheck`` seconds: a running daemon must not be called "exited"."""
    record = read_pidfile(pidfile)
    if record is None:
        return "exited (its pidfile is gone)"
    if not gone(record, proc):
        return None
    time.sleep(recheck)
    if not gone(record, proc):
        return None
    code = reap(record.pid) if proc == PROC else None
    if code is None:
        return "exited"
    return f"was killed by signal {-code}" if code < 0 else f"exited with status {code}"


def start(
    argv: Sequence[str | Path],
    *,
    pidfile: Path,
    log: Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> int:
    """Start ``argv`` in its own session, logging to ``log``; record it in ``pidfile`` (never
    overwriting a record whose process may still run)."""
    args = [str(a) for a in argv]
    previous = read_pidfile(pidfile)
    if previous is not None and not gone(previous):
        raise PlatformError(
            f"{Path(args[0]).name} (pid {previous.pid}) may still run; not starting a second one",
            hint="stop it first (`hello-platform cluster down` stops every daemon it started)",
        )
    log.parent.mkdir(parents=True, exist_ok=True)
    rotate(log)
    with log.open("ab") as fh:
        fh.write(f"\n=== {time.strftime('%Y-%m-%dT%H:%M:%S')} $ {' '.join(args)}\n".encode())
        fh.flush()
        child = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=fh,
            stderr=subprocess.STDOUT,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            start_new_session=True,
        )
    started = start_time(child.pid)
    exe = _settled_exe(child.pid, args[0])
    _REAPED.pop(child.pid, None)  # a code reaped from an earlier process with this pid
    write_pidfile(pidfile, PidRecord(child.pid, started or 0, exe))
    # The child outlives us: no ResourceWarning for not waiting.
    child.returncode = 0
    return child.pid


def _settled_exe(pid: int, program: str, *, timeout: float = 5.0) -> str:
    """The executable ``pid`` runs once its exec shows in /proc: right after ``Popen`` a slow
    kernel (User-Mode Linux) may still show our interpreter, which made the daemon look
    "exited" later."""
    wanted = os.path.realpath(shutil.which(program) or program)
    within(lambda: exe_of(pid) in (wanted, None), timeout=timeout, interval=0.01)
    return exe_of(pid) or wanted


def wait_started(
    ready: Callable[[], bool], pidfile: Path, *, timeout: float, poll: float
) -> Literal["ready", "exited", "timeout"]:
    outcome: Literal["ready", "exited", "timeout"] = "timeout"

    def settled() -> bool:
        nonlocal outcome
        if ready():
            outcome = "ready"
        elif running(pidfile) is None:
            outcome = "exited"
        return outcome != "timeout"

    with contextlib.suppress(PlatformError):
        until(settled, what="the daemon did not settle", timeout=timeout, interval=poll)
    return outcome


@contextlib.contextmanager
def exclusive(lock: Path, *, waiting: str = "") -> Iterator[None]:
    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if waiting:
                say(waiting)
            fcntl.flock(fh, fcntl.LOCK_EX)
        yield


def rotate(log: Path, limit: int = 50 * 2**20) -> bool:
    """Keep one previous log: ``log`` -> ``log.1`` once it is over ``limit`` bytes."""
    try:
        if log.stat().st_size <= limit:
            return False
    except OSError:
        return False
    log.replace(log.with_name(log.name + ".1"))
    return True


def stop(
    pidfile: Path,
    *,
    timeout: float = 10.0,
    sig: signal.Signals = signal.SIGTERM,
    proc: Path = PROC,
) -> bool:
    """Signal the recorded process (SIGKILL after ``timeout``); True if it was signalled.
    The pidfile stays while its process may still run unsignalled."""
    record = read_pidfile(pidfile)
    if record is None:
        pidfile.unlink(missing_ok=True)
        return False
    signalled = stop_record(record, timeout=timeout, sig=sig, proc=proc)
    if signalled or gone(record, proc):
        pidfile.unlink(missing_ok=True)
    return signalled


def stop_record(record: PidRecord, timeout: float, sig: signal.Signals, proc: Path = PROC) -> bool:
    if not alive(record, proc):
        return False
    _signal(record.pid, sig)
    if not within(lambda: not alive(record, proc), timeout=timeout, interval=0.05):
        _signal(record.pid, signal.SIGKILL)
        within(lambda: not alive(record, proc), timeout=5.0, interval=0.05)
    return True


def _signal(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def rss_bytes(pid: int, proc: Path = PROC) -> int:
    try:
        for line in (proc / str(pid) / "status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0
