"""The node is a guest on the host: it touches only what it created (issue: host safety).

Before ``up`` this test plants *foreign* state of the kinds a sloppy node would clobber,
named as other runtimes name theirs: iptables chains ``KUBE-FOREIGN`` / ``CNI-FOREIGN``
with jumps to them, a network namespace ``cni-foreign``, a process in a ``kubepods``
cgroup, sysctls at non-default values, and where systemd is PID 1 a transient service in a
slice of its own. After ``up`` and ``down --purge`` every one is intact, the sysctls are
back, and the host's iptables, its root cgroup's ``subtree_control`` (the unified
hierarchy's) and its enabled systemd units are exactly as before. While the cluster is
up, an anonymous request to the API server's ``/api`` gets 401.

It starts from ``down --purge`` (so it runs first: see conftest.py) and leaves the
cluster up again for the tests after it. Its one request goes to 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

#: sysctls set to a value the node would change (or the kubelet would) before ``up``.
FOREIGN_SYSCTLS = {
    "net/ipv4/conf/all/route_localnet": "0",
    "net/ipv4/ip_forward": "0",
    "kernel/keys/root_maxkeys": "4321",
    "kernel/panic": "3",
}
CGROUP_FS = Path("/sys/fs/cgroup")
#: Named as another runtime's pods are: in the pids hierarchy (v1) or the unified one (v2).
FOREIGN_CGROUP = (
    CGROUP_FS if (CGROUP_FS / "cgroup.controllers").exists() else CGROUP_FS / "pids"
) / "kubepods/foreign-e2e"
SYSTEMD = Path("/run/systemd/system").is_dir()
FOREIGN_UNIT = "foreign-e2e.service"


def _sh(*cmd: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(list(cmd), capture_output=True, text=True, check=False, timeout=60)
    if check and done.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed: {done.stderr.strip()}")
    return done


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hello_platform.cli", *args],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def _iptables() -> dict[str, list[str]]:
    """Every table's rules (v4 and v6), without counters or comments on the dump."""
    out = {}
    for binary in ("iptables-save", "ip6tables-save"):
        dump = _sh(binary, check=False).stdout
        out[binary] = sorted(
            line for line in dump.splitlines() if line and not line.startswith(("#", ":"))
        ) + sorted(line.split()[0] for line in dump.splitlines() if line.startswith(":"))
    return out


def _host_facts() -> tuple[str, list[str]]:
    """The unified root cgroup's subtree_control, and the enabled systemd units (if PID 1)."""
    roots = [CGROUP_FS, CGROUP_FS / "unified"]
    control = next((r for r in roots if (r / "cgroup.subtree_control").exists()), None)
    text = (control / "cgroup.subtree_control").read_text().strip() if control else ""
    listing = ["systemctl", "list-unit-files", "--state=enabled", "--no-legend", "--plain"]
    units = sorted(_sh(*listing).stdout.splitlines()) if SYSTEMD else []
    return text, units


def _read(key: str) -> str:
    return (Path("/proc/sys") / key).read_text().strip()


def _write(key: str, value: str) -> None:
    (Path("/proc/sys") / key).write_text(value)


@contextlib.contextmanager
def foreign_state() -> Iterator[int]:
    """Plant the foreign state; yield the pid of the foreign pod process; remove it all."""
    before = {key: _read(key) for key in FOREIGN_SYSCTLS}
    sleeper = None
    new_parent = not FOREIGN_CGROUP.parent.exists()
    try:
        _sh("iptables", "-w", "-N", "KUBE-FOREIGN")
        _sh("iptables", "-w", "-A", "INPUT", "-j", "KUBE-FOREIGN")
        _sh("iptables", "-w", "-t", "nat", "-N", "CNI-FOREIGN")
        _sh("iptables", "-w", "-t", "nat", "-A", "POSTROUTING", "-j", "CNI-FOREIGN")
        _sh("ip", "netns", "add", "cni-foreign")
        FOREIGN_CGROUP.mkdir(parents=True, exist_ok=True)
        sleeper = subprocess.Popen(["sleep", "900"])
        (FOREIGN_CGROUP / "cgroup.procs").write_text(str(sleeper.pid))
        for key, value in FOREIGN_SYSCTLS.items():
            _write(key, value)
        if SYSTEMD:  # a service with a CPU weight, in a slice of its own
            slice_ = "--slice=foreign-e2e.slice"
            _sh(
                "systemd-run",
                f"--unit={FOREIGN_UNIT}",
                slice_,
                "-p",
                "CPUWeight=50",
                "sleep",
                "900",
            )
        yield sleeper.pid
    finally:
        if sleeper is not None:
            sleeper.send_signal(signal.SIGKILL)
            sleeper.wait(timeout=10)
        with contextlib.suppress(OSError):
            FOREIGN_CGROUP.rmdir()
            if new_parent:
                FOREIGN_CGROUP.parent.rmdir()
        if SYSTEMD:
            _sh("systemctl", "stop", FOREIGN_UNIT, check=False)
        _sh("ip", "netns", "delete", "cni-foreign", check=False)
        _sh("iptables", "-w", "-D", "INPUT", "-j", "KUBE-FOREIGN", check=False)
        _sh("iptables", "-w", "-X", "KUBE-FOREIGN", check=False)
        _sh("iptables", "-w", "-t", "nat", "-D", "POSTROUTING", "-j", "CNI-FOREIGN", check=False)
        _sh("iptables", "-w", "-t", "nat", "-X", "CNI-FOREIGN", check=False)
        for key, value in before.items():
            _write(key, value)


def _anonymous_status(path: str) -> int:
    from hello_platform.substrate.cluster.layout import Layout

    ctx = ssl.create_default_context(cafile=str(Layout.default().cert("ca")))
    try:
        with urllib.request.urlopen(f"https://127.0.0.1:6443{path}", context=ctx, timeout=5):
            return 200
    except urllib.error.HTTPError as err:
        return err.code


def test_down_where_the_node_never_ran_changes_nothing() -> None:
    first = _cli("cluster", "down", "--purge")  # from here on the node has never run
    assert first.returncode == 0, first.stderr
    with foreign_state():
        iptables_before = _iptables()
        netns_before = sorted(os.listdir("/run/netns"))
        sysctls_before = {key: _read(key) for key in FOREIGN_SYSCTLS}
        again = _cli("cluster", "down", "--purge")
        assert again.returncode == 0, again.stderr
        assert _iptables() == iptables_before
        assert sorted(os.listdir("/run/netns")) == netns_before
        assert {key: _read(key) for key in FOREIGN_SYSCTLS} == sysctls_before


def test_up_and_down_purge_leave_foreign_state_intact_and_restore_sysctls() -> None:
    down = _cli("cluster", "down", "--purge")
    assert down.returncode == 0, down.stderr
    with foreign_state() as sleeper:
        iptables_before = _iptables()
        netns_before = sorted(os.listdir("/run/netns"))
        facts_before = _host_facts()
        start = time.monotonic()
        up = _cli("cluster", "up")
        up_seconds = time.monotonic() - start
        assert up.returncode == 0, up.stdout + up.stderr
        assert _anonymous_status("/api") == 401
        assert _anonymous_status("/version") == 401
        assert _anonymous_status("/readyz") == 200
        assert _read("net/ipv4/ip_forward") == "1"  # the node did change it while up
        start = time.monotonic()
        down = _cli("cluster", "down", "--purge")
        down_seconds = time.monotonic() - start
        assert down.returncode == 0, down.stdout + down.stderr
        print(f"up {up_seconds:.1f}s, down --purge {down_seconds:.1f}s")

        for key, value in FOREIGN_SYSCTLS.items():
            assert _read(key) == value, key
        assert os.path.exists("/run/netns/cni-foreign")
        assert sorted(os.listdir("/run/netns")) == netns_before
        assert Path(f"/proc/{sleeper}").exists(), "the foreign kubepods process was killed"
        assert str(sleeper) in (FOREIGN_CGROUP / "cgroup.procs").read_text().split()
        assert _iptables() == iptables_before
        assert _sh("ip", "link", "show", "hello0", check=False).returncode != 0
        assert _host_facts() == facts_before  # cgroup controllers, enabled units
        if SYSTEMD:
            assert (
                _sh("systemctl", "is-active", FOREIGN_UNIT, check=False).stdout.strip() == "active"
            )
    up = _cli("cluster", "up")  # for the tests after this one
    assert up.returncode == 0, up.stdout + up.stderr


PEER_NS = "hello-e2e-peer"
HOST_IF, PEER_IF = "hp-e2e-host", "hp-e2e-peer"
HOST_ADDR, PEER_ADDR = "10.250.0.1", "10.250.0.2"


def _drop_packets() -> int:
    """Packets HELLO-PREROUTING's DROP rules have dropped so far."""
    listing = _sh("iptables", "-w", "-t", "raw", "-L", "HELLO-PREROUTING", "-v", "-x", "-n").stdout
    drops = [line.split() for line in listing.splitlines() if " DROP " in f" {line} "]
    return sum(int(fields[0]) for fields in drops)


@contextlib.contextmanager
def peer_host() -> Iterator[None]:
    """A test host of our own: a network namespace on a veth to this host, 10.250.0.0/30,
    routing the pod network through this host (as a machine on the LAN could)."""
    try:
        _sh("ip", "netns", "add", PEER_NS)
        _sh("ip", "link", "add", HOST_IF, "type", "veth", "peer", "name", PEER_IF)
        _sh("ip", "link", "set", PEER_IF, "netns", PEER_NS)
        _sh("ip", "addr", "add", f"{HOST_ADDR}/30", "dev", HOST_IF)
        _sh("ip", "link", "set", HOST_IF, "up")
        peer = ("ip", "netns", "exec", PEER_NS)
        _sh(*peer, "ip", "addr", "add", f"{PEER_ADDR}/30", "dev", PEER_IF)
        _sh(*peer, "ip", "link", "set", PEER_IF, "up")
        _sh(*peer, "ip", "link", "set", "lo", "up")
        _sh(*peer, "ip", "route", "add", "10.244.0.0/16", "via", HOST_ADDR)
        yield
    finally:
        _sh("ip", "link", "delete", HOST_IF, check=False)
        _sh("ip", "netns", "delete", PEER_NS, check=False)


def _connects_from_peer(host: str, port: int) -> bool:
    """One bounded TCP connect from the peer namespace (3 s)."""
    code = (
        "import socket,sys\n"
        f"s=socket.socket(); s.settimeout(3)\n"
        f"sys.exit(0 if s.connect_ex(('{host}', {port})) == 0 else 1)\n"
    )
    done = _sh("ip", "netns", "exec", PEER_NS, sys.executable, "-c", code, check=False)
    return done.returncode == 0


def test_the_node_ip_does_not_answer_other_interfaces() -> None:
    from hello_platform.substrate.cluster import ensure_up, layout

    ensure_up()
    with peer_host(), socket.create_server((HOST_ADDR, 0)) as control:
        # The control: the peer does reach this host (a listener on the veth address).
        assert _connects_from_peer(HOST_ADDR, control.getsockname()[1])
        before = _drop_packets()
        for port in (layout.API_PORT, layout.KUBELET_PORT, 30080):
            assert not _connects_from_peer(layout.NODE_IP, port), port
        assert not _connects_from_peer(layout.KUBERNETES_SERVICE_IP, 443)
        assert _drop_packets() > before, "HELLO-PREROUTING's DROP rules did not see the probes"
