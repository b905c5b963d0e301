"""A daemon is never started twice, and one that was (no pidfile names it) is stopped by
``up``/``down`` only when it is provably ours: no root, fast (fake /proc, own children)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hello_platform.core.errors import PlatformError
from hello_platform.substrate import process
from hello_platform.substrate.cluster import binaries, components, health, leftovers
from hello_platform.substrate.cluster.components import Component
from hello_platform.substrate.cluster.layout import Layout

STAT = "{pid} (kube-controller) {state} 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 9 0 {start} 0"
CACHE_KCM = "/cache/tools/kubernetes/v1.34.4/bin/kube-controller-manager"


def fake_pid(
    proc: Path, pid: int, *, start: int = 777, state: str = "S", tasks: int = 3, **extra: str
) -> None:
    """/proc/PID with stat, task/, and (given) exe and cmdline (args joined by NULs)."""
    (proc / str(pid) / "task").mkdir(parents=True)
    (proc / str(pid) / "stat").write_text(STAT.format(pid=pid, state=state, start=start))
    for task in range(tasks):
        (proc / str(pid) / "task" / str(pid + task)).mkdir()
    if "exe" in extra:
        (proc / str(pid) / "exe").symlink_to(extra["exe"])
    if "cmdline" in extra:
        (proc / str(pid) / "cmdline").write_bytes(extra["cmdline"].replace(" ", "\0").encode())


def test_only_a_process_certainly_ended_is_gone(tmp_path: Path) -> None:
    fake_pid(tmp_path, 10, exe=CACHE_KCM)  # runs
    fake_pid(tmp_path, 11, start=999)  # the pid now runs another process
    fake_pid(tmp_path, 12, state="Z", tasks=1)  # exited, not reaped
    fake_pid(tmp_path, 13, state="Z", tasks=5)  # main thread ended, threads run on
    (tmp_path / "14" / "stat").mkdir(parents=True)  # unreadable: not "gone" on a guess

    def gone(pid: int, exe: str = CACHE_KCM) -> bool:
        return process.gone(process.PidRecord(pid, 777, exe), tmp_path)

    assert [gone(pid) for pid in (10, 11, 12, 13, 14, 15)] == [
        False,
        True,
        True,
        False,
        False,
        True,  # no such pid
    ]
    # An executable that reads differently does not make a running process "exited".
    assert not gone(10, exe="/elsewhere/kube-controller-manager")
    assert not process.alive(process.PidRecord(10, 777, "/elsewhere/x"), tmp_path)


def test_ended_waits_for_certainty(tmp_path: Path) -> None:
    fake_pid(tmp_path, 10, exe="/somewhere/else")
    pidfile = tmp_path / "c.pid"
    process.write_pidfile(pidfile, process.PidRecord(10, 777, CACHE_KCM))
    assert process.ended(pidfile, recheck=0, proc=tmp_path) is None  # not "alive", not gone
    assert not process.vacant(pidfile, tmp_path)
    assert process.stop(pidfile, timeout=0.1, proc=tmp_path) is False
    assert pidfile.exists(), "the only record of a process that may run was dropped"
    process.write_pidfile(pidfile, process.PidRecord(10, 1, CACHE_KCM))  # its pid reused
    assert process.ended(pidfile, recheck=0, proc=tmp_path) == "exited"
    assert process.vacant(pidfile, tmp_path)


@contextlib.contextmanager
def _sleeper(pidfile: Path, log: Path, *args: str) -> object:
    pid = process.start(
        [sys.executable, "-c", "import time; time.sleep(60)", *args], pidfile=pidfile, log=log
    )
    try:
        yield pid
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)


def test_a_pidfile_of_a_live_process_is_never_overwritten(tmp_path: Path) -> None:
    pidfile, log = tmp_path / "d.pid", tmp_path / "d.log"
    with _sleeper(pidfile, log) as first:
        with pytest.raises(PlatformError, match=rf"\(pid {first}\) may still run"):
            process.start(["sleep", "30"], pidfile=pidfile, log=log)
        assert process.running(pidfile) == first
        # Its executable reads differently (not provably it, not gone): still no restart.
        record = process.read_pidfile(pidfile)
        assert record is not None
        process.write_pidfile(pidfile, process.PidRecord(first, record.start_time, "/x"))
        with pytest.raises(PlatformError, match="may still run"):
            process.start(["sleep", "30"], pidfile=pidfile, log=log)


def test_up_never_restarts_a_component_that_may_still_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lay = Layout(tmp_path)
    comp = Component(
        "kcm", lambda _: ["sleep", "30"], lambda _: health.Health(False, "x"), start_retries=5
    )

    def fails(*args: object, **kwargs: object) -> float:
        raise PlatformError("kcm is not healthy")

    monkeypatch.setattr(components, "wait_for", fails)
    monkeypatch.setattr(components.time, "sleep", lambda s: None)
    with _sleeper(comp.pidfile(lay), lay.log("kcm")) as pid:
        record = process.read_pidfile(comp.pidfile(lay))
        assert record is not None  # seen as not alive (exe differs), yet not gone
        process.write_pidfile(comp.pidfile(lay), process.PidRecord(pid, record.start_time, "/x"))
        assert components.start_component(lay, comp) is None
        said = "".join(capsys.readouterr())
        assert f"kcm (pid {pid}) may still run but does not look as recorded" in said
        assert "executable " in said and " vs /x); not starting another" in said
        with pytest.raises(PlatformError, match="not healthy"):
            components.wait_started(lay, comp, 1)
        assert process.read_pidfile(comp.pidfile(lay)) == process.PidRecord(
            pid, record.start_time, "/x"
        )


def test_strays_are_ours_only_by_cache_binary_and_state_dir(tmp_path: Path) -> None:
    root = Path("/state/cluster")
    cfg = f"--kubeconfig={root}/etc/controller-manager.kubeconfig"
    fake_pid(tmp_path, 100, exe=CACHE_KCM, cmdline=f"kcm {cfg}")
    fake_pid(tmp_path, 101, exe="/usr/local/bin/kube-controller-manager", cmdline=f"kcm {cfg}")
    fake_pid(tmp_path, 102, exe=CACHE_KCM, cmdline="kcm --kubeconfig=/etc/k3s/kcm.kubeconfig")
    fake_pid(tmp_path, 103, exe=CACHE_KCM, cmdline=f"kcm {cfg}")  # named by its pidfile
    fake_pid(tmp_path, 104, exe=CACHE_KCM, cmdline="kcm --cert-dir=/state/cluster2/run")
    fake_pid(tmp_path, 105, exe=f"{CACHE_KCM} (deleted)", cmdline=f"kcm --cert-dir={root}")
    (tmp_path / "self").mkdir()
    found = leftovers.stray_daemons(
        root, {CACHE_KCM: "kube-controller-manager"}, [103], proc=tmp_path
    )
    assert found == [
        ("kube-controller-manager", process.PidRecord(pid, 777, CACHE_KCM)) for pid in (100, 105)
    ]


def test_stop_strays_stops_ours_and_leaves_the_users_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lay = Layout(tmp_path / "cluster")
    python = os.path.realpath(sys.executable)
    monkeypatch.setattr(binaries, "cached_daemons", lambda: {python: "kube-controller-manager"})
    named = lay.pids / "kube-controller-manager.pid"
    with (
        _sleeper(tmp_path / "a.pid", tmp_path / "a.log", f"--cert-dir={lay.run}/certs") as ours,
        _sleeper(named, tmp_path / "n.log", f"--cert-dir={lay.run}/certs") as recorded,
        _sleeper(tmp_path / "u.pid", tmp_path / "u.log", "--cert-dir=/var/lib/k3s") as users,
    ):
        # Not the cached binary, though it names our state dir.
        other = subprocess.Popen(["sh", "-c", "sleep 60", "sh", f"--root={lay.root}"])
        try:
            assert leftovers.stop_strays(lay) == ["kube-controller-manager"]
            said = "".join(capsys.readouterr())
            assert f"stopped a kube-controller-manager (pid {ours}) that no pidfile named" in said
            assert process.reap(ours) == -signal.SIGTERM
            for survivor in (recorded, users, other.pid):
                assert process.start_time(survivor) is not None, survivor
            # `down` spares none of ours, named or not.
            assert leftovers.stop_strays(lay, spare_named=False) == ["kube-controller-manager"]
            assert process.reap(recorded) == -signal.SIGTERM
            assert process.start_time(users) is not None
        finally:
            other.kill()
            other.wait()


def test_start_records_the_program_not_the_interpreter_that_forked_it(tmp_path: Path) -> None:
    """On User-Mode Linux /proc showed python as the child's executable right after Popen;
    the record must name the program that runs (else the daemon later looks "exited")."""
    pidfile = tmp_path / "s.pid"
    pid = process.start(["sleep", "30"], pidfile=pidfile, log=tmp_path / "s.log")
    try:
        record = process.read_pidfile(pidfile)
        assert record is not None
        assert record.exe == os.path.realpath(shutil.which("sleep") or "sleep")
        assert process.running(pidfile) == pid
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)


def test_settled_exe_does_not_wait_for_a_process_that_is_gone(tmp_path: Path) -> None:
    started = time.monotonic()
    assert process._settled_exe(2**22 + 7, "sleep", timeout=3.0) == os.path.realpath(
        shutil.which("sleep") or "sleep"
    )
    assert time.monotonic() - started < 1.0
