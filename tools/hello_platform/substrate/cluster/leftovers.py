"""What our node's pods leave on the host, found by identity (never by a name pattern) and
removed by ``down``: network namespaces, mounts, processes and shims, stale conntrack."""

from __future__ import annotations

import contextlib
import os
import re
import signal
from collections.abc import Iterable, Mapping
from pathlib import Path

from hello_platform.core.progress import say
from hello_platform.core.wait import within
from hello_platform.substrate import process
from hello_platform.substrate.cluster import binaries
from hello_platform.substrate.cluster.components import COMPONENTS, by_name
from hello_platform.substrate.cluster.hostnet import quiet
from hello_platform.substrate.cluster.layout import Layout

NETNS_DIR = Path("/run/netns")


def netns_of(pids: Iterable[int], proc: Path = Path("/proc")) -> set[int]:
    own: set[int] = set()
    for host in ("1", "self"):
        with contextlib.suppress(OSError):
            own.add((proc / host / "ns" / "net").stat().st_ino)
    found: set[int] = set()
    for pid in pids:
        with contextlib.suppress(OSError):
            found.add((proc / str(pid) / "ns" / "net").stat().st_ino)
    return found - own


def named_netns(inodes: set[int], netns_dir: Path = NETNS_DIR) -> list[str]:
    if not netns_dir.is_dir() or not inodes:
        return []
    names = []
    for path in sorted(netns_dir.iterdir()):
        with contextlib.suppress(OSError):
            if path.stat().st_ino in inodes:
                names.append(path.name)
    return names


def delete_netns(names: Iterable[str]) -> None:
    for name in names:
        if quiet(["ip", "netns", "delete", name]).returncode != 0:
            path = NETNS_DIR / name
            quiet(["umount", "-l", str(path)])
            path.unlink(missing_ok=True)


def mounts_under(roots: Iterable[Path], mountinfo: str | None = None) -> list[str]:
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
        if quiet(["umount", point]).returncode != 0:
            quiet(["umount", "-l", point])
    return len(points)


def shim_pids(socket: Path, proc: Path = Path("/proc")) -> set[int]:
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


def stray_daemons(
    root: Path, binaries: Mapping[str, str], named: Iterable[int], proc: Path = Path("/proc")
) -> list[tuple[str, process.PidRecord]]:
    """(name, record) of processes not in ``named`` whose executable is one of ``binaries``
    (our pinned daemons) AND whose command line names ``root``: anyone else's fails one."""
    skip = set(named)
    found = []
    for entry in sorted(proc.iterdir()):
        if not entry.name.isdigit() or int(entry.name) in skip:
            continue
        pid = int(entry.name)
        exe = (process.exe_of(pid, proc) or "").removesuffix(" (deleted)")
        started = process.start_time(pid, proc)
        if exe in binaries and started is not None and _names(entry / "cmdline", root):
            found.append((binaries[exe], process.PidRecord(pid, started, exe)))
    return found


def stop_strays(lay: Layout, *, spare_named: bool = True, proc: Path = Path("/proc")) -> list[str]:
    """Stop our daemons that no pidfile names (``spare_named=False``: any left at all);
    return their names. A daemon started twice would hold its port for every later ``up``."""
    records = [process.read_pidfile(c.pidfile(lay)) for c in COMPONENTS] if spare_named else []
    named = [r.pid for r in records if r is not None and not process.gone(r, proc)]
    stopped = []
    for name, record in stray_daemons(lay.root, binaries.cached_daemons(), named, proc):
        comp = by_name(name)
        if process.stop_record(record, timeout=comp.stop_timeout, sig=comp.stop_signal, proc=proc):
            say(f"stopped a {name} (pid {record.pid}) that no pidfile named")
            stopped.append(name)
    return stopped


def _names(cmdline: Path, root: Path) -> bool:
    """True if an argument of ``cmdline`` is ``root``, a path below it or ``--flag=ROOT``."""
    try:
        args = cmdline.read_bytes().decode(errors="replace").split("\0")[1:]
    except OSError:
        return False
    return any(a == str(root) or a.endswith(f"={root}") or f"{root}/" in a for a in args)


def kill_all(pids: Iterable[int], *, wait: float = 5.0) -> None:
    pending = set(pids)
    for pid in pending:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)

    def gone() -> bool:
        nonlocal pending
        pending = {p for p in pending if not process.exited(p)}
        return not pending

    within(gone, timeout=wait, interval=0.05)


#: The API server's --service-node-port-range.
NODE_PORTS = range(30000, 32768)
_DPORT = re.compile(r"\bdport=(\d+)")


def unanswered_node_ports(listing: str) -> list[int]:
    """NodePorts of ``SYN_SENT`` entries in ``conntrack -L`` (the first dport is original)."""
    ports = set()
    for line in listing.splitlines():
        found = _DPORT.search(line) if "SYN_SENT" in line else None
        if found and int(found[1]) in NODE_PORTS:
            ports.add(int(found[1]))
    return sorted(ports)


def forget_unanswered_node_port_flows() -> int:
    """Delete the conntrack entries of never-answered NodePort attempts; return how many.

    Made while the node was down or starting, they carry no (or a stale) DNAT, and for 2
    minutes a new connection reusing the source port follows them instead of kube-proxy.
    """
    listed = quiet(["conntrack", "-L", "-p", "tcp", "--state", "SYN_SENT"])
    deleted = 0
    for port in unanswered_node_ports(listed.stdout if listed.returncode == 0 else ""):
        done = quiet(
            ["conntrack", "-D", "-p", "tcp", "--state", "SYN_SENT", "--orig-port-dst", str(port)]
        )
        found = re.search(r"(\d+) flow entries have been deleted", done.stderr)
        deleted += int(found[1]) if found else 0
    return deleted
