"""The node's cgroups: the host's hierarchy, our pod subtree ``/hello-platform`` (the
kubelet's cgroupRoot, cgroupfs driver) and, on v2, its controllers.

The kubelet refuses a cgroupRoot that lacks a controller of cpu, cpuset, memory, hugetlb
and pids the root offers, and a stock systemd boot enables only memory and pids: ``up``
enables the rest on each ancestor and records them (and what the runtime enables later)
in ``host.json``; ``down`` gives back exactly those, each only if no other cgroup still
delegates it (the kernel refuses then).
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from hello_platform.core.errors import PlatformError
from hello_platform.core.progress import say
from hello_platform.substrate.cluster import hostnet

CGROUP_ROOT = Path("/sys/fs/cgroup")
POD_CGROUP = "hello-platform"
KUBELET_CONTROLLERS = ("cpu", "cpuset", "memory", "hugetlb", "pids")
#: The systemd "booted" marker (sd_booted(3)): systemd is PID 1.
SYSTEMD_RUN = Path("/run/systemd/system")
_KEY = "cgroup"


KINDS = {
    "v2": "cgroup v2 (unified hierarchy)",
    "hybrid": "cgroup v1 (hybrid: the kubelet uses the v1 controllers)",
    "v1": "cgroup v1",
}


def detect(cgroup_root: Path = CGROUP_ROOT) -> str:
    """The hierarchy: a key of ``KINDS``."""
    if (cgroup_root / "cgroup.controllers").exists():
        return "v2"
    if (cgroup_root / "unified" / "cgroup.controllers").exists():
        return "hybrid"
    return "v1"


def describe(cgroup_root: Path = CGROUP_ROOT, systemd_run: Path = SYSTEMD_RUN) -> str:
    manager = "systemd is PID 1" if systemd_run.is_dir() else "no systemd"
    return f"{KINDS[detect(cgroup_root)]}, {manager}; pods under /{POD_CGROUP} (cgroupfs driver)"


def controllers(cgroup: Path, name: str = "cgroup.controllers") -> set[str]:
    try:
        return set((cgroup / name).read_text().split())
    except OSError:
        return set()


def ancestors(cgroup_root: Path = CGROUP_ROOT) -> list[Path]:
    """The cgroups whose ``subtree_control`` our subtree depends on, root first."""
    parts = Path(POD_CGROUP).parts
    return [cgroup_root.joinpath(*parts[:i]) for i in range(len(parts))]


def _key(cgroup: Path, cgroup_root: Path) -> str:
    rel = cgroup.relative_to(cgroup_root)
    return "/" if rel == Path() else f"/{rel}"


def _record(state: Path) -> dict[str, dict[str, list[str]]]:
    data = hostnet.load_host_state(state).get(_KEY)
    return data if isinstance(data, dict) else {}


def subtree(cgroup: Path) -> set[str]:
    """The controllers ``cgroup`` enables for its children (its ``cgroup.subtree_control``)."""
    return controllers(cgroup, "cgroup.subtree_control")


def write_subtree_control(cgroup: Path, change: str) -> None:
    (cgroup / "cgroup.subtree_control").write_text(change)


def _enable(cgroup: Path, names: set[str]) -> tuple[set[str], list[str]]:
    """Enable each of ``names`` below ``cgroup``: (enabled, "name: why not" failures)."""
    done, failed = set(), []
    for name in sorted(names):
        try:
            write_subtree_control(cgroup, f"+{name}")
            done.add(name)
        except OSError as exc:
            failed.append(f"{name}: {exc.strerror or exc}")
    return done, failed


def enable_controllers(state: Path, cgroup_root: Path = CGROUP_ROOT) -> list[str]:
    """On v2, enable and record the kubelet's controllers; return "/:cpu" notes of new ones."""
    if detect(cgroup_root) != "v2":
        return []
    wanted = set(KUBELET_CONTROLLERS) & controllers(cgroup_root)
    record = _record(state)
    before, ours = record.setdefault("before", {}), record.setdefault("enabled", {})
    notes, failed = [], []
    for cgroup in ancestors(cgroup_root):
        key = _key(cgroup, cgroup_root)
        active = subtree(cgroup)
        before.setdefault(key, sorted(active))
        done, refused = _enable(cgroup, wanted - active)
        ours[key] = sorted(set(ours.get(key, [])) | done)
        notes += [f"{key}:{name}" for name in sorted(done)]
        failed += [f"{cgroup / 'cgroup.subtree_control'} ({why})" for why in refused]
    hostnet.update_host_state(state, _KEY, record)
    pods = cgroup_root / POD_CGROUP
    if pods.is_dir() and not failed:
        # Delegated below our subtree, systemd cannot take them back from the root (the
        # kernel refuses "-name" with EBUSY for a delegated controller).
        _enable(pods, wanted - subtree(pods))
    if failed:
        raise PlatformError(
            "the kubelet needs the cgroup controllers "
            f"{', '.join(sorted(wanted))} for /{POD_CGROUP}, and enabling them failed: "
            + "; ".join(failed),
            hint="on cgroup v2 the node needs root in the host's cgroup namespace "
            "(not a container's), or enable them yourself and run again",
        )
    return notes


def note_runtime_controllers(state: Path, cgroup_root: Path = CGROUP_ROOT) -> None:
    """Record what our runtime enabled beyond ours: new since ``up`` and delegated on to our
    subtree (libcontainer enables every controller down the path to the pod cgroups)."""
    record = _record(state)
    before, ours = record.get("before", {}), record.setdefault("enabled", {})
    if not before:
        return
    delegated = subtree(cgroup_root / POD_CGROUP)
    for key, was in before.items():
        new = (subtree(cgroup_root / key.lstrip("/")) - set(was)) & delegated
        ours[key] = sorted(set(ours.get(key, [])) | new)
    hostnet.update_host_state(state, _KEY, record)


def _delegated_elsewhere(cgroup: Path, name: str, ours: Path) -> list[str]:
    """Child cgroups of ``cgroup`` but ``ours`` that enable ``name`` for their own children."""
    users = []
    with contextlib.suppress(OSError):
        for child in sorted(cgroup.iterdir()):
            if child.is_dir() and child != ours and name in subtree(child):
                users.append(child.name)
    return users


def give_back(state: Path, cgroup_root: Path = CGROUP_ROOT) -> tuple[list[str], list[str]]:
    """Disable what ``up`` recorded, deepest first; forget the record; return (given
    back, kept because another cgroup still uses it) as "/:name" notes."""
    record = _record(state)
    if not record:
        return [], []
    given: list[str] = []
    kept: list[str] = []
    ours_dir = cgroup_root / POD_CGROUP
    for key, names in sorted(record.get("enabled", {}).items(), key=lambda kv: -len(kv[0])):
        cgroup = cgroup_root / key.lstrip("/")
        active = subtree(cgroup)
        for name in sorted(set(names) & active):
            users = _delegated_elsewhere(cgroup, name, ours_dir)
            try:
                if users:
                    raise OSError(f"used by {', '.join(users)}")
                write_subtree_control(cgroup, f"-{name}")
                given.append(f"{key}:{name}")
            except OSError as exc:
                kept.append(f"{key}:{name} ({exc.strerror or exc})")
    hostnet.update_host_state(state, _KEY, None)
    return given, kept


def prepare(state: Path, cgroup_root: Path = CGROUP_ROOT) -> None:
    say(f"host: {describe(cgroup_root)}")
    ensure_pod_cgroup(cgroup_root)
    enabled = enable_controllers(state, cgroup_root)
    if enabled:
        say(
            f"enabled the cgroup controllers {', '.join(enabled)} for our pods "
            "(down gives them back)"
        )


def release(state: Path, cgroup_root: Path = CGROUP_ROOT) -> None:
    # Noted again here: an ``up`` that failed after the kubelet started never reached Ready,
    # where they are noted, and the runtime's controllers would stay on the host.
    note_runtime_controllers(state, cgroup_root)
    remove_pod_cgroups(cgroup_root)
    given, kept = give_back(state, cgroup_root)
    if given or kept:
        say(
            f"gave back the cgroup controllers {', '.join(given) or '(none)'}"
            + (f"; kept {', '.join(kept)}" if kept else "")
        )


def hierarchies(cgroup_root: Path = CGROUP_ROOT) -> list[Path]:
    if (cgroup_root / "cgroup.procs").exists():
        return [cgroup_root]  # pure cgroup v2
    if not cgroup_root.is_dir():
        return []
    return sorted(d for d in cgroup_root.iterdir() if (d / "cgroup.procs").exists())


def ensure_pod_cgroup(cgroup_root: Path = CGROUP_ROOT) -> None:
    for base in hierarchies(cgroup_root):
        ours = base / POD_CGROUP
        with contextlib.suppress(OSError):
            ours.mkdir(exist_ok=True)
            for name in ("cpuset.cpus", "cpuset.mems"):  # v1 cpuset starts empty
                if (base / name).exists() and not (ours / name).read_text().strip():
                    (ours / name).write_text((base / name).read_text())


def _pod_cgroups(cgroup_root: Path) -> list[Path]:
    return [base / POD_CGROUP for base in hierarchies(cgroup_root) if (base / POD_CGROUP).is_dir()]


def pod_pids(cgroup_root: Path = CGROUP_ROOT) -> set[int]:
    pids: set[int] = set()
    for ours in _pod_cgroups(cgroup_root):
        for procs in ours.rglob("cgroup.procs"):
            try:
                pids.update(int(x) for x in procs.read_text().split())
            except (OSError, ValueError):
                continue
    return pids


def remove_pod_cgroups(cgroup_root: Path = CGROUP_ROOT) -> None:
    for ours in _pod_cgroups(cgroup_root):
        dirs = sorted((p for p in ours.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts))
        for d in [*dirs, ours]:
            with contextlib.suppress(OSError):
                d.rmdir()
