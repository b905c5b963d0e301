"""Host plumbing of the node, owned by construction: sysctls (recorded and restored), the
bridge, our own iptables chains; ``leftovers`` cleans up exactly what our pods left behind.

What is ours, and the only thing ``down`` removes:

* iptables: the ``HELLO-*`` chains (and the jumps to them, which carry the comment
  ``hello-platform``); kube-proxy's and the kubelet's ``KUBE-*`` chains of known names
  only when our node created them (``host.json`` says so; a foreign kube-proxy is
  refused at ``up``). ``KUBE-FOREIGN``, ``CNI-*`` or Docker's chains are never touched:
  the CNI config has no plugin that writes iptables (masquerade and forwarding are our
  own ``HELLO-*`` rules).
* processes: those in our pod cgroup root ``/hello-platform`` (kubelet ``cgroupRoot``,
  see ``cgroups``) and the shims of our containerd (by its socket); never anything in ``/kubepods``.
* network namespaces: those the processes of our pods are in (matched by inode before
  they are killed); never a ``cni-*`` namespace because of its name.
* sysctls: each is recorded in ``host.json`` before the first change (ours, or the
  kubelet's kernel tunables) and written back by ``down``.
"""

from __future__ import annotations

import contextlib
import json
import re
import shlex
import subprocess
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from hello_platform.core.errors import PlatformError
from hello_platform.substrate.cluster import layout

#: Sysctls the node needs, and the value it sets.
SYSCTLS = {
    "net/ipv4/ip_forward": "1",
    "net/bridge/bridge-nf-call-iptables": "1",
    "net/bridge/bridge-nf-call-ip6tables": "1",
    # kube-proxy sets it too (NodePorts on 127.0.0.1); it is restored by `down`, so it never
    # outlives kube-proxy's KUBE-FIREWALL drop rule (CVE-2020-8558).
    "net/ipv4/conf/all/route_localnet": "1",
}
#: Kernel tunables the kubelet sets itself (protectKernelDefaults: false): recorded too.
KUBELET_TUNABLES = (
    "vm/overcommit_memory",
    "vm/panic_on_oom",
    "kernel/panic",
    "kernel/panic_on_oops",
    "kernel/keys/root_maxkeys",
    "kernel/keys/root_maxbytes",
)
SYSCTL_ROOT = Path("/proc/sys")
#: The comment on every rule we add outside our own chains.
COMMENT = "hello-platform"
OUR_PREFIX = "HELLO-"
#: Chains kube-proxy (iptables mode) and the kubelet create under fixed names.
KUBE_CHAINS = frozenset(
    {
        "KUBE-SERVICES",
        "KUBE-EXTERNAL-SERVICES",
        "KUBE-NODEPORTS",
        "KUBE-POSTROUTING",
        "KUBE-MARK-MASQ",
        "KUBE-MARK-DROP",
        "KUBE-FORWARD",
        "KUBE-PROXY-CANARY",
        "KUBE-KUBELET-CANARY",
        "KUBE-PROXY-FIREWALL",
        "KUBE-FIREWALL",
        "KUBE-IPTABLES-HINT",
        "KUBE-SOURCE-RANGES-FIREWALL",
    }
)
#: kube-proxy's per-service/endpoint chains: a kind and a 16-character hash.
KUBE_HASHED = re.compile(r"^KUBE-(SVC|SEP|EXT|FW|SVL|XLB)-[A-Z0-9]{16}$")
TABLES = ("filter", "nat", "mangle", "raw")

Owned = Callable[[str], bool]


def quiet(cmd: Sequence[str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(cmd), capture_output=True, text=True, check=False, input=stdin)


# --- recorded host settings ------------------------------------------------------------


def host_state(lay_root: Path) -> Path:
    """``host.json``: original sysctls and what the node owns on the host."""
    return lay_root / "host.json"


def load_host_state(path: Path) -> dict[str, object]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def save_host_state(path: Path, data: dict[str, object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    tmp.replace(path)


def read_sysctl(key: str, root: Path = SYSCTL_ROOT) -> str | None:
    try:
        return (root / key).read_text().strip()
    except OSError:
        return None


def record_sysctls(path: Path, keys: Iterable[str], root: Path = SYSCTL_ROOT) -> None:
    """Remember the current value of each of ``keys`` not already recorded."""
    data = load_host_state(path)
    saved = dict(data.get("sysctls") or {})  # type: ignore[call-overload]
    for key in keys:
        if key not in saved:
            value = read_sysctl(key, root)
            if value is not None:
                saved[key] = value
    data["sysctls"] = saved
    save_host_state(path, data)


def apply_sysctls(path: Path, root: Path = SYSCTL_ROOT) -> list[str]:
    """Record, then set the sysctls the node needs; return the ones that could not be set."""
    if not (root / "net/bridge").exists():
        quiet(["modprobe", "br_netfilter"])
        if (root / "net/bridge").exists():
            data = load_host_state(path)
            data["loaded_br_netfilter"] = True
            save_host_state(path, data)
    record_sysctls(path, [*SYSCTLS, *KUBELET_TUNABLES], root)
    failed = []
    for key, value in SYSCTLS.items():
        try:
            if read_sysctl(key, root) != value:
                (root / key).write_text(value)
        except OSError:
            failed.append(key.replace("/", "."))
    return failed


def restore_host_settings(path: Path, root: Path = SYSCTL_ROOT) -> list[str]:
    """Write every recorded sysctl back; forget the record; return the keys changed."""
    data = load_host_state(path)
    changed = []
    for key, value in dict(data.get("sysctls") or {}).items():  # type: ignore[call-overload]
        if read_sysctl(key, root) != value:
            with contextlib.suppress(OSError):
                (root / key).write_text(str(value))
                changed.append(key.replace("/", "."))
    if data.get("loaded_br_netfilter"):
        quiet(["modprobe", "-r", "br_netfilter"])
    path.unlink(missing_ok=True)
    return changed


def mark_kube_chains_ours(path: Path) -> None:
    data = load_host_state(path)
    data["kube_chains"] = True
    save_host_state(path, data)


def kube_chains_ours(path: Path) -> bool:
    return bool(load_host_state(path).get("kube_chains"))


# --- the bridge ------------------------------------------------------------------------


def ensure_bridge() -> None:
    """Create the CNI bridge with the node IP, so the node has a stable address."""
    if quiet(["ip", "link", "show", layout.BRIDGE]).returncode != 0:
        quiet(["ip", "link", "add", layout.BRIDGE, "type", "bridge"])
    prefix = layout.NODE_POD_SUBNET.split("/")[1]
    addrs = quiet(["ip", "-4", "-o", "addr", "show", "dev", layout.BRIDGE]).stdout
    if f" {layout.NODE_IP}/" not in addrs:
        quiet(["ip", "addr", "add", f"{layout.NODE_IP}/{prefix}", "dev", layout.BRIDGE])
    done = quiet(["ip", "link", "set", layout.BRIDGE, "up"])
    if done.returncode != 0:
        raise PlatformError(
            f"could not create the bridge {layout.BRIDGE} with {layout.NODE_IP}: "
            + (done.stderr.strip() or "ip failed"),
            hint="the node needs Linux bridge support (modprobe bridge) and iproute2",
        )


def delete_bridge() -> None:
    if quiet(["ip", "link", "show", layout.BRIDGE]).returncode == 0:
        quiet(["ip", "link", "delete", layout.BRIDGE])


# --- iptables ----------------------------------------------------------------------------


def our_rules() -> dict[str, list[str]]:
    """Per table: our chains' rules, as iptables-restore lines (no jumps into them).

    * raw HELLO-PREROUTING: the node IP, pod and Service addresses answer only traffic
      from the bridge and this host (lo). It runs before conntrack and kube-proxy's DNAT,
      so a NodePort on the node IP is closed to other interfaces too (a filter INPUT
      rule would see such a packet only after DNAT had sent it to FORWARD).
    * filter HELLO-FORWARD: pod traffic passes a FORWARD policy of DROP (Docker's).
    * nat HELLO-POSTROUTING: pods reach beyond the node masqueraded (the bridge plugin's
      ipMasq would write CNI-* chains of its own).
    """
    b, pods, subnet = layout.BRIDGE, layout.POD_CIDR, layout.NODE_POD_SUBNET
    c = f"-m comment --comment {COMMENT}"
    guarded = (pods, layout.SERVICE_CIDR)
    return {
        "raw": [
            *(f"-A HELLO-PREROUTING -d {cidr} -i {b} {c} -j RETURN" for cidr in guarded),
            *(f"-A HELLO-PREROUTING -d {cidr} -i lo {c} -j RETURN" for cidr in guarded),
            *(f"-A HELLO-PREROUTING -d {cidr} {c} -j DROP" for cidr in guarded),
        ],
        "filter": [
            f"-A HELLO-FORWARD -i {b} {c} -j ACCEPT",
            f"-A HELLO-FORWARD -o {b} -m conntrack --ctstate RELATED,ESTABLISHED {c} -j ACCEPT",
            f"-A HELLO-FORWARD -d {pods} {c} -j DROP",
        ],
        "nat": [f"-A HELLO-POSTROUTING -s {subnet} ! -d {pods} {c} -j MASQUERADE"],
    }


#: Our chains and the built-in chain that jumps to each.
OUR_JUMPS = {
    ("raw", "HELLO-PREROUTING"): "PREROUTING",
    ("filter", "HELLO-FORWARD"): "FORWARD",
    ("nat", "HELLO-POSTROUTING"): "POSTROUTING",
}


def firewall_script(table: str) -> str:
    """iptables-restore --noflush input that (re)writes our chains of ``table``."""
    chains = [chain for (t, chain) in OUR_JUMPS if t == table]
    lines = [f"*{table}", *(f":{chain} - [0:0]" for chain in chains)]
    lines += our_rules()[table]
    lines.append("COMMIT")
    return "\n".join(lines) + "\n"


def ensure_firewall() -> None:
    """Our HELLO-* chains with their rules, and one commented jump to each (idempotent)."""
    for table in ("raw", "filter", "nat"):
        done = quiet(["iptables-restore", "-w", "--noflush"], stdin=firewall_script(table))
        if done.returncode != 0:
            raise PlatformError(
                f"could not write the node's iptables rules ({table}): "
                + (done.stderr.strip() or "iptables-restore failed"),
                hint="the node needs iptables with the comment and conntrack matches",
            )
    for (table, chain), parent in OUR_JUMPS.items():
        rule = ["-m", "comment", "--comment", COMMENT, "-j", chain]
        if quiet(["iptables", "-w", "-t", table, "-C", parent, *rule]).returncode != 0:
            quiet(["iptables", "-w", "-t", table, "-I", parent, "1", *rule])


def owned_chains(kube: bool) -> Owned:
    """Which chain names are ours: HELLO-*, plus kube-proxy's/kubelet's if ``kube``."""

    def owned(chain: str) -> bool:
        if chain.startswith(OUR_PREFIX):
            return True
        return kube and (chain in KUBE_CHAINS or KUBE_HASHED.match(chain) is not None)

    return owned


def rules_to_delete(rules: Iterable[str], owned: Owned) -> tuple[list[str], list[str]]:
    """From ``iptables -S`` output: (``-D ...`` rule lines, owned chain names).

    Rules that live in owned chains vanish with their chain; rules elsewhere that jump
    to an owned chain, or carry our comment, are deleted one by one.
    """
    deletes: list[str] = []
    chains: list[str] = []
    for line in rules:
        try:
            parts = shlex.split(line)
        except ValueError:
            continue
        if len(parts) >= 2 and parts[0] == "-N" and owned(parts[1]):
            chains.append(parts[1])
        elif len(parts) >= 2 and parts[0] == "-A" and not owned(parts[1]):
            target = parts[parts.index("-j") + 1] if "-j" in parts[:-1] else ""
            ours = "--comment" in parts[:-1] and parts[parts.index("--comment") + 1] == COMMENT
            if owned(target) or ours:
                # Keep iptables' own quoting: iptables-restore reads it back as is.
                deletes.append("-D" + line.strip()[2:])
    return deletes, chains


def restore_script(table: str, rules: Iterable[str], owned: Owned) -> tuple[str, int]:
    """An ``iptables-restore --noflush`` script removing the owned chains of ``table``."""
    deletes, chains = rules_to_delete(rules, owned)
    if not deletes and not chains:
        return "", 0
    lines = [f"*{table}"]
    lines += deletes
    lines += [f"-F {chain}" for chain in chains]
    lines += [f"-X {chain}" for chain in chains]
    lines.append("COMMIT")
    return "\n".join(lines) + "\n", len(chains)


def chains_present(names: Iterable[str]) -> list[str]:
    """Which of ``names`` exist in any table (v4) right now."""
    wanted, found = set(names), set()
    for table in TABLES:
        listing = quiet(["iptables", "-w", "-t", table, "-S"])
        for line in listing.stdout.splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[0] == "-N" and parts[1] in wanted:
                found.add(parts[1])
    return sorted(found)


def cleanup_iptables(*, kube: bool) -> int:
    """Remove our chains (and kube-proxy's, if ``kube``) with the jumps; return chains removed.

    One ``iptables-restore --noflush`` per table: atomic, and fast (no call per rule).
    """
    owned = owned_chains(kube)
    removed = 0
    for binary in ("iptables", "ip6tables"):
        for table in TABLES:
            listing = quiet([binary, "-w", "-t", table, "-S"])
            if listing.returncode != 0:
                continue
            script, count = restore_script(table, listing.stdout.splitlines(), owned)
            if (
                script
                and quiet([f"{binary}-restore", "-w", "--noflush"], stdin=script).returncode == 0
            ):
                removed += count
    return removed
