"""Host plumbing of the node: sysctls (recorded in ``host.json``, restored by ``down``),
the bridge, and iptables. ``down`` removes only our ``HELLO-*`` chains and the jumps to
them (commented ``hello-platform``), and kube-proxy's ``KUBE-*`` chains of known names
only when ``host.json`` says our node created them; never ``CNI-*`` or Docker's."""

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

SYSCTLS = {
    "net/ipv4/ip_forward": "1",
    "net/bridge/bridge-nf-call-iptables": "1",
    "net/bridge/bridge-nf-call-ip6tables": "1",
    # Restored by `down`: it never outlives kube-proxy's KUBE-FIREWALL rule (CVE-2020-8558).
    "net/ipv4/conf/all/route_localnet": "1",
}
#: Set by the kubelet itself (protectKernelDefaults: false): recorded too.
KUBELET_TUNABLES = (
    "vm/overcommit_memory",
    "vm/panic_on_oom",
    "kernel/panic",
    "kernel/panic_on_oops",
    "kernel/keys/root_maxkeys",
    "kernel/keys/root_maxbytes",
)
SYSCTL_ROOT = Path("/proc/sys")
COMMENT = "hello-platform"
OUR_PREFIX = "HELLO-"
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
KUBE_HASHED = re.compile(r"^KUBE-(SVC|SEP|EXT|FW|SVL|XLB)-[A-Z0-9]{16}$")
TABLES = ("filter", "nat", "mangle", "raw")

Owned = Callable[[str], bool]


def quiet(cmd: Sequence[str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(cmd), capture_output=True, text=True, check=False, input=stdin)


def load_host_state(path: Path) -> dict[str, object]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def update_host_state(path: Path, key: str, value: object) -> None:
    """Set ``key`` of the recorded host state (``None``: forget it)."""
    data = load_host_state(path)
    data[key] = value
    if value is None:
        del data[key]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    tmp.replace(path)


def read_sysctl(key: str, root: Path = SYSCTL_ROOT) -> str | None:
    try:
        return (root / key).read_text().strip()
    except OSError:
        return None


def apply_sysctls(path: Path, root: Path = SYSCTL_ROOT) -> list[str]:
    """Record, then set the node's sysctls; return the ones that could not be set."""
    if not (root / "net/bridge").exists():
        quiet(["modprobe", "br_netfilter"])
        if (root / "net/bridge").exists():
            update_host_state(path, "loaded_br_netfilter", True)
    saved = dict(load_host_state(path).get("sysctls") or {})  # type: ignore[call-overload]
    for key in [*SYSCTLS, *KUBELET_TUNABLES]:
        if key not in saved and (was := read_sysctl(key, root)) is not None:
            saved[key] = was
    update_host_state(path, "sysctls", saved)
    failed = []
    for key, value in SYSCTLS.items():
        try:
            if read_sysctl(key, root) != value:
                (root / key).write_text(value)
        except OSError:
            failed.append(key.replace("/", "."))
    return failed


def restore_host_settings(path: Path, root: Path = SYSCTL_ROOT) -> list[str]:
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


def kube_chains_ours(path: Path) -> bool:
    return bool(load_host_state(path).get("kube_chains"))


def ensure_bridge() -> None:
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


def our_rules() -> dict[str, list[str]]:
    """Per table: our chains' rules, as iptables-restore lines.

    raw: pod and Service addresses answer only the bridge and lo, before kube-proxy's DNAT
    (so NodePorts on the node IP are closed to other interfaces too). filter: pod traffic
    passes a FORWARD policy of DROP (Docker's). nat: pods masqueraded beyond the node.
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


OUR_JUMPS = {
    ("raw", "HELLO-PREROUTING"): "PREROUTING",
    ("filter", "HELLO-FORWARD"): "FORWARD",
    ("nat", "HELLO-POSTROUTING"): "POSTROUTING",
}


def firewall_script(table: str) -> str:
    chains = [chain for (t, chain) in OUR_JUMPS if t == table]
    lines = [f"*{table}", *(f":{chain} - [0:0]" for chain in chains)]
    lines += our_rules()[table]
    lines.append("COMMIT")
    return "\n".join(lines) + "\n"


def ensure_firewall() -> None:
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
    def owned(chain: str) -> bool:
        if chain.startswith(OUR_PREFIX):
            return True
        return kube and (chain in KUBE_CHAINS or KUBE_HASHED.match(chain) is not None)

    return owned


def rules_to_delete(rules: Iterable[str], owned: Owned) -> tuple[list[str], list[str]]:
    """From ``iptables -S`` output: (``-D`` lines for rules elsewhere that jump to an owned
    chain or carry our comment, owned chain names)."""
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
    found: set[str] = set()
    for table in TABLES:
        listing = quiet(["iptables", "-w", "-t", table, "-S"]).stdout.splitlines()
        found |= {p[1] for p in map(str.split, listing) if len(p) == 2 and p[0] == "-N"}
    return sorted(found & set(names))


def cleanup_iptables(*, kube: bool) -> int:
    """Remove our chains (and kube-proxy's, if ``kube``) and the jumps; return how many."""
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
