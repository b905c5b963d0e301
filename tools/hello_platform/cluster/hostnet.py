"""Host plumbing of the node: sysctls, the bridge, and cleanup of what pods left behind
(iptables chains, network namespaces, mounts, pod processes, containerd shims)."""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import signal
import subprocess
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from hello_platform.cluster import layout
from hello_platform.errors import PlatformError

SYSCTLS = {
    "net/ipv4/ip_forward": "1",
    "net/bridge/bridge-nf-call-iptables": "1",
    "net/bridge/bridge-nf-call-ip6tables": "1",
    "net/ipv4/conf/all/route_localnet": "1",
}
#: Chain prefixes the node creates (kube-proxy, the kubelet, the CNI plugins).
OWNED_CHAIN = re.compile(r"^(KUBE-|CNI-)")
TABLES = ("filter", "nat", "mangle")
NETNS_DIR = Path("/run/netns")
CGROUP_ROOT = Path("/sys/fs/cgroup")


def _quiet(cmd: Sequence[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(cmd), capture_output=True, text=True, check=False)


def apply_sysctls() -> list[str]:
    """Set the sysctls the node needs; return the ones that could not be set."""
    if not Path("/proc/sys/net/bridge").exists():
        _quiet(["modprobe", "br_netfilter"])
    failed = []
    for key, value in SYSCTLS.items():
        path = Path("/proc/sys") / key
        try:
            if path.read_text().strip() != value:
                path.write_text(value)
        except OSError:
            failed.append(key.replace("/", "."))
    return failed


def ensure_bridge() -> None:
    """Create the CNI bridge with the node IP, so the node has a stable address."""
    if _quiet(["ip", "link", "show", layout.BRIDGE]).returncode != 0:
        _quiet(["ip", "link", "add", layout.BRIDGE, "type", "bridge"])
    prefix = layout.NODE_POD_SUBNET.split("/")[1]
    addrs = _quiet(["ip", "-4", "-o", "addr", "show", "dev", layout.BRIDGE]).stdout
    if f" {layout.NODE_IP}/" not in addrs:
        _quiet(["ip", "addr", "add", f"{layout.NODE_IP}/{prefix}", "dev", layout.BRIDGE])
    done = _quiet(["ip", "link", "set", layout.BRIDGE, "up"])
    if done.returncode != 0:
        raise PlatformError(
            f"could not create the bridge {layout.BRIDGE} with {layout.NODE_IP}: "
            + (done.stderr.strip() or "ip failed"),
            hint="the node needs Linux bridge support (modprobe bridge) and iproute2",
        )


def delete_bridge() -> None:
    if _quiet(["ip", "link", "show", layout.BRIDGE]).returncode == 0:
        _quiet(["ip", "link", "delete", layout.BRIDGE])


def rules_to_delete(rules: Iterable[str]) -> tuple[list[str], list[str]]:
    """From ``iptables -S`` output: (``-D ...`` rule lines, owned chain names).

    Rules that live in owned chains vanish with their chain; rules elsewhere that jump
    to an owned chain are deleted one by one.
    """
    deletes: list[str] = []
    chains: list[str] = []
    for line in rules:
        try:
            parts = shlex.split(line)
        except ValueError:
            continue
        if len(parts) >= 2 and parts[0] == "-N" and OWNED_CHAIN.match(parts[1]):
            chains.append(parts[1])
        elif (
            len(parts) >= 2
            and parts[0] == "-A"
            and not OWNED_CHAIN.match(parts[1])
            and "-j" in parts[:-1]
            and OWNED_CHAIN.match(parts[parts.index("-j") + 1])
        ):
            # Keep iptables' own quoting: iptables-restore reads it back as is.
            deletes.append("-D" + line.strip()[2:])
    return deletes, chains


def restore_script(table: str, rules: Iterable[str]) -> tuple[str, int]:
    """An ``iptables-restore --noflush`` script removing the owned chains of ``table``."""
    deletes, chains = rules_to_delete(rules)
    if not deletes and not chains:
        return "", 0
    lines = [f"*{table}"]
    lines += deletes
    lines += [f"-F {chain}" for chain in chains]
    lines += [f"-X {chain}" for chain in chains]
    lines.append("COMMIT")
    return "\n".join(lines) + "\n", len(chains)


def cleanup_iptables() -> int:
    """Remove the KUBE-*/CNI-* chains and the jumps to them; return chains removed.

    One ``iptables-restore --noflush`` per table: atomic, and fast (no call per rule).
    """
    removed = 0
    for binary in ("iptables", "ip6tables"):
        for table in TABLES:
            listing = _quiet([binary, "-w", "-t", table, "-S"])
            if listing.returncode != 0:
                continue
            script, count = restore_script(table, listing.stdout.splitlines())
            if not script:
                continue
            done = subprocess.run(
                [f"{binary}-restore", "-w", "--noflush"],
                input=script,
                capture_output=True,
                text=True,
                check=False,
            )
            if done.returncode == 0:
                removed += count
    return removed


def netns_in_use(proc: Path = Path("/proc")) -> set[int]:
    """Inodes of the network namespaces some process on the host is in."""
    inodes: set[int] = set()
    for entry in proc.iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                inodes.add((entry / "ns" / "net").stat().st_ino)
    return inodes


def orphan_cni_netns(netns_dir: Path = NETNS_DIR, in_use: set[int] | None = None) -> list[str]:
    """Pod network namespaces (``cni-<uuid>``) that no process is in any more.

    Called after the pods are killed: ours are then empty, while a live one belongs to
    some other runtime on the host and is left alone.
    """
    if not netns_dir.is_dir():
        return []
    used = netns_in_use() if in_use is None else in_use
    orphans = []
    for path in sorted(netns_dir.iterdir()):
        if not path.name.startswith("cni-"):
            continue
        try:
            inode = path.stat().st_ino
        except OSError:
            inode = -1
        if inode not in used:
            orphans.append(path.name)
    return orphans


def delete_netns(names: Iterable[str]) -> None:
    for name in names:
        if _quiet(["ip", "netns", "delete", name]).returncode != 0:
            path = NETNS_DIR / name
            _quiet(["umount", "-l", str(path)])
            path.unlink(missing_ok=True)


def mounts_under(roots: Iterable[Path], mountinfo: str | None = None) -> list[str]:
    """Mount points below any of ``roots``, deepest first (to unmount in order)."""
    if mountinfo is None:
        mountinfo = Path("/proc/self/mountinfo").read_text()
    prefixes = [str(r).rstrip("/") + "/" for r in roots]
    found = []
    for line in mountinfo.splitlines():
        fields = line.split()
        if len(fields) < 5:
            continue
        point = fields[4].replace("\\040", " ")
        if any(point.startswith(p) or point + "/" == p for p in prefixes):
            found.append(point)
    return sorted(set(found), key=lambda p: (-p.count("/"), p))


def unmount_all(roots: Iterable[Path]) -> int:
    points = mounts_under(roots)
    for point in points:
        if _quiet(["umount", point]).returncode != 0:
            _quiet(["umount", "-l", point])
    return len(points)


def kubepods_pids(cgroup_root: Path = CGROUP_ROOT) -> set[int]:
    """Pids of every process in the kubelet's pod cgroups (cgroupfs driver, v1 or v2)."""
    pids: set[int] = set()
    candidates = [
        cgroup_root / "pids" / "kubepods",
        cgroup_root / "memory" / "kubepods",
        cgroup_root / "kubepods",
        cgroup_root / "unified" / "kubepods",
    ]
    for base in candidates:
        if not base.is_dir():
            continue
        for procs in base.rglob("cgroup.procs"):
            try:
                pids.update(int(x) for x in procs.read_text().split())
            except (OSError, ValueError):
                continue
    return pids


def shim_pids(socket: Path, proc: Path = Path("/proc")) -> set[int]:
    """containerd shims serving the containerd at ``socket`` (never Docker's)."""
    found: set[int] = set()
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv and b"containerd-shim" in argv[0] and str(socket).encode() in argv:
            found.add(int(entry.name))
    return found


def kill_all(pids: Iterable[int], *, wait: float = 5.0) -> None:
    pending = set(pids)
    for pid in pending:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + wait
    while pending and time.monotonic() < deadline:
        pending = {p for p in pending if Path(f"/proc/{p}").exists() and not _is_zombie(p)}
        if pending:
            time.sleep(0.05)


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return True


def remove_kubepods_cgroups(cgroup_root: Path = CGROUP_ROOT) -> None:
    """rmdir the (now empty) pod cgroups, deepest first; best effort."""
    for controller in cgroup_root.iterdir() if cgroup_root.is_dir() else []:
        base = controller / "kubepods"
        if not base.is_dir():
            continue
        dirs = sorted((p for p in base.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts))
        for d in [*dirs, base]:
            with contextlib.suppress(OSError):
                d.rmdir()
