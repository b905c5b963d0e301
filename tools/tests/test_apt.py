"""The apt guard: packages are only ever added, services never started, substitutes used."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hello_platform.core.errors import PlatformError
from hello_platform.toolchain import apt as system

# What `apt-get install -s containerd` prints on a host with Docker CE (trimmed).
SIMULATION_WITH_CONFLICT = """\
Reading package lists...
The following packages will be REMOVED:
  containerd.io docker-ce
The following NEW packages will be installed:
  containerd runc
Remv docker-ce [5:27.3.1-1~debian.12~bookworm]
Remv containerd.io [1.7.22-1]
Inst runc (1.1.5+ds1-1+deb12u1 Debian:12.8/stable [amd64])
Inst containerd (1.6.20~ds1-1+b1 Debian:12.8/stable [amd64])
"""
SIMULATION_CLEAN = """\
Inst socat (1.7.4.4-2 Debian:12.8/stable [amd64])
Conf socat (1.7.4.4-2 Debian:12.8/stable [amd64])
"""


def test_removals_are_read_from_the_simulation() -> None:
    assert system.removals(SIMULATION_WITH_CONFLICT) == ["docker-ce", "containerd.io"]
    assert system.removals(SIMULATION_CLEAN) == []


def test_docker_ce_stands_in_for_debian_containerd_runc_and_docker() -> None:
    wanted = ["containerd", "runc", "socat", "docker.io"]
    assert system.substituted(wanted, ["containerd.io"]) == ["socat", "docker.io"]
    assert system.substituted(wanted, ["containerd.io", "docker-ce"]) == ["socat"]
    assert system.substituted(wanted, []) == wanted


def test_policy_rc_d_forbids_starts_and_is_removed_after(tmp_path: Path) -> None:
    path = tmp_path / "policy-rc.d"
    with system.no_service_starts(path):
        assert subprocess.run([str(path)], check=False).returncode == 101
    assert not path.exists()


def test_an_existing_policy_rc_d_is_restored_byte_for_byte(tmp_path: Path) -> None:
    path = tmp_path / "policy-rc.d"
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(0o700)
    with pytest.raises(RuntimeError), system.no_service_starts(path):
        assert "exit 101" in path.read_text()
        raise RuntimeError("apt failed")
    assert path.read_text() == "#!/bin/sh\nexit 0\n"
    assert path.stat().st_mode & 0o777 == 0o700


class FakeApt:
    """Records apt-get calls; answers the simulation with ``simulation``."""

    def __init__(self, simulation: str) -> None:
        self.simulation = simulation
        self.calls: list[list[str]] = []
        self.policy_during_install: str | None = None

    def __call__(self, args: list[str], env: object) -> subprocess.CompletedProcess[str]:
        self.calls.append(args)
        out = self.simulation if "-s" in args else ""
        if args[0] == "install" and "-s" not in args:
            self.policy_during_install = system.POLICY_RC_D.read_text()
        return subprocess.CompletedProcess(["apt-get", *args], 0, out, "")


@pytest.fixture
def debian_root(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(system, "is_debian", lambda: True)
    monkeypatch.setattr(system.os, "geteuid", lambda: 0)
    monkeypatch.setattr(system, "POLICY_RC_D", tmp_path / "policy-rc.d")


def _nothing_installed_apt(monkeypatch: pytest.MonkeyPatch, simulation: str) -> FakeApt:
    apt = FakeApt(simulation)
    monkeypatch.setattr(system, "_apt", apt)
    monkeypatch.setattr(system, "missing_packages", lambda pkgs: list(pkgs))
    return apt


@pytest.mark.usefixtures("debian_root")
def test_a_conflicting_install_stops_before_changing_anything(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    apt = _nothing_installed_apt(monkeypatch, SIMULATION_WITH_CONFLICT)
    with pytest.raises(PlatformError, match=r"would remove docker-ce containerd.io"):
        system.ensure_debian_packages(["socat"], why="the node")
    assert [c[0] for c in apt.calls] == ["update", "install"]
    assert "-s" in apt.calls[-1]


@pytest.mark.usefixtures("debian_root")
def test_the_install_refuses_removals_and_starts_no_service(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    apt = _nothing_installed_apt(monkeypatch, SIMULATION_CLEAN)
    system.ensure_debian_packages(["socat"], why="the node")
    install = apt.calls[-1]
    assert install[0] == "install" and "--no-remove" in install and "-s" not in install
    assert apt.policy_during_install is not None and "exit 101" in apt.policy_during_install
    assert not system.POLICY_RC_D.exists()


@pytest.mark.usefixtures("debian_root")
def test_docker_ce_on_the_host_means_no_debian_containerd(monkeypatch: pytest.MonkeyPatch) -> None:
    apt = FakeApt(SIMULATION_CLEAN)
    monkeypatch.setattr(system, "_apt", apt)
    installed = {"containerd.io", "docker-ce"}
    monkeypatch.setattr(
        system, "missing_packages", lambda pkgs: [p for p in pkgs if p not in installed]
    )
    system.ensure_debian_packages(["containerd", "runc", "docker.io"], why="the node")
    assert apt.calls == []


# --- no enabled unit left behind -------------------------------------------------------

FAKE_SYSTEMCTL = """#!/bin/sh
# A fake systemctl: enabled units are the lines of $UNITS; every call is logged.
echo "$*" >> "$UNITS.log"
case "$1" in
  list-unit-files) sed 's/$/ enabled enabled/' "$UNITS" ;;
  disable) shift
    for u in "$@"; do grep -vx "$u" "$UNITS" > "$UNITS.new"; mv "$UNITS.new" "$UNITS"; done ;;
  *) exit 1 ;;
esac
"""


@pytest.fixture
def systemctl(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "systemctl").write_text(FAKE_SYSTEMCTL)
    (bin_dir / "systemctl").chmod(0o755)
    units = tmp_path / "units"
    units.write_text("ssh.service\ncron.service\n")
    monkeypatch.setenv("UNITS", str(units))
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    return units


def test_units_the_install_enabled_are_disabled_again(
    systemctl: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with system.no_units_enabled(tmp_path):  # tmp_path stands for /run/systemd/system
        systemctl.write_text("ssh.service\ncron.service\ncontainerd.service\n")
    assert systemctl.read_text() == "ssh.service\ncron.service\n"
    assert "disable containerd.service" in (tmp_path / "units.log").read_text()
    assert "disabled containerd.service" in capsys.readouterr().err


def test_units_enabled_before_stay_enabled(systemctl: Path, tmp_path: Path) -> None:
    with system.no_units_enabled(tmp_path):
        pass
    assert systemctl.read_text() == "ssh.service\ncron.service\n"
    assert "disable" not in (tmp_path / "units.log").read_text()


def test_without_systemd_as_pid_1_systemctl_is_never_asked(systemctl: Path, tmp_path: Path) -> None:
    with system.no_units_enabled(tmp_path / "no-systemd"):
        systemctl.write_text("ssh.service\ncontainerd.service\n")
    assert not (tmp_path / "units.log").exists()


# --- a held apt lock ---------------------------------------------------------------------


def _hold_lock(path: Path, seconds: float) -> subprocess.Popen[bytes]:
    """A process holding a POSIX lock on ``path`` (as apt does) for ``seconds``."""
    script = (
        "import fcntl, sys, time\n"
        "f = open(sys.argv[1], 'w'); fcntl.lockf(f, fcntl.LOCK_EX)\n"
        "print('locked', flush=True); time.sleep(float(sys.argv[2]))\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", script, str(path), str(seconds)], stdout=subprocess.PIPE
    )
    assert holder.stdout is not None and holder.stdout.readline() == b"locked\n"
    return holder


def test_the_lock_holder_is_named(tmp_path: Path) -> None:
    lock = tmp_path / "lock-frontend"
    holder = _hold_lock(lock, 30)
    try:
        held = system.lock_holders([lock, tmp_path / "missing"])
        assert held == [f"pid {holder.pid} ({sys.executable} -c {held[0].split(' -c ')[1]}"]
        assert held[0].endswith(f"holds {lock}")
    finally:
        holder.kill()
        holder.wait()
    assert system.lock_holders([lock]) == []


def test_a_freed_lock_is_waited_for(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lock = tmp_path / "lock-frontend"
    holder = _hold_lock(lock, 2)
    try:
        waited = system.wait_for_apt_locks(30, files=[lock])
    finally:
        holder.wait()
    assert 1.0 <= waited < 30
    assert f"pid {holder.pid}" in capsys.readouterr().err


def test_a_lock_never_freed_ends_in_one_sentence(tmp_path: Path) -> None:
    lock = tmp_path / "lock-frontend"
    holder = _hold_lock(lock, 60)
    try:
        with pytest.raises(PlatformError, match=r"apt is still locked by another process after 2s"):
            system.wait_for_apt_locks(2, files=[lock])
    finally:
        holder.kill()
        holder.wait()


def test_the_lock_timeout_is_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(system.LOCK_TIMEOUT_ENV, raising=False)
    assert system.lock_timeout() == system.LOCK_TIMEOUT
    monkeypatch.setenv(system.LOCK_TIMEOUT_ENV, "42")
    assert system.lock_timeout() == 42
    monkeypatch.setenv(system.LOCK_TIMEOUT_ENV, "ten minutes")
    with pytest.raises(PlatformError, match="is not a number of seconds"):
        system.lock_timeout()
