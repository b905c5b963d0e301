"""Host prerequisites: Linux, root, and Debian packages installed on demand.

Packages are only ever added: a simulated install that would remove one (Docker CE's
containerd.io conflicts with Debian's containerd) installs nothing; the real one starts no
service (policy-rc.d) and leaves no unit enabled. apt-get waits (bounded) for apt/dpkg locks
another process holds, e.g. unattended-upgrades on a fresh host, naming it from /proc/locks.
"""

from __future__ import annotations

import contextlib
import os
import platform
import re
import shutil
import subprocess
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from hello_platform.core.errors import PlatformError
from hello_platform.core.progress import say
from hello_platform.core.wait import Check, until

#: Packages another installed package stands in for (same binaries, same paths): Docker
#: CE's containerd.io ships containerd and runc, docker-ce ships dockerd.
SUBSTITUTES: Mapping[str, tuple[str, ...]] = {
    "containerd": ("containerd.io",),
    "runc": ("containerd.io",),
    "docker.io": ("docker-ce",),
}
POLICY_RC_D = Path("/usr/sbin/policy-rc.d")
#: policy-rc.d answer 101: "action forbidden" -- invoke-rc.d/deb-systemd-invoke start nothing.
_DENY_ALL = "#!/bin/sh\n# hello-platform: no service starts while it installs packages\nexit 101\n"
_REMOVAL = re.compile(r"^Remv (\S+)", re.MULTILINE)
#: The files ``apt-get install`` locks, and the one ``apt-get update`` locks.
LOCK_FILES = (
    Path("/var/lib/dpkg/lock-frontend"),
    Path("/var/lib/dpkg/lock"),
    Path("/var/cache/apt/archives/lock"),
)
LISTS_LOCK = Path("/var/lib/apt/lists/lock")
LOCK_TIMEOUT_ENV = "HELLO_PLATFORM_APT_LOCK_TIMEOUT"
LOCK_TIMEOUT = 600.0
_LOCK_BUSY = re.compile(r"Could not get lock|Unable to acquire|is another process using it")
PROC = Path("/proc")
#: sd_booted(3): systemd is PID 1.
SYSTEMD_RUN = Path("/run/systemd/system")


def require_linux_root(feature: str, *, alternative: str) -> None:
    if platform.system() != "Linux":
        raise PlatformError(
            f"{feature} needs Linux, and this is {platform.system()}", hint=alternative
        )
    if os.geteuid() != 0:
        raise PlatformError(
            f"{feature} needs root (it starts containerd, kubelet and iptables)",
            hint=f"run as root, or {alternative}",
        )


def is_debian() -> bool:
    return Path("/etc/debian_version").exists() and shutil.which("apt-get") is not None


def missing_packages(packages: Iterable[str]) -> list[str]:
    missing = []
    for pkg in packages:
        done = subprocess.run(
            ["dpkg-query", "-W", "-f=${Status}", pkg], capture_output=True, text=True, check=False
        )
        if "install ok installed" not in done.stdout:
            missing.append(pkg)
    return missing


def substituted(packages: Iterable[str], installed: Iterable[str]) -> list[str]:
    """``packages`` without those an installed substitute provides (see SUBSTITUTES)."""
    have = set(installed)
    return [p for p in packages if not have.intersection(SUBSTITUTES.get(p, ()))]


def removals(simulation: str) -> list[str]:
    return _REMOVAL.findall(simulation)


@contextlib.contextmanager
def no_service_starts(path: Path | None = None) -> Iterator[None]:
    path = path or POLICY_RC_D
    before = path.read_bytes() if path.exists() else None
    mode = path.stat().st_mode & 0o7777 if before is not None else 0o755
    path.write_text(_DENY_ALL)
    path.chmod(0o755)
    try:
        yield
    finally:
        if before is None:
            path.unlink(missing_ok=True)
        else:
            path.write_bytes(before)
            path.chmod(mode)


def lock_timeout() -> float:
    raw = os.environ.get(LOCK_TIMEOUT_ENV, "")
    try:
        return float(raw) if raw else LOCK_TIMEOUT
    except ValueError:
        raise PlatformError(
            f"{LOCK_TIMEOUT_ENV}={raw} is not a number of seconds",
            hint=f"unset it, or set it to the seconds to wait (default {LOCK_TIMEOUT:.0f})",
        ) from None


def lock_holders(files: Iterable[Path] = LOCK_FILES, proc: Path = PROC) -> list[str]:
    """ "pid N (command) holds FILE" per lock on ``files``, matched by inode: /proc/locks
    names the real filesystem's device, which an overlay's stat does not show."""
    inodes = {}
    for path in files:
        with contextlib.suppress(OSError):
            inodes[path.stat().st_ino] = path
    try:
        table = (proc / "locks").read_text()
    except OSError:
        return []
    holders = []
    for line in table.splitlines():
        fields = line.split()  # "1: POSIX  ADVISORY  WRITE 1234 fe:00:123456 0 EOF"
        if len(fields) < 6 or fields[1] == "->":  # "->": a waiter, not a holder
            continue
        inode = fields[5].rsplit(":", 1)[-1]
        if inode.isdigit() and int(inode) in inodes:
            pid, argv = fields[4], b""
            with contextlib.suppress(OSError):
                argv = b" ".join(filter(None, (proc / pid / "cmdline").read_bytes().split(b"\0")))
            command = argv.decode(errors="replace")[:120] or "?"
            holders.append(f"pid {pid} ({command}) holds {inodes[int(inode)]}")
    return sorted(set(holders))


def wait_for_apt_locks(timeout: float, *, files: Iterable[Path] = LOCK_FILES) -> float:
    paths = list(files)

    def free() -> Check:
        holders = lock_holders(paths)
        return Check(not holders, "; ".join(holders))

    return until(
        free,
        what="apt is still locked by another process",
        timeout=timeout,
        interval=1.0,
        progress=lambda s, held: say(f"apt is busy, waiting ({s:.0f}s of {timeout:.0f}s): {held}"),
        first_note=0.0,
        every=15.0,
        hint=f"let it finish (or stop it), or set {LOCK_TIMEOUT_ENV}=SECONDS to wait longer",
    )


def _apt(args: list[str], env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    deadline = time.monotonic() + lock_timeout()
    files = [LISTS_LOCK] if args[0] == "update" else LOCK_FILES
    # Each pass waits for the locks, then runs apt-get, which may still lose the race for one.
    while True:
        wait_for_apt_locks(max(1.0, deadline - time.monotonic()), files=files)
        done = subprocess.run(
            ["apt-get", *args], env=dict(env), check=False, capture_output=True, text=True
        )
        if done.returncode == 0 or not _LOCK_BUSY.search(done.stderr):
            return done
        if time.monotonic() >= deadline:
            return done


def enabled_units(systemd_run: Path | None = None) -> set[str] | None:
    """None where systemd is not PID 1."""
    if not (systemd_run or SYSTEMD_RUN).is_dir():
        return None
    cmd = ["systemctl", "list-unit-files", "--state=enabled", "--no-legend", "--plain"]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    return {line.split()[0] for line in done.stdout.splitlines() if line.strip()}


@contextlib.contextmanager
def no_units_enabled(systemd_run: Path | None = None) -> Iterator[None]:
    """Disable again every systemd unit enabled during the block."""
    before = enabled_units(systemd_run)
    try:
        yield
    finally:
        after = enabled_units(systemd_run) if before is not None else None
        added = sorted((after or set()) - (before or set()))
        if added:
            done = subprocess.run(
                ["systemctl", "disable", *added], capture_output=True, text=True, check=False
            )
            if done.returncode != 0:
                raise PlatformError(
                    f"the packages enabled {', '.join(added)}, and systemctl could not "
                    f"disable them: {done.stderr.strip()[-200:]}",
                    hint=f"run: systemctl disable {' '.join(added)}",
                )
            say(f"disabled {', '.join(added)}: enabled by the package install, never started")


def ensure_debian_packages(packages: Iterable[str], *, why: str) -> None:
    """Install the missing packages with apt-get (Debian, root), or fail with the list."""
    wanted = list(packages)
    if not is_debian():
        missing = [p for p in wanted if shutil.which(p) is None]
        if missing:
            raise PlatformError(
                f"{why} needs these programs, which were not found: {', '.join(missing)}",
                hint="install them with your package manager and run again",
            )
        return
    missing = missing_packages(wanted)
    alternatives = sorted({a for p in missing for a in SUBSTITUTES.get(p, ())})
    present = set(alternatives) - set(missing_packages(alternatives))
    missing = substituted(missing, present)
    if not missing:
        return
    if os.geteuid() != 0:
        raise PlatformError(
            f"{why} needs Debian packages that are not installed: {' '.join(missing)}",
            hint=f"run: sudo apt-get install -y {' '.join(missing)}",
        )
    say(f"installing Debian packages for {why}: {' '.join(missing)}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    update = _apt(["update", "-qq"], env)
    if update.returncode != 0:
        raise PlatformError(
            "apt-get update failed: " + update.stderr.strip()[-300:],
            hint="check the network and /etc/apt/sources.list",
        )
    # Ask first what apt would do (without --no-remove, so that it lists the removals).
    simulation = _apt(["install", "-s", "-q", "--no-install-recommends", *missing], env)
    removed = removals(simulation.stdout)
    if removed:
        raise PlatformError(
            f"installing {' '.join(missing)} for {why} would remove {' '.join(removed)}, "
            "which conflicts with it, so nothing was installed",
            hint="install what you need by hand (your own packages stay as they are), or "
            "point the sessions at an existing cluster with --kubeconfig PATH",
        )
    with no_units_enabled(), no_service_starts():
        install = _apt(
            ["install", "-y", "-q", "--no-install-recommends", "--no-remove", *missing], env
        )
    if install.returncode != 0:
        raise PlatformError(
            f"apt-get could not install {' '.join(missing)}: " + install.stderr.strip()[-300:],
            hint="install them by hand and run again",
        )
